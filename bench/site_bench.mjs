// Ordinary-site figures for bench/README.md (run through bench/site_bench.sh): on the
// multi-page demo site, time from page start to the first peer byte on later pages, and
// page-complete time with p2pcdn against without (service workers blocked), the origin in
// its own namespace (tests/e2e/netns.sh with ORIGIN_NS=1) at full speed or shaped
// (ORIGIN_RATE). A seeder has visited every page.
// Fresh visitors for every round; medians of ROUNDS (default 3). Prints one JSON object.
import path from 'node:path';

import {cachedPaths, newVisitor, ROOT, sleep, startServer, waitFor} from '../tests/e2e/harness.mjs';

const ROUNDS = Number(process.env.ROUNDS || 3);
const PAGES = ['/', '/products.html', '/about.html'];
const median = (xs) => (xs.length ? [...xs].sort((a, b) => a - b)[xs.length >> 1] : null);

async function visit(url, v, page) {
  await v.page.goto(`${url}${page}`, {waitUntil: 'load', timeout: 60000});
  await v.page.evaluate(() => document.fonts.ready);
  return v.page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const s = window.p2pcdn ? window.p2pcdn.stats.snapshot() : {};
    const marks = {};
    for (const m of performance.getEntriesByType('mark')) {
      if (m.name.startsWith('p2pcdn:') && !(m.name in marks)) marks[m.name.slice(7)] = Math.round(m.startTime);
    }
    return {completeMs: nav.loadEventEnd - nav.startTime, firstPeerByteMs: s.firstPeerByteMs ?? null,
            peers: s.bytesFromPeers ?? 0, held: s.held ?? null, marks};
  });
}

const server = await startServer({root: path.join(ROOT, 'build/site/site'), port: 8700, host: '10.99.0.2',
                                  wrap: ['ip', 'netns', 'exec', 'origin']});
const visitors = [];
try {
  const a = await newVisitor(server.url);
  visitors.push(a);
  for (const p of PAGES) await visit(server.url, a, p);
  await waitFor(async () => (await cachedPaths(a)).filter((p) => p.startsWith('/assets/')).length >= 14, 20000);
  await sleep(500);

  const samples = {with: {}, without: {}, firstPeerByte: {}, held: []};
  for (const p of PAGES) {
    samples.with[p] = [];
    samples.without[p] = [];
    samples.firstPeerByte[p] = [];
  }
  for (let round = 0; round < ROUNDS; round++) {
    const w = await newVisitor(server.url);
    for (const p of PAGES) {
      const r = await visit(server.url, w, p);
      samples.with[p].push(r.completeMs);
      if (r.firstPeerByteMs !== null) samples.firstPeerByte[p].push(r.firstPeerByteMs);
      if (p !== '/') samples.held.push(r.held);
      if (p !== '/') (samples.marks = samples.marks || []).push({page: p, ...r.marks, complete: Math.round(r.completeMs)});
    }
    await w.close();
    const plain = await newVisitor(server.url, {contextOptions: {serviceWorkers: 'block'}});
    for (const p of PAGES) samples.without[p].push((await visit(server.url, plain, p)).completeMs);
    await plain.close();
  }
  const table = PAGES.map((p) => ({
    page: p,
    complete_with_ms: median(samples.with[p]),
    complete_without_ms: median(samples.without[p]),
    first_peer_byte_ms: median(samples.firstPeerByte[p]),
  }));
  console.log(JSON.stringify({origin_rate: process.env.ORIGIN_RATE || 'full speed', rounds: ROUNDS, table, samples}, null, 2));
} finally {
  for (const v of visitors) await v.close();
  await server.stop();
}
