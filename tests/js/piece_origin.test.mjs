// The worker's runs of pieces from the origin (sw/origin_runs.js, sw/piece_cutter.js): an
// origin that answers a Range request with less than was asked (p2pcdn-server sends at most
// 8 MiB per 206) or drops the connection is asked again from where it stopped, even inside a
// piece larger than its answers; an answer for other bytes than asked is never cut into pieces.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {randomBytes} from 'node:crypto';
import {readFileSync} from 'node:fs';
import vm from 'node:vm';

const root = new URL('../../', import.meta.url);
const MiB = 1 << 20;

// An origin over `bytes`: `cap` bytes at most per 206, `drop` bytes at most per body (then the
// body just ends), `shift` bytes added to the start it answers, `ranges: false` for 200s.
function origin(bytes, {cap = Infinity, drop = Infinity, shift = 0, ranges = true} = {}) {
  const asked = [];
  let cancelled = 0;  // bodies the worker cancelled before their end
  const fetch = async (_url, init) => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(init.headers.range);
    asked.push(init.headers.range);
    const from = Number(m[1]) + shift;
    const to = Math.min(Number(m[2]), from + cap - 1, bytes.length - 1);
    const body = ranges ? bytes.subarray(from, to + 1) : bytes;
    const sent = body.subarray(0, Math.min(body.length, drop));
    // One 64 KiB chunk per read, and the end only when read for: a cancel is seen.
    let at = 0;
    const stream = new ReadableStream({
      pull(controller) {
        if (at >= sent.length) return controller.close();
        controller.enqueue(new Uint8Array(sent.subarray(at, at + (64 << 10))));
        at += 64 << 10;
      },
      cancel() {
        cancelled++;
      },
    }, {highWaterMark: 0});
    const headers = ranges ? {'content-range': `bytes ${from}-${to}/${bytes.length}`} : {};
    return new Response(stream, {status: ranges ? 206 : 200, headers});
  };
  return {fetch, asked, cancelled: () => cancelled};
}

// A worker scope holding one PieceSource over `bytes`, whose origin is `server`; the pieces it
// hands on are collected instead of verified and kept.
function sourceOver(bytes, pieceSize, server) {
  const scope = vm.createContext({console, performance, setTimeout, clearTimeout, atob, Uint8Array, Response, ReadableStream,
                                  self: {location: {origin: 'https://site.test'}}});
  for (const file of ['sw/config.js', 'sw/byte_range.js', 'sw/piece_cutter.js', 'sw/origin_runs.js', 'sw/piece_source.js']) vm.runInContext(readFileSync(new URL(file, root), 'utf8'), scope, {filename: file});
  Object.assign(scope, {fetch: server.fetch, cacheable: () => true, noteOrigin: () => {}, pickPage: async () => null, notify: () => {}});
  const count = Math.ceil(bytes.length / pieceSize);
  const file = {size: bytes.length, integrity: 'x', pieces: {size: pieceSize, hashes: Buffer.alloc(32 * count).toString('base64')}};
  const source = vm.runInContext(`new PieceSource('https://site.test/big.bin', ${JSON.stringify(file)})`, scope);
  const got = new Map();
  const failed = [];
  source.onOriginPiece = (index, piece) => got.set(index, Buffer.from(piece));
  source.onOriginFailed = (first, last, err) => failed.push({first, last, message: err.message});
  return {source, got, failed, count};
}

const piecesOf = (bytes, size) => Array.from({length: Math.ceil(bytes.length / size)}, (_, i) => bytes.subarray(i * size, (i + 1) * size));

async function run(bytes, pieceSize, options) {
  const server = origin(bytes, options);
  const s = sourceOver(bytes, pieceSize, server);
  await s.source.origin.run(0, s.count - 1);
  return {...s, asked: server.asked, cancelled: server.cancelled()};
}

test('an origin that answers 3 MiB per range gives every 1 MiB piece of 10 MiB, in 4 requests', async () => {
  const bytes = randomBytes(10 * MiB);
  const {got, failed, asked, cancelled} = await run(bytes, MiB, {cap: 3 * MiB});
  assert.deepEqual(failed, []);
  assert.equal(cancelled, 0, 'each answer read to its end, none cancelled (an aborted request in the log)');
  assert.deepEqual(asked, ['bytes=0-10485759', 'bytes=3145728-10485759', 'bytes=6291456-10485759', 'bytes=9437184-10485759']);
  piecesOf(bytes, MiB).forEach((piece, i) => assert.ok(got.get(i).equals(piece), `piece ${i}`));
});

test('a piece larger than the origin answers at once is filled across answers', async () => {
  const bytes = randomBytes(20 * MiB + 5);
  const {got, failed, asked} = await run(bytes, 8 * MiB, {cap: 3 * MiB});
  assert.deepEqual(failed, []);
  assert.equal(asked.length, 7);
  piecesOf(bytes, 8 * MiB).forEach((piece, i) => assert.ok(got.get(i).equals(piece), `piece ${i}`));
});

test('a body that ends early is asked again from its last byte, inside a piece', async () => {
  const bytes = randomBytes(4 * MiB);
  const {got, failed, asked} = await run(bytes, MiB, {drop: 1.5 * MiB});
  assert.deepEqual(failed, []);
  assert.deepEqual(asked, ['bytes=0-4194303', 'bytes=1572864-4194303', 'bytes=3145728-4194303']);
  piecesOf(bytes, MiB).forEach((piece, i) => assert.ok(got.get(i).equals(piece), `piece ${i}`));
});

test('an origin without ranges: its whole body, cut from the piece asked', async () => {
  const bytes = randomBytes(3 * MiB);
  const server = origin(bytes, {ranges: false});
  const {source, got, failed} = sourceOver(bytes, MiB, server);
  await source.origin.run(1, 2);
  assert.deepEqual(failed, []);
  assert.deepEqual([...got.keys()], [1, 2]);
  assert.equal(server.cancelled(), 0);
  await source.origin.run(0, 0);
  assert.equal(server.cancelled(), 1, 'a whole body that goes on past the pieces asked is cancelled');
  assert.ok(got.get(1).equals(bytes.subarray(MiB, 2 * MiB)) && got.get(2).equals(bytes.subarray(2 * MiB)));
});

test('a 206 for other bytes than asked gives no piece and fails the run', async () => {
  const bytes = randomBytes(2 * MiB);
  const {got, failed} = await run(bytes, MiB, {shift: 1000});
  assert.equal(got.size, 0);
  assert.equal(failed.length, 1);
  assert.match(failed[0].message, /origin answered the range bytes 1000-/);
});

test('an origin that answers a few bytes at a time is given up on, not asked without end', async () => {
  const bytes = randomBytes(MiB);
  const {failed, asked} = await run(bytes, 256 << 10, {cap: 100});
  assert.equal(failed.length, 1);
  assert.match(failed[0].message, /too little/);
  assert.equal(asked.length, MiB / (64 << 10) + 2);
});
