// Measurements of the Wasm core from JavaScript, shared by the Node runner (wasm_bench.mjs)
// and the browser runner (browser_bench.mjs) so both environments run the same code.
// SHA-256 of the Wasm core against WebCrypto (crypto.subtle.digest), and the receive path
// (decode + place + hash as bytes arrive) against copying the same frames in JS and hashing
// with WebCrypto once the last byte is in. Medians of `runs` runs after a warm-up of 0.5 s.

import {dataFrames} from '../tests/js/data_frames.mjs';

const MiB = 1 << 20;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const mibPerS = (bytes, ms) => bytes / MiB / (ms / 1000);

export function randomBody(size) {
  const bytes = new Uint8Array(size);
  let x = 0x9e3779b9;
  for (let i = 0; i < size; i++) {  // xorshift: fast, and no 64 KiB getRandomValues limit
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

// Warm-up: repeat fn for at least warmupMs. V8 compiles Wasm with Liftoff first and moves a
// function to TurboFan once it has used its tiering budget: the hash loop gets there within
// the first 1 MiB, but the small per-call functions (embind glue, malloc, hex) take several
// thousand calls, ~0.3 s of 16 KiB hashes in Chromium, and a single warm-up run left part
// of them in Liftoff (JS_FLAGS=--no-liftoff in browser_bench.mjs shows the difference).
async function timeMs(fn, runs, now, warmupMs = 500) {
  const warmupStart = now();
  do await fn(); while (now() - warmupStart < warmupMs);
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const start = now();
    await fn();
    samples.push(now() - start);
  }
  return median(samples);
}

async function shaFigures(core, subtle, runs, now) {
  const out = [];
  for (const size of [16 << 10, MiB, 64 * MiB]) {
    const bytes = randomBody(size);
    const reps = Math.max(1, Math.floor((64 * MiB) / size / 4));
    const wasm = await timeMs(() => {
      for (let i = 0; i < reps; i++) core.sha256Hex(bytes);
    }, runs, now);
    const webcrypto = await timeMs(async () => {
      for (let i = 0; i < reps; i++) await subtle.digest('SHA-256', bytes);
    }, runs, now);
    out.push({size, wasm_mib_s: mibPerS(size * reps, wasm), webcrypto_mib_s: mibPerS(size * reps, webcrypto)});
  }
  return out;
}

async function receiveFigures(core, subtle, runs, now) {
  const size = 20 * MiB;
  const body = randomBody(size);
  const sri = core.sha256Sri(body);
  const out = [];
  for (const maxMessageSize of [16 << 10, 256 << 10]) {
    const frames = dataFrames(core, 1, body, maxMessageSize);
    const assembler = new core.ChunkAssembler({maxTotalBytes: 64 * MiB});
    let lastFrameMs = 0;
    const wasm = await timeMs(() => {
      assembler.begin(1, 1, 0, size, sri, 0);
      for (let i = 0; i < frames.length - 1; i++) assembler.receive(frames[i], 0, maxMessageSize, 1);
      const t = now();
      const r = assembler.receive(frames[frames.length - 1], 0, maxMessageSize, 1);
      lastFrameMs = now() - t;  // from the last byte in to verified
      if (r.outcome !== 'complete') throw new Error(`not complete: ${JSON.stringify(r)}`);
      assembler.release(1);
    }, runs, now);
    let digestMs = 0;
    const js = await timeMs(async () => {
      const whole = new Uint8Array(size);
      for (const f of frames) {
        const offset = Number(new DataView(f.buffer, f.byteOffset + 12, 8).getBigUint64(0));
        whole.set(f.subarray(core.dataHeaderSize), offset);
      }
      const t = now();
      await subtle.digest('SHA-256', whole);
      digestMs = now() - t;
    }, runs, now);
    assembler.delete();
    out.push({
      max_message_size: maxMessageSize,
      body_bytes: size,
      wasm_receive_mib_s: mibPerS(size, wasm),
      js_copy_then_webcrypto_mib_s: mibPerS(size, js),
      wasm_verify_after_last_byte_ms: lastFrameMs,
      webcrypto_verify_after_last_byte_ms: digestMs,
    });
  }
  return out;
}

export async function measure({core, subtle, now, runs = 7}) {
  return {
    sha256: await shaFigures(core, subtle, runs, now),
    receive: await receiveFigures(core, subtle, runs, now),
  };
}
