// Large files in pieces on the bridge rig of bench/netns_bridge.sh (each browser on a link of
// its own, so a seeder's upload limit is its own), in one run:
//  1. several seeders: three random files of MIB MiB (64), the first held by 1 seeder (b1),
//     the second by 2 (b1, b2), the third by 3 (b1, b2, b3). Each seeder reads its files
//     whole through its page from the origin (unshaped, alone in a swarm of its own, so every
//     byte comes from the origin), then rejoins the site's swarm. The origin is restarted with
//     the files denied and each seeder's upload limited to SEEDER_RATE (10mbit) on its own
//     link; then, per round, a fresh visitor (b4) reads each file whole through its page:
//     time from fetch() to the last byte, throughput, and the ratio against 1 seeder.
//  2. video start: a first visitor (b4, fresh browser) opens /video.html with the origin
//     at ORIGIN_RATE (20mbit): time to the first frame (`loadeddata`) and to `playing` after
//     the navigation, through p2pcdn against without it (service workers blocked and the
//     p2pcdn script blocked, as bench/site_bench.mjs does; `?direct`). The two alternate
//     which goes first from round to round.
// Medians over ROUNDS (3) and VIDEO_ROUNDS (7). Writes bench/results/pieces_bench.json (and
// a copy named by the run's date) and prints the tables (bench/pieces_report.mjs); exits 1
// when any round saw an error (a wrong hash, a short body, origin bytes where the origin is
// denied, a page that never played, a console error, a timeout), 0 otherwise, whether or not
// the targets were met.
// Usage: node bench/pieces_bench.mjs (makes its own rig of 4 browser namespaces), or through
// bench/pieces_bench.sh (builds first). Env: ROUNDS, VIDEO_ROUNDS, MIB, SEEDER_RATE,
// ORIGIN_RATE, DEADLINE_S (2400: then everything it started is ended), PORT (8700), SITE (the
// assembled demo to copy: build/site/demo), PARTS (seeders,video: which parts to run), and
// the rig's NETNS_SHAPE_AT, TBF_BURST, TBF_LATENCY.
import {execFileSync} from 'node:child_process';
import {createHash, randomBytes} from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {addr, newVisitorIn, qdiscStats, rerunInRig, shape, wrap} from './netns_bridge.mjs';

const DEADLINE_S = Number(process.env.DEADLINE_S || 2400);
rerunInRig(import.meta.url, {env: {NETNS_BROWSERS: '4'}, timeoutMs: (DEADLINE_S + 60) * 1000});

const {ROOT, startServer} = await import('../tests/e2e/harness.mjs');
const {report} = await import('./pieces_report.mjs');

const MiB = 1 << 20;
const ROUNDS = Number(process.env.ROUNDS || 3);
const VIDEO_ROUNDS = Number(process.env.VIDEO_ROUNDS || 7);
const SIZE = Number(process.env.MIB || 64) * MiB;
const SEEDER_RATE = process.env.SEEDER_RATE || '10mbit';
const ORIGIN_RATE = process.env.ORIGIN_RATE || '20mbit';
const PORT = Number(process.env.PORT || 8700);
const PARTS = new Set((process.env.PARTS || 'seeders,video').split(','));  // which parts to run
const SEEDERS = ['b1', 'b2', 'b3'];
const VISITOR = 'b4';
const FILES = [1, 2, 3].map((k) => `/media/bench/seeded-by-${k}.bin`);  // FILES[k - 1]: k seeders
const SEEDED_HOLDINGS = 6;  // announcements: b1 holds 3 files, b2 2, b3 1
let baseline = 0;  // announcements with no visitor: the seeders', once they hold their files
const SERVER_ARGS = ['--http-timeout-ms', '300000'];  // bounds a whole response write today
const SITE = path.resolve(process.env.SITE || path.join(ROOT, 'build/site/demo'));  // copied, never changed
const SCRIPT = fileURLToPath(import.meta.url);
const RESULTS = path.join(path.dirname(SCRIPT), 'results');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const log = (text) => console.error(`pieces_bench: ${text}`);

// Rejects after ms: nothing here waits unbounded.
function within(ms, promise, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  })]).finally(() => clearTimeout(timer));
}

async function waitFor(fn, ms, every = 200) {
  const deadline = Date.now() + ms;
  for (;;) {
    let value;
    try {
      value = await fn();
    } catch (_) {
      value = undefined;
    }
    if (value || Date.now() >= deadline) return value;
    await sleep(every);
  }
}

// ---- the site: the demo plus the bench files, a page with p2pcdn and nothing else ----

function makeSite() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'p2pcdn-pieces-bench-'));
  fs.cpSync(SITE, root, {recursive: true});
  fs.writeFileSync(path.join(root, 'plain.html'),
                   '<!doctype html><meta charset="utf-8"><title>plain</title><link rel="icon" href="data:,">' +
                   '<script defer src="/p2pcdn/p2pcdn.js"></script>' +
                   '<script>navigator.serviceWorker.register("/sw.js")</script>');
  fs.mkdirSync(path.join(root, 'media/bench'));
  const hashes = {};
  for (const p of FILES) {
    const fd = fs.openSync(path.join(root, p), 'w');
    const hash = createHash('sha256');
    for (let at = 0; at < SIZE; at += 8 * MiB) {
      const block = randomBytes(Math.min(8 * MiB, SIZE - at));
      fs.writeSync(fd, block);
      hash.update(block);
    }
    fs.closeSync(fd);
    hashes[p] = hash.digest('hex');
  }
  execFileSync(path.join(ROOT, 'build/native/server/p2pcdn-manifest'),
               [root, '--out', path.join(root, 'p2pcdn/manifest.json')], {stdio: 'ignore'});
  // As scripts/build-site.sh: p2pcdn's own files and the manifest precompressed, made after
  // them (the server sends a .gz only when it is no older than its file).
  execFileSync('gzip', ['-9', '-k', '-f', ...['p2pcdn.js', 'p2pcdn-core.wasm', 'p2pcdn-sw.js', 'manifest.json']
                                             .map((f) => path.join(root, 'p2pcdn', f))]);
  return {root, hashes};
}

function git(args) {
  try {
    return execFileSync('git', ['-C', ROOT, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trim();
  } catch (_) {
    return '';
  }
}

function sha256File(file) {
  try {
    return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  } catch (_) {
    return null;
  }
}

// ---- pages ----

const visitors = new Set();

async function visitor(ns, url, options) {
  const v = await within(30000, newVisitorIn(ns, url, options), `Chromium in ${ns}`);
  visitors.add(v);
  return v;
}

async function closeVisitor(v) {
  visitors.delete(v);
  await within(10000, v.close(), 'closing a browser').catch(() => {});
}

// A page of the site with p2pcdn up and the worker in control.
async function controlled(v, url, page) {
  await v.page.goto(`${url}/${page}`, {timeout: 30000});
  await within(15000, v.page.evaluate(() => navigator.serviceWorker.ready.then(() => true)), 'worker ready');
  if (!(await v.page.evaluate(() => !!navigator.serviceWorker.controller))) await v.page.reload({timeout: 30000});
  await within(15000, v.page.evaluate(() => window.p2pcdn.ready.then(() => true)), 'p2pcdn ready');
}

// Reads `p` whole through the page's worker, hashing as it streams; timed in the page.
function readWhole(v, p, ms) {
  return within(ms, v.page.evaluate(async (p) => {
    await window.p2pcdn.ready;
    const t0 = performance.now();
    const res = await fetch(p);
    const hash = new window.p2pcdn.core.Sha256Stream();
    const reader = res.body.getReader();
    let bytes = 0;
    let firstByteMs = null;
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      if (firstByteMs === null) firstByteMs = performance.now() - t0;
      hash.update(value);
      bytes += value.length;
    }
    const hex = hash.finishHex();
    hash.delete();
    return {status: res.status, bytes, hash: hex, ms: performance.now() - t0, firstByteMs};
  }, p), `reading ${p}`);
}

// Observation only: wraps the page's handlers of the worker's piece asks to log, in page
// time, each ask (its pieces), each piece handed to the worker, each cancel-pieces (the
// worker's watchdog gave up on an ask) and each pieces-missing (no usable peer).
function watchAsks(v) {
  return within(10000, v.page.evaluate(() => {
    const p = window.p2pcdn;
    if (p.__watched) return;
    p.__watched = true;
    const log = window.pieceLog = [];
    const t = () => Math.round(performance.now());
    const wanted = p.onPiecesWanted.bind(p);
    const cancelled = p.onPiecesCancelled.bind(p);
    p.onPiecesWanted = (m) => (log.push({t: t(), ev: 'ask', id: m.id, indices: m.indices}), wanted(m));
    p.onPiecesCancelled = (m) => (log.push({t: t(), ev: 'cancel-pieces', id: m.id}), cancelled(m));
    const post = p.bridge.post.bind(p.bridge);
    p.bridge.post = (m, transfer) => {
      if (m.type === 'piece') log.push({t: t(), ev: 'piece', id: m.id, index: m.index});
      if (m.type === 'pieces-missing') log.push({t: t(), ev: 'missing', id: m.id, indices: m.indices});
      return post(m, transfer);
    };
  }), 'watching asks');
}

// From the log of watchAsks: how long each piece took from the worker's ask to the page's
// answer (the worker gives an ask up after firstByteTimeoutMs, 6 s, without a piece).
async function askSummary(v) {
  const log = await within(10000, v.page.evaluate(() => window.pieceLog || []), 'ask log');
  const askedAt = new Map();
  for (const e of log) if (e.ev === 'ask') for (const i of e.indices) if (!askedAt.has(i)) askedAt.set(i, e.t);
  const waits = log.filter((e) => e.ev === 'piece' && askedAt.has(e.index)).map((e) => e.t - askedAt.get(e.index));
  const sorted = [...waits].sort((a, b) => a - b);
  const at = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null);
  return {
    asks: log.filter((e) => e.ev === 'ask').length,
    cancel_pieces: log.filter((e) => e.ev === 'cancel-pieces').map((e) => ({t: e.t, id: e.id})),
    pieces_missing: log.filter((e) => e.ev === 'missing').map((e) => ({t: e.t, indices: e.indices})),
    ask_to_piece_ms: {median: at(0.5), p90: at(0.9), max: sorted.length ? sorted[sorted.length - 1] : null},
  };
}

const snapshot = (v) => within(10000, v.page.evaluate(() => window.p2pcdn.stats.snapshot()), 'stats');
const peerIdOf = (v) => within(10000, v.page.evaluate(() => window.p2pcdn.ready.then(() => window.p2pcdn.peerId)), 'peer id');
const holdsWhole = (v, paths) => within(10000, v.page.evaluate((list) => window.p2pcdn.ready.then(() => list.every((p) => {
  const entry = window.p2pcdn.entries.get(new URL(p, location.href).href);
  return entry && window.p2pcdn.held.ids.has(entry.resourceId);
})), paths), 'holdings');

// ---- the run ----

const {root, hashes} = makeSite();
const host = addr('origin');
let server = null;
const result = {
  date: new Date().toISOString(),
  cpu: os.cpus()[0].model,
  cores: os.cpus().length,
  file_mib: SIZE / MiB,
  seeder_rate: SEEDER_RATE,
  origin_rate_video: ORIGIN_RATE,
  shape_at: process.env.NETNS_SHAPE_AT || 'bridge',
  // What was measured: the site copied, the commit checked out and what differed from it.
  site: SITE,
  commit: git(['rev-parse', '--short', 'HEAD']),
  uncommitted: git(['status', '--porcelain', '--', 'js_glue', 'sw', 'wasm', 'server', 'web_app']).split('\n').filter(Boolean),
  p2pcdn_js_sha256: sha256File(path.join(SITE, 'p2pcdn/p2pcdn.js')),
  p2pcdn_sw_js_sha256: sha256File(path.join(SITE, 'p2pcdn/p2pcdn-sw.js')),
  rounds: ROUNDS,
  video_rounds: VIDEO_ROUNDS,
  seeding: [],
  fetches: [],
  video: [],
  errors: [],
};

const startOrigin = (args = []) =>
  startServer({root, port: PORT, host, wrap: wrap('origin'), args: [...SERVER_ARGS, ...args]});

async function cleanup() {
  for (const v of [...visitors]) await closeVisitor(v);
  if (server) await server.stop();
  fs.rmSync(root, {recursive: true, force: true});
}
const deadline = setTimeout(async () => {
  log(`not done after ${DEADLINE_S} s`);
  await cleanup();
  process.exit(1);
}, DEADLINE_S * 1000);

const announcements = async () => (await within(5000, server.metrics(), 'metrics')).p2pcdn_announcements || 0;
async function holdingsBack(n, ms, what) {
  if (!(await waitFor(async () => (await announcements()) === n, ms))) {
    throw new Error(`${what}: ${await announcements()} announcements, expected ${n}`);
  }
}

// Console errors, less the one a blocked p2pcdn script causes on the baseline's page.
const consoleErrors = (v) => v.errors.filter((e) => !/ERR_BLOCKED_BY_CLIENT/.test(e));

try {
  server = await startOrigin();
  const url = server.url;

  const seeders = [];
  if (PARTS.has('seeders')) {
    // Seeders: each alone in a swarm of its own (a random swarm key) while it reads its files,
    // so they come from the origin, then on the site's swarm, holding them.
    for (const [i, ns] of SEEDERS.entries()) {
      const files = FILES.slice(i);
      const s = await visitor(ns, url);
      await s.context.addInitScript(() => {
        if (new URLSearchParams(location.search).has('seed')) {
          window.p2pcdnConfig = {swarmKey: `seeding-${Math.random().toString(36).slice(2)}`};
        }
      });
      await controlled(s, url, 'plain.html?seed');
      for (const p of files) {
        const r = await readWhole(s, p, 300000);
        result.seeding.push({seeder: ns, file: p, ms: Math.round(r.ms), ok: r.hash === hashes[p] && r.bytes === SIZE});
        if (r.hash !== hashes[p] || r.bytes !== SIZE) throw new Error(`${ns} read ${p} wrong: ${JSON.stringify(r)}`);
        const st = await snapshot(s);
        if (st.bytesFromPeers) throw new Error(`${ns} seeded from peers: ${JSON.stringify(st)}`);
        log(`${ns} read ${p} from the origin in ${Math.round(r.ms)} ms`);
      }
      await controlled(s, url, 'plain.html');
      if (!(await waitFor(() => holdsWhole(s, files), 60000))) throw new Error(`${ns} does not hold its files whole`);
      seeders.push({ns, v: s, files});
    }
    baseline = SEEDED_HOLDINGS;
    await holdingsBack(baseline, 20000, 'seeders announced');

    // The origin denies the bench files from now on; the seeders' uploads are shaped.
    await server.stop();
    server = await startOrigin(['--deny-prefix', '/media/bench/']);
    await holdingsBack(baseline, 30000, 'seeders rejoined');
    for (const p of FILES) {
      const status = (await fetch(`${url}${p}`)).status;
      if (status !== 403) throw new Error(`the origin answers ${p} with ${status}, not 403`);
    }
    for (const ns of SEEDERS) shape(ns, SEEDER_RATE);

    // 1. A fresh visitor reads each file, the seeder counts in a different order each round.
    const orders = [[1, 2, 3], [3, 2, 1], [2, 3, 1], [1, 3, 2], [3, 1, 2], [2, 1, 3]];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const k of orders[(round - 1) % orders.length]) {
        const p = FILES[k - 1];
        const row = {round, seeders: k, file: p};
        let v = null;
        try {
          const ids = {};
          for (const s of seeders) ids[await peerIdOf(s.v)] = s.ns;
          const shaperBefore = Object.fromEntries(SEEDERS.map((ns) => [ns, qdiscStats(ns)]));
          v = await visitor(VISITOR, url);
          await controlled(v, url, 'plain.html');
          await watchAsks(v);
          const r = await readWhole(v, p, 600000).catch(async (err) => {
            // What the page saw before the failure, for the record.
            row.stats = await snapshot(v).catch(() => null);
            row.asks = await askSummary(v).catch(() => null);
            throw err;
          });
          const st = await snapshot(v);
          row.asks = await askSummary(v);
          Object.assign(row, {
            ms: Math.round(r.ms), first_byte_ms: Math.round(r.firstByteMs), bytes: r.bytes,
            mbit_s: Number(((r.bytes * 8) / (r.ms * 1000)).toFixed(2)),
            bytes_by_seeder: Object.fromEntries(Object.entries(st.bytesByPeer).map(([id, n]) => [ids[id] || id, n])),
            bytes_from_origin: st.bytesFromOrigin, pieces: st.pieces, failures: st.failures, hedged: st.hedged,
            hostile: st.hostile,
          });
          row.seeder_links = {};
          for (const ns of SEEDERS) {
            const [a, b] = [shaperBefore[ns], qdiscStats(ns)];
            if (a && b) row.seeder_links[ns] = {wire_mbit_s: Number((((b.sentBytes - a.sentBytes) * 8) / (r.ms * 1000)).toFixed(2)), dropped: b.dropped - a.dropped};
          }
          const problems = [];
          if (r.status !== 200) problems.push(`status ${r.status}`);
          if (r.bytes !== SIZE) problems.push(`${r.bytes} bytes`);
          if (r.hash !== hashes[p]) problems.push('wrong hash');
          if (st.bytesFromOrigin) problems.push(`${st.bytesFromOrigin} bytes from the origin`);
          if (consoleErrors(v).length) problems.push(`console: ${consoleErrors(v).join(' | ')}`);
          if (problems.length) throw new Error(problems.join('; '));
          log(`round ${round}, ${k} seeder(s): ${(r.ms / 1000).toFixed(1)} s, ${row.mbit_s} Mbit/s, ` +
              `by seeder ${JSON.stringify(Object.fromEntries(Object.entries(row.bytes_by_seeder).map(([ns, n]) => [ns, +(n / MiB).toFixed(1)])))} MiB`);
        } catch (err) {
          row.error = err.message;
          result.errors.push(`round ${round}, ${k} seeder(s): ${err.message}`);
          log(`round ${round}, ${k} seeder(s): ERROR ${err.message}`);
        } finally {
          if (v) await closeVisitor(v);
          result.fetches.push(row);
        }
        await holdingsBack(baseline, 20000, 'the visitor left');
      }
    }
  }

  if (PARTS.has('video')) {
    // 2. Video start, origin at ORIGIN_RATE. Nobody holds the film: a first visitor's p2pcdn
    // gets it from the origin too.
    shape('origin', ORIGIN_RATE);
    const variants = {
      p2pcdn: {page: 'video.html', options: {}},
      without: {page: 'video.html?direct', options: {contextOptions: {serviceWorkers: 'block'}}, blockScript: true},
    };
    for (let round = 1; round <= VIDEO_ROUNDS; round++) {
      const order = round % 2 ? ['p2pcdn', 'without'] : ['without', 'p2pcdn'];
      for (const name of order) {
        const variant = variants[name];
        const row = {round, variant: name};
        let v = null;
        try {
          v = await visitor(VISITOR, url, variant.options);
          // Observation only: when the worker took control (the demo's player sets the video's
          // source then), when the worker first asked the page for pieces and when the page
          // said no peer holds them; the worker's first Range requests to the origin.
          await v.context.addInitScript(() => {
            const log = window.startLog = {};
            const t = () => Math.round(performance.now());
            if (navigator.serviceWorker) navigator.serviceWorker.addEventListener('controllerchange', () => (log.controllerchange ??= t()));
            // The player setting the film's source, and the element starting to load it.
            document.addEventListener('loadstart', () => (log.loadstart ??= t()), true);
            addEventListener('DOMContentLoaded', () => (log.dcl ??= t()));
            addEventListener('load', () => (log.load ??= t()));
            const desc = Object.getOwnPropertyDescriptor(HTMLMediaElement.prototype, 'src');
            Object.defineProperty(HTMLMediaElement.prototype, 'src', {set(v) { log.src_set ??= t(); desc.set.call(this, v); }, get() { return desc.get.call(this); }});
            // Hooked as p2pcdn.js sets window.p2pcdn: no polling on the page's main thread.
            Object.defineProperty(window, 'p2pcdn', {configurable: true, get: () => undefined, set(p) {
              Object.defineProperty(window, 'p2pcdn', {value: p, writable: true, configurable: true});
              const wanted = p.onPiecesWanted.bind(p);
              p.onPiecesWanted = (m) => ((log.first_ask ??= t()), wanted(m));
              const post = p.bridge.post.bind(p.bridge);
              p.bridge.post = (m, transfer) => ((m.type === 'pieces-missing' && (log.pieces_missing ??= t())), post(m, transfer));
            }});
          });
          // Requests for the film as the browser sends them, in wall-clock time: the element's
          // own (to the worker, or to the origin without p2pcdn) and the worker's Range requests.
          const originRanges = [];
          let elementRequestAt = null;
          let workerRangeAt = null;
          v.context.on('request', (req) => {
            if (!req.url().endsWith('/media/film.webm')) return;
            if (!req.serviceWorker()) elementRequestAt ??= Date.now();
            else if (req.headers().range) {
              workerRangeAt ??= Date.now();
              if (originRanges.length < 6) originRanges.push(req.headers().range);
            }
          });
          if (variant.blockScript) {
            const cdp = await v.context.newCDPSession(v.page);
            await cdp.send('Network.enable');
            await cdp.send('Network.setBlockedURLs', {urls: ['*/p2pcdn/p2pcdn.js']});
          }
          await v.page.goto(`${url}/${variant.page}`, {timeout: 60000});
          const played = await v.page.waitForFunction(() => {
            const video = window.demoVideo;
            if (video && video.error) return {error: `media error ${video.error.code} ${video.error.message}`};
            return window.demoTimes && window.demoTimes.playing !== null && {times: window.demoTimes};
          }, null, {timeout: 60000, polling: 20}).then((h) => h.jsonValue(), (err) => ({error: err.message}));
          if (played.error) throw new Error(played.error);
          Object.assign(row, {loadeddata_ms: Math.round(played.times.loadeddata), playing_ms: Math.round(played.times.playing),
                              loadedmetadata_ms: Math.round(played.times.loadedmetadata)});
          // In the page's time (ms after the navigation began), to within the driver's delay.
          const timeOrigin = await v.page.evaluate(() => performance.timeOrigin);
          row.element_request_ms = elementRequestAt && Math.round(elementRequestAt - timeOrigin);
          if (name === 'p2pcdn') row.worker_origin_request_ms = workerRangeAt && Math.round(workerRangeAt - timeOrigin);
          if (name === 'p2pcdn') {
            row.start = await v.page.evaluate(() => window.startLog);
            row.worker_origin_ranges = originRanges;
            const st = await snapshot(v);
            Object.assign(row, {bytes_from_origin: st.bytesFromOrigin, bytes_from_peers: st.bytesFromPeers, pieces: st.pieces});
            // A first visit's page registers the worker at load (its film may play before
            // that, from the network, as without p2pcdn): p2pcdn must have taken the page by
            // a few seconds after it plays, so the visitor holds the film and shares it.
            const controlled = await v.page.waitForFunction(() => !!navigator.serviceWorker.controller, null, {timeout: 10000, polling: 50})
                                   .then(() => true, () => false);
            if (!controlled) throw new Error('not controlled 10 s after playing');
          }
          if (consoleErrors(v).length) throw new Error(`console: ${consoleErrors(v).join(' | ')}`);
          log(`video round ${round}, ${name}: first frame ${row.loadeddata_ms} ms, playing ${row.playing_ms} ms`);
        } catch (err) {
          row.error = err.message;
          result.errors.push(`video round ${round}, ${name}: ${err.message}`);
          log(`video round ${round}, ${name}: ERROR ${err.message}`);
        } finally {
          if (v) await closeVisitor(v);
          result.video.push(row);
        }
        await holdingsBack(baseline, 20000, 'the video visitor left');
      }
    }
  }
  for (const s of seeders) {
    const errors = consoleErrors(s.v);
    if (errors.length) result.errors.push(`seeder ${s.ns} console: ${errors.join(' | ')}`);
  }
} catch (err) {
  result.errors.push(`run: ${err.stack || err.message}`);
  log(`ERROR ${err.stack || err.message}`);
} finally {
  clearTimeout(deadline);
  await cleanup();
}

// Medians and ratios.
const seederRows = (k) => result.fetches.filter((r) => r.seeders === k && !r.error);
result.summary = {fetch: {}, video: {}};
for (const k of [1, 2, 3]) {
  const rows = seederRows(k);
  result.summary.fetch[k] = {n: rows.length, median_ms: median(rows.map((r) => r.ms)), median_mbit_s: median(rows.map((r) => r.mbit_s))};
}
const base = result.summary.fetch[1].median_mbit_s;
for (const k of [1, 2, 3]) {
  const s = result.summary.fetch[k];
  s.ratio = base && s.median_mbit_s ? Number((s.median_mbit_s / base).toFixed(2)) : null;
}
for (const name of ['p2pcdn', 'without']) {
  const rows = result.video.filter((r) => r.variant === name && !r.error);
  result.summary.video[name] = {n: rows.length, loadeddata_ms: median(rows.map((r) => r.loadeddata_ms)),
                                playing_ms: median(rows.map((r) => r.playing_ms))};
}
const targets = result.summary.targets = {};
if (result.fetches.length) {
  targets.two_seeders_1_7x = result.summary.fetch[2].ratio !== null && result.summary.fetch[2].ratio >= 1.7;
  targets.three_seeders_2_4x = result.summary.fetch[3].ratio !== null && result.summary.fetch[3].ratio >= 2.4;
}
const v = result.summary.video;
for (const key of ['loadeddata_ms', 'playing_ms']) {
  const ratio = v.p2pcdn[key] && v.without[key] ? v.p2pcdn[key] / v.without[key] : null;
  v[`${key.replace('_ms', '')}_ratio`] = ratio === null ? null : Number(ratio.toFixed(2));
  if (result.video.length) targets[`video_${key.replace('_ms', '')}_1_2x`] = ratio !== null && ratio <= 1.2;
}

try {
  fs.mkdirSync(RESULTS, {recursive: true});
  const text = `${JSON.stringify(result, null, 2)}\n`;
  fs.writeFileSync(path.join(RESULTS, 'pieces_bench.json'), text);  // the latest run
  fs.writeFileSync(path.join(RESULTS, `pieces_bench-${result.date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}.json`), text);
} catch (err) {
  log(`results not written: ${err.message}`);
}
console.log(report(result));
if (result.errors.length) {
  console.log(`\npieces_bench: ${result.errors.length} error(s):\n${result.errors.map((e) => `- ${e}`).join('\n')}`);
}
process.exit(result.errors.length ? 1 : 0);
