// Strangers attack an honest visitor, in real Chromium inside a network namespace. The
// hostile peer is a real browser running p2pcdn with its test switch armed after it seeded
// (it lies, stalls, drips, truncates, injects, sends garbage, floods), or raw signaling
// clients (fake holders, offer and relay floods, no Origin). Two honest seeders are present.
// The victim asks the hostile peer first wherever it can (config.test.tryFirst): the worst
// case. Each test checks: the honest page finishes with the right bytes within the bound of
// README "Security model"; at least 90 % of its media come from peers (100 % without an
// attacker, tests/e2e/p2p.test.mjs); the attacker is named in stats with what it did and
// what was done; memory stays bounded.
import assert from 'node:assert/strict';
import {randomBytes} from 'node:crypto';
import path from 'node:path';
import {test} from 'node:test';

import {
  DEMO_MEDIA, DEMO_TOTAL, expectBytesIdentical, IN_FIREFOX, loadDemo, ROOT, seedDemo, settled, sleep, stats, swarmRunner, waitFor,
} from './harness.mjs';
import {arm, heapUsed, peerIdOf, swarmWithHostile} from './hostile_swarm.mjs';
import {RawSignalClient, resourceIds} from './raw_signal.mjs';

const withSwarm = swarmRunner(8301);
// Raw clients all come from the test's one address, standing in for many: the server's
// per-address caps are raised where a test needs dozens of them.
const MANY_CLIENTS = {serverArgs: ['--max-connections-per-ip', '512', '--max-peers-per-ip-per-swarm', '128']};
// hostileDelayBudgetMs + one first-byte deadline + the hold window, plus the time a page
// takes here without an attacker (~2 s) and slack for a loaded CI machine.
const PAGE_BOUND_MS = 2000 + 2000 + 1500 + 2000 + 4000;
const HEAP_BOUND = 64 << 20;
const TIMING_OFFENSES = ['dripped', 'stalled'];
// The JS heap is read through CDP (Runtime.getHeapUsage): in Firefox each test runs without
// its heap bound, and says so.
const HEAP_SKIPPED = 'skipped in Firefox: the heap bound (Chromium only: the heap is read through CDP)';

// The victim loads the demo, asking `first` first; returns its stats and how long it took.
async function victimVisit(ctx, first, extra = {}) {
  const c = await ctx.visitor({config: {prefetchBytes: 0, test: {tryFirst: first, ...extra}}});
  const started = Date.now();
  await loadDemo(c, ctx.server.url, PAGE_BOUND_MS);
  const tookMs = Date.now() - started;
  const s = await settled(c, (x) => x.bytesFromPeers + x.bytesFromOrigin >= DEMO_TOTAL, 10000);
  await expectBytesIdentical(c);
  assert.ok(s.bytesFromPeers >= 0.9 * DEMO_TOTAL, `offload ${s.bytesFromPeers}/${DEMO_TOTAL}: ${JSON.stringify(s)}`);
  assert.ok(tookMs <= PAGE_BOUND_MS, `page took ${tookMs} ms`);
  if (IN_FIREFOX) {
    console.log(`# ${HEAP_SKIPPED}`);
  } else {
    const heap = await heapUsed(c);
    assert.ok(heap < HEAP_BOUND, `victim heap ${heap}`);
  }
  const links = await c.page.evaluate(() => [...window.p2pcdn.links.values()].map((l) => `${l.peerId.slice(0, 6)}:${l.opened}:${l.delivered}`));
  console.log(`# ${tookMs} ms, ${s.bytesFromPeers} from peers, first ${first && first.slice(0, 6)}, links ${links}, cfg ${JSON.stringify(await c.page.evaluate(() => window.p2pcdn.config.test))} failures ${JSON.stringify(s.failures)} held ${JSON.stringify(s.held)}, hostile: ${JSON.stringify(s.hostile)}`);
  return {c, s, tookMs};
}

// n raw signaling clients joined to the test's site, each with the site's Origin. The
// caller closes them (closeAll).
async function joinedRawClients(ctx, n) {
  const clients = [];
  for (let i = 0; i < n; i++) {
    const f = new RawSignalClient(`ws://${new URL(ctx.server.url).host}/signal`, {origin: ctx.server.url});
    clients.push(f);
    assert.ok(await f.join(ctx.server.url), `raw client ${i} joined: ${JSON.stringify(f.messages)}`);
  }
  return clients;
}

const closeAll = (clients) => clients.forEach((f) => f.close());

// Two honest seeders; the first is the one attacked.
async function twoSeeders(ctx) {
  const a = await seedDemo(ctx);
  await seedDemo(ctx, undefined, 2 * DEMO_MEDIA.length);
  return {a, aId: await peerIdOf(a)};
}

// Waits (a peer left to its deadlines is judged after the page has its bytes) until v's
// stats name `peer` for one of `offenses`, with `action` if given; returns the stats.
async function named(v, peer, offenses, action) {
  const hit = (x) => x.hostile.some((h) => h.peer === peer && offenses.includes(h.offense) && (!action || h.action === action));
  const s = await settled(v, hit, 6000);
  assert.ok(hit(s), `${peer} named for ${offenses} (${action || 'any action'}): ${JSON.stringify(s.hostile)}`);
  return s;
}

test('a peer that lies is banned at its first wrong body', () => withSwarm({}, async (ctx) => {
  const {hId} = await swarmWithHostile(ctx, {corruptUploads: true});
  const {c} = await victimVisit(ctx, hId);
  // Counted when it is named (on a loaded machine the page may have had its bytes from the
  // honest seeders first, and the liar's body come later).
  const s = await named(c, hId, ['lied'], 'banned for this visit');
  assert.equal(s.failures.integrity, 1, JSON.stringify(s.failures));
}));

// Headers cannot be checked against a hash: the page and the copies it keeps get the
// manifest's content type, whatever the peer said. Without that, a nosniff with a wrong type
// stops a verified script or stylesheet, and stays with the copy for later pages.
test('a peer\'s lying headers reach neither the page nor the copies it keeps', () => withSwarm({}, async (ctx) => {
  const lie = 'content-type: text/plain\nx-content-type-options: nosniff\ncontent-disposition: attachment\nlast-modified: soon\n';
  const {hId} = await swarmWithHostile(ctx, {lieHeaders: lie});
  const {c} = await victimVisit(ctx, hId);
  const delivered = await c.page.evaluate((id) => !!(window.p2pcdn.links.get(id) || {}).delivered, hId);
  assert.ok(delivered, 'the liar delivered bodies (otherwise this test checks nothing)');
  // Nor does a PONG it was never asked for set its round trip (and so its rank).
  const rtt = await c.page.evaluate((id) => {
    const page = window.p2pcdn;
    const link = page.links.get(id);
    const before = page.selector.stats(link.handle).rttMs;
    for (let i = 0; i < 20; i++) page.frames.onFrame(link, {type: 'pong', nonce: i, sentAtMs: performance.now()});
    return [before, page.selector.stats(link.handle).rttMs];
  }, hId);
  assert.equal(rtt[1], rtt[0], `round trip before and after unsolicited PONGs: ${rtt}`);
  const seen = await c.page.evaluate(async (paths) => {
    const names = ['content-type', 'x-content-type-options', 'content-disposition', 'last-modified'];
    const pick = (h) => names.map((n) => h.get(n));
    const cache = await caches.open('p2pcdn-copies');
    const out = {};
    for (const p of paths) {
      const r = await fetch(p);
      await r.arrayBuffer();
      const kept = await cache.match(p);
      out[p] = {page: pick(r.headers), kept: kept && pick(kept.headers)};
    }
    return out;
  }, ['/media/logo.png', '/media/animation.gif']);
  // The GIF is kept as pieces (no whole copy): its response is made from the manifest alone.
  assert.deepEqual(seen, {
    '/media/logo.png': {page: ['image/png', null, null, null], kept: ['image/png', null, null, null]},
    '/media/animation.gif': {page: ['image/gif', null, null, null], kept: undefined},
  });
}));

test('a peer that answers and then goes silent is outrun by another holder and struck', () => withSwarm({}, async (ctx) => {
  const {hId} = await swarmWithHostile(ctx, {truncate: true});
  const {c, s} = await victimVisit(ctx, hId);
  await named(c, hId, ['dripped', 'stalled']);
}));

test('a peer that closes with a transfer half done is struck', () => withSwarm({}, async (ctx) => {
  const {hId} = await swarmWithHostile(ctx, {truncate: 'close'});
  const {c, s} = await victimVisit(ctx, hId);
  await named(c, hId, ['truncated']);
}));

test('a peer that never sends a first byte is outrun by another holder and struck', () => withSwarm({}, async (ctx) => {
  const {hId} = await swarmWithHostile(ctx, {stall: true});
  const {c, s} = await victimVisit(ctx, hId);
  await named(c, hId, ['stalled']);
}));

test('a drip (16 bytes every 2 s) costs no more than silence', () => withSwarm({}, async (ctx) => {
  const {hId} = await swarmWithHostile(ctx, {drip: 2000});
  const {c} = await victimVisit(ctx, hId);
  // Its requests that got 16 bytes dripped; those still waiting for theirs stalled.
  await named(c, hId, ['dripped', 'stalled']);
}));

test('with no other holder to outrun it, a drip is cut by the rate deadline and the origin serves', () => withSwarm({}, async (ctx) => {
  const h = await seedDemo(ctx);
  await arm(h, {drip: 2000});
  const hId = await peerIdOf(h);
  const c = await ctx.visitor({config: {prefetchBytes: 0}});
  const started = Date.now();
  await loadDemo(c, ctx.server.url, PAGE_BOUND_MS);
  const tookMs = Date.now() - started;
  const s = await settled(c, (x) => x.bytesFromOrigin >= DEMO_TOTAL, 10000);
  await expectBytesIdentical(c);
  assert.ok(tookMs <= PAGE_BOUND_MS, `page took ${tookMs} ms`);
  assert.ok(s.failures.tooSlow + s.failures.stalled >= 1, JSON.stringify(s.failures));
  await named(c, hId, ['dripped', 'stalled']);
}));

test('DATA injected into a transfer another peer serves changes nothing and bans the injector', () => withSwarm({}, async (ctx) => {
  // The honest seeders upload at 1 MiB/s, so their transfers stay open while the injector's
  // frames arrive (pieces from fast peers finish in milliseconds).
  const {hId, a, b} = await swarmWithHostile(ctx, {inject: true, injectIds: 200}, {config: {maxUploadBytesPerSecondPerPeer: 1 << 20}});
  // The victim asks A and numbers its requests from 1, as p2pcdn did before, so the injector
  // (linked to the victim as a holder) hits transfers A serves.
  const {c, s} = await victimVisit(ctx, await peerIdOf(a), {requestIdsFrom: 1});
  // Banned either way: 'injected' for DATA aimed at A's transfers; 'malformed' (DATA overflow)
  // when the victim has meanwhile asked the injector itself for a piece under an id the
  // injector had already sent frames for (its frames then land on its own transfer).
  await named(c, hId, ['injected', 'malformed'], 'banned for this visit');
  // What this test is about: nothing the injector sent is blamed on the peers it imitated.
  // A strike for time (a stall, a rate below the minimum) is the design's bad luck (README
  // "Security model"): a loaded 2-core CI machine showed one for an honest seeder at
  // 253 KiB/s; it is printed, not failed, here (p2p.test holds honest swarms to 100 %).
  for (const honest of [await peerIdOf(a), await peerIdOf(b)]) {
    const blamed = s.hostile.filter((x) => x.peer === honest);
    assert.ok(blamed.every((x) => TIMING_OFFENSES.includes(x.offense)), `honest ${honest} blamed: ${JSON.stringify(s.hostile)}`);
    if (blamed.length) console.log(`# honest ${honest.slice(0, 6)} struck for time: ${JSON.stringify(blamed)}`);
  }
  assert.equal(s.failures.integrity, 0);
}));

test('malformed frames close the link and ban the sender, with no reply', () => withSwarm({}, async (ctx) => {
  const {hId} = await swarmWithHostile(ctx, {malformed: true});
  const {c, s} = await victimVisit(ctx, hId);
  await named(c, hId, ['malformed'], 'banned for this visit');
}));

test('a HAVE flood of made-up ids is not stored and bans the sender', () => withSwarm({}, async (ctx) => {
  const {hId} = await swarmWithHostile(ctx, {haveFlood: 200000});
  const {c, s} = await victimVisit(ctx, hId);
  await named(c, hId, ['flooded'], 'banned for this visit');
  assert.ok(s.bytesFromPeers >= 0.9 * DEMO_TOTAL);
}));

test('a request flood on a seeder: it stays up, serves others, and bans the flooder', (t) => withSwarm({}, async (ctx) => {
  const {h, a, hId} = await swarmWithHostile(ctx, {requestFlood: 1500});
  const aId = await peerIdOf(a);
  const heapBefore = IN_FIREFOX ? null : await heapUsed(a);
  await h.page.evaluate((peer) => window.p2pcdn.hostile.requestFloodTo(peer), aId);
  await named(a, hId, ['flooded'], 'banned for this visit');
  if (IN_FIREFOX) {
    t.diagnostic(HEAP_SKIPPED);
  } else {
    const heapAfter = await heapUsed(a);
    assert.ok(heapAfter - heapBefore < HEAP_BOUND, `seeder heap grew ${heapAfter - heapBefore}`);
  }
  await victimVisit(ctx, aId);
}));

test('ten fake holders announced before two honest seeders cost little offload', () => withSwarm(MANY_CLIENTS, async (ctx) => {
  const ids = await resourceIds(ctx.server.url, DEMO_MEDIA);
  const fakes = await joinedRawClients(ctx, 12);
  for (const f of fakes) f.send({type: 'announce', ids});
  try {
    await seedDemo(ctx, undefined, 13 * DEMO_MEDIA.length);
    await seedDemo(ctx, undefined, 14 * DEMO_MEDIA.length);
    const {c} = await victimVisit(ctx, null);
    // Each fake dialled is remembered once its dial times out, and never dialled again.
    const s = await settled(c, (x) => x.hostile.some((h) => h.offense === 'connect-failed'), 8000);
    assert.ok(s.hostile.some((x) => x.offense === 'connect-failed'), JSON.stringify(s.hostile));
  } finally {
    closeAll(fakes);
  }
}));

test('an offer flood on a seeder never evicts its working links', () => withSwarm(MANY_CLIENTS, async (ctx) => {
  const {a, aId} = await twoSeeders(ctx);
  // A real offer, made by a browser, replayed by thirty identities.
  const sdp = await a.page.evaluate(async () => {
    const pc = new RTCPeerConnection();
    pc.createDataChannel('x', {negotiated: true, id: 0});
    await pc.setLocalDescription(await pc.createOffer());
    const offer = pc.localDescription.sdp;
    pc.close();
    return offer;
  });
  const flooders = await joinedRawClients(ctx, 30);
  try {
    const flood = (async () => {
      for (let round = 0; round < 4; round++) {
        // Each identity's offer in a link session of its own, as p2pcdn's page part sends one.
        for (const f of flooders) f.send({type: 'relay', peer: aId, kind: 'offer', payload: `${randomBytes(8).toString('hex')}:${sdp}`});
        await sleep(500);
      }
    })();
    const {c} = await victimVisit(ctx, aId);
    await flood;
    const sa = await stats(a);
    assert.ok(sa.offersRefused > 0, JSON.stringify(sa));
    // The flooders are named with what was refused and why.
    const ids = new Set(flooders.map((f) => f.peerId));
    assert.ok(sa.refusedOffers.some((r) => ids.has(r.peer) && r.count >= 1 && r.why), JSON.stringify(sa.refusedOffers));
    const links = await a.page.evaluate(() => window.p2pcdn.links.size);
    assert.ok(links <= 8, `seeder has ${links} links`);
    assert.ok((await stats(c)).bytesFromPeers >= 0.9 * DEMO_TOTAL);
  } finally {
    closeAll(flooders);
  }
}));

test('sixty sockets relaying to one seeder at just under the rate do not disconnect it', () => withSwarm(MANY_CLIENTS, async (ctx) => {
  const {a, aId} = await twoSeeders(ctx);
  const senders = await joinedRawClients(ctx, 60);
  const payload = 'x'.repeat(2000);
  let stop = false;
  const flood = (async () => {
    const until = Date.now() + 8000;
    while (!stop && Date.now() < until) {
      for (const f of senders) f.send({type: 'relay', peer: aId, kind: 'candidate', payload});
      await sleep(25);  // 40 a second per socket, under the server's 50
    }
  })();
  try {
    const {s} = await victimVisit(ctx, aId);
    assert.ok(s.bytesFromPeers >= 0.9 * DEMO_TOTAL);
  } finally {
    stop = true;
    await flood;
    closeAll(senders);
  }
  // The senders were refused as such, and the target kept its signaling session all along:
  // same peer id, never reconnected.
  const m = await ctx.server.metrics();
  assert.ok(m['p2pcdn_rejections_total{reason="target_busy"}'] > 0, JSON.stringify(m));
  assert.equal(await a.page.evaluate(() => window.p2pcdn.signaling.joined), true);
  assert.equal(await peerIdOf(a), aId);
}));

test('a signaling upgrade without Origin cannot join a browser swarm', () => withSwarm({}, async (ctx) => {
  const bare = new RawSignalClient(`ws://${new URL(ctx.server.url).host}/signal`);
  try {
    assert.equal(await bare.join(ctx.server.url), null);
    assert.ok(bare.errors().length >= 1 || bare.closed, JSON.stringify(bare.messages));
  } finally {
    bare.close();
  }
  const withOrigin = new RawSignalClient(`ws://${new URL(ctx.server.url).host}/signal`, {origin: ctx.server.url});
  try {
    assert.ok(await withOrigin.join(ctx.server.url));
  } finally {
    withOrigin.close();
  }
}));

test('what a visitor learned about a liar outlives the page', () => withSwarm({}, async (ctx) => {
  const {hId} = await swarmWithHostile(ctx, {corruptUploads: true});
  const {c} = await victimVisit(ctx, hId);
  await c.page.reload();
  await loadDemo(c, ctx.server.url);
  const remembered = await waitFor(() => c.page.evaluate((id) => window.p2pcdn.ready.then(() => window.p2pcdn.reputation.banned(id)), hId), 5000);
  assert.equal(remembered, true);
}));

test('a peer that claims every file and fetches none costs a page no more than its delay budget', () => withSwarm({root: path.join(ROOT, 'build/site/site')}, async (ctx) => {
  // The victim first, so that its worker controls it before the claims (they expire in 10 s).
  const c = await ctx.visitor({config: {prefetchBytes: 0}});
  await c.page.goto(`${ctx.server.url}/`, {waitUntil: 'load'});
  assert.ok(await waitFor(() => c.page.evaluate(() => !!navigator.serviceWorker.controller), 10000), 'the victim is controlled');
  // The claimer: a real browser peer that links and answers, but never has what it claimed.
  const liar = await ctx.visitor({config: {prefetchBytes: 0, test: {claimAll: true}}});
  await liar.page.goto(`${ctx.server.url}/`, {waitUntil: 'load'});
  let last = -1;
  const claimed = await waitFor(async () => {
    const n = (await ctx.server.metrics()).p2pcdn_claims_total || 0;
    const still = n >= 5 && n === last;
    last = n;
    return still;
  }, 15000, 500);
  assert.ok(claimed, `the liar claimed files: ${last}`);
  // Photos of other pages, one after another (as a CSS -> font -> background chain would be):
  // each lookup hears that the liar is fetching it.
  const photos = ['/assets/img/photo-4.jpg', '/assets/img/photo-5.jpg', '/assets/img/photo-6.jpg'];
  const bytes = await c.page.evaluate(async (list) => {
    let n = 0;
    for (const p of list) n += (await (await fetch(p)).arrayBuffer()).byteLength;
    return n;
  }, photos);
  assert.ok(bytes > 0);
  const s = await stats(c);
  // The first request waits out the crowd (crowdWaitMs, 3 s), which spends the 2 s budget;
  // the others go to the origin without waiting (without the charge: 3 s each).
  assert.ok(s.held.totalMs < 3000 + 2000, `held ${Math.round(s.held.totalMs)} ms over ${s.held.count} requests`);
  assert.ok(s.failures.delayBudget >= 1, JSON.stringify(s.failures));
  assert.deepEqual(c.errors, []);
}));
