// A seeder's small bodies kept in memory (js_glue/hot_bodies.js): bounded per body and in
// all, least recently served first out, keyed by the manifest's hash, dropped on eviction.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import vm from 'node:vm';

const KiB = 1 << 10;
const source = readFileSync(new URL('../../js_glue/hot_bodies.js', import.meta.url), 'utf8');
const HotBodies = vm.runInNewContext(`${source}; HotBodies`, {Map});
const entry = (name, size, integrity = 'sha256-a') => ({url: `https://site.test/${name}`, size, integrity});

test('a body is found under its own hash only', () => {
  const hot = new HotBodies();
  hot.put(entry('a.png', 12 * KiB), new ArrayBuffer(12 * KiB), 'content-type: image/png\n');
  assert.equal(hot.get(entry('a.png', 12 * KiB)).headers, 'content-type: image/png\n');
  assert.equal(hot.get(entry('a.png', 12 * KiB, 'sha256-b')), null, 'another version of the file');
});

test('large bodies and bodies of the wrong size stay out', () => {
  const hot = new HotBodies();
  hot.put(entry('big.jpg', 65 * KiB), new ArrayBuffer(65 * KiB), '');
  hot.put(entry('short.png', 12 * KiB), new ArrayBuffer(11 * KiB), '');
  assert.equal(hot.bytes, 0);
});

test('at most 2 MiB in all, the least recently served going first', () => {
  const hot = new HotBodies();
  for (let i = 0; i < 40; i++) {
    hot.put(entry(`${i}.png`, 64 * KiB), new ArrayBuffer(64 * KiB), '');
    if (i >= 1) hot.get(entry('0.png', 64 * KiB));  // kept in use
  }
  assert.ok(hot.bytes <= 2048 * KiB, `${hot.bytes} bytes`);
  assert.ok(hot.get(entry('0.png', 64 * KiB)), 'the one served all along is still there');
  assert.equal(hot.get(entry('1.png', 64 * KiB)), null, 'the oldest unused went first');
});

test('an evicted file is dropped, every version of it', () => {
  const hot = new HotBodies();
  hot.put(entry('a.png', KiB), new ArrayBuffer(KiB), '');
  hot.put(entry('a.png', KiB, 'sha256-b'), new ArrayBuffer(KiB), '');
  hot.drop('https://site.test/a.png');
  assert.equal(hot.bytes, 0);
  assert.equal(hot.bodies.size, 0);
});
