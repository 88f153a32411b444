// Turns the two JSON results of bench/signal_load.sh (p2pcdn-server, then
// bittorrent-tracker, same run) into a Markdown table with each figure for both and ratios.
// Usage: node bench/signal_report.mjs signal-p2pcdn.json signal-tracker.json
import fs from 'node:fs';
import os from 'node:os';

const read = (path) => {
  try {
    return JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (err) {
    console.error(`signal_report: ${path}: ${err.message}`);
    return null;
  }
};
const [ours, theirs] = process.argv.slice(2, 4).map(read);
if (!ours || !theirs) process.exit(1);

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
  ['relay latency p50 (ms)', (r) => r.latency_p50_ms, 2, 'lower is better'],
  ['relay latency p99 (ms)', (r) => r.latency_p99_ms, 2, 'lower is better'],
];

const lines = [];
lines.push(
    `${ours.connections_requested} connections in one swarm, ${ours.pairs} sender/receiver pairs ` +
    `with ${ours.window} relays in flight each, ${ours.payload_bytes}-byte payloads, ` +
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
const errors = (r) =>
    r.errors === 0 ? '0' : `${r.errors} (${JSON.stringify(r.error_kinds).replace(/\|/g, '/')})`;
lines.push(`| errors | ${errors(ours)} | ${errors(theirs)} | |`);
console.log(lines.join('\n'));
