// Turns the JSON results of bench/redis_bench.sh (one run) into a Markdown table, with the
// issue's targets checked. Exits non-zero if a run saw errors or a target was missed.
// Usage: node bench/redis_bench.mjs bench/results ROUNDS [redis used_memory bytes]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const dir = process.argv[2] || 'bench/results';
const rounds = Number(process.argv[3] || 1);
const redisBytes = Number(process.argv[4]);
const read = (name) => JSON.parse(fs.readFileSync(path.join(dir, `redis-${name}.json`), 'utf8'));
// The run whose relay rate is the median of its rounds.
const median = (name) => {
  const all = [];
  for (let r = 1; r <= rounds; ++r) all.push(read(`${name}-${r}`));
  const sorted = [...all].sort((a, b) => a.relays_per_second - b.relays_per_second);
  const pick = {...sorted[Math.floor((sorted.length - 1) / 2)]};
  pick.rounds = all.map((r) => Math.round(r.relays_per_second));
  const cpu = all.map((r) => r.server_cpu_us_per_relay).sort((a, b) => a - b);
  pick.server_cpu_us_per_relay = cpu[Math.floor((cpu.length - 1) / 2)];
  pick.errors = all.reduce((n, r) => n + r.errors, 0);
  pick.server_errors = all.reduce((n, r) => n + r.server_errors, 0);
  return pick;
};
const runs = {
  embedded: median('embedded'),
  one: median('redis-1'),
  same: read('redis-3-same'),
  cross: read('redis-3-cross'),
  half: read('redis-3-cross-half'),
  target: read('redis-3-cross-12500'),
};
const fixed = (x, digits) => (Number.isFinite(x) && x >= 0 ? x.toFixed(digits) : 'n/a');

const lines = [];
const e = runs.embedded;
lines.push(
    `${e.connections} connections in total in one swarm, ${e.pairs} sender/receiver pairs, ` +
    `${runs.cross.relay_seconds.toFixed(0)} s of relays each; ${os.cpus().length} × ` +
    `${os.cpus()[0].model.trim()}, ${new Date().toISOString()}.`);
lines.push('');
lines.push(
    '| setup | relays | relays/s | relay p50 / p99 (ms) | lookups, one instance: p50 / p99 (ms) | ' +
    'lookups needing other instances: p50 / p99 (ms) | lookups/s | server CPU per relay (µs) | ' +
    'errors |');
lines.push('|---|---|---|---|---|---|---|---|---|');
const row = (what, r, relays) => lines.push(
    `| ${what} | ${relays} | ${fixed(r.relays_per_second, 0)} | ` +
    `${fixed(r.relay_p50_ms, 2)} / ${fixed(r.relay_p99_ms, 2)} | ` +
    `${fixed(r.common_lookup_p50_ms, 2)} / ${fixed(r.common_lookup_p99_ms, 2)} | ` +
    `${fixed(r.rare_lookup_p50_ms, 2)} / ${fixed(r.rare_lookup_p99_ms, 2)} | ` +
    `${fixed(r.lookups_per_second, 0)} | ${fixed(r.server_cpu_us_per_relay, 2)} | ` +
    `${r.errors + r.server_errors} |`);
row(`1 instance, no Redis (embedded), median of ${rounds} (${runs.embedded.rounds.join(', ')})`,
    runs.embedded, 'same instance');
row(`1 instance with Redis, median of ${rounds} (${runs.one.rounds.join(', ')})`, runs.one,
    'same instance');
row('3 instances with Redis', runs.same, 'same instance');
row('3 instances with Redis', runs.cross, 'across instances');
row(`3 instances with Redis, paced at ${fixed(runs.half.rate_target, 0)}/s (half the above)`,
    runs.half, 'across instances');
row(`3 instances with Redis, paced at ${fixed(runs.target.rate_target, 0)}/s`, runs.target,
    'across instances');
if (Number.isFinite(redisBytes)) {
  lines.push('');
  lines.push(`Redis memory with 3 instances and ${e.connections} peers, each holding 2 files ` +
             `(the largest of samples every 0.5 s, baseline included): ` +
             `${(redisBytes / 1048576).toFixed(1)} MiB.`);
}

const checks = [
  ['same-instance relays with Redis ≥ 0.9x the embedded rate (1 instance, medians)',
   runs.one.relays_per_second / e.relays_per_second, (x) => x >= 0.9, (x) => `${x.toFixed(2)}x`],
  ['server CPU per same-instance relay, with Redis against embedded (1 instance, medians)',
   runs.one.server_cpu_us_per_relay / e.server_cpu_us_per_relay, (x) => x <= 1.1,
   (x) => `${x.toFixed(2)}x`],
  ['relays across instances ≥ 25,000/s', runs.cross.relays_per_second, (x) => x >= 25000,
   (x) => `${x.toFixed(0)}/s`],
  ['relay p99 ≤ 10 ms across instances at 12,500/s (half the 25,000/s)',
   runs.target.relay_p99_ms, (x) => x >= 0 && x <= 10, (x) => `${x.toFixed(2)} ms`],
  ['lookups needing other instances found their holder', runs.same.rare_not_found,
   (x) => x === 0, (x) => `${x} not found`],
];
lines.push('');
lines.push(`Same-instance relays, 3 instances with Redis against 1 embedded (informative: three ` +
           `servers and the load generator share the cores): ` +
           `${(runs.same.relays_per_second / e.relays_per_second).toFixed(2)}x.`);
lines.push('');
lines.push('| target | measured | met |');
lines.push('|---|---|---|');
let ok = true;
for (const [what, value, pass, show] of checks) {
  const met = pass(value);
  ok = ok && met;
  lines.push(`| ${what} | ${show(value)} | ${met ? 'yes' : 'no'} |`);
}
const errors = Object.values(runs).reduce((n, r) => n + r.errors + r.server_errors, 0);
if (errors > 0) {
  lines.push('');
  lines.push(`**This run saw ${errors} errors: its figures are not to be trusted.**`);
}
console.log(lines.join('\n'));
process.exit(ok && errors === 0 ? 0 : 1);
