// How long a service worker's answer takes to reach a page, by the kind of body it answers
// with, against the same 12 KiB from the origin (a loopback p2pcdn-server, `cache:
// 'no-store'`). No p2pcdn here: a bare worker, so what Chromium's worker path itself costs
// can be told apart from p2pcdn's own (bench/README.md, "a small file's answer from the
// worker"). Kinds:
//   arraybuffer, blob, stream: a Response made in the fetch event from bytes in hand;
//   ask-arraybuffer, ask-stream: the bytes asked from the page over a MessageChannel first
//     (as p2pcdn's worker asks its page), then the same Responses;
//   cache, cache-open: Cache Storage's copy, the cache opened per request or once.
// Interleaved samples, medians. Usage: node bench/sw_answer_bench.mjs  (N=80 samples per kind)
// Writes bench/results/sw_answer.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {launchChromium} from '../tests/browser/chromium.mjs';
import {ROOT, startServer, waitFor} from '../tests/e2e/harness.mjs';

const BYTES = Number(process.env.BYTES || 12420);  // the 12.1 KiB image of p2p_bench by default
const N = Number(process.env.N || 80);
const KINDS = (process.env.KINDS || 'origin,arraybuffer,blob,stream,ask-arraybuffer,ask-stream,cache,cache-open').split(',');

const PAGE = `<!doctype html><title>worker answer</title><script>
navigator.serviceWorker.register('/sw.js');
function attach() {
  const channel = new MessageChannel();
  channel.port1.onmessage = (e) => {
    const body = new Uint8Array(${BYTES}).buffer;
    channel.port1.postMessage({id: e.data.id, body}, [body]);
  };
  navigator.serviceWorker.controller.postMessage('page', [channel.port2]);
}
async function sample(kind, i) {
  const url = kind === 'origin' ? '/data.bin?i=' + i : '/answer?kind=' + kind + '&i=' + i;
  const t = performance.now();
  await (await fetch(url, {cache: 'no-store'})).arrayBuffer();
  return performance.now() - t;
}
</script>`;

const WORKER = `
const HEADERS = {'content-type': 'image/png', 'content-length': '${BYTES}'};
const bytes = () => new Uint8Array(${BYTES});
const waiting = new Map();
let port = null;
let nextId = 0;
const openOnce = caches.open('answer');
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(Promise.all([clients.claim(),
  caches.open('answer').then((c) => c.put('/copy', new Response(bytes(), {headers: HEADERS})))])));
self.addEventListener('message', (e) => {
  port = e.ports[0];
  port.onmessage = (m) => { waiting.get(m.data.id)(m.data.body); waiting.delete(m.data.id); };
});
const ask = () => new Promise((resolve) => { const id = ++nextId; waiting.set(id, resolve); port.postMessage({id}); });
const stream = (buffer) => new ReadableStream({start(c) { c.enqueue(new Uint8Array(buffer)); c.close(); }});
const answers = {
  'arraybuffer': () => new Response(bytes().buffer, {headers: HEADERS}),
  'blob': () => new Response(new Blob([bytes()]), {headers: HEADERS}),
  'stream': () => new Response(stream(bytes().buffer), {headers: HEADERS}),
  'ask-arraybuffer': () => ask().then((b) => new Response(b, {headers: HEADERS})),
  'ask-stream': () => ask().then((b) => new Response(stream(b), {headers: HEADERS})),
  'cache': () => caches.open('answer').then((c) => c.match('/copy')),
  'cache-open': () => openOnce.then((c) => c.match('/copy')),
};
self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (url.pathname === '/answer') e.respondWith(answers[url.searchParams.get('kind')]());
});`;

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'p2pcdn-sw-answer-'));
fs.writeFileSync(path.join(root, 'index.html'), PAGE);
fs.writeFileSync(path.join(root, 'sw.js'), WORKER);
fs.writeFileSync(path.join(root, 'data.bin'), Buffer.alloc(BYTES, 7));
const server = await startServer({root, port: Number(process.env.PORT || 8377), host: '127.0.0.1'});
const browser = await launchChromium({origin: server.url});
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${server.url}/`);
  if (!(await waitFor(() => page.evaluate(() => navigator.serviceWorker.ready.then(() => true)), 10000))) throw new Error('no worker');
  await page.reload();
  if (!(await waitFor(() => page.evaluate(() => !!navigator.serviceWorker.controller), 10000))) throw new Error('not controlled');
  await page.evaluate(() => attach());
  const samples = Object.fromEntries(KINDS.map((k) => [k, []]));
  for (let i = -10; i < N; i++) {
    for (const kind of KINDS) {
      const ms = await page.evaluate(([k, n]) => sample(k, n), [kind, i]);
      if (i >= 0) samples[kind].push(ms);  // the first 10 rounds warm up
    }
    await page.waitForTimeout(20);
  }
  const result = {bytes: BYTES, samples: N, version: browser.version(), median_ms: {}};
  for (const kind of KINDS) result.median_ms[kind] = median(samples[kind]);
  fs.mkdirSync(path.join(ROOT, 'bench/results'), {recursive: true});
  fs.writeFileSync(path.join(ROOT, 'bench/results/sw_answer.json'), JSON.stringify({...result, all: samples}, null, 1));
  for (const kind of KINDS) console.log(`| ${kind} | ${result.median_ms[kind].toFixed(1)} ms |`);
} finally {
  await browser.close();
  server.child.kill();
  fs.rmSync(root, {recursive: true, force: true});
}
