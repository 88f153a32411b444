// End to end in real Chromium, inside a network namespace (run through tests/e2e/netns.sh):
// one browser seeds the demo from the origin, the next gets it from the first. Each test has
// its own server on its own port (a separate origin: separate workers and caches) and its
// own browser processes, so no test sees another's state.
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'node:test';

import {cachedPaths, DEMO_MEDIA, DEMO_SITE, DEMO_TOTAL, expectBytesIdentical, loadDemo, pageHashes, ROOT, seedDemo, settled, startServer, stats, swarmRunner, waitFor} from './harness.mjs';

const SITE = DEMO_SITE;
const MEDIA = DEMO_MEDIA;
const sizeOf = (root, p) => fs.statSync(path.join(root, p)).size;
const TOTAL = DEMO_TOTAL;
const withSwarm = swarmRunner(8101);
const seed = seedDemo;
const originBytes = (metrics, p) => metrics[`p2pcdn_static_bytes_total{path="${p}"}`] || 0;

test('B gets every shareable resource from A, byte-identical', () => withSwarm({}, async (ctx) => {
  await seed(ctx);
  const before = await ctx.server.metrics();
  const b = await ctx.visitor();
  await loadDemo(b, ctx.server.url);
  const s = await settled(b, (x) => x.bytesFromPeers >= TOTAL);
  assert.equal(s.bytesFromPeers, TOTAL, JSON.stringify(s));
  assert.equal(s.bytesFromOrigin, 0);
  await expectBytesIdentical(b);
  const after = await ctx.server.metrics();
  for (const p of MEDIA) assert.equal(originBytes(after, p), originBytes(before, p), `origin served ${p} again`);
  assert.deepEqual(b.errors, []);
  // A request's own integrity is honoured: the right value is served, a wrong one fails
  // (and the browser logs that failure, so this comes after the check for errors).
  const integrity = await b.page.evaluate(async () => {
    const m = await (await fetch('/p2pcdn/manifest.json')).json();
    const right = await fetch('/media/logo.png', {integrity: m.files['/media/logo.png'].integrity}).then(() => 'ok', () => 'failed');
    const wrong = await fetch('/media/logo.png', {integrity: 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='}).then(() => 'ok', () => 'failed');
    return {right, wrong};
  });
  assert.deepEqual(integrity, {right: 'ok', wrong: 'failed'});
}));

test('origin down for the media: B still loads them from A', () => withSwarm({}, async (ctx) => {
  await seed(ctx);
  // Restart the origin with the media denied; A's page reconnects to signaling by itself.
  await ctx.server.stop();
  ctx.server = await startServer({root: SITE, port: ctx.port, args: ['--deny-prefix', '/media/']});
  const back = await waitFor(async () => (await ctx.server.metrics()).p2pcdn_announcements >= MEDIA.length, 15000);
  assert.ok(back, 'A re-announced after the restart');
  const b = await ctx.visitor();
  await loadDemo(b, ctx.server.url);
  const s = await settled(b, (x) => x.bytesFromPeers >= TOTAL);
  assert.equal(s.bytesFromPeers, TOTAL, JSON.stringify(s));
  await expectBytesIdentical(b);
  const metrics = await ctx.server.metrics();
  for (const p of MEDIA) assert.equal(originBytes(metrics, p), 0, `origin served ${p}`);
}));

test('a peer serving corrupted bytes is caught by the hash', () => withSwarm({}, async (ctx) => {
  await seed(ctx, {config: {test: {corruptUploads: 'animation.gif'}}});
  const b = await ctx.visitor();
  await loadDemo(b, ctx.server.url);
  const s = await settled(b, (x) => x.bytesFromPeers + x.bytesFromOrigin >= TOTAL && x.failures.integrity > 0);
  assert.equal(s.failures.integrity, 1, JSON.stringify(s));
  assert.equal(s.bytesFromPeers + s.bytesFromOrigin, TOTAL);
  await expectBytesIdentical(b);  // the page never saw the wrong bytes
  const metrics = await ctx.server.metrics();
  assert.equal(originBytes(metrics, '/media/animation.gif'), 2 * sizeOf(SITE, '/media/animation.gif'));
  assert.deepEqual(b.errors, []);
}));

test('A closes mid-transfer: B completes from the origin, in bounded time', () => withSwarm({}, async (ctx) => {
  const a = await seed(ctx, {config: {maxUploadBytesPerSecond: 1 << 20}});  // slow enough to interrupt
  const b = await ctx.visitor();
  const loading = loadDemo(b, ctx.server.url, 40000);
  const started = await waitFor(async () => (await stats(b)).peerBytesReceived > 256 * 1024, 15000, 50);
  assert.ok(started, 'B was receiving from A');
  const closedAt = Date.now();
  await a.close();
  await loading;
  const s = await settled(b, (x) => x.bytesFromPeers + x.bytesFromOrigin >= TOTAL);
  const tookMs = Date.now() - closedAt;
  console.log(`# after A closed: ${JSON.stringify(s.failures)} origin ${s.bytesFromOrigin} in ${tookMs} ms`);
  assert.equal(s.bytesFromPeers + s.bytesFromOrigin, TOTAL, JSON.stringify(s));
  // Noticed by the channel closing, or before it by the transfer stalling or falling below
  // the minimum rate (A uploads at 1 MiB/s; a CPU-starved moment can push it under).
  assert.ok(s.failures.closed + s.failures.stalled + s.failures.tooSlow >= 1, JSON.stringify(s));
  assert.ok(tookMs < 15000, `took ${tookMs} ms after A closed`);
  await expectBytesIdentical(b);
}));

test('a non-public response is never served to another peer', async () => {
  // A copy of the demo with one private file in the manifest.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'p2pcdn-private-'));
  fs.cpSync(SITE, root, {recursive: true});
  fs.mkdirSync(path.join(root, 'media/private'));
  fs.writeFileSync(path.join(root, 'media/private/statement.bin'), Buffer.alloc(50000, 7));
  execFileSync(path.join(ROOT, 'build/native/server/p2pcdn-manifest'), [root, '--out', path.join(root, 'p2pcdn/manifest.json')], {stdio: 'ignore'});
  const secret = '/media/private/statement.bin';
  try {
    await withSwarm({root, serverArgs: ['--cache-control', '/media/private/=private, max-age=60']}, async (ctx) => {
      const a = await seed(ctx);
      await pageHashes(a, [secret]);
      const b = await ctx.visitor();
      await loadDemo(b, ctx.server.url);
      await settled(b, (x) => x.bytesFromPeers >= TOTAL);
      await expectBytesIdentical(b, root, [secret]);
      assert.ok(!(await cachedPaths(a)).includes(secret), 'A did not keep the private file');
      assert.ok(!(await cachedPaths(b)).includes(secret), 'B did not keep the private file');
      const s = await stats(b);
      assert.equal(s.bytesFromPeers, TOTAL, `only the public media came from a peer: ${JSON.stringify(s)}`);
      const metrics = await ctx.server.metrics();
      assert.equal(originBytes(metrics, secret), 2 * 50000, 'each visitor got it from the origin');
    });
  } finally {
    fs.rmSync(root, {recursive: true, force: true});
  }
});
