// Browser-to-browser figures for bench/README.md, measured in one run inside the network
// namespace of tests/e2e/netns.sh (run it through bench/p2p_bench.sh):
//  - a 20 MiB file fetched by page B from peer A through p2pcdn (worker -> page -> peer ->
//    verified -> worker -> page), against a bare RTCDataChannel between the same two
//    browsers sending the same bytes (the physical limit here);
//  - a 12 KiB image from a peer against the same image from the origin.
// Medians of RUNS (default 3; 7 for latency) after a warm-up. Prints one JSON object.
import {execFileSync} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

import {cachedPaths, newVisitor, ROOT, sleep, startServer, waitFor} from '../tests/e2e/harness.mjs';

const RUNS = Number(process.env.RUNS || 3);
const MiB = 1 << 20;
const BIG = '/media/bench/big.bin';
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
  fs.writeFileSync(path.join(root, BIG), crypto.randomBytes(20 * MiB));
  fs.writeFileSync(path.join(root, SMALL), noisePng(64, 64));
  execFileSync(path.join(ROOT, 'build/native/server/p2pcdn-manifest'), [root, '--out', path.join(root, 'p2pcdn/manifest.json')],
               {stdio: 'ignore'});
  return root;
}

// A page of the demo, controlled by the worker, joined to signaling.
async function controlledPage(url) {
  const v = await newVisitor(url);
  await v.page.goto(`${url}/`);
  const ok = await waitFor(() => v.page.evaluate(() => !!navigator.serviceWorker.controller && window.p2pcdn.joined), 15000);
  if (!ok) throw new Error('page never became controlled and joined');
  return v;
}

const timedFetch = (v, p, init) => v.page.evaluate(async ([p, init]) => {
  const t = performance.now();
  const body = await (await fetch(p, init)).arrayBuffer();
  return {ms: performance.now() - t, bytes: body.byteLength};
}, [p, init || {}]);

const dropFromCache = (v, p) => v.page.evaluate(async (p) => {
  for (const name of await caches.keys()) await (await caches.open(name)).delete(new URL(p, location.href).href);
}, p);

// A second RTCPeerConnection between the same two pages, signaled by the driver, sending
// the same 20 MiB in 256 KiB messages with the same pacing as p2pcdn's uploads.
async function bareChannel(a, b) {
  await a.page.evaluate(() => {
    window.bare = new RTCPeerConnection();
    window.bareChannel = window.bare.createDataChannel('bare', {negotiated: true, id: 7});
    window.bareChannel.binaryType = 'arraybuffer';
  });
  await b.page.evaluate(() => {
    window.bare = new RTCPeerConnection();
    window.bareChannel = window.bare.createDataChannel('bare', {negotiated: true, id: 7});
    window.bareChannel.binaryType = 'arraybuffer';
  });
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
  await b.page.evaluate(() => {
    window.bareReceive = (total) => new Promise((resolve) => {
      let got = 0;
      window.bareChannel.onmessage = (e) => {
        got += e.data.byteLength;
        if (got >= total) {
          window.bareChannel.send(new Uint8Array(1));  // done: tell the sender
          resolve();
        }
      };
    });
  });
  return async (bytes) => {
    const waiting = b.page.evaluate((n) => window.bareReceive(n), bytes);
    const ms = await a.page.evaluate(async (n) => {
      const ch = window.bareChannel;
      ch.bufferedAmountLowThreshold = 1 << 20;
      const data = new Uint8Array(n);
      const done = new Promise((r) => (ch.onmessage = () => r()));
      const t = performance.now();
      for (let at = 0; at < n; at += 262144) {
        if (ch.bufferedAmount > 4 << 20) await new Promise((r) => (ch.onbufferedamountlow = r));
        ch.send(data.subarray(at, Math.min(n, at + 262144)));
      }
      await done;
      return performance.now() - t;
    }, bytes);
    await waiting;
    return ms;
  };
}

const root = makeSite();
const server = await startServer({root, port: 8400});
const visitors = [];
try {
  // A seeds both files from the origin.
  const a = await controlledPage(server.url);
  visitors.push(a);
  await timedFetch(a, BIG);
  await timedFetch(a, SMALL);
  const seeded = await waitFor(async () => (await cachedPaths(a)).filter((p) => p.startsWith('/media/bench/')).length === 2, 20000);
  if (!seeded) throw new Error('A did not cache the bench files');
  await waitFor(async () => (await server.metrics()).p2pcdn_announcements >= 2, 10000);

  const b = await controlledPage(server.url);
  visitors.push(b);
  const bare = await bareChannel(a, b);

  // Warm-up: the p2pcdn link comes up, both paths reach full speed once.
  await timedFetch(b, SMALL);
  await dropFromCache(b, SMALL);
  await bare(20 * MiB);
  await timedFetch(b, BIG);
  await dropFromCache(b, BIG);

  const bareMs = [], p2pMs = [], transferMs = [];
  for (let i = 0; i < RUNS; i++) {
    bareMs.push(await bare(20 * MiB));
    const r = await timedFetch(b, BIG);
    if (r.bytes !== 20 * MiB) throw new Error(`got ${r.bytes} bytes`);
    p2pMs.push(r.ms);
    transferMs.push((await b.page.evaluate(() => window.p2pcdn.stats.lastPeerTransfer)).ms);
    await dropFromCache(b, BIG);
  }
  const source = await b.page.evaluate(() => window.p2pcdn.stats.snapshot());

  // 12 KiB image: from the peer (link already up), and from the origin without the worker.
  const peerMs = [], originMs = [];
  const c = await newVisitor(server.url);  // never registers a worker
  visitors.push(c);
  await c.page.goto(`${server.url}/p2pcdn/manifest.json`);
  await timedFetch(c, `${SMALL}?warm`, {cache: 'no-store'});
  for (let i = 0; i < Math.max(7, RUNS); i++) {
    await dropFromCache(b, SMALL);
    peerMs.push((await timedFetch(b, SMALL)).ms);
    originMs.push((await timedFetch(c, `${SMALL}?${i}`, {cache: 'no-store'})).ms);
  }
  const smallBytes = fs.statSync(path.join(root, SMALL)).size;
  const result = {
    runs: RUNS,
    file_bytes: 20 * MiB,
    bare_channel_mib_s: (20 / median(bareMs)) * 1000,
    p2pcdn_mib_s: (20 / median(p2pMs)) * 1000,
    p2pcdn_page_transfer_mib_s: (20 / median(transferMs)) * 1000,
    bare_ms: bareMs, p2pcdn_ms: p2pMs, p2pcdn_page_transfer_ms: transferMs,
    b_stats: {bytesFromPeers: source.bytesFromPeers, bytesFromOrigin: source.bytesFromOrigin, failures: source.failures},
    small_bytes: smallBytes,
    small_from_peer_ms: median(peerMs),
    small_from_origin_ms: median(originMs),
    small_peer_samples: peerMs, small_origin_samples: originMs,
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  for (const v of visitors) await v.close();
  await server.stop();
  fs.rmSync(root, {recursive: true, force: true});
}
