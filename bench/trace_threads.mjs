// Where a traced transfer's time went, per thread: reads Chromium traces (p2p_bench.mjs with
// TRACE=dir) and prints, for each thread busy more than 5 % of the trace, how busy it was
// (the union of its top-level tasks) and the event names and JS callbacks that took most of
// that time. Observation only: it changes no figure of any bench.
//   node bench/trace_threads.mjs dir/chromium-chromium-visitor.json [more traces]
import fs from 'node:fs';

const TOP = 12;

function load(file) {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  return Array.isArray(raw) ? raw : raw.traceEvents;
}

// Total length of the union of [start, end) intervals.
function unionLength(intervals) {
  let total = 0, end = -Infinity;
  for (const [s, e] of intervals.sort((x, y) => x[0] - y[0])) {
    if (e <= end) continue;
    total += e - Math.max(s, end);
    end = e;
  }
  return total;
}

function label(event) {
  const d = event.args && (event.args.data || event.args);
  if (event.name === 'FunctionCall' && d) return `FunctionCall ${d.functionName || '(anonymous)'} ${String(d.url || '').split('/').pop()}:${d.lineNumber ?? ''}`;
  if (event.name === 'EventDispatch' && d && d.type) return `EventDispatch ${d.type}`;
  return event.name;
}

// JS self time per function, per thread, from the V8 sampler's ProfileChunk events.
function samplesByThread(events) {
  const profiles = new Map();  // profile id -> {thread, nodes: Map(id -> label), self: Map(label -> us)}
  for (const e of events) {
    if (e.name !== 'Profile' && e.name !== 'ProfileChunk') continue;
    const key = `${e.pid}:${e.id}`;
    if (!profiles.has(key)) profiles.set(key, {thread: `${e.pid}:${e.tid}`, nodes: new Map(), self: new Map()});
    const p = profiles.get(key);
    if (e.name === 'Profile') p.thread = `${e.pid}:${e.tid}`;
    const data = e.args && e.args.data;
    const cpu = data && data.cpuProfile;
    if (!cpu) continue;
    for (const n of cpu.nodes || []) {
      const f = n.callFrame || {};
      p.nodes.set(n.id, `${f.functionName || '(anonymous)'} ${String(f.url || '').split('/').pop()}:${f.lineNumber ?? ''}`);
    }
    const deltas = data.timeDeltas || [];
    (cpu.samples || []).forEach((id, i) => {
      const label = p.nodes.get(id) || `node ${id}`;
      p.self.set(label, (p.self.get(label) || 0) + Math.max(0, deltas[i + 1] || 0));
    });
  }
  const out = new Map();
  for (const p of profiles.values()) {
    if (!out.has(p.thread)) out.set(p.thread, new Map());
    const m = out.get(p.thread);
    for (const [label, us] of p.self) m.set(label, (m.get(label) || 0) + us);
  }
  return out;
}

function report(file) {
  const events = load(file);
  const names = new Map();
  for (const e of events) {
    if (e.ph === 'M' && e.name === 'process_name') names.set(`${e.pid}`, e.args.name);
    if (e.ph === 'M' && e.name === 'thread_name') names.set(`${e.pid}:${e.tid}`, e.args.name);
  }
  const samples = samplesByThread(events);
  const timed = events.filter((e) => e.ph === 'X' && typeof e.dur === 'number');
  if (!timed.length) return console.log(`${file}: no timed events`);
  const t0 = timed.reduce((m, e) => Math.min(m, e.ts), Infinity);
  const t1 = timed.reduce((m, e) => Math.max(m, e.ts + e.dur), -Infinity);
  const threads = new Map();
  for (const e of timed) {
    const key = `${e.pid}:${e.tid}`;
    if (!threads.has(key)) threads.set(key, {top: [], byName: new Map()});
    const t = threads.get(key);
    if (String(e.cat).split(',').includes('toplevel')) t.top.push([e.ts, e.ts + e.dur]);
    const name = label(e);
    t.byName.set(name, (t.byName.get(name) || 0) + e.dur);
  }
  console.log(`\n${file}: ${((t1 - t0) / 1000).toFixed(0)} ms traced`);
  const rows = [...threads.entries()].map(([key, t]) => ({key, busy: unionLength(t.top), t}))
                   .filter((r) => r.busy > 0.05 * (t1 - t0)).sort((x, y) => y.busy - x.busy);
  for (const {key, busy, t} of rows) {
    const [pid] = key.split(':');
    console.log(`  ${names.get(pid) || pid} / ${names.get(key) || key}: busy ${((busy / (t1 - t0)) * 100).toFixed(0)} % (${(busy / 1000).toFixed(0)} ms)`);
    const top = [...t.byName.entries()].sort((x, y) => y[1] - x[1]).slice(0, TOP);
    for (const [name, dur] of top) console.log(`      ${(dur / 1000).toFixed(1).padStart(8)} ms  ${name}`);
    const js = samples.get(key);
    if (!js) continue;
    console.log('    JS self time (sampled):');
    const hot = [...js.entries()].filter(([l]) => !/^\((idle|program|root)\)/.test(l)).sort((x, y) => y[1] - x[1]).slice(0, TOP);
    for (const [name, us] of hot) console.log(`      ${(us / 1000).toFixed(1).padStart(8)} ms  ${name}`);
  }
}

const files = process.argv.slice(2);
if (!files.length) {
  console.error('usage: node bench/trace_threads.mjs trace.json [more.json]');
  process.exit(2);
}
for (const f of files) report(f);
