// End to end in real Chromium, inside a network namespace (run through tests/e2e/netns.sh):
// one browser seeds the demo from the origin, the next gets it from the first.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, test} from 'node:test';

import {cachedPaths, fileHash, loadDemo, newVisitor, pageHashes, ROOT, startServer, stats, waitFor} from './harness.mjs';

const SITE = path.join(ROOT, 'build/site/demo');
const MEDIA = ['/media/logo.png', '/media/animation.gif', '/media/video.webm'];
const sizeOf = (p) => fs.statSync(path.join(SITE, p)).size;
const TOTAL = MEDIA.reduce((n, p) => n + sizeOf(p), 0);
const visitors = [];
let server;

async function visitor(options) {
  const v = await newVisitor(server.url, options);
  visitors.push(v);
  return v;
}

// A has loaded the demo from the origin, cached every media file and announced them.
async function seed(options) {
  const a = await visitor(options);
  await loadDemo(a, server.url);
  const cached = await waitFor(async () => (await cachedPaths(a)).filter((p) => MEDIA.includes(p)).length === MEDIA.length, 20000);
  assert.ok(cached, 'the seeder cached every media file');
  const announced = await waitFor(async () => (await server.metrics()).p2pcdn_announcements >= MEDIA.length, 10000);
  assert.ok(announced, 'the seeder announced them');
  return a;
}

async function expectBytesIdentical(v) {
  const hashes = await pageHashes(v, MEDIA);
  for (const p of MEDIA) assert.equal(hashes[p], fileHash(path.join(SITE, p)), p);
}

before(async () => {
  server = await startServer({root: SITE});
});

after(async () => {
  for (const v of visitors) await v.close();
  await server.stop();
});

test('B gets every shareable resource from A, byte-identical', async () => {
  const a = await seed();
  const originBefore = await server.metrics();
  const b = await visitor();
  await loadDemo(b, server.url);
  const s = await waitFor(async () => {
    const snapshot = await stats(b);
    return snapshot.bytesFromPeers >= TOTAL ? snapshot : null;
  }, 20000);
  assert.ok(s, `B's stats: ${JSON.stringify(await stats(b))}`);
  assert.equal(s.bytesFromPeers, TOTAL);
  assert.equal(s.bytesFromOrigin, 0);
  await expectBytesIdentical(b);
  const originAfter = await server.metrics();
  for (const p of MEDIA) {
    const key = `p2pcdn_static_bytes_total{path="${p}"}`;
    assert.equal(originAfter[key], originBefore[key], `origin served ${p} again`);
  }
  assert.deepEqual(b.errors, []);
  await a.close();
  await b.close();
});
