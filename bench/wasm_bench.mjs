// Wasm figures for bench/README.md, measured in one Node process: SHA-256 of the Wasm core
// against WebCrypto (crypto.subtle.digest), and the receive path (decode + place + hash
// as bytes arrive) against copying the same frames in JS and hashing with WebCrypto at the end.
// Prints one JSON object. Medians of RUNS runs after one warm-up.
import {randomBytes, webcrypto} from 'node:crypto';
import {performance} from 'node:perf_hooks';

import {loadCore} from '../tests/js/load_core.mjs';

const RUNS = Number(process.env.RUNS || 7);
const core = await loadCore();
const subtle = webcrypto.subtle;

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function timeMs(fn, runs = RUNS) {
  await fn();  // warm-up
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

const MiB = 1 << 20;
const mbps = (bytes, ms) => bytes / MiB / (ms / 1000);

async function shaFigures() {
  const out = [];
  for (const size of [16 << 10, MiB, 64 * MiB]) {
    const bytes = randomBytes(size);
    const reps = Math.max(1, Math.floor((64 * MiB) / size / 4));
    const wasm = await timeMs(() => { for (let i = 0; i < reps; i++) core.sha256Hex(bytes); });
    const webcrypto = await timeMs(async () => {
      for (let i = 0; i < reps; i++) await subtle.digest('SHA-256', bytes);
    });
    out.push({
      size,
      wasm_mib_s: mbps(size * reps, wasm),
      webcrypto_mib_s: mbps(size * reps, webcrypto),
    });
  }
  return out;
}

function dataFrames(body, maxMessageSize) {
  const capacity = core.payloadCapacity(maxMessageSize);
  const frames = [];
  for (let at = 0; at < body.length; at += capacity) {
    const n = Math.min(capacity, body.length - at);
    const frame = new Uint8Array(core.dataHeaderSize + n);
    frame.set(core.dataHeader(1, at, n));
    frame.set(body.subarray(at, at + n), core.dataHeaderSize);
    frames.push(frame);
  }
  return frames;
}

async function receiveFigures() {
  const size = 20 * MiB;
  const body = randomBytes(size);
  const sri = core.sha256Sri(body);
  const out = [];
  for (const maxMessageSize of [16 << 10, 256 << 10]) {
    const frames = dataFrames(body, maxMessageSize);
    const assembler = new core.ChunkAssembler({maxTotalBytes: 64 * MiB});
    let lastFrameMs = 0;
    const wasm = await timeMs(() => {
      assembler.begin(1, 0, size, sri, 0);
      let r;
      for (let i = 0; i < frames.length - 1; i++) r = assembler.receive(frames[i], 0, maxMessageSize);
      const t = performance.now();
      r = assembler.receive(frames[frames.length - 1], 0, maxMessageSize);
      lastFrameMs = performance.now() - t;  // from last byte in to verified
      if (r.outcome !== 'complete') throw new Error(`not complete: ${JSON.stringify(r)}`);
      assembler.release(1);
    });
    // Baseline: the same frames placed by JS (one copy each), hashed by WebCrypto at the end.
    let digestMs = 0;
    const js = await timeMs(async () => {
      const out = new Uint8Array(size);
      const view = (f) => new DataView(f.buffer, f.byteOffset, f.byteLength);
      for (const f of frames) {
        const offset = Number(view(f).getBigUint64(12));
        out.set(f.subarray(core.dataHeaderSize), offset);
      }
      const t = performance.now();
      await subtle.digest('SHA-256', out);
      digestMs = performance.now() - t;
    });
    assembler.delete();
    out.push({
      max_message_size: maxMessageSize,
      body_bytes: size,
      wasm_receive_mib_s: mbps(size, wasm),
      js_copy_then_webcrypto_mib_s: mbps(size, js),
      wasm_verify_after_last_byte_ms: lastFrameMs,
      webcrypto_verify_after_last_byte_ms: digestMs,
    });
  }
  return out;
}

const result = {node: process.version, runs: RUNS, sha256: await shaFigures(), receive: await receiveFigures()};
console.log(JSON.stringify(result, null, 2));
