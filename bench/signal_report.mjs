// Turns the JSON results of bench/signal_load.sh into Markdown tables, one per swarm shape,
// each figure for p2pcdn-server and bittorrent-tracker (measured in the same run) with ratios.
// Usage: node bench/signal_report.mjs ours.json theirs.json [ours2.json theirs2.json ...]
// Exits 1 if a result is missing, a run saw errors or passed its deadline, or p2pcdn-server
// relayed less than TARGET_RATIO (5) times the tracker's rate in a shape.
import fs from 'node:fs';
import os from 'node:os';

const TARGET_RATIO = Number(process.env.TARGET_RATIO || 5);

const read = (path) => {
  try {
    return JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (err) {
    console.error(`signal_report: ${path}: ${err.message}`);
    return null;
  }
};
const files = process.argv.slice(2);
if (files.length === 0 || files.length % 2 !== 0) {
  console.error('usage: node bench/signal_report.mjs ours.json theirs.json [ours2.json theirs2.json ...]');
  process.exit(2);
}
const runs = files.map(read);
if (runs.some((r) => !r)) process.exit(1);

const fixed = (x, digits) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const ratio = (a, b) =>
    (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${fixed(a / b, 2)}x` : '');
const mib = (kib) => (kib >= 0 ? kib / 1024 : NaN);
const perKib = (bytes) => (bytes == null ? NaN : bytes / 1024);

// [what, value for a run, digits, how to read the ratio ('' for no ratio)]
const rows = [
  ['connections established', (r) => r.connections_established, 0, ''],
  ['time to connect and join all (s)', (r) => r.connect_seconds, 2, 'lower is better'],
  ['server RSS before connecting (MiB)', (r) => mib(r.rss_baseline_kib), 1, ''],
  ['server RSS with all connections idle (MiB)', (r) => mib(r.rss_idle_kib), 1, ''],
  ['server RSS at the end of the relay phase (MiB)', (r) => mib(r.rss_after_relay_kib), 1, ''],
  [
    'memory per idle connection (KiB)', (r) => perKib(r.bytes_per_idle_connection), 2,
    'lower is better'
  ],
  ['relays delivered per second', (r) => r.relays_per_second, 0, 'higher is better'],
  // What the server's CPU did per relay, whatever else the machine ran: the rate above needs
  // a core for the server and one for the load generator, and a busy machine lends neither.
  [
    'relays per second of server CPU', (r) => r.relays_delivered / r.server_cpu_seconds_relay, 0,
    'higher is better'
  ],
  ['relay latency p50 (ms)', (r) => r.latency_p50_ms, 2, 'lower is better'],
  ['relay latency p99 (ms)', (r) => r.latency_p99_ms, 2, 'lower is better'],
];

const shape = (r) => (r.swarms > 1 ? `${r.swarms} swarms of ${r.swarm_size} peers (relays within a swarm)` : 'one swarm');
const problems = [];
const summary = [];
const lines = [];
for (let i = 0; i < runs.length; i += 2) {
  const [ours, theirs] = [runs[i], runs[i + 1]];
  if (i > 0) lines.push('');
  lines.push(
      `${ours.connections_requested} connections in ${shape(ours)}, ${ours.pairs} sender/receiver ` +
      `pairs with ${ours.window} relays in flight each, ${ours.payload_bytes}-byte payloads, ` +
      `${fixed(ours.relay_seconds, 0)} s of relays; ${os.cpus().length} × ` +
      `${os.cpus()[0].model.trim()}, ${new Date().toISOString()}.`);
  lines.push('');
  lines.push('| figure | p2pcdn-server | bittorrent-tracker | ratio (ours / tracker) |');
  lines.push('|---|---|---|---|');
  for (const [what, get, digits, better] of rows) {
    const a = get(ours);
    const b = get(theirs);
    const r = better ? `${ratio(a, b)} (${better})` : '';
    lines.push(`| ${what} | ${fixed(a, digits)} | ${fixed(b, digits)} | ${r} |`);
  }
  // One core per process at most: a figure near the relay time means that process was the limit.
  const cpu = (what, key) => lines.push(
      `| ${what} CPU during the relay phase (s) | ${fixed(ours[key], 1)} | ` +
      `${fixed(theirs[key], 1)} | |`);
  cpu('server', 'server_cpu_seconds_relay');
  cpu('load generator', 'client_cpu_seconds_relay');
  // The machine's busy time less the two processes measured: other work that took CPU from them.
  const others = (r) => Math.max(0, r.machine_busy_seconds_relay - r.server_cpu_seconds_relay - r.client_cpu_seconds_relay);
  lines.push(`| CPU of everything else on the machine during the relay phase (s) | ${fixed(others(ours), 1)} | ` +
             `${fixed(others(theirs), 1)} | |`);
  lines.push(`| 1-minute load average at the start | ${fixed(ours.load_average_at_start, 2)} | ` +
             `${fixed(theirs.load_average_at_start, 2)} | |`);
  const errors = (r) =>
      r.errors === 0 ? '0' : `${r.errors} (${JSON.stringify(r.error_kinds).replace(/\|/g, '/')})`;
  lines.push(`| errors | ${errors(ours)} | ${errors(theirs)} | |`);

  for (const [name, r] of [['p2pcdn-server', ours], ['bittorrent-tracker', theirs]]) {
    if (r.errors !== 0) problems.push(`${shape(r)}: ${name} run saw ${errors(r)}`);
    if (r.deadline_passed) problems.push(`${shape(r)}: ${name} run passed --max-seconds`);
    if (r.connections_established !== r.connections_requested) {
      problems.push(`${shape(r)}: ${name}: ${r.connections_established} of ${r.connections_requested} connections`);
    }
  }
  const x = ours.relays_per_second / theirs.relays_per_second;
  const met = Number.isFinite(x) && x >= TARGET_RATIO;
  summary.push(`- ${shape(ours)}: relays ${fixed(x, 2)}x the tracker's (target ≥ ${TARGET_RATIO}x: ${met ? 'met' : 'NOT MET'})`);
  if (!met) problems.push(`${shape(ours)}: relay rate ${fixed(x, 2)}x the tracker's, below ${TARGET_RATIO}x`);
}
lines.push('');
lines.push(...summary);
console.log(lines.join('\n'));
if (problems.length) {
  for (const p of problems) console.error(`signal_report: ${p}`);
  process.exit(1);
}
