// Firefox (Debian's firefox-esr, driven by puppeteer-core over WebDriver BiDi) as a p2pcdn
// visitor: alone, and in mixed swarms where a Chromium peer serves a Firefox peer and the
// other way round, byte-identical, with the origin denied for the media.
import assert from 'node:assert/strict';
import {test} from 'node:test';

import {
  DEMO_MEDIA, DEMO_SITE, DEMO_TOTAL, expectBytesIdentical, holdsWhole, loadDemo, newFirefoxVisitor, settled, startServer, swarmRunner,
  waitFor,
} from './harness.mjs';

const withSwarm = swarmRunner(8801);
const originBytes = (metrics, p) => metrics[`p2pcdn_static_bytes_total{path="${p}"}`] || 0;

async function firefox(ctx, options) {
  const v = await newFirefoxVisitor(ctx.server.url, options);
  ctx.visitors.push(v);
  return v;
}

// `seeder` loads the demo from the origin and holds every media file; then the origin
// denies the media and `visitor` (made by `make`) must get them all from the seeder.
async function serveAcross(ctx, seeder, make) {
  await loadDemo(seeder, ctx.server.url);
  assert.ok(await waitFor(() => holdsWhole(seeder, DEMO_MEDIA), 20000), 'the seeder holds every media file');
  await ctx.server.stop();
  ctx.server = await startServer({root: DEMO_SITE, port: ctx.port, args: ['--deny-prefix', '/media/']});
  const back = await waitFor(async () => (await ctx.server.metrics()).p2pcdn_announcements >= DEMO_MEDIA.length, 15000);
  assert.ok(back, 'the seeder announced again after the restart');
  const b = await make();
  await loadDemo(b, ctx.server.url);
  const s = await settled(b, (x) => x.bytesFromPeers >= DEMO_TOTAL);
  assert.equal(s.bytesFromPeers, DEMO_TOTAL, JSON.stringify(s));
  await expectBytesIdentical(b);
  const metrics = await ctx.server.metrics();
  for (const p of DEMO_MEDIA) assert.equal(originBytes(metrics, p), 0, `origin served ${p}`);
  assert.deepEqual(b.errors, [], 'visitor console');
  assert.deepEqual(seeder.errors, [], 'seeder console');
  // The message size both ends agreed on in HELLO, from what each one's SDP allows.
  return b.page.evaluate(() => [...window.p2pcdn.links.values()].map((l) => l.maxMessageSize));
}

test('a Chromium peer serves a Firefox visitor, origin denied for the media', () => withSwarm({}, async (ctx) => {
  const a = await ctx.visitor();
  assert.deepEqual(await serveAcross(ctx, a, () => firefox(ctx)), [262144]);
}));

test('a Firefox peer serves a Chromium visitor, origin denied for the media', () => withSwarm({}, async (ctx) => {
  const a = await firefox(ctx);
  assert.deepEqual(await serveAcross(ctx, a, () => ctx.visitor()), [262144]);
}));

test('a Firefox peer serves a Firefox visitor, origin denied for the media', () => withSwarm({}, async (ctx) => {
  const a = await firefox(ctx);
  const sizes = await serveAcross(ctx, a, () => firefox(ctx));
  assert.equal(sizes.length, 1);
  assert.ok(sizes[0] > 262144, `Firefox to Firefox allows more than Chromium's 256 KiB: ${sizes[0]}`);
}));
