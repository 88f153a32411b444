// Scale-out end to end (issue 18): two p2pcdn-server instances acting as one through a
// redis-server of this file's own, and two Chromium visitors whose signaling goes to
// different instances. Both pages come from instance 1 (one origin, so one swarm); each
// visitor's signalUrl names its own instance, so the lookup and every offer, answer and
// candidate between them crosses Redis. Ports 9001-9099 (the other files use others).
import assert from 'node:assert/strict';
import {execFileSync, spawn} from 'node:child_process';
import {test} from 'node:test';

import {
  DEMO_MEDIA, DEMO_SITE, DEMO_TOTAL, expectBytesIdentical, holdsWhole, HOST, loadDemo, newVisitor, settled, sleep, startServer, waitFor,
} from './harness.mjs';

const originBytes = (metrics, p) => metrics[`p2pcdn_static_bytes_total{path="${p}"}`] || 0;

function which(command) {
  try {
    return execFileSync('sh', ['-c', `command -v ${command}`], {encoding: 'utf8'}).trim();
  } catch (_) {
    return '';
  }
}
const REDIS_SERVER = which('redis-server');
const NO_REDIS = REDIS_SERVER ? false : 'redis-server is not installed (scripts/setup.sh installs it): no scale-out test';

// redis-server on loopback without persistence, ended by its PID.
async function startRedis(port) {
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
                      {stdio: ['ignore', 'pipe', 'pipe']});
  let log = '';
  const ready = new Promise((resolve, reject) => {
    const take = (d) => {
      log += d;
      if (/Ready to accept connections/.test(log)) resolve();
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('exit', (code) => reject(new Error(`redis-server exited ${code}: ${log}`)));
  });
  await Promise.race([ready, sleep(5000).then(() => {
    throw new Error(`redis-server did not start: ${log}`);
  })]);
  return {
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

// The same command line on every instance (docs/deployment.md), plus its port.
function instanceArgs(redisPort, origin, extra = []) {
  return ['--redis', `127.0.0.1:${redisPort}`, '--allow-origin', origin, ...extra];
}

async function startInstance(port, redisPort, origin, extra) {
  const server = await startServer({root: DEMO_SITE, port, args: instanceArgs(redisPort, origin, extra)});
  const up = await waitFor(async () => (await server.metrics()).p2pcdn_redis_up === 1, 10000);
  if (!up) {
    await server.stop();
    throw new Error(`instance on ${port} did not connect to Redis: ${server.log()}`);
  }
  return server;
}

// A redis-server and two instances on `ports` ([instance 1, instance 2, redis]); the pages
// are served by instance 1. Everything is stopped afterwards, by PID.
async function withCluster(ports, body) {
  const [port1, port2, redisPort] = ports;
  const origin = `http://${HOST}:${port1}`;
  const ctx = {origin, redisPort, visitors: [], instances: []};
  const redis = await startRedis(redisPort);
  try {
    ctx.instances.push(await startInstance(port1, redisPort, origin));
    ctx.instances.push(await startInstance(port2, redisPort, origin));
    // A visitor of the site whose signaling goes to instance `i` (0 or 1).
    ctx.visitor = async (i) => {
      const v = await newVisitor(origin, {config: {signalUrl: `ws://${HOST}:${ports[i]}/signal`}});
      ctx.visitors.push(v);
      return v;
    };
    ctx.restartOrigin = async (extra) => {
      await ctx.instances[0].stop();
      ctx.instances[0] = await startInstance(port1, redisPort, origin, extra);
    };
    await body(ctx);
  } finally {
    for (const v of ctx.visitors) await v.close();
    for (const s of ctx.instances) await s.stop();
    await redis.stop();
  }
}

// The visitor has loaded the demo from the origin, holds every media file, and `instance`
// counts its announcements.
async function seed(ctx, v, instance) {
  await loadDemo(v, ctx.origin);
  assert.ok(await waitFor(() => holdsWhole(v, DEMO_MEDIA), 20000), 'the seeder cached every media file');
  const announced = await waitFor(async () => (await instance.metrics()).p2pcdn_announcements >= DEMO_MEDIA.length, 10000);
  assert.ok(announced, 'the seeder announced them to its instance');
}

// Each instance holds exactly one of the two pages' signaling connections, and the pair's
// signaling went between them through Redis: the lookup on the fetching visitor's instance,
// relays both ways.
async function expectOnePeerEach(ctx, fetcherIndex) {
  const [m1, m2] = await Promise.all(ctx.instances.map((s) => s.metrics()));
  const view = (m) => ({
    peers: m.p2pcdn_peers, websockets: m.p2pcdn_websockets_open, redisUp: m.p2pcdn_redis_up,
    remoteLookups: m.p2pcdn_remote_lookups_total, relaysSent: m.p2pcdn_remote_relays_sent_total,
    relaysReceived: m.p2pcdn_remote_relays_received_total, redisErrors: m.p2pcdn_redis_errors_total,
  });
  const views = [view(m1), view(m2)];
  console.log(`# instance 1 ${JSON.stringify(views[0])}\n# instance 2 ${JSON.stringify(views[1])}`);
  for (const [i, v] of views.entries()) {
    assert.equal(v.peers, 1, `instance ${i + 1} holds one page's signaling: ${JSON.stringify(v)}`);
    assert.equal(v.websockets, 1, `instance ${i + 1} has one WebSocket: ${JSON.stringify(v)}`);
    assert.equal(v.redisUp, 1);
    assert.equal(v.redisErrors, 0, `instance ${i + 1} saw Redis errors`);
    assert.ok(v.relaysSent >= 1 && v.relaysReceived >= 1, `instance ${i + 1} relayed through Redis both ways: ${JSON.stringify(v)}`);
  }
  assert.ok(views[fetcherIndex].remoteLookups >= 1, `the fetcher's instance asked the other one's holders: ${JSON.stringify(views)}`);
  // And the pages say which URL they signal to.
  const urls = await Promise.all(ctx.visitors.map((v) => v.page.evaluate(() => window.p2pcdnConfig.signalUrl)));
  assert.notEqual(urls[0], urls[1]);
}

test('a visitor signaling to instance 2 gets the media from a seeder signaling to instance 1', {skip: NO_REDIS}, () => withCluster([9001, 9002, 9091], async (ctx) => {
  const a = await ctx.visitor(0);
  await seed(ctx, a, ctx.instances[0]);
  const before = await ctx.instances[0].metrics();
  const b = await ctx.visitor(1);
  await loadDemo(b, ctx.origin);
  const s = await settled(b, (x) => x.bytesFromPeers >= DEMO_TOTAL);
  console.log(`# B: ${s.bytesFromPeers} of ${DEMO_TOTAL} bytes from peers, ${s.bytesFromOrigin} from the origin`);
  assert.ok(s.bytesFromPeers >= 0.9 * DEMO_TOTAL, JSON.stringify(s));
  await expectBytesIdentical(b);
  await expectOnePeerEach(ctx, 1);
  const after = await ctx.instances[0].metrics();
  const again = DEMO_MEDIA.reduce((n, p) => n + originBytes(after, p) - originBytes(before, p), 0);
  assert.equal(again, s.bytesFromOrigin, 'the origin served B only what its stats say');
  assert.deepEqual(b.errors, [], 'B console');
  assert.deepEqual(a.errors, [], 'A console');
}));

test('origin down for the media: a visitor signaling to instance 1 loads them from a seeder signaling to instance 2', {skip: NO_REDIS}, () => withCluster([9003, 9004, 9092], async (ctx) => {
  const a = await ctx.visitor(1);
  await seed(ctx, a, ctx.instances[1]);
  // Instance 1 is the origin: restarted with the media denied. A's signaling (instance 2)
  // is untouched; B's goes to the new instance 1, which must find A's holders in Redis.
  await ctx.restartOrigin(['--deny-prefix', '/media/']);
  const b = await ctx.visitor(0);
  await loadDemo(b, ctx.origin);
  const s = await settled(b, (x) => x.bytesFromPeers >= DEMO_TOTAL);
  assert.equal(s.bytesFromPeers, DEMO_TOTAL, JSON.stringify(s));
  await expectBytesIdentical(b);
  const metrics = await ctx.instances[0].metrics();
  for (const p of DEMO_MEDIA) assert.equal(originBytes(metrics, p), 0, `origin served ${p}`);
  await expectOnePeerEach(ctx, 0);
  assert.deepEqual(b.errors, [], 'B console');
  assert.deepEqual(a.errors, [], 'A console');
}));
