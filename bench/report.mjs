// Turns the native (Google Benchmark) and Wasm (wasm_bench.mjs) results of one run into
// the Markdown table of bench/README.md, each figure beside its baseline as a ratio.
import fs from 'node:fs';
import os from 'node:os';

// usage: report.mjs native.json native-portable.json wasm-node.json wasm-chromium.json
const [nativePath, portablePath, ...jsPaths] = process.argv.slice(2);
const native = JSON.parse(fs.readFileSync(nativePath, 'utf8'));
const portable = JSON.parse(fs.readFileSync(portablePath, 'utf8'));
const jsRuns = jsPaths.map((p) => JSON.parse(fs.readFileSync(p, 'utf8')));

// A benchmark's result, or the median of its repetitions where it has them.
const bench = (name, run = native) => {
  const b = run.benchmarks.find((x) => x.aggregate_name === 'median' &&
    x.run_name.replace(/\/repeats:\d+$/, '') === name) ?? run.benchmarks.find((x) => x.name === name);
  if (!b) throw new Error(`missing benchmark ${name}`);
  if (b.error_occurred) throw new Error(`${name}: ${b.error_message}`);
  return b;
};
const MiB = 1 << 20;
const gbs = (b) => b.bytes_per_second / 1e9;
const mibs = (b) => b.bytes_per_second / MiB;
const f = (x, d = 2) => x.toFixed(d);
const rate = (b) => `${f(b.items_per_second / 1e6)} M/s`;
// Cycles per byte at the clock the OS reports (the TSC rate; the core may run faster).
const mhz = native.context.mhz_per_cpu;
const cpb = (mibPerS) => `${f((mhz * 1e6) / (mibPerS * MiB), 1)} cycles/B`;

const lines = [];
lines.push(`Run on ${os.cpus().length} × ${os.cpus()[0].model.trim()} (${mhz} MHz reported: the clock of the cycles per byte), ${native.context.date}; Wasm in ${jsRuns.map((r) => r.environment).join(' and ')}.`);
lines.push('');
lines.push('| what | figure | baseline (same run) | ratio |');
lines.push('|---|---|---|---|');
for (const name of ['EncodeRequest', 'DecodeRequest', 'EncodeRelaySignal', 'DecodeRelaySignal']) {
  lines.push(`| ${name} frames, native | ${rate(bench(`BM_${name}`))} | | |`);
}
for (const kib of [16, 256]) {
  const arg = kib << 10;
  lines.push(`| EncodeData ${kib} KiB (header + payload copy), native | ${rate(bench(`BM_EncodeData/${arg}`))} | | |`);
  lines.push(`| DecodeData ${kib} KiB (view, no copy), native | ${rate(bench(`BM_DecodeData/${arg}`))} | | |`);
}
for (const kib of [16, 256]) {
  const arg = kib << 10;
  const base = bench(`BM_MemcpyBaseline/${arg}`);
  for (const [label, name] of [['reassembly', 'BM_Reassemble'], ['reassembly + incremental SHA-256', 'BM_ReassembleAndVerify']]) {
    const b = bench(`${name}/${arg}`);
    lines.push(`| ${label}, 20 MiB in ${kib} KiB frames, native | ${f(gbs(b))} GB/s | memcpy into a fresh buffer ${f(gbs(base))} GB/s | ${f(gbs(b) / gbs(base))}x |`);
  }
}
for (const run of jsRuns) {
  const env = run.environment.split(' ')[0];
  for (const s of run.sha256) {
    const size = s.size >= MiB ? `${s.size / MiB} MiB` : `${s.size >> 10} KiB`;
    const nativeSha = mibs(bench(`BM_Sha256/${s.size}`));
    const portableSha = mibs(bench(`BM_Sha256Portable/${s.size}`, portable));
    const wasm = `${f(s.wasm_mib_s, 0)} MiB/s, ${cpb(s.wasm_mib_s)}`;
    lines.push(`| SHA-256 ${size}, Wasm in ${env} | ${wasm} | WebCrypto in ${env} ${f(s.webcrypto_mib_s, 0)} MiB/s | ${f(s.wasm_mib_s / s.webcrypto_mib_s)}x |`);
    lines.push(`| SHA-256 ${size}, Wasm in ${env} | ${wasm} | native Crypto++ portable C++ (same code) ${f(portableSha, 0)} MiB/s | ${f(s.wasm_mib_s / portableSha)}x |`);
    lines.push(`| SHA-256 ${size}, Wasm in ${env} | ${wasm} | native Crypto++ with SHA-NI ${f(nativeSha, 0)} MiB/s | ${f(s.wasm_mib_s / nativeSha)}x |`);
    lines.push(`| SHA-256 ${size}, native Crypto++ portable C++ (ceiling for Wasm) | ${f(portableSha, 0)} MiB/s, ${cpb(portableSha)} | WebCrypto in ${env} ${f(s.webcrypto_mib_s, 0)} MiB/s | ${f(portableSha / s.webcrypto_mib_s)}x |`);
  }
  for (const r of run.receive) {
    const kib = r.max_message_size >> 10;
    lines.push(`| receive 20 MiB in ${kib} KiB frames, Wasm in ${env} (decode + place + hash) | ${f(r.wasm_receive_mib_s, 0)} MiB/s | JS copy + WebCrypto at end ${f(r.js_copy_then_webcrypto_mib_s, 0)} MiB/s | ${f(r.wasm_receive_mib_s / r.js_copy_then_webcrypto_mib_s)}x |`);
    lines.push(`| verified after last byte, 20 MiB, ${kib} KiB frames, ${env} | ${f(r.wasm_verify_after_last_byte_ms)} ms (incremental) | ${f(r.webcrypto_verify_after_last_byte_ms)} ms (WebCrypto, one pass) | |`);
  }
}
console.log(lines.join('\n'));
