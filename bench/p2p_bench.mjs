// Browser-to-browser figures for bench/README.md, measured in one run inside the network
// namespace of tests/e2e/netns.sh (run it through bench/p2p_bench.sh), on a page of the demo
// site that runs p2pcdn and nothing else (PAGE):
//  - a 20 MiB file fetched by page B from peer A through p2pcdn (worker -> page -> peer ->
//    verified -> worker -> page), against a bare RTCDataChannel between the same two
//    browsers sending the same bytes (the physical limit here);
//  - a 12 KiB image from a peer against the same image from the origin.
// Medians of RUNS (default 3; 15 for latency) after a warm-up.
// PAIR chooses the browsers, seeder A first: chromium (default: A and B Chromium), firefox
// (both Firefox ESR), mixed (chromium-firefox, then firefox-chromium), or a comma-separated
// list of those and of seeder-visitor names (chromium-firefox, firefox-chromium, ...). Each
// pair gets its own browsers and its own server (a separate origin). Prints one JSON object
// ({pairs: [...]}); exits 1 if a pair's round errored (wrong bytes, bytes not from the peer,
// a timeout), never because a ratio is low.
import {execFileSync} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

import {browserProcesses} from './browser_processes.mjs';
import {cachedPaths, holdsWhole, newFirefoxVisitor, newVisitor, ROOT, startServer, waitFor} from '../tests/e2e/harness.mjs';

const RUNS = Number(process.env.RUNS || 3);
const MiB = 1 << 20;
// A 20 MiB file is cut into pieces, and a page asks for each piece of a file once (asked
// again, the worker gets it from the origin): so a fresh copy per round, big-0 the warm-up.
const big = (k) => `/media/bench/big-${k}.bin`;
const BIGS = Array.from({length: RUNS + 1}, (_, k) => big(k));
const SMALL = '/media/bench/small.png';
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// A 64x64 RGB PNG of random pixels: ~12 KiB that no compression shrinks.
function noisePng(width, height) {
  const crcTable = Array.from({length: 256}, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'ascii');
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(crc(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, tail]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);  // 8-bit RGB
  const rows = [];
  for (let y = 0; y < height; y++) rows.push(Buffer.from([0]), crypto.randomBytes(width * 3));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
                        chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

function makeSite() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'p2pcdn-bench-'));
  fs.cpSync(path.join(ROOT, 'build/site/demo'), root, {recursive: true});
  fs.mkdirSync(path.join(root, 'media/bench'));
  for (const p of BIGS) fs.writeFileSync(path.join(root, p), crypto.randomBytes(20 * MiB));
  // Traced: p2pcdn's readable bundles (of the Wasm build TRACE_BUILD, default build/wasm)
  // with the core in dist/, so the profile names functions as the source does (a core
  // linked with --profiling-funcs names its Wasm functions too).
  if (TRACE_DIR) {
    const readable = path.join(process.env.TRACE_BUILD || path.join(ROOT, 'build/wasm'), 'js_glue/readable');
    const files = [[path.join(readable, 'p2pcdn.js'), 'p2pcdn.js'], [path.join(readable, 'p2pcdn-sw.js'), 'p2pcdn-sw.js'],
                   [path.join(ROOT, 'dist/p2pcdn-core.wasm'), 'p2pcdn-core.wasm']];
    for (const [from, name] of files) {
      fs.copyFileSync(from, path.join(root, 'p2pcdn', name));
      for (const ext of ['.gz', '.br']) fs.rmSync(path.join(root, 'p2pcdn', name + ext), {force: true});
    }
  }
  fs.writeFileSync(path.join(root, SMALL), noisePng(64, 64));
  fs.writeFileSync(path.join(root, 'quiet.html'), QUIET_PAGE);
  // MANIFEST_ARGS: more p2pcdn-manifest flags (e.g. `--piece-size 1048576`).
  const more = (process.env.MANIFEST_ARGS || '').split(' ').filter(Boolean);
  execFileSync(path.join(ROOT, 'build/native/server/p2pcdn-manifest'), [root, '--out', path.join(root, 'p2pcdn/manifest.json'), ...more],
               {stdio: 'ignore'});
  return root;
}

const KINDS = ['chromium', 'firefox'];
const ALIASES = {chromium: ['chromium-chromium'], firefox: ['firefox-firefox'], mixed: ['chromium-firefox', 'firefox-chromium']};

function pairsFrom(spec) {
  const out = [];
  for (const name of spec.split(',').map((x) => x.trim()).filter(Boolean)) {
    for (const pair of ALIASES[name] || [name]) {
      const kinds = pair.split('-');
      if (kinds.length !== 2 || !kinds.every((k) => KINDS.includes(k))) throw new Error(`PAIR: unknown pair ${name}`);
      if (!out.includes(pair)) out.push(pair);
    }
  }
  return out;
}

const visitorOf = (kind, url, options) => (kind === 'firefox' ? newFirefoxVisitor(url, options) : newVisitor(url, options));

// The page both transfers run in (PAGE=/ for the demo's own index, whose looping video and
// animated GIF keep both browsers decoding all along).
const PAGE = process.env.PAGE || '/quiet.html';
const QUIET_PAGE = `<!doctype html><meta charset="utf-8"><title>p2pcdn bench</title>
<script defer src="/p2pcdn/p2pcdn.js"></script>
<script>navigator.serviceWorker.register('/sw.js');</script>
<p>A page of the site with p2pcdn and nothing else running.</p>
`;

// A page of the demo, controlled by the worker, joined to signaling.
async function controlledPage(kind, url) {
  const v = await visitorOf(kind, url);
  v.kind = kind;
  try {
    await v.page.goto(`${url}${PAGE}`);
    const ok = await waitFor(() => v.page.evaluate(() => !!navigator.serviceWorker.controller && !!window.p2pcdn && window.p2pcdn.joined), 20000);
    if (!ok) throw new Error(`${kind}: page never became controlled and joined`);
  } catch (err) {
    await v.close();
    throw err;
  }
  return v;
}

const browserVersion = async (v) => {
  try {
    return await v.browser.version();
  } catch (_) {
    return null;
  }
};

const timedFetch = (v, p, init) => v.page.evaluate(async ([p, init]) => {
  const t = performance.now();
  const body = await (await fetch(p, init)).arrayBuffer();
  return {ms: performance.now() - t, bytes: body.byteLength};
}, [p, init || {}]);

const originBytes = async (server, p) => (await server.metrics())[`p2pcdn_static_bytes_total{path="${p}"}`] || 0;

// Drops the page's copy of `p`: the whole body, or every piece of a file held in pieces
// (kept under `URL?p2pcdn-piece=N`; the worker notices them gone and asks peers again).
const dropFromCache = (v, p) => v.page.evaluate(async (p) => {
  const url = new URL(p, location.href).href;
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      if (request.url === url || request.url.startsWith(`${url}?p2pcdn-piece=`) || request.url.startsWith(`${url}&p2pcdn-piece=`)) {
        await cache.delete(request);
      }
    }
  }
}, p);

// Drops B's copy of the small image once its worker has written it (a copy from a peer is
// written just after the page has read it): dropped before, the copy would land afterwards
// and the next round's fetch would be served from it.
async function dropWritten(v, p) {
  if (!(await waitFor(async () => (await cachedPaths(v)).includes(p), 2000))) throw new Error(`${p}: never kept`);
  await dropFromCache(v, p);
}

// CPU time (ms) used so far by each browser of `roots` ({name: pid of its main process}), by
// kind of process: what each path costs in CPU, which on a machine whose data channels are
// CPU-bound is what its throughput is traded against.
function browserCpu(roots) {
  const procs = browserProcesses();
  const names = new Map(Object.entries(roots).map(([name, pid]) => [pid, name]));
  const out = {};
  for (const [pid, p] of procs) {
    let at = pid;
    for (let hops = 0; hops < 8 && at > 1 && !names.has(at); hops++) at = procs.has(at) ? procs.get(at).ppid : 0;
    if (!names.has(at)) continue;
    const key = `${names.get(at)} ${p.kind}`;
    out[key] = (out[key] || 0) + p.ms;
    out[`${key} faults`] = (out[`${key} faults`] || 0) + p.faults;
    for (const [thread, ms] of Object.entries(p.threads)) out[`${key} thread ${thread}`] = (out[`${key} thread ${thread}`] || 0) + ms;
  }
  return out;
}

// The main processes of the browsers running now (to tell which one a launch added).
function browserMains() {
  return new Set([...browserProcesses()].filter(([, p]) => p.main).map(([pid]) => pid));
}

const launched = (before) => [...browserMains()].find((pid) => !before.has(pid)) || null;

// What `work` used, per kind of process.
async function cpuOf(roots, work, into) {
  const before = browserCpu(roots);
  const result = await work();
  const after = browserCpu(roots);
  const used = {};
  for (const k of Object.keys(after)) used[k] = after[k] - (before[k] || 0);
  used.total = Object.entries(used).filter(([k]) => !k.endsWith(' faults') && !k.includes(' thread ')).reduce((a, [, ms]) => a + ms, 0);
  used['total faults'] = Object.entries(used).filter(([k]) => k.endsWith(' faults')).reduce((a, [, n]) => a + n, 0);
  into.push(used);
  return result;
}

const medianCpu = (list) => {
  const out = {};
  for (const k of new Set(list.flatMap((u) => Object.keys(u)))) out[k] = median(list.map((u) => u[k] || 0));
  return out;
};

// Rejects when `promise` takes longer than `ms` (a stuck transfer is an error, not a hang).
function within(ms, what, promise) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result in ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// A second RTCPeerConnection between the same two pages, signaled by the driver (whole SDPs
// through page.evaluate: works in Chromium and Firefox alike), sending the same 20 MiB in
// 256 KiB messages (BARE_MESSAGE_BYTES) with the same pacing as p2pcdn's uploads.
const BARE_MESSAGE = Number(process.env.BARE_MESSAGE_BYTES || 262144);

// TRACE=dir: a Chromium trace of the last round's 20 MiB fetch, one file per browser
// (<pair>-seeder.json, <pair>-visitor.json), to see which thread (and with TRACE_JS=1 which
// function) the time goes to (bench/trace_threads.mjs reads them); p2pcdn's bundles are the
// readable ones then. Firefox browsers are not traced. Tracing slows the round it traces.
const TRACE_DIR = process.env.TRACE || null;
const TRACE_CATEGORIES = ['toplevel', 'v8', 'devtools.timeline', 'disabled-by-default-devtools.timeline',
                          'ServiceWorker', 'CacheStorage', 'webrtc', 'blink',
                          // JS samples (TRACE_JS=1) name the functions, but slow the round severalfold.
                          ...(process.env.TRACE_JS ? ['disabled-by-default-v8.cpu_profiler'] : [])];

async function startTraces(pair, visitors) {
  const traced = visitors.filter((v) => v.kind === 'chromium');
  fs.mkdirSync(TRACE_DIR, {recursive: true});
  for (const v of traced) {
    const role = v === visitors[0] ? 'seeder' : 'visitor';
    await v.browser.startTracing(undefined, {path: path.join(TRACE_DIR, `${pair}-${role}.json`), categories: TRACE_CATEGORIES});
  }
  return {stop: async () => { for (const v of traced) await v.browser.stopTracing(); }};
}
async function bareChannel(a, b) {
  const setUp = () => {
    window.bare = new RTCPeerConnection();
    window.bareChannel = window.bare.createDataChannel('bare', {negotiated: true, id: 7});
    window.bareChannel.binaryType = 'arraybuffer';
  };
  await a.page.evaluate(setUp);
  await b.page.evaluate(setUp);
  const offer = await a.page.evaluate(async () => {
    await window.bare.setLocalDescription(await window.bare.createOffer());
    await new Promise((r) => (window.bare.iceGatheringState === 'complete' ? r() : window.bare.addEventListener('icegatheringstatechange', () => window.bare.iceGatheringState === 'complete' && r())));
    return window.bare.localDescription.sdp;
  });
  const answer = await b.page.evaluate(async (sdp) => {
    await window.bare.setRemoteDescription({type: 'offer', sdp});
    await window.bare.setLocalDescription(await window.bare.createAnswer());
    await new Promise((r) => (window.bare.iceGatheringState === 'complete' ? r() : window.bare.addEventListener('icegatheringstatechange', () => window.bare.iceGatheringState === 'complete' && r())));
    return window.bare.localDescription.sdp;
  }, offer);
  await a.page.evaluate((sdp) => window.bare.setRemoteDescription({type: 'answer', sdp}), answer);
  await a.page.waitForFunction(() => window.bareChannel.readyState === 'open', null, {timeout: 10000});
  await b.page.waitForFunction(() => window.bareChannel.readyState === 'open', null, {timeout: 10000});
  await b.page.evaluate(() => {
    window.bareReceive = (total) => new Promise((resolve) => {
      let got = 0;
      window.bareChannel.onmessage = (e) => {
        got += e.data.byteLength;
        if (got >= total) {
          window.bareChannel.send(new Uint8Array(1));  // done: tell the sender
          resolve(got);
        }
      };
    });
  });
  const maxMessageSize = await a.page.evaluate(() => (window.bare.sctp ? window.bare.sctp.maxMessageSize : null));
  const send = async (bytes) => {
    const waiting = b.page.evaluate((n) => window.bareReceive(n), bytes);
    const ms = await a.page.evaluate(async ([n, size]) => {
      const ch = window.bareChannel;
      ch.bufferedAmountLowThreshold = 1 << 20;
      const data = new Uint8Array(n);
      const done = new Promise((r) => (ch.onmessage = () => r()));
      const t = performance.now();
      for (let at = 0; at < n; at += size) {
        if (ch.bufferedAmount > 4 << 20) await new Promise((r) => (ch.onbufferedamountlow = r));
        ch.send(data.subarray(at, Math.min(n, at + size)));
      }
      await done;
      return performance.now() - t;
    }, [bytes, BARE_MESSAGE]);
    const got = await waiting;
    if (got !== bytes) throw new Error(`bare channel delivered ${got} bytes of ${bytes}`);
    return ms;
  };
  send.maxMessageSize = maxMessageSize;
  return send;
}

// One pair, seeder A of kind `seederKind` and visitor B of kind `visitorKind`, on its own
// server (port) over the same site.
async function runPair(root, pair, port) {
  const [seederKind, visitorKind] = pair.split('-');
  const server = await startServer({root, port});
  const visitors = [];
  try {
    // A seeds both files from the origin.
    const mainsBeforeA = browserMains();
    const a = await controlledPage(seederKind, server.url);
    const seederPid = launched(mainsBeforeA);
    visitors.push(a);
    await within(300000, 'seeding', (async () => {
      for (const p of BIGS) await timedFetch(a, p);
      await timedFetch(a, SMALL);
    })());
    const seeded = await waitFor(async () => (await cachedPaths(a)).filter((p) => p.startsWith('/media/bench/')).length === BIGS.length + 1, 30000);
    if (!seeded) throw new Error('A did not cache the bench files');
    await waitFor(async () => (await server.metrics()).p2pcdn_announcements >= BIGS.length + 1, 10000);

    const mainsBeforeB = browserMains();
    const b = await controlledPage(visitorKind, server.url);
    const visitorPid = launched(mainsBeforeB);
    visitors.push(b);
    const bare = await within(30000, 'bare channel set-up', bareChannel(a, b));

    // Warm-up: the p2pcdn link comes up, both paths reach full speed once.
    await within(60000, 'warm-up', (async () => {
      await timedFetch(b, SMALL);
      await dropWritten(b, SMALL);
      await bare(20 * MiB);
      await timedFetch(b, big(0));
      // Its pieces are written after the transfer: not in the first round's bare transfer.
      if (!(await waitFor(() => holdsWhole(b, [big(0)]), 60000))) throw new Error(`B never kept ${big(0)}`);
    })());

    const bareMs = [], p2pMs = [], transferMs = [], bareCpu = [], p2pCpu = [];
    const roots = {seeder: seederPid, visitor: visitorPid};
    for (let i = 0; i < RUNS; i++) {
      await within(120000, `round ${i + 1}`, (async () => {
        bareMs.push(await cpuOf(roots, () => bare(20 * MiB), bareCpu));
        const p = big(i + 1);
        const originBefore = await originBytes(server, p);
        const before = await b.page.evaluate(() => window.p2pcdn.stats.snapshot());
        const tracing = TRACE_DIR && i === RUNS - 1 ? await startTraces(pair, [a, b]) : null;
        const r = await cpuOf(roots, () => timedFetch(b, p), p2pCpu);
        if (tracing) await tracing.stop();
        if (r.bytes !== 20 * MiB) throw new Error(`round ${i + 1}: got ${r.bytes} bytes`);
        // From the peer: the origin sent none of it, the page counted pieces from peers.
        const after = await b.page.evaluate(() => window.p2pcdn.stats.snapshot());
        const fromOrigin = (await originBytes(server, p)) - originBefore;
        const pieces = after.pieces.fromPeers - before.pieces.fromPeers;
        if (fromOrigin || !pieces || after.pieces.fromOrigin !== before.pieces.fromOrigin) {
          throw new Error(`round ${i + 1}: not all from the peer: the origin sent ${fromOrigin} bytes of it; ` +
                          `pieces from peers ${pieces}, from the origin ${after.pieces.fromOrigin - before.pieces.fromOrigin}`);
        }
        p2pMs.push(r.ms);
        transferMs.push(after.lastPeerTransfer);
        // B's worker writes the pieces once they stop arriving (sw/piece_writes.js): the next
        // round, bare channel first, starts once they are written, as this one did.
        if (!(await waitFor(() => holdsWhole(b, [p]), 60000))) throw new Error(`round ${i + 1}: B never kept ${p}`);
      })());
    }
    const source = await b.page.evaluate(() => window.p2pcdn.stats.snapshot());
    const linkMessageSize = await b.page.evaluate(() => [...window.p2pcdn.links.values()].map((l) => l.maxMessageSize));

    // 12 KiB image: from the peer (link already up), and from the origin in a browser of B's
    // kind that never registers a worker (a page that is only the image itself).
    const peerMs = [], originMs = [];
    const c = await visitorOf(visitorKind, server.url);
    visitors.push(c);
    await c.page.goto(`${server.url}${SMALL}?page`);
    await timedFetch(c, `${SMALL}?warm`, {cache: 'no-store'});
    await within(60000, 'small image', (async () => {
      for (let i = 0; i < Math.max(15, RUNS); i++) {
        const before = (await b.page.evaluate(() => window.p2pcdn.stats.snapshot())).requestsFromPeers;
        peerMs.push((await timedFetch(b, SMALL)).ms);
        const after = await waitFor(async () => (await b.page.evaluate(() => window.p2pcdn.stats.snapshot())).requestsFromPeers > before, 2000);
        if (!after) throw new Error(`small image ${i + 1}: not from the peer`);
        await dropWritten(b, SMALL);
        originMs.push((await timedFetch(c, `${SMALL}?${i}`, {cache: 'no-store'})).ms);
      }
    })());
    const smallBytes = fs.statSync(path.join(root, SMALL)).size;
    return {
      pair, seeder: seederKind, visitor: visitorKind,
      versions: {seeder: await browserVersion(a), visitor: await browserVersion(b)},
      runs: RUNS,
      file_bytes: 20 * MiB,
      bare_message_bytes: BARE_MESSAGE,
      bare_max_message_size: bare.maxMessageSize,
      p2pcdn_link_message_size: linkMessageSize,
      bare_channel_mib_s: (20 / median(bareMs)) * 1000,
      p2pcdn_mib_s: (20 / median(p2pMs)) * 1000,
      // REQUEST sent to body verified in the page, when one request carried the whole file
      // (a file in pieces: the last piece's transfer only, so no rate).
      p2pcdn_page_transfer_mib_s: transferMs.every((t) => t && t.bytes === 20 * MiB) ? (20 / median(transferMs.map((t) => t.ms))) * 1000 : null,
      bare_ms: bareMs, p2pcdn_ms: p2pMs, p2pcdn_last_peer_transfer: transferMs,
      // CPU of both browsers during each transfer (medians per kind of process, ms).
      cpu_ms_bare: medianCpu(bareCpu), cpu_ms_p2pcdn: medianCpu(p2pCpu),
      b_stats: {bytesFromPeers: source.bytesFromPeers, bytesFromOrigin: source.bytesFromOrigin, failures: source.failures},
      console_errors: {seeder: a.errors, visitor: b.errors},
      small_bytes: smallBytes,
      small_from_peer_ms: median(peerMs),
      small_from_origin_ms: median(originMs),
      small_peer_samples: peerMs, small_origin_samples: originMs,
    };
  } finally {
    for (const v of visitors) await v.close();
    await server.stop();
  }
}

const pairs = pairsFrom(process.env.PAIR || 'chromium');
const root = makeSite();
const results = [];
try {
  for (const [i, pair] of pairs.entries()) {
    const started = Date.now();
    try {
      results.push({...(await runPair(root, pair, 8400 + i)), seconds: (Date.now() - started) / 1000});
    } catch (err) {
      console.error(`p2p_bench: ${pair}: ${err.stack || err}`);
      results.push({pair, error: String(err.message || err), seconds: (Date.now() - started) / 1000});
    }
  }
} finally {
  fs.rmSync(root, {recursive: true, force: true});
}
console.log(JSON.stringify({date: new Date().toISOString(), node: process.version, pairs: results}, null, 2));
process.exitCode = results.some((r) => r.error) ? 1 : 0;
