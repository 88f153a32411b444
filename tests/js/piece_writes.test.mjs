// The worker writes verified pieces from peers to Cache Storage only once pieces stop arriving
// (sw/piece_writes.js), within a bound on what waits in memory, and a piece waiting is read
// from memory, never asked for again.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import vm from 'node:vm';

const root = new URL('../../', import.meta.url);
const MiB = 1 << 20;

// A worker scope on a clock the test moves: timers fire only from advance().
function workerScope() {
  const clock = {now: 0, timers: new Map(), next: 1};
  const fakeSetTimeout = (fn, ms) => {
    const id = clock.next++;
    clock.timers.set(id, {at: clock.now + ms, fn});
    return id;
  };
  const context = vm.createContext({console, atob, Uint8Array, Promise, self: {location: {origin: 'https://site.test'}},
                                    performance: {now: () => clock.now}, setTimeout: fakeSetTimeout,
                                    clearTimeout: (id) => clock.timers.delete(id)});
  for (const file of ['sw/config.js', 'sw/piece_writes.js', 'sw/piece_cutter.js', 'sw/origin_runs.js', 'sw/piece_source.js']) {
    vm.runInContext(readFileSync(new URL(file, root), 'utf8'), context, {filename: file});
  }
  const written = [];
  context.written = written;
  vm.runInContext(`state.pieceWrites = new PieceWrites(async (source, index, bytes) => { written.push([source.url, index, bytes.length]); });`, context);
  const advance = async (ms) => {
    clock.now += ms;
    for (const [id, t] of [...clock.timers]) {
      if (t.at > clock.now) continue;
      clock.timers.delete(id);
      t.fn();
    }
    await new Promise((resolve) => setImmediate(resolve));  // the writes chain runs on microtasks
  };
  return {context, written, advance, writes: vm.runInContext('state.pieceWrites', context)};
}

function source(scope, name, pieceSize, count) {
  const file = {size: pieceSize * count, integrity: name, pieces: {size: pieceSize, hashes: Buffer.alloc(32 * count).toString('base64')}};
  return vm.runInContext(`new PieceSource(${JSON.stringify(`https://site.test/${name}`)}, ${JSON.stringify(file)})`, scope.context);
}

test('pieces are written only once none has arrived for a while, then all of them', async () => {
  const scope = workerScope();
  const a = source(scope, 'a.bin', 256 << 10, 80);
  for (let i = 0; i < 10; i++) {
    scope.writes.add(a, i, new Uint8Array(256 << 10));
    await scope.advance(50);  // a transfer under way: a piece every 50 ms
  }
  assert.equal(scope.written.length, 0, 'nothing written while pieces arrive');
  await scope.advance(100);
  assert.equal(scope.written.length, 0, 'nor 150 ms after the last one');
  await scope.advance(200);
  assert.deepEqual(scope.written.map((w) => w[1]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'then every piece, oldest first');
  assert.equal(scope.writes.pendingBytes(), 0);
});

test('a piece arriving stops the writes left', async () => {
  const scope = workerScope();
  const a = source(scope, 'a.bin', 256 << 10, 80);
  let release = null;
  // The first write is slow; a piece arrives while it runs.
  scope.writes.write = (s, index) => {
    scope.written.push([s.url, index]);
    return index === 0 ? new Promise((resolve) => (release = resolve)) : Promise.resolve();
  };
  for (let i = 0; i < 3; i++) scope.writes.add(a, i, new Uint8Array(16));
  await scope.advance(400);
  assert.deepEqual(scope.written.map((w) => w[1]), [0]);
  scope.writes.arrived();
  release();
  await scope.advance(10);
  assert.deepEqual(scope.written.map((w) => w[1]), [0], 'no write while pieces arrive again');
  await scope.advance(400);
  assert.deepEqual(scope.written.map((w) => w[1]), [0, 1, 2]);
});

test('past the bound the oldest pieces are written at once', async () => {
  const scope = workerScope();
  const a = source(scope, 'a.mp4', MiB, 64);
  for (let i = 0; i < 40; i++) scope.writes.add(a, i, new Uint8Array(MiB));
  assert.ok(scope.writes.pendingBytes() <= 32 * MiB, `${scope.writes.pendingBytes() / MiB} MiB waiting`);
  assert.deepEqual(scope.written.map((w) => w[1]), [0, 1, 2, 3, 4, 5, 6, 7], 'the oldest went to storage');
  await scope.advance(400);
  assert.equal(scope.written.length, 40, 'every piece written once');
  assert.equal(new Set(scope.written.map((w) => w[1])).size, 40);
});

test('a piece waiting to be written is read from memory, not asked for again', async () => {
  const scope = workerScope();
  const a = source(scope, 'a.bin', 16, 8);
  a.held = Promise.resolve(new Set());
  const asked = [];
  a._askPage = (indices) => asked.push(...indices);
  a._fromOrigin = (indices) => asked.push(...indices);
  a.asked.set(3, 1);
  a._store(3, new Uint8Array(16).fill(7), 'peer', true, true);  // prefetched: not kept ahead
  assert.equal(a.ahead.size, 0);
  const piece = await a.read(3);
  assert.equal(piece.bytes[0], 7);
  await a.want([3]);
  assert.deepEqual(asked, [], 'never asked again');
});

test('a piece from the origin is written at once, one from a peer after the transfer', async () => {
  const scope = workerScope();
  const a = source(scope, 'a.bin', 16, 8);
  const kept = [];
  a._keep = async (index) => kept.push(index);
  a._store(0, new Uint8Array(16), 'origin', true, true);
  a._store(1, new Uint8Array(16), 'peer', true, true);
  assert.deepEqual(kept, [0], 'the origin\'s piece at once: a crowd on the file waits for it');
  assert.equal(scope.writes.pendingBytes(), 16, 'the peer\'s piece waits');
});
