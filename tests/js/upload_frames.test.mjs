// A seeder's upload pump (js_glue/uploads.js): a capped upload goes out in frames of 50 ms of
// its tightest cap (16 KiB at least), so a visitor who leaves mid-transfer has read all but
// the last few and hands that start on; an uncapped one in frames as large as the channel
// takes, up to 256 KiB (a message is seen only once all of it is in); a file served whole (not
// in pieces) in frames of 64 KiB at most, so that an asker who navigates keeps a start.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import vm from 'node:vm';

const KiB = 1 << 10;
const HEADER = 20;
const read = (file) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

// PeerUploads on a page whose channel takes 256 KiB messages; timers fire at once, so the
// pacing costs no wall time (only the frame sizes are under test).
function uploadsWith(config) {
  const context = vm.createContext({
    Map, Uint8Array, Promise, console, self: {},
    performance: {now: () => 0}, setTimeout: (fn) => setImmediate(fn),
  });
  vm.runInContext(`${read('js_glue/hot_bodies.js')}\n${read('js_glue/uploads.js')}\nthis.PeerUploads = PeerUploads; this.WholeBody = WholeBody;`, context);
  const page = {
    config: {upload: true, ...config},
    stats: {bytesToPeers: 0, changed() {}},
    core: {payloadCapacity: (max) => max - HEADER, dataHeaderSize: HEADER, dataHeader: () => new Uint8Array(HEADER)},
  };
  return {uploads: new context.PeerUploads(page), WholeBody: context.WholeBody, page};
}

// Sends `size` bytes to one link whose channel takes `maxMessageSize`; resolves the payload
// size of each frame sent.
async function framesFor(config, size, maxMessageSize = 256 * KiB, whole = false) {
  const {uploads, WholeBody, page} = uploadsWith(config);
  const frames = [];
  const link = {maxMessageSize, closed: false, uploads: [], canSend: () => true, send: (f) => frames.push(f.length - HEADER)};
  link.uploads.push({requestId: 1, url: 'https://site.test/wide.jpg', body: new WholeBody(new ArrayBuffer(size), 0), next: 0, end: size, whole});
  await uploads._pump(link);
  assert.equal(page.stats.bytesToPeers, size, 'every byte sent once');
  return frames;
}

test('an uncapped upload fills each message', async () => {
  const frames = await framesFor({}, 900000);
  assert.deepEqual(frames.slice(0, 3), [256 * KiB - HEADER, 256 * KiB - HEADER, 256 * KiB - HEADER]);
});

test('a file served whole goes out in frames of 64 KiB at most; a piece fills each message', async () => {
  assert.deepEqual(await framesFor({}, 150000, 256 * KiB, true), [64 * KiB, 64 * KiB, 150000 - 128 * KiB]);
  assert.deepEqual(await framesFor({}, 12000, 256 * KiB, true), [12000]);
  assert.deepEqual(await framesFor({}, 256 * KiB, 256 * KiB, false), [256 * KiB - HEADER, HEADER]);
  // A cap still makes frames smaller than that.
  assert.equal((await framesFor({maxUploadBytesPerSecond: 400 * KiB}, 150000, 256 * KiB, true))[0], 20 * KiB);
});

test('a capped upload sends frames of 50 ms of its cap', async () => {
  const frames = await framesFor({maxUploadBytesPerSecond: 400 * KiB}, 900000);
  assert.equal(frames[0], 20 * KiB);
  assert.ok(frames.every((n) => n <= 20 * KiB), `largest ${Math.max(...frames)}`);
});

test('the tightest cap decides, and a frame is 16 KiB at least', async () => {
  assert.equal((await framesFor({maxUploadBytesPerSecond: 8 << 20, maxUploadBytesPerSecondPerPeer: 1 << 20}, 200000))[0], 1024 * KiB / 20 | 0);
  assert.equal((await framesFor({maxUploadBytesPerSecondPerPeer: 100 * KiB}, 100000))[0], 16 * KiB);
});

test('a cap above what a message holds in 50 ms leaves messages whole', async () => {
  assert.equal((await framesFor({maxUploadBytesPerSecond: 64 << 20}, 900000))[0], 256 * KiB - HEADER);
});

test('a link that takes ~1 GiB messages (two Firefoxes) still gets frames of 256 KiB at most', async () => {
  const frames = await framesFor({}, 16 << 20, 1073741823);
  assert.equal(frames.length, 64);
  assert.ok(frames.every((n) => n === 256 * KiB), `frames of ${[...new Set(frames)]}`);
});

// Bytes still in the channel's buffer when a link closes never went out: taken off what the
// page says it sent (at most what it sent on that link), and counted as unsent.
test('bytes queued on a link that closes are not counted as sent', async () => {
  const {uploads, WholeBody, page} = uploadsWith({});
  page.stats.bytesToPeersUnsent = 0;
  const link = {maxMessageSize: 256 * KiB, closed: false, uploads: [], canSend: () => true, send: () => true};
  link.uploads.push({requestId: 1, url: 'https://site.test/wide.jpg', body: new WholeBody(new ArrayBuffer(600000), 0), next: 0, end: 600000});
  await uploads._pump(link);
  const other = {uploads: [], bytesSent: 1000, unsentBytes: 5000};  // a link that sent less than its buffer says
  link.unsentBytes = 200000;
  uploads.closeLink(link);
  uploads.closeLink(other);
  assert.equal(page.stats.bytesToPeers, 600000 - 200000 - 1000);
  assert.equal(page.stats.bytesToPeersUnsent, 201000);
});
