// The demo's video pages end to end in Chromium inside the network namespace: a first
// visitor plays /video.html (one progressive WebM, served in pieces) and /hls.html (hls.js,
// a playlist and 4 s segments) from the origin; a second visitor plays them, and seeks, with
// the origin denied the media, so every media byte it plays came from a peer; and a visitor
// keeps playing from its peer while the origin is down. Times (navigation to `playing`, a
// seek) are logged, never asserted: speed targets belong to bench/pieces_bench.sh.
import assert from 'node:assert/strict';
import path from 'node:path';
import {test} from 'node:test';

import {DEMO_SITE, fetchHashed, fileHash, holdsWhole, IN_FIREFOX, startServer, stats, swarmRunner, waitFor} from './harness.mjs';

const withSwarm = swarmRunner(8301);
const FILM = '/media/film.webm';
const PLAYLIST = '/media/hls/stream.m3u8';
const SEGMENTS = Array.from({length: 15}, (_, i) => `/media/hls/seg-${String(i).padStart(3, '0')}.ts`);
const HLS = [PLAYLIST, ...SEGMENTS];
const expectedHash = (p) => fileHash(path.join(DEMO_SITE, p));
const ms = (x) => `${Math.round(x)} ms`;

// Rejects after `limit` ms: a page that stops answering fails the test instead of hanging it
// (the test's own finally then closes the browsers).
function within(limit, promise, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${limit} ms`)), limit);
  })]).finally(() => clearTimeout(timer));
}

// Opens a video page and waits for its first `playing`; returns demoTimes (ms after the
// navigation started). Fails the test when the page never plays or the element errors.
async function play(v, url, page, timeout = 60000) {
  await v.page.goto(`${url}/${page}`);
  const playing = await v.page.waitForFunction(() => {
    const video = window.demoVideo;
    // demoRetrying: a first visit's film the origin failed, set again once the worker controls
    if (video && video.error && !window.demoRetrying) return {error: `${video.error.code} ${video.error.message}`};
    return window.demoTimes && window.demoTimes.playing !== null && {times: window.demoTimes};
  }, null, {timeout, polling: 50}).then((h) => h.jsonValue(), (err) => ({error: err.message}));
  assert.ok(!playing.error, `${page} plays: ${playing.error}`);
  return playing.times;
}

// The media element's state: where it plays, what it has buffered ahead.
function where(v) {
  return within(10000, v.page.evaluate(() => {
    const video = window.demoVideo;
    let bufferedEnd = 0;
    for (let i = 0; i < video.buffered.length; i++) {
      if (video.buffered.start(i) <= video.currentTime + 0.1) bufferedEnd = Math.max(bufferedEnd, video.buffered.end(i));
    }
    return {currentTime: video.currentTime, duration: video.duration, paused: video.paused, ended: video.ended,
            bufferedEnd, error: video.error && `${video.error.code} ${video.error.message}`};
  }), 'the video element');
}

// Waits (bounded) until the element plays past `t` seconds; returns its state then.
async function playsPast(v, t, timeout) {
  const state = await waitFor(async () => {
    const s = await where(v);
    return (s.currentTime > t || s.error) && s;
  }, timeout, 200);
  const last = state || (await where(v));
  assert.ok(!last.error, `media error: ${last.error}`);
  assert.ok(last.currentTime > t, `played past ${t} s: ${JSON.stringify(last)}`);
  return last;
}

// Reads each path whole through the page's worker, hashing as it streams (the page never
// holds a body); returns {path: {status, bytes, hash}}.
function readWhole(v, paths) {
  return within(120000, (async () => {
    const out = {};
    for (const p of paths) {
      const {status, bytes, hash} = await fetchHashed(v, p);
      out[p] = {status, bytes, hash};
    }
    return out;
  })(), `reading ${paths.length} file(s) whole`);
}

async function expectWhole(v, paths) {
  const got = await readWhole(v, paths);
  for (const p of paths) {
    assert.equal(got[p].status, 200, `status of ${p}`);
    assert.equal(got[p].hash, expectedHash(p), `bytes of ${p}`);
  }
}

// A seeder: a visitor on `page` that has read every one of `paths` whole through its page
// (so its worker keeps them), holds them whole and has announced them.
async function seeder(ctx, page, paths, options) {
  const a = await ctx.visitor(options);
  await play(a, ctx.server.url, page);
  await expectWhole(a, paths);
  assert.ok(await waitFor(() => within(5000, holdsWhole(a, paths), 'holdings'), 20000), 'the seeder holds every file whole');
  const announced = await waitFor(async () => (await ctx.server.metrics()).p2pcdn_announcements >= paths.length, 10000);
  assert.ok(announced, 'the seeder announced them');
  return a;
}

// Restarts the origin with `prefix` denied and waits for `holders` announcements to come
// back (the seeders' pages rejoin by themselves); checks that the origin does deny it.
async function denyOrigin(ctx, prefix, probe, holders) {
  await ctx.server.stop();
  ctx.server = await startServer({root: ctx.root, port: ctx.port, args: ['--deny-prefix', prefix]});
  const back = await waitFor(async () => (await ctx.server.metrics()).p2pcdn_announcements >= holders, 15000);
  assert.ok(back, `${holders} announcements came back after the restart`);
  assert.equal((await fetch(`${ctx.server.url}${probe}`)).status, 403, `the origin denies ${probe}`);
}

// The same page without p2pcdn, for the log: service workers blocked and the p2pcdn script
// blocked (as bench/site_bench.mjs does), `?direct` so the player does not wait for a worker.
// Firefox: service workers off by pref; the script aborted through puppeteer's BiDi request
// interception.
async function withoutP2pcdn(ctx, page) {
  const v = await ctx.visitor({contextOptions: {serviceWorkers: 'block'}});
  if (v.firefox) {
    await v.page.raw.setRequestInterception(true);
    v.page.raw.on('request', (r) => {
      (new URL(r.url()).pathname === '/p2pcdn/p2pcdn.js' ? r.abort('blockedbyclient') : r.continue()).catch(() => {});
    });
  } else {
    const cdp = await v.context.newCDPSession(v.page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setBlockedURLs', {urls: ['*/p2pcdn/p2pcdn.js']});
  }
  const times = await play(v, ctx.server.url, `${page}?direct`);
  assert.deepEqual(v.errors.filter((e) => !/ERR_BLOCKED_BY_CLIENT/.test(e)), [], 'no console errors without p2pcdn');
  return times;
}

for (const page of ['video.html', 'hls.html']) {
  test(`a first visitor plays /${page} from the origin`, () => withSwarm({}, async (ctx) => {
    const v = await ctx.visitor({config: {preferPeers: false}});  // as a site's visitor
    const times = await play(v, ctx.server.url, page);
    await playsPast(v, 2, 20000);
    // p2pcdn's own start (the core) waits for the film's first frames, bounded at 3 s
    // (page_settled.js): it must not land on the player's start.
    const coreAt = await v.page.waitForFunction(() => {
      const mark = performance.getEntriesByName('p2pcdn:core-ready')[0];
      return mark && mark.startTime;
    }, null, {timeout: 20000, polling: 100}).then((h) => h.jsonValue());
    if (times.loadeddata < 2500) assert.ok(coreAt > times.loadeddata, `core ready at ${ms(coreAt)}, first frame at ${ms(times.loadeddata)}`);
    const s = await stats(v);
    // The progressive film started before the worker's control and stays on the network
    // (player.js), unseen by p2pcdn; HLS waits for the worker and streams through it.
    if (page === 'hls.html') assert.ok(s.bytesFromOrigin > 0, JSON.stringify(s));
    assert.equal(s.bytesFromPeers, 0);
    assert.deepEqual(v.errors, []);
    const plain = await withoutP2pcdn(ctx, page);
    console.log(`# /${page}, first visitor, origin at full speed: playing ${ms(times.playing)} after navigation ` +
                `(first frame ${ms(times.loadeddata)}); without p2pcdn ${ms(plain.playing)} (first frame ${ms(plain.loadeddata)})`);
  }));
}

// Firefox logs a page's read of a worker's streamed answer that the page gives up (here the
// range request a seek abandons) as this error, for any worker's stream, p2pcdn's or not:
// the browser's own words, which p2pcdn cannot keep it from logging.
const ABANDONED_FIREFOX = /^Error: Failed to load ‘’\. A ServiceWorker intercepted the request and encountered an unexpected error\.$/;

test('a second visitor plays /video.html from a peer with the origin denied, and seeks to the middle', () => withSwarm({}, async (ctx) => {
  const a = await seeder(ctx, 'video.html', [FILM]);
  await denyOrigin(ctx, '/media/', FILM, 1);
  // As on a real site: a player's first pieces go to the (fast) origin without waiting for
  // a link, and come from the peer when the origin refuses them.
  const b = await ctx.visitor({config: {preferPeers: false}});
  const times = await play(b, ctx.server.url, 'video.html');
  await playsPast(b, 1, 20000);

  const {duration} = await where(b);
  const seek = await b.page.evaluate((to) => {
    const before = window.demoTimes.seeked.length;
    const at = performance.now();
    window.demoVideo.currentTime = to;
    return {before, at};
  }, duration / 2);
  const seeked = await b.page.waitForFunction((n) => window.demoTimes.seeked.length > n || window.demoVideo.error,
                                              seek.before, {timeout: 30000, polling: 50})
      .then(() => true, () => false);
  assert.ok(seeked, 'the seek reached `seeked`');
  const seekMs = (await b.page.evaluate(() => window.demoTimes.seeked.at(-1))) - seek.at;
  const after = await playsPast(b, duration / 2 + 2, 30000);  // plays on from the middle
  assert.equal(after.paused, false);

  const s = await stats(b);
  console.log(`# /video.html from a peer, origin denied: playing ${ms(times.playing)} after navigation ` +
              `(first frame ${ms(times.loadeddata)}); seek to ${(duration / 2).toFixed(1)} s: seeked in ${ms(seekMs)}; ` +
              `${(s.bytesFromPeers / 1048576).toFixed(1)} MiB from peers, ${s.pieces.fromPeers} pieces`);
  assert.ok(s.bytesFromPeers > 0, JSON.stringify(s));
  assert.equal(s.bytesFromOrigin, 0, JSON.stringify(s));
  // Its first pieces went to the origin at once (no link was open), which denied them.
  assert.ok(s.pieces.originFailed > 0, JSON.stringify(s.pieces));
  // What the element did not read yet comes from the peer too, and every byte is the file's.
  await expectWhole(b, [FILM]);
  assert.equal((await stats(b)).bytesFromOrigin, 0);
  // A film started before the worker's control asks the origin itself: its 403 is the
  // browser's own line, as without p2pcdn (player.js then sets it again under the worker).
  const refused = (e) => /status of 403/.test(e) || (IN_FIREFOX && ABANDONED_FIREFOX.test(e));
  assert.deepEqual(b.errors.filter((e) => !refused(e)), []);
  assert.deepEqual(a.errors, []);
}));

test('a second visitor plays /hls.html from a peer with the playlist and segments denied at the origin', () => withSwarm({}, async (ctx) => {
  const a = await seeder(ctx, 'hls.html', HLS);
  await denyOrigin(ctx, '/media/hls/', SEGMENTS[0], HLS.length);
  assert.equal((await fetch(`${ctx.server.url}${PLAYLIST}`)).status, 403, 'the origin denies the playlist');
  const b = await ctx.visitor();
  const times = await play(b, ctx.server.url, 'hls.html');
  assert.equal(await b.page.evaluate(() => window.demoPlayer), 'hls.js');
  const past = await playsPast(b, 13, 40000);  // into the fourth 4 s segment
  const s = await stats(b);
  console.log(`# /hls.html from a peer, playlist and segments denied: playing ${ms(times.playing)} after navigation ` +
              `(first frame ${ms(times.loadeddata)}); at ${past.currentTime.toFixed(1)} s: ` +
              `${(s.bytesFromPeers / 1048576).toFixed(1)} MiB from peers (${s.requestsFromPeers} whole files, ` +
              `${s.pieces.fromPeers} pieces)`);
  // The playlist (576 bytes, fetched whole) came from the peer too: the origin denies it.
  assert.ok(s.requestsFromPeers >= 1, JSON.stringify(s));
  assert.ok(s.pieces.fromPeers >= 4 * 10, JSON.stringify(s));  // 4 segments of 10 pieces and more
  assert.equal(s.bytesFromOrigin, 0, JSON.stringify(s));
  // The rest of the stream from the peer too, and every byte the origin's.
  await expectWhole(b, HLS);
  assert.equal((await stats(b)).bytesFromOrigin, 0);
  assert.deepEqual(b.errors, []);
  assert.deepEqual(a.errors, []);
}));

test('the origin goes down mid-playback: the visitor plays on from its peer', () => withSwarm({}, async (ctx) => {
  // The seeder uploads at 2 MiB/s, so the visitor cannot have buffered the film when the
  // origin goes: what it plays after that point came over its peer link while the origin
  // (and signaling, the same server) was down. (Not slower: below ~1 MiB/s from all its
  // peers, the worker gives up on pieces it asked for more than 6 s earlier, and with the
  // origin gone the response fails; see bench/README.md.)
  const a = await seeder(ctx, 'video.html', [FILM], {config: {maxUploadBytesPerSecond: 2 << 20}});
  // A returning visitor: a first visit's film stays on the network it started from.
  const b = await ctx.visitor();
  await b.page.goto(`${ctx.server.url}/`);
  assert.ok(await waitFor(() => b.page.evaluate(() => !!navigator.serviceWorker.controller), 10000), 'the worker controls B');
  await play(b, ctx.server.url, 'video.html');
  await playsPast(b, 1, 20000);
  assert.ok(await waitFor(async () => (await stats(b)).peersConnected > 0, 10000), 'B linked to its peer');
  await ctx.server.stop();
  const down = await where(b);
  const before = await stats(b);
  assert.ok(down.bufferedEnd + 3 < down.duration, `not all buffered yet: ${JSON.stringify(down)}`);
  const past = await playsPast(b, down.bufferedEnd + 2, 40000);
  const during = await stats(b);
  console.log(`# origin down at ${down.currentTime.toFixed(1)} s played, ${down.bufferedEnd.toFixed(1)} s buffered; ` +
              `played on to ${past.currentTime.toFixed(1)} s; ` +
              `${((during.bytesFromPeers - before.bytesFromPeers) / 1048576).toFixed(1)} MiB from the peer meanwhile`);
  assert.ok(during.bytesFromPeers > before.bytesFromPeers, 'bytes came from the peer while the origin was down');
  assert.equal(during.bytesFromOrigin, before.bytesFromOrigin, 'nothing from the origin while it was down');

  // The origin comes back with the media denied: still playing, still from the peer.
  ctx.server = await startServer({root: ctx.root, port: ctx.port, args: ['--deny-prefix', '/media/']});
  const later = await playsPast(b, past.currentTime + 2, 20000);
  assert.equal(later.paused, false);
  assert.equal((await stats(b)).bytesFromOrigin, before.bytesFromOrigin);
  // While signaling was down the browser itself logs its failed WebSocket reconnects (each
  // browser in its own words).
  const reconnect = IN_FIREFOX ? /^Error: Firefox can’t establish a connection to the server at ws:\/\/10\.99\.0\.1:\d+\/signal\.$/
                               : /WebSocket connection to 'ws:\/\/10\.99\.0\.1:\d+\/signal' failed/;
  // Firefox: leaving the first page (its film still streaming through the worker) is an
  // abandoned read too.
  const errors = b.errors.filter((e) => !reconnect.test(e) && !(IN_FIREFOX && ABANDONED_FIREFOX.test(e)));
  console.log(`# ${b.errors.length - errors.length} failed signaling reconnects logged by the browser while the server was down`);
  assert.deepEqual(errors, []);
}));
