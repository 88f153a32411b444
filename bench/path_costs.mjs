// What each step of a peer transfer costs in CPU, alone, in one browser on loopback (Chromium,
// or Firefox ESR with BROWSER=firefox): the
// floor under p2p_bench's 20 MiB figure. On a machine whose data channels are CPU-bound
// (two cores shared by two browsers), each millisecond of CPU a path adds is a millisecond
// the transfer waits, so these say how close to a bare channel any service-worker design
// can come. Per 20 MiB (80 pieces of 256 KiB), medians of RUNS (default 5) of the CPU time
// of all the browser's processes (Linux /proc, 10 ms ticks; `page_ms`: the processes pages run
// in, Chromium's renderers or Firefox's content processes) and the wall time:
//  - the page reads a fetch of 20 MiB from the origin (no worker): the baseline;
//  - the same 20 MiB from a worker's stream (as p2pcdn answers a large file), read whole or
//    chunk by chunk;
//  - the seeder's side: 80 pieces read from Cache Storage (as uploads.js does);
//  - the page's receive path: the core's ChunkAssembler over the frames of 80 pieces (copy
//    in, SHA-256), each body copied out and transferred over a MessagePort.
// Every Chromium or Firefox process on the machine is counted: run it with no other browser
// running. Prints one JSON object; bench/README.md has the table.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import {browserProcesses} from './browser_processes.mjs';
import {launchChromium} from '../tests/browser/chromium.mjs';
import {launchFirefox} from '../tests/browser/firefox.mjs';
import {ROOT} from '../tests/e2e/harness.mjs';

const RUNS = Number(process.env.RUNS || 5);
const BROWSER = process.env.BROWSER || 'chromium';
const MiB = 1 << 20;
const PIECE = 256 << 10;
const PIECES = 80;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// A worker that answers /stream with 20 MiB as a stream of 256 KiB chunks, each a fresh
// buffer (as verified pieces arrive), and leaves everything else to the network.
const WORKER = `
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (e) => {
  if (new URL(e.request.url).pathname !== '/stream') return;
  let sent = 0;
  const body = new ReadableStream({
    pull(c) {
      if (sent >= ${20 * MiB}) return c.close();
      const b = new Uint8Array(${PIECE});
      b[0] = sent & 255;
      sent += b.length;
      c.enqueue(b);
    },
  }, {highWaterMark: 0});
  e.respondWith(new Response(body, {headers: {'content-type': 'application/octet-stream', 'content-length': '${20 * MiB}'}}));
});`;

function serve() {
  const big = Buffer.alloc(20 * MiB, 7);
  const core = (name) => fs.readFileSync(path.join(ROOT, 'dist', name));
  const server = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    const send = (type, body) => res.writeHead(200, {'content-type': type, 'cache-control': 'no-store'}).end(body);
    if (p === '/sw.js') return send('text/javascript', WORKER);
    if (p === '/big.bin') return send('application/octet-stream', big);
    if (p === '/p2pcdn-core.js') return send('text/javascript', core('p2pcdn-core.js'));
    if (p === '/p2pcdn-core.wasm') return send('application/wasm', core('p2pcdn-core.wasm'));
    return send('text/html', '<!doctype html><meta charset="utf-8"><title>path costs</title>');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// CPU time (ms) used so far by every browser process, in all and in the processes pages run in
// (Chromium's renderers, Firefox's content processes).
function cpu() {
  const out = {total: 0, page: 0};
  for (const p of browserProcesses().values()) {
    out.total += p.ms;
    if (p.kind === 'renderer' || p.kind === 'content') out.page += p.ms;
  }
  return out;
}

// Each case runs in the page and returns the bytes it handled (checked: 20 MiB each).
const CASES = {
  'origin fetch, arrayBuffer() (baseline)': async () => (await (await fetch('/big.bin')).arrayBuffer()).byteLength,
  "worker's stream, arrayBuffer()": async () => (await (await fetch('/stream')).arrayBuffer()).byteLength,
  "worker's stream, read chunk by chunk": async () => {
    const reader = (await fetch('/stream')).body.getReader();
    let n = 0;
    for (;;) {
      const {value, done} = await reader.read();
      if (done) return n;
      n += value.length;
    }
  },
  'Cache Storage, 80 pieces, arrayBuffer()': async () => {
    const cache = await caches.open('pieces');
    let n = 0;
    for (let i = 0; i < 80; i++) n += (await (await cache.match(`/piece?${i}`)).arrayBuffer()).byteLength;
    return n;
  },
  'Cache Storage, 80 pieces, blob().arrayBuffer()': async () => {
    const cache = await caches.open('pieces');
    let n = 0;
    for (let i = 0; i < 80; i++) n += (await (await (await cache.match(`/piece?${i}`)).blob()).arrayBuffer()).byteLength;
    return n;
  },
  'receive: ChunkAssembler (copy in, SHA-256), body copied out, posted to a port': async () => {
    const {core, frames, hash, port} = window.receiveRig;
    const assembler = new core.ChunkAssembler({maxTotalBytes: 64 << 20});
    let k = 0;
    let n = 0;
    for (let i = 0; i < 80; i++) {
      const error = assembler.begin(i + 1, 1, i * 262144, 262144, hash, 0);
      if (error) throw new Error(error.error);
      let r = null;
      while (!r || r.outcome !== 'complete') {
        r = assembler.receive(frames[k++], 0, 262144, 1);
        if (r.error) throw new Error(r.error);
      }
      const body = assembler.body(i + 1).slice().buffer;
      n += body.byteLength;
      port.postMessage({type: 'piece', body}, [body]);
      assembler.release(i + 1);
    }
    return n;
  },
};

// What the cases need in the page: the worker in control, 80 pieces in Cache Storage, the
// core and a piece's frames as a seeder sends them.
async function rig(page) {
  await page.evaluate(async () => {
    await navigator.serviceWorker.register('/sw.js');
    await navigator.serviceWorker.ready;
  });
  await page.reload();
  await page.evaluate(async () => {
    if (!navigator.serviceWorker.controller) throw new Error('no worker in control');
    const cache = await caches.open('pieces');
    const piece = new Uint8Array(262144);
    for (let i = 0; i < 80; i++) {
      piece[0] = i;
      await cache.put(`/piece?${i}`, new Response(piece.slice(), {headers: {'content-type': 'application/octet-stream'}}));
    }
    await new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = '/p2pcdn-core.js';
      s.onload = resolve;
      s.onerror = reject;
      document.head.appendChild(s);
    });
    const core = await createP2pcdnCore();  // eslint-disable-line no-undef
    const data = new Uint8Array(262144);
    crypto.getRandomValues(data.subarray(0, 65536));
    const hash = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', data)), (b) => b.toString(16).padStart(2, '0')).join('');
    // Frames of one piece as a seeder cuts them for a 256 KiB message (two per piece).
    const cap = core.payloadCapacity(262144);
    const frames = [];
    for (let i = 0; i < 80; i++) {
      for (let off = 0; off < 262144; off += cap) {
        const n = Math.min(cap, 262144 - off);
        const f = new Uint8Array(core.dataHeaderSize + n);
        f.set(core.dataHeader(i + 1, i * 262144 + off, n));
        f.set(data.subarray(off, off + n), core.dataHeaderSize);
        frames.push(f.buffer);
      }
    }
    const {port1, port2} = new MessageChannel();
    port2.onmessage = () => {};
    window.receiveRig = {core, frames, hash, port: port1};
  });
}

const server = await serve();
const origin = `http://127.0.0.1:${server.address().port}`;
const browser = BROWSER === 'firefox' ? await launchFirefox({host: '127.0.0.1'}) : await launchChromium({origin});
const version = await browser.version();
const figures = {};
try {
  const page = await browser.newPage();
  await page.goto(`${origin}/`);
  await rig(page);
  const samples = Object.fromEntries(Object.keys(CASES).map((name) => [name, []]));
  for (let run = -1; run < RUNS; run++) {  // run -1: warm-up, not kept
    for (const [name, fn] of Object.entries(CASES)) {
      const before = cpu();
      const started = performance.now();
      const bytes = await page.evaluate(`(${fn.toString()})()`);
      const wallMs = performance.now() - started;
      const after = cpu();
      if (bytes !== 20 * MiB) throw new Error(`${name}: ${bytes} bytes`);
      if (run >= 0) samples[name].push({wallMs, cpuMs: after.total - before.total, pageMs: after.page - before.page});
    }
  }
  const base = median(samples[Object.keys(CASES)[0]].map((s) => s.cpuMs));
  for (const [name, list] of Object.entries(samples)) {
    const cpuMs = median(list.map((s) => s.cpuMs));
    figures[name] = {cpu_ms: cpuMs, page_ms: median(list.map((s) => s.pageMs)), wall_ms: Math.round(median(list.map((s) => s.wallMs))),
                     cpu_vs_origin: Math.round((cpuMs / base) * 100) / 100};
  }
} finally {
  await browser.close();
  server.close();
}
console.log(JSON.stringify({date: new Date().toISOString(), browser: version, runs: RUNS, bytes: 20 * MiB, figures}, null, 2));
