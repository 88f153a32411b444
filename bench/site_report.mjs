// Markdown tables from bench/results/site-*.json (bench/site_bench.sh).
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2] || 'bench/results';
const load = (name) => JSON.parse(fs.readFileSync(path.join(dir, `site-${name}.json`), 'utf8'));
const ms = (x) => (x === null ? '–' : `${Math.round(x)} ms`);
const kb = (x) => (x === null ? '–' : `${Math.round(x / 1024)} KiB`);
const ratio = (a, b) => (a === null || b === null ? '–' : `${(a / b).toFixed(2)}x`);

// Rounds are paired (one visitor of each variant per round): in how many was p2pcdn faster.
const faster = (d, page) => {
  const w = d.samples.prefetch[page].map((r) => r.completeMs);
  const p = d.samples.plain[page].map((r) => r.completeMs);
  return `${w.filter((x, i) => x < p[i]).length} of ${w.length}`;
};
console.log('| origin | page | complete, p2pcdn | without p2pcdn | ratio | rounds p2pcdn faster | prefetch off: complete | ratio | first peer byte | origin asset bytes: p2pcdn / prefetch off / without |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const name of ['full', '20mbit']) {
  const d = load(name);
  for (const r of d.table) {
    console.log(`| ${d.origin_rate} | ${r.page} | ${ms(r.complete_prefetch_ms)} | ${ms(r.complete_plain_ms)} | ` +
                `${ratio(r.complete_prefetch_ms, r.complete_plain_ms)} | ${faster(d, r.page)} | ${ms(r.complete_links_ms)} | ` +
                `${ratio(r.complete_links_ms, r.complete_plain_ms)} | ${ms(r.first_peer_byte_links_ms)} | ` +
                `${kb(r.origin_bytes_prefetch)} / ${kb(r.origin_bytes_links)} / ${kb(r.origin_bytes_plain)} |`);
  }
}

const holds = fs.readdirSync(dir).filter((f) => /^site-hold-\d+\.json$/.test(f))
                  .map((f) => load(f.slice(5, -5))).sort((a, b) => a.hold_ms - b.hold_ms);
if (holds.length) {
  console.log('\n| hold window | later pages: complete (median) | asset bytes from the origin, later pages | held requests: from a peer / to the origin | mean hold |');
  console.log('|---|---|---|---|---|');
  for (const d of holds) {
    const later = Object.entries(d.samples.links).filter(([p]) => p !== '/').flatMap(([, rs]) => rs);
    const complete = [...later.map((r) => r.completeMs)].sort((a, b) => a - b)[later.length >> 1];
    const origin = later.reduce((n, r) => n + r.originBytes, 0) / d.rounds;
    const sum = (key) => later.reduce((n, r) => n + (r.held ? r.held[key] : 0), 0);
    const meanHold = sum('count') ? sum('totalMs') / sum('count') : null;
    console.log(`| ${d.hold_ms} ms | ${ms(complete)} | ${kb(origin)} per visitor | ${sum('fromPeer')} / ${sum('toOrigin')} | ${ms(meanHold)} |`);
  }
}
