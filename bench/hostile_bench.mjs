// What hostile peers cost honest ones (run through bench/hostile_bench.sh, inside a network
// namespace). Prints one JSON object.
//   flood: a seeder that has loaded the demo, idle for FLOOD_MS, then for FLOOD_MS from the
//          moment a hostile peer sends it 1500 REQUESTs: its longest main-thread task
//          (PerformanceObserver longtask, plus a 10 ms timer's worst lag) and its JS heap.
//   page:  an honest visitor's demo page, from navigation to every media element loaded,
//          with two honest seeders and one hostile peer of each kind that it asks first
//          (config.test.tryFirst: the worst case), against the same with no hostile peer.
//          Fake holders: 12 raw signaling clients that announce the media before the
//          seeders and never answer an offer. Medians of ROUNDS (default 3), rounds
//          interleaved so drift hits every kind alike.
import {DEMO_MEDIA, DEMO_TOTAL, loadDemo, seedDemo, sleep, stats, swarmRunner} from '../tests/e2e/harness.mjs';
import {heapUsed, peerIdOf, swarmWithHostile} from '../tests/e2e/hostile_swarm.mjs';
import {RawSignalClient, resourceIds} from '../tests/e2e/raw_signal.mjs';

const ROUNDS = Number(process.env.ROUNDS || 3);
const FLOOD_MS = Number(process.env.FLOOD_MS || 5000);
const KINDS = {
  none: null,
  lie: {corruptUploads: true},
  stall: {stall: true},
  drip: {drip: 2000},
  'truncate, silent': {truncate: true},
  'truncate, close': {truncate: 'close'},
  inject: {inject: true, injectIds: 200},
  malformed: {malformed: true},
  'HAVE flood': {haveFlood: 200000},
  'fake holders (12)': 'fakes',
};
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const withSwarm = swarmRunner(8801);
const MANY_CLIENTS = {serverArgs: ['--max-connections-per-ip', '512', '--max-peers-per-ip-per-swarm', '128']};

// Main-thread busy time (CDP Performance TaskDuration, seconds, counted from enable()):
// one session per page, so every reading counts from the same moment.
async function taskClock(v) {
  const cdp = await v.context.newCDPSession(v.page);
  await cdp.send('Performance.enable');
  return async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value;
}

// Starts watching the page's main thread: long tasks and the worst lag of a 10 ms timer.
function watchMainThread(v) {
  return v.page.evaluate(() => {
    const w = (window.__mainThread = {longest: 0, lag: 0});
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.longest = Math.max(w.longest, e.duration);
    }).observe({type: 'longtask'});
    let last = performance.now();
    w.timer = setInterval(() => {
      const now = performance.now();
      w.lag = Math.max(w.lag, now - last - 10);
      last = now;
    }, 10);
  });
}

const readMainThread = (v) => v.page.evaluate(() => {
  const w = window.__mainThread;
  const out = {longestTaskMs: w.longest, worstTimerLagMs: Math.round(w.lag),
               longtaskSupported: PerformanceObserver.supportedEntryTypes.includes('longtask')};
  w.longest = 0;
  w.lag = 0;
  return out;
});

async function floodFigures() {
  let out;
  await withSwarm({}, async (ctx) => {
    const {h, a} = await swarmWithHostile(ctx, {requestFlood: 1500});
    const aId = await peerIdOf(a);
    await watchMainThread(a);
    const taskSeconds = await taskClock(a);
    let busy = await taskSeconds();
    await sleep(FLOOD_MS);
    const idle = {...(await readMainThread(a)), heapBytes: await heapUsed(a), busyShare: ((await taskSeconds()) - busy) * 1000 / FLOOD_MS};
    busy = await taskSeconds();
    const sentBefore = (await stats(a)).bytesToPeers;
    await h.page.evaluate((peer) => window.p2pcdn.hostile.requestFloodTo(peer), aId);
    let heapPeak = 0;
    for (let t = 0; t < FLOOD_MS; t += 250) {
      heapPeak = Math.max(heapPeak, await heapUsed(a));
      await sleep(250);
    }
    const s = await stats(a);
    const flood = {...(await readMainThread(a)), heapBytes: heapPeak, bytesSent: s.bytesToPeers - sentBefore,
                   busyShare: ((await taskSeconds()) - busy) * 1000 / FLOOD_MS,
                   verdict: s.hostile.map((x) => `${x.offense}: ${x.action}`)};
    out = {idle, flood};
  });
  return out;
}

// Fake holders announce first; then two honest seeders. Returns the raw clients.
async function fakeHolders(ctx, n) {
  const ids = await resourceIds(ctx.server.url, DEMO_MEDIA);
  const fakes = [];
  for (let i = 0; i < n; i++) {
    const f = new RawSignalClient(`ws://${new URL(ctx.server.url).host}/signal`, {origin: ctx.server.url});
    fakes.push(f);
    await f.join(ctx.server.url);
    f.send({type: 'announce', ids});
  }
  return fakes;
}

async function pageTime(test) {
  let out;
  await withSwarm(test === 'fakes' ? MANY_CLIENTS : {}, async (ctx) => {
    const fakes = test === 'fakes' ? await fakeHolders(ctx, 12) : [];
    const {a, hId} = fakes.length ? await swarmWithHostile(ctx, null) : await swarmWithHostile(ctx, test);
    // The injector attacks transfers another peer serves: the victim asks A for those.
    let first = test && !test.inject ? hId : await peerIdOf(a);
    if (fakes.length) first = null;  // fake holders meet the victim's own ranking
    const c = await ctx.visitor({config: {prefetchBytes: 0, test: {tryFirst: first, ...(test && test.inject ? {requestIdsFrom: 1} : {})}}});
    const started = Date.now();
    await loadDemo(c, ctx.server.url, 60000);
    const ms = Date.now() - started;
    await sleep(300);
    const s = await stats(c);
    const blamed = (x) => (fakes.length ? fakes.some((f) => f.peerId === x.peer) : x.peer === hId);
    out = {ms, fromPeers: s.bytesFromPeers / DEMO_TOTAL, verdicts: s.hostile.filter(blamed).map((x) => x.offense)};
    fakes.forEach((f) => f.close());
  });
  return out;
}

const flood = await floodFigures();
const pages = Object.fromEntries(Object.keys(KINDS).map((k) => [k, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [kind, test] of Object.entries(KINDS)) pages[kind].push(await pageTime(test));
}
const none = median(pages.none.map((r) => r.ms));
const kinds = {};
for (const [kind, runs] of Object.entries(pages)) {
  const ms = median(runs.map((r) => r.ms));
  kinds[kind] = {ms, ratio: ms / none, runsMs: runs.map((r) => r.ms), fromPeers: median(runs.map((r) => r.fromPeers)),
                 verdicts: [...new Set(runs.flatMap((r) => r.verdicts))]};
}
console.log(JSON.stringify({rounds: ROUNDS, floodMs: FLOOD_MS, media: DEMO_MEDIA.length, flood, kinds}, null, 1));
