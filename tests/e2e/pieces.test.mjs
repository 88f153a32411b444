// Large files in pieces, end to end in Chromium inside the network namespace: several
// seeders serve one file at once, a seeder leaving or lying costs only its pieces, a visitor
// holding part of a file serves that part, and a file far larger than memory streams
// through with the page's memory bounded. The origin is denied the file where it matters,
// so every byte that arrives came from a peer.
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {createHash, randomBytes} from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, test} from 'node:test';

import {DEMO_SITE, fetchHashed, IN_FIREFOX, ROOT, startServer, swarmRunner, waitFor} from './harness.mjs';
import {heapUsed} from './hostile_swarm.mjs';

const withSwarm = swarmRunner(8201);
const MiB = 1 << 20;
const roots = [];
after(() => roots.forEach((r) => fs.rmSync(r, {recursive: true, force: true})));

// A copy of the demo with `files` ({path: size}) of random bytes, and its manifest (made with
// `manifestArgs`, more p2pcdn-manifest flags).
function siteWith(files, manifestArgs = []) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'p2pcdn-pieces-'));
  roots.push(root);
  fs.cpSync(DEMO_SITE, root, {recursive: true});
  // A page with p2pcdn and nothing else: announcements count only the files under test.
  fs.writeFileSync(path.join(root, 'plain.html'), '<!doctype html><meta charset="utf-8"><title>plain</title><link rel="icon" href="data:,">' +
    '<script defer src="/p2pcdn/p2pcdn.js"></script><script>navigator.serviceWorker.register("/sw.js")</script>');
  const hashes = {};
  for (const [p, size] of Object.entries(files)) {
    const file = path.join(root, p);
    fs.mkdirSync(path.dirname(file), {recursive: true});
    const fd = fs.openSync(file, 'w');
    const hash = createHash('sha256');
    for (let at = 0; at < size; at += 8 * MiB) {
      const block = randomBytes(Math.min(8 * MiB, size - at));
      fs.writeSync(fd, block);
      hash.update(block);
    }
    fs.closeSync(fd);
    hashes[p] = hash.digest('hex');
  }
  execFileSync(path.join(ROOT, 'build/native/server/p2pcdn-manifest'), [root, '--out', path.join(root, 'p2pcdn/manifest.json'), ...manifestArgs],
               {stdio: 'ignore'});
  return {root, hashes};
}

const snapshot = (v) => v.page.evaluate(() => window.p2pcdn.stats.snapshot());
const peerIdOf = (v) => v.page.evaluate(() => window.p2pcdn.ready.then(() => window.p2pcdn.peerId));

// A visitor on a page with p2pcdn up and its worker in control.
async function visit(ctx, options) {
  const v = await ctx.visitor(options);
  await v.page.goto(`${ctx.server.url}/plain.html`);
  await v.page.evaluate(() => navigator.serviceWorker.ready);
  if (!(await v.page.evaluate(() => !!navigator.serviceWorker.controller))) await v.page.reload();
  await v.page.evaluate(() => window.p2pcdn.ready);
  return v;
}

// Restarts the origin with `prefix` denied; waits for `holders` seeders to announce again.
async function denyOrigin(ctx, root, prefix, holders) {
  await ctx.server.stop();
  ctx.server = await startServer({root, port: ctx.port, args: ['--deny-prefix', prefix]});
  const back = await waitFor(async () => (await ctx.server.metrics()).p2pcdn_announcements >= holders, 15000);
  assert.ok(back, `${holders} holders announced again`);
}

test('C gets a 64 MiB file from A and B at once; B leaves mid-way and C still completes', async () => {
  const {root, hashes} = siteWith({'/media/big.bin': 64 * MiB});
  await withSwarm({root}, async (ctx) => {
    const a = await visit(ctx);
    assert.equal((await fetchHashed(a, '/media/big.bin')).hash, hashes['/media/big.bin']);
    const b = await visit(ctx);
    assert.equal((await fetchHashed(b, '/media/big.bin')).hash, hashes['/media/big.bin']);
    await denyOrigin(ctx, root, '/media/big', 2);
    const [idA, idB] = [await peerIdOf(a), await peerIdOf(b)];  // rejoined: new ids
    const c = await visit(ctx);
    const got = await fetchHashed(c, '/media/big.bin').catch(async (err) => {
      // Seen once in a full run (a network error): what C's page knew then, for the log.
      throw new Error(`${err.message}; C: ${JSON.stringify(await snapshot(c))}; errors ${JSON.stringify(c.errors)}`);
    });
    assert.equal(got.hash, hashes['/media/big.bin']);
    const s = await snapshot(c);
    console.log(`# C from peers: ${JSON.stringify(s.bytesByPeer)}`);
    const ids = Object.keys(s.bytesByPeer);
    assert.ok(ids.length >= 2, `bytes from two peers: ${JSON.stringify(s.bytesByPeer)}`);
    // In Firefox the second holder's link often comes up when the first has sent nearly all
    // of it (CI: 66.3 / 0.8 MiB): both must give bytes there, a fair share only in Chromium.
    const share = process.env.P2PCDN_E2E_BROWSER === 'firefox' ? 0 : 4 * MiB;
    // For the log when it fails: when each link came up, and what C's figures say.
    const links = await c.page.evaluate(() => [...window.p2pcdn.links.values()].map((l) => ({
      peer: l.peerId, initiator: l.initiator, createdMs: Math.round(l.createdAt), openedMs: Math.round(l.openedAt),
      haveSeen: !!l.haveSeen, closed: l.closed, nowMs: Math.round(performance.now())})));
    assert.ok(s.bytesByPeer[idA] > share && s.bytesByPeer[idB] > share,
              `${JSON.stringify(s.bytesByPeer)} A ${idA} B ${idB}; links ${JSON.stringify(links)}; failures ${JSON.stringify(s.failures)}; pieces ${JSON.stringify(s.pieces)}`);

    // D starts on the same file; B leaves while D is mid-way: D completes from A (and C).
    const d = await visit(ctx);
    const reading = fetchHashed(d, '/media/big.bin');
    assert.ok(await waitFor(async () => (await snapshot(d)).bytesFromPeers > 16 * MiB, 30000, 50), 'D was receiving');
    await b.close();
    const gotD = await reading;
    assert.equal(gotD.hash, hashes['/media/big.bin']);
    assert.equal(gotD.bytes, 64 * MiB);
    assert.deepEqual(c.errors, []);
  });
});

test('a corrupted piece from A is fetched again from B, and A is banned', async () => {
  const {root, hashes} = siteWith({'/media/big.bin': 16 * MiB});
  await withSwarm({root}, async (ctx) => {
    const a = await visit(ctx, {config: {test: {corruptUploads: 'big.bin'}}});
    await fetchHashed(a, '/media/big.bin');
    const b = await visit(ctx);
    await fetchHashed(b, '/media/big.bin');
    await denyOrigin(ctx, root, '/media/big', 2);
    const idA = await peerIdOf(a);
    const c = await visit(ctx, {config: {test: {tryFirst: idA}}});
    const got = await fetchHashed(c, '/media/big.bin');
    assert.equal(got.hash, hashes['/media/big.bin']);
    const s = await snapshot(c);
    assert.ok(s.failures.integrity >= 1, JSON.stringify(s.failures));
    const named = s.hostile.find((h) => h.peer === idA);
    assert.ok(named && named.offense === 'lied' && /banned/.test(named.action), JSON.stringify(s.hostile));
    assert.ok(!s.bytesByPeer[idA], `no verified byte came from A: ${JSON.stringify(s.bytesByPeer)}`);
  });
});

test('a visitor holding half of a file serves that half', async () => {
  const {root} = siteWith({'/media/big.bin': 32 * MiB});
  await withSwarm({root}, async (ctx) => {
    const h = await visit(ctx);
    const half = await fetchHashed(h, '/media/big.bin', `bytes=0-${16 * MiB - 1}`);
    assert.equal(half.status, 206);
    assert.equal(half.bytes, 16 * MiB);
    await denyOrigin(ctx, root, '/media/big', 1);
    const idH = await peerIdOf(h);
    const c = await visit(ctx);
    const got = await fetchHashed(c, '/media/big.bin', `bytes=${4 * MiB}-${12 * MiB - 1}`);
    const expected = createHash('sha256').update(fs.readFileSync(path.join(root, 'media/big.bin')).subarray(4 * MiB, 12 * MiB)).digest('hex');
    assert.equal(got.status, 206);
    assert.equal(got.hash, expected);
    const s = await snapshot(c);
    assert.ok(s.bytesByPeer[idH] >= 8 * MiB, JSON.stringify(s.bytesByPeer));
  });
});

test('ranges a first visitor reads from the origin arrive byte-exact (streamed as the origin sends them)', async () => {
  const {root} = siteWith({'/media/big.bin': 8 * MiB + 12345});
  const bytes = fs.readFileSync(path.join(root, 'media/big.bin'));
  const sha = (from, to) => createHash('sha256').update(bytes.subarray(from, to)).digest('hex');
  await withSwarm({root}, async (ctx) => {
    const v = await visit(ctx);
    // Odd offsets: inside a piece, across pieces, the short last piece, to the end.
    for (const [from, to] of [[1001, 300017], [262143, 262145], [5 * MiB - 7, 6 * MiB + 99], [8 * MiB + 1, 8 * MiB + 12345]]) {
      const got = await fetchHashed(v, '/media/big.bin', `bytes=${from}-${to - 1}`);
      assert.equal(got.status, 206);
      assert.equal(got.bytes, to - from, `bytes=${from}-${to - 1}`);
      assert.equal(got.hash, sha(from, to), `bytes=${from}-${to - 1}`);
    }
    assert.equal((await fetchHashed(v, '/media/big.bin')).hash, sha(0, bytes.length));
    assert.deepEqual(v.errors, []);
  });
});

// p2pcdn-server answers a Range request with at most 8 MiB: a run of pieces, or one piece,
// larger than that comes in several answers, each asked from where the last one stopped.
test('pieces larger than what the origin sends per range arrive whole, crossing the network once, and from a peer', async () => {
  const size = 24 * MiB + 3;
  const {root, hashes} = siteWith({'/media/big.bin': size}, ['--piece-size', String(16 * MiB)]);
  const bytes = fs.readFileSync(path.join(root, 'media/big.bin'));
  await withSwarm({root}, async (ctx) => {
    const v = await visit(ctx);
    // The worker's requests too (Chromium lists them in the page's network log): none failed.
    const failed = [];
    if (!IN_FIREFOX) v.context.on('requestfailed', (r) => failed.push(`${r.url()} ${r.failure() && r.failure().errorText}`));
    const got = await fetchHashed(v, '/media/big.bin');
    assert.equal(got.status, 200);
    assert.equal(got.bytes, size);
    assert.equal(got.hash, hashes['/media/big.bin']);
    const sent = (await ctx.server.metrics())['p2pcdn_static_bytes_total{path="/media/big.bin"}'] || 0;
    assert.ok(sent >= size && sent < size + 8 * MiB, `the origin sent ${sent} bytes for ${size}`);
    const ranged = await fetchHashed(v, '/media/big.bin', `bytes=${9 * MiB}-${17 * MiB}`);
    assert.equal(ranged.hash, createHash('sha256').update(bytes.subarray(9 * MiB, 17 * MiB + 1)).digest('hex'));
    assert.deepEqual(failed, []);
    // The same pieces from a peer, the origin denied the file.
    await denyOrigin(ctx, root, '/media/big', 1);
    const w = await visit(ctx);
    const fromPeer = await fetchHashed(w, '/media/big.bin');
    assert.equal(fromPeer.hash, hashes['/media/big.bin']);
    assert.equal((await snapshot(w)).bytesFromPeers, size);
    assert.deepEqual(v.errors, []);
    assert.deepEqual(w.errors, []);
  });
});

// The page's JS heap is read through the Chrome DevTools Protocol: Chromium only.
const CDP_ONLY = process.env.P2PCDN_E2E_BROWSER === 'firefox' ? 'the heap is read through CDP: Chromium only' : false;

test('a 256 MiB file streams through with the page memory bounded', {skip: CDP_ONLY}, async () => {
  const {root, hashes} = siteWith({'/media/huge.bin': 256 * MiB});
  await withSwarm({root}, async (ctx) => {
    const a = await visit(ctx);
    assert.equal((await fetchHashed(a, '/media/huge.bin')).hash, hashes['/media/huge.bin']);
    await denyOrigin(ctx, root, '/media/huge', 1);
    const c = await visit(ctx);
    const heapBefore = await heapUsed(c);
    let peakHeap = heapBefore;
    let peakWasm = 0;
    const reading = fetchHashed(c, '/media/huge.bin');
    let done = false;
    reading.finally(() => { done = true; });
    while (!done) {
      peakHeap = Math.max(peakHeap, await heapUsed(c).catch(() => 0));
      peakWasm = Math.max(peakWasm, await c.page.evaluate(() => window.p2pcdn.core.heapBytes()).catch(() => 0));
      await new Promise((r) => setTimeout(r, 200));
    }
    const got = await reading;
    assert.equal(got.hash, hashes['/media/huge.bin']);
    console.log(`# 256 MiB: JS heap ${(heapBefore / MiB).toFixed(1)} -> peak ${(peakHeap / MiB).toFixed(1)} MiB, Wasm heap peak ${(peakWasm / MiB).toFixed(1)} MiB`);
    // The bound (README): pieces in flight (6 per peer x 256 KiB) plus the stream's piece,
    // far below the file.
    assert.ok(peakWasm <= 48 * MiB, `Wasm heap ${peakWasm}`);
    assert.ok(peakHeap - heapBefore <= 64 * MiB, `JS heap grew ${peakHeap - heapBefore}`);
  });
});
