// The worker's pieces fetched ahead of their readers (sw/piece_source.js) stay within a bound
// per file and one for the whole worker, whatever the number of files a visitor opened.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import vm from 'node:vm';

const root = new URL('../../', import.meta.url);
const MiB = 1 << 20;

function workerScope() {
  const context = vm.createContext({console, performance, setTimeout, clearTimeout, atob, Uint8Array, self: {location: {origin: 'https://site.test'}}});
  for (const file of ['sw/config.js', 'sw/piece_cutter.js', 'sw/origin_runs.js', 'sw/piece_source.js']) vm.runInContext(readFileSync(new URL(file, root), 'utf8'), context, {filename: file});
  vm.runInContext('state.config.pieceReadAhead = 16;', context);
  return context;
}

function source(scope, name, pieceSize, count) {
  const file = {size: pieceSize * count, integrity: name, pieces: {size: pieceSize, hashes: Buffer.alloc(32 * count).toString('base64')}};
  return vm.runInContext(`new PieceSource(${JSON.stringify(`https://site.test/${name}`)}, ${JSON.stringify(file)})`, scope);
}

const total = (scope) => vm.runInContext('state.aheadBytes', scope);

test('one file keeps at most its read-ahead and 8 MiB', () => {
  const scope = workerScope();
  const a = source(scope, 'a.mp4', MiB, 64);
  for (let i = 0; i < 40; i++) a._keepAhead(i, new Uint8Array(MiB));
  assert.equal(a.aheadBytes, 8 * MiB);
  assert.deepEqual([...a.ahead.keys()], [32, 33, 34, 35, 36, 37, 38, 39], 'the oldest pieces go first');
  assert.equal(total(scope), 8 * MiB);
});

test('many files together keep at most 16 MiB, the file filled last keeping its own', () => {
  const scope = workerScope();
  const files = Array.from({length: 40}, (_, k) => source(scope, `f${k}.mp4`, MiB, 16));
  for (const f of files) for (let i = 0; i < 8; i++) f._keepAhead(i, new Uint8Array(MiB));
  assert.ok(total(scope) <= 16 * MiB, `${total(scope) / MiB} MiB ahead in all`);
  assert.equal(files.at(-1).aheadBytes, 8 * MiB);
  assert.equal(files[0].aheadBytes, 0, 'the file left first gave its pieces up');
  assert.equal(files.reduce((sum, f) => sum + f.aheadBytes, 0), total(scope), 'the count matches what is held');
});

test('a piece read leaves the count', () => {
  const scope = workerScope();
  const a = source(scope, 'a.mp4', 256 << 10, 64);
  for (let i = 0; i < 4; i++) a._keepAhead(i, new Uint8Array(256 << 10));
  const bytes = a._takeAhead(0, a.ahead.get(0));
  assert.equal(bytes.length, 256 << 10);
  assert.equal(total(scope), 3 * (256 << 10));
  for (let i = 1; i < 4; i++) a._takeAhead(i, a.ahead.get(i));
  assert.equal(total(scope), 0);
  assert.equal(vm.runInContext('state.aheadSources.size', scope), 0);
});
