// A swarm with one hostile browser peer, for tests/e2e/hostile.test.mjs and
// bench/hostile_bench.mjs: the hostile peer H seeds first (honest while it does), then the
// honest seeders A and B; then H is armed (config.test, see js_glue/hostile_test_peer.js).
import {DEMO_MEDIA, seedDemo} from './harness.mjs';

export const peerIdOf = (v) => v.page.evaluate(() => window.p2pcdn.ready.then(() => window.p2pcdn.peerId));
export const arm = (v, test) => v.page.evaluate((t) => { window.p2pcdn.armTest(t); }, test);

export async function heapUsed(v) {
  const cdp = await v.context.newCDPSession(v.page);
  const {usedSize} = await cdp.send('Runtime.getHeapUsage');
  await cdp.detach();
  return usedSize;
}

// honest: visitor options of the two honest seeders (e.g. a config that slows their uploads).
export async function swarmWithHostile(ctx, hostileTest, honest = undefined) {
  const h = await seedDemo(ctx);
  const a = await seedDemo(ctx, honest, 2 * DEMO_MEDIA.length);
  const b = await seedDemo(ctx, honest, 3 * DEMO_MEDIA.length);
  if (hostileTest) await arm(h, hostileTest);
  return {h, a, b, hId: await peerIdOf(h)};
}

