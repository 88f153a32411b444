// Ordinary-site figures for bench/README.md (run through bench/site_bench.sh): on the
// multi-page demo site, page-complete time with p2pcdn against without (service workers
// blocked), the origin in its own namespace (tests/e2e/netns.sh with ORIGIN_NS=1) at full
// speed or shaped (ORIGIN_RATE). A seeder has visited every page.
// Each round, three fresh visitors walk the three pages in order, reading each for DWELL_MS:
//   prefetch  — p2pcdn as shipped (a page prefetches its linked pages' files from peers);
//   links     — p2pcdn with prefetch off: every page opens its own peer links after
//               navigation (first peer byte, hold window HOLD_MS);
//   plain     — no p2pcdn: service workers blocked and the p2pcdn script blocked,
//               so the page neither loads the core nor joins signaling.
// Asset bytes the origin sent are counted by the server (/metrics) per visit.
// VARIANTS (comma-separated) runs a subset. Medians of ROUNDS (default 3). Prints one JSON object.
import path from 'node:path';

import {cachedPaths, newVisitor, ROOT, sleep, startServer, waitFor} from '../tests/e2e/harness.mjs';

const ROUNDS = Number(process.env.ROUNDS || 3);
const DWELL_MS = Number(process.env.DWELL_MS || 2000);  // a visitor reads before clicking on
const HOLD_MS = process.env.HOLD_MS ? Number(process.env.HOLD_MS) : null;  // null: the default
const PAGES = ['/', '/products.html', '/about.html'];
const median = (xs) => (xs.length ? [...xs].sort((a, b) => a - b)[xs.length >> 1] : null);
const assetOriginBytes = (m) =>
  Object.entries(m).filter(([k]) => k.startsWith('p2pcdn_static_bytes_total{path="/assets/')).reduce((n, [, v]) => n + v, 0);

async function visit(server, v, page) {
  const before = assetOriginBytes(await server.metrics());
  await v.page.goto(`${server.url}${page}`, {waitUntil: 'load', timeout: 60000});
  await v.page.evaluate(() => document.fonts.ready);
  const r = await v.page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const s = window.p2pcdn ? window.p2pcdn.stats.snapshot() : {};
    const marks = {};
    for (const m of performance.getEntriesByType('mark')) {
      if (m.name.startsWith('p2pcdn:') && !(m.name.slice(7) in marks)) marks[m.name.slice(7)] = Math.round(m.startTime);
    }
    return {completeMs: nav.loadEventEnd - nav.startTime, firstPeerByteMs: s.firstPeerByteMs ?? null,
            peers: s.bytesFromPeers ?? 0, held: s.held ?? null, marks};
  });
  await sleep(DWELL_MS);
  r.originBytes = assetOriginBytes(await server.metrics()) - before;
  return r;
}

async function walk(server, {withoutScript, ...options}, out) {
  const v = await newVisitor(server.url, options);
  try {
    if (withoutScript) {  // blocked through CDP: Playwright's routing would turn the HTTP cache off
      const cdp = await v.context.newCDPSession(v.page);
      await cdp.send('Network.enable');
      await cdp.send('Network.setBlockedURLs', {urls: ['*/p2pcdn/p2pcdn.js']});
    }
    for (const p of PAGES) out[p].push(await visit(server, v, p));
  } finally {
    await v.close();
  }
}

const server = await startServer({root: path.join(ROOT, 'build/site/site'), port: 8700, host: '10.99.0.2',
                                  wrap: ['ip', 'netns', 'exec', 'origin']});
const visitors = [];
try {
  const seeder = await newVisitor(server.url);
  visitors.push(seeder);
  for (const p of PAGES) await visit(server, seeder, p);
  const seeded = await waitFor(async () => (await cachedPaths(seeder)).filter((p) => p.startsWith('/assets/')).length >= 14, 20000);
  if (!seeded) throw new Error(`the seeder holds only ${JSON.stringify(await cachedPaths(seeder))}`);
  await sleep(500);

  const all = {
    prefetch: {},
    links: {config: {prefetchBytes: 0, ...(HOLD_MS === null ? {} : {connectTimeoutMs: HOLD_MS})}},
    plain: {contextOptions: {serviceWorkers: 'block'}, withoutScript: true},
  };
  const chosen = (process.env.VARIANTS || Object.keys(all).join(',')).split(',');
  const variants = Object.fromEntries(Object.entries(all).filter(([name]) => chosen.includes(name)));
  const samples = {};
  for (const name of Object.keys(variants)) samples[name] = Object.fromEntries(PAGES.map((p) => [p, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, options] of Object.entries(variants)) await walk(server, options, samples[name]);
  }
  const pick = (name, p, key) =>
    samples[name] ? median(samples[name][p].map((r) => r[key]).filter((x) => x !== null)) : null;
  const table = PAGES.map((p) => ({
    page: p,
    complete_prefetch_ms: pick('prefetch', p, 'completeMs'),
    complete_links_ms: pick('links', p, 'completeMs'),
    complete_plain_ms: pick('plain', p, 'completeMs'),
    first_peer_byte_links_ms: pick('links', p, 'firstPeerByteMs'),
    origin_bytes_prefetch: pick('prefetch', p, 'originBytes'),
    origin_bytes_links: pick('links', p, 'originBytes'),
    origin_bytes_plain: pick('plain', p, 'originBytes'),
  }));
  console.log(JSON.stringify({origin_rate: process.env.ORIGIN_RATE || 'full speed', rounds: ROUNDS,
                              dwell_ms: DWELL_MS, hold_ms: HOLD_MS, table, samples}, null, 2));
} finally {
  for (const v of visitors) await v.close();
  await server.stop();
}
