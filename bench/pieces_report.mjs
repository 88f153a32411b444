// Markdown tables from bench/results/pieces_bench.json (bench/pieces_bench.mjs).
// Usage: node bench/pieces_report.mjs [FILE]
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const s1 = (ms) => (ms === null || ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`);
const ms = (x) => (x === null || x === undefined ? '–' : `${Math.round(x)} ms`);
const x2 = (r) => (r === null || r === undefined ? '–' : `${r.toFixed(2)}x`);
const met = (ok) => (ok ? 'met' : '**not met**');

export function report(d) {
  const out = [];
  out.push(`${d.date}, ${d.cores} × ${d.cpu}` +
           (d.commit ? `; site ${d.site}, repository at ${d.commit} (site p2pcdn.js sha256 ${String(d.p2pcdn_js_sha256).slice(0, 12)}…)` : ''));
  if (d.fetches.length) fetchTables(d, out);
  if (d.video.length) videoTables(d, out);
  return out.join('\n');
}

function fetchTables(d, out) {
  const rounds = Math.max(0, ...d.fetches.map((r) => r.round));
  const head = Array.from({length: rounds}, (_, i) => `round ${i + 1}`);
  out.push('');
  out.push(`${d.file_mib} MiB, origin denied, each seeder's upload at ${d.seeder_rate} on its own link (shaped at: ${d.shape_at})`);
  out.push('');
  out.push(`| seeders | ${head.join(' | ')} | median | throughput (median) | against 1 seeder | target |`);
  out.push(`|---|${head.map(() => '---|').join('')}---|---|---|---|`);
  const target = {2: ['two_seeders_1_7x', '≥ 1.7x'], 3: ['three_seeders_2_4x', '≥ 2.4x']};
  for (const k of [1, 2, 3]) {
    const cells = head.map((_, i) => {
      const r = d.fetches.find((f) => f.seeders === k && f.round === i + 1);
      if (!r) return '–';
      return r.error ? `error` : `${s1(r.ms)} (${r.mbit_s} Mbit/s)`;
    });
    const s = d.summary.fetch[k];
    const t = target[k] ? `${target[k][1]}: ${met(d.summary.targets[target[k][0]])}` : '';
    const rate = s.median_mbit_s === null || s.median_mbit_s === undefined ? '–' : s.median_mbit_s.toFixed(2);
    out.push(`| ${k} | ${cells.join(' | ')} | ${s1(s.median_ms)} | ${rate} Mbit/s | ${x2(s.ratio)} | ${t} |`);
  }
  // Who sent what, in the last round of each count (MiB per seeder).
  out.push('');
  out.push('| seeders | MiB by seeder, each round | seeder links on the wire (Mbit/s), each round | worker ask → piece, median / max (ms), each round | failures, hedged |');
  out.push('|---|---|---|---|---|');
  for (const k of [1, 2, 3]) {
    const rows = d.fetches.filter((f) => f.seeders === k && !f.error);
    const by = rows.map((r) => Object.entries(r.bytes_by_seeder || {}).sort().map(([ns, n]) => `${ns} ${(n / 1048576).toFixed(1)}`).join(', ')).join('; ');
    const wire = rows.map((r) => Object.entries(r.seeder_links || {}).filter(([, l]) => l.wire_mbit_s > 0.5)
                                   .map(([ns, l]) => `${ns} ${l.wire_mbit_s}`).join(', ')).join('; ');
    const fails = rows.map((r) => {
      const f = Object.entries(r.failures || {}).filter(([, n]) => n).map(([key, n]) => `${key} ${n}`).join(' ');
      return `${f || 'none'}, ${r.hedged || 0}`;
    }).join('; ');
    const asks = d.fetches.filter((f) => f.seeders === k).map((r) => {
      if (!r.asks) return '–';
      const a = r.asks.ask_to_piece_ms;
      const gaveUp = r.asks.cancel_pieces.length ? ` (${r.asks.cancel_pieces.length} given up)` : '';
      return `${a.median ?? '–'} / ${a.max ?? '–'}${gaveUp}${r.error ? ', error' : ''}`;
    }).join('; ');
    out.push(`| ${k} | ${by} | ${wire} | ${asks} | ${fails} |`);
  }
}

function videoTables(d, out) {
  const v = d.summary.video;
  const vrounds = Math.max(0, ...d.video.map((r) => r.round));
  out.push('');
  out.push(`/video.html, a first visitor (fresh browser), origin at ${d.origin_rate_video}: medians of ${vrounds} rounds`);
  out.push('');
  out.push('| from navigation to | through p2pcdn | without p2pcdn | ratio | target |');
  out.push('|---|---|---|---|---|');
  out.push(`| first frame (\`loadeddata\`) | ${ms(v.p2pcdn.loadeddata_ms)} | ${ms(v.without.loadeddata_ms)} | ` +
           `${x2(v.loadeddata_ratio)} | ≤ 1.2x: ${met(d.summary.targets.video_loadeddata_1_2x)} |`);
  out.push(`| \`playing\` | ${ms(v.p2pcdn.playing_ms)} | ${ms(v.without.playing_ms)} | ` +
           `${x2(v.playing_ratio)} | ≤ 1.2x: ${met(d.summary.targets.video_playing_1_2x)} |`);
  const per = (name, key) => d.video.filter((r) => r.variant === name).map((r) => (r.error ? 'error' : r[key])).join(', ');
  out.push('');
  out.push(`Per round (ms), first frame: p2pcdn ${per('p2pcdn', 'loadeddata_ms')}; without ${per('without', 'loadeddata_ms')}. ` +
           `Playing: p2pcdn ${per('p2pcdn', 'playing_ms')}; without ${per('without', 'playing_ms')}.`);
  const starts = d.video.filter((r) => r.variant === 'p2pcdn' && r.start);
  if (starts.length) {
    const med = (key) => {
      const xs = starts.map((r) => r.start[key]).filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
      return xs.length ? ms(xs[xs.length >> 1]) : '–';
    };
    const ranges = starts.find((r) => r.worker_origin_ranges && r.worker_origin_ranges.length);
    const medOf = (name, key) => {
      const xs = d.video.filter((r) => r.variant === name && Number.isFinite(r[key])).map((r) => r[key]).sort((a, b) => a - b);
      return xs.length ? ms(xs[xs.length >> 1]) : '–';
    };
    out.push('');
    out.push(`Through p2pcdn, medians after navigation: the worker takes control (the player sets the source) ` +
             `${med('controllerchange')}, the worker first asks the page for pieces ${med('first_ask')}, the page ` +
             `answers that no peer holds them ${med('pieces_missing')}.` +
             ` The video element's request leaves the page at ${medOf('p2pcdn', 'element_request_ms')} through p2pcdn, ` +
             `the worker's first Range request to the origin at ${medOf('p2pcdn', 'worker_origin_request_ms')}; without p2pcdn ` +
             `the element's request leaves at ${medOf('without', 'element_request_ms')}.` +
             (ranges ? ` The worker's first Range requests to the origin (round ${ranges.round}): ${ranges.worker_origin_ranges.join(', ')}.` : ''));
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] || path.join(path.dirname(fileURLToPath(import.meta.url)), 'results/pieces_bench.json');
  console.log(report(JSON.parse(fs.readFileSync(file, 'utf8'))));
}
