// The Wasm core as JavaScript sees it: values in, values or {error} out, never a throw.
import assert from 'node:assert/strict';
import {createHash, randomBytes} from 'node:crypto';
import {test} from 'node:test';

import {dataFrames} from './data_frames.mjs';
import {loadCore} from './load_core.mjs';

const core = await loadCore();
const hex = (bytes) => createHash('sha256').update(bytes).digest('hex');
const sri = (bytes) => 'sha256-' + createHash('sha256').update(bytes).digest('base64');

test('sha256 matches Node crypto, one-shot and streamed', () => {
  for (const n of [0, 1, 63, 64, 65, 1000, 1 << 20]) {
    const bytes = randomBytes(n);
    assert.equal(core.sha256Hex(bytes), hex(bytes));
    assert.equal(core.sha256Sri(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + n)), sri(bytes));
    const stream = new core.Sha256Stream();
    for (let at = 0; at < n; at += 4099) stream.update(bytes.subarray(at, at + 4099));
    assert.equal(stream.finishHex(), hex(bytes));
    stream.delete();
  }
  const version = hex(Buffer.from('body'));
  const id = hex(Buffer.concat([Buffer.from('https://example.com/a.png'), Buffer.from([0]), Buffer.from(version, 'hex')]));
  assert.equal(core.resourceId('https://example.com/a.png', version), id);
  assert.equal(core.resourceId('https://example.com/a.png', sri(Buffer.from('body'))), id);
  assert.notEqual(core.resourceId('https://example.com/a.png', hex(Buffer.from('other'))), id);
  assert.equal(core.resourceId('https://example.com/a.png', 'nope'), null);
  assert.equal(core.sriToHex(sri(Buffer.from('abc'))), hex(Buffer.from('abc')));
  assert.equal(core.hexToSri(hex(Buffer.from('abc'))), sri(Buffer.from('abc')));
  assert.equal(core.sriToHex('sha256-nope'), null);
  assert.equal(core.sha256Hex('not bytes').error, 'bad-field');
});

test('frames round-trip through the shared codec', () => {
  const id = hex(Buffer.from('id'));
  const frames = [
    {type: 'hello', maxVersion: 1, maxMessageSize: 262144, capabilities: 1},
    {type: 'have', op: 'replace', ids: [id, hex(Buffer.from('x'))]},
    {type: 'request', requestId: 7, resource: id, contentHash: id, offset: 2 ** 40, length: 99},
    {type: 'request', requestId: 8, resource: id, contentHash: id, offset: 0, length: null},
    {type: 'response-head', requestId: 7, totalSize: 12345, headers: 'content-type: image/png\n'},
    {type: 'data', requestId: 7, offset: 16384, payload: new Uint8Array([1, 2, 3])},
    {type: 'cancel', requestId: 7},
    {type: 'not-found', requestId: 7},
    {type: 'error', requestId: 0, code: 2, message: 'busy'},
    {type: 'ping', nonce: 5, sentAtMs: 1700000000000},
    {type: 'pong', nonce: 5, sentAtMs: 1700000000000},
    {type: 'have-pieces', resource: id, pieceCount: 10, bitfield: new Uint8Array([0x80, 0x40])},
  ];
  for (const f of frames) {
    const bytes = core.encodeFrame(f);
    assert.ok(bytes instanceof Uint8Array, JSON.stringify(bytes));
    assert.deepEqual(core.decodeFrame(bytes, 262144), f);
  }
});

test('signals round-trip through the shared codec', () => {
  const peer = '00112233445566778899aabbccddeeff';
  const messages = [
    {type: 'join', site: 'https://example.com', swarmKey: '', capabilities: 0},
    {type: 'welcome', peerId: peer, heartbeatIntervalMs: 15000, maxAnnounce: 5000},
    {type: 'announce', ids: [hex(Buffer.from('a'))]},
    {type: 'withdraw', ids: []},
    {type: 'lookup', lookupId: 3, resource: hex(Buffer.from('a')), maxPeers: 5},
    {type: 'lookup', lookupId: 4, resource: hex(Buffer.from('a')), maxPeers: 5, claim: true},
    {type: 'peers', lookupId: 3, resource: hex(Buffer.from('a')), peers: [peer], claimed: false, coming: false},
    {type: 'peers', lookupId: 4, resource: hex(Buffer.from('a')), peers: [peer], claimed: false, coming: true},
    {type: 'peers', lookupId: 5, resource: hex(Buffer.from('a')), peers: [], claimed: true, coming: false},
    {type: 'relay', peer, kind: 'candidate', payload: '{"candidate":"..."}'},
    {type: 'heartbeat', sentAtMs: 12},
    {type: 'heartbeat-ack', sentAtMs: 12},
    {type: 'error', code: 3, aboutType: 5, message: 'slow down'},
    {type: 'leave'},
  ];
  for (const m of messages) assert.deepEqual(core.decodeSignal(core.encodeSignal(m), 65536), m);
});

test('bad input comes back as an error value', () => {
  assert.equal(core.decodeFrame(new Uint8Array([1, 2, 3]), 262144).error, 'truncated');
  assert.equal(core.decodeFrame(new Uint8Array([2, 9, 0, 0, 0, 0, 0, 0]), 262144).error, 'bad-version');
  assert.equal(core.decodeFrame(new Uint8Array([1, 99, 0, 0, 0, 0, 0, 0]), 262144).error, 'unknown-type');
  assert.equal(core.encodeFrame({type: 'nope'}).error, 'unknown-type');
  assert.equal(core.encodeFrame({type: 'cancel', requestId: -1}).error, 'bad-field');
  assert.equal(core.encodeFrame({type: 'cancel', requestId: 1.5}).error, 'bad-field');
  assert.equal(core.encodeFrame({type: 'have', op: 'add', ids: ['zz']}).error, 'bad-field');
  const pieces = (pieceCount, bitfield) =>
    core.encodeFrame({type: 'have-pieces', resource: 'ab'.repeat(32), pieceCount, bitfield});
  assert.equal(pieces(9, new Uint8Array([0xff])).error, 'bad-length');
  assert.equal(pieces(9, new Uint8Array([0xff, 0x40])).error, 'bad-field');  // a spare bit
  assert.equal(pieces(0, new Uint8Array([])).error, 'bad-field');
  assert.equal(pieces(9, [0xff, 0x80]).error, 'bad-field');  // not a Uint8Array
  const big = pieces(core.maxPieceCount, new Uint8Array(core.maxPieceCount / 8));
  assert.equal(core.decodeFrame(big, 262144).pieceCount, core.maxPieceCount);
  assert.equal(core.decodeFrame(big, core.minMessageSize).error, 'oversize');
  assert.equal(core.maxHavePieces(core.minMessageSize), (core.minMessageSize - 44) * 8);
  assert.equal(core.encodeSignal({type: 'lookup'}).error, 'bad-field');
  assert.equal(core.decodeSignal(null, 100).error, 'bad-field');
  // Still works afterwards.
  assert.equal(core.decodeFrame(core.encodeFrame({type: 'cancel', requestId: 1}), 1 << 18).requestId, 1);
});

test('assembler rebuilds and verifies a body from shuffled frames', () => {
  const body = randomBytes(3 * 1024 * 1024 + 17);
  const assembler = new core.ChunkAssembler({maxTotalBytes: 64 << 20});
  assert.equal(assembler.begin(1, 5, 0, body.length, sri(body), 0), null);
  const frames = dataFrames(core, 1, body, 262144);
  frames.push(frames.shift());  // out of order
  frames.splice(3, 0, frames[2]);  // a duplicate
  let last;
  for (const f of frames) {
    last = assembler.receive(f, 1, 262144, 5);
    assert.equal(last.error, undefined, JSON.stringify(last));
    assert.equal(last.requestId, 1);
  }
  assert.equal(last.outcome, 'complete');
  assert.ok(Buffer.from(assembler.body(1)).equals(body));
  assembler.release(1);
  assert.equal(assembler.bytesAllocated(), 0);
  // A control frame comes back decoded.
  const ping = assembler.receive(core.encodeFrame({type: 'ping', nonce: 1, sentAtMs: 2}), 0, 262144, 5);
  assert.equal(ping.frame.type, 'ping');
  assembler.delete();
});

test('assembler catches a lying peer and stalled requests', () => {
  const body = randomBytes(100000);
  const assembler = new core.ChunkAssembler({firstByteTimeoutMs: 1000});
  assert.equal(assembler.begin(2, 5, 0, body.length, hex(body), 0), null);
  const frames = dataFrames(core, 2, body, 16384);
  frames[frames.length - 1][30] ^= 0xff;  // corrupt the last frame's payload
  let last;
  for (const f of frames) last = assembler.receive(f, 0, 16384, 5);
  assert.equal(last.error, 'hash-mismatch');
  assert.equal(assembler.openRequests(), 0);
  assert.equal(assembler.receive(frames[0], 0, 16384, 5).error, 'unknown-request');
  assert.equal(assembler.begin(3, 5, 0, 10, 'not-a-hash', 0).error, 'bad-field');
  assert.equal(assembler.begin(3, 5, 0, 10, '', 0), null);
  assert.equal(assembler.begin(3, 5, 0, 10, '', 0).error, 'duplicate-request');
  // Bytes from any peer but the one asked are refused and change nothing.
  assert.equal(assembler.begin(4, 5, 0, 10, '', 0), null);
  const data = core.encodeFrame({type: 'data', requestId: 4, offset: 0, payload: new Uint8Array(10)});
  assert.equal(assembler.receive(data, 0, 16384, 6).error, 'foreign-request');
  assert.equal(assembler.progress(4).received, 0);
  assert.deepEqual(assembler.expire(5000).sort((x, y) => x.requestId - y.requestId), [
    {requestId: 3, owner: 5, reason: 'no-first-byte', bytesPerSecond: 0},
    {requestId: 4, owner: 5, reason: 'no-first-byte', bytesPerSecond: 0}]);
  assembler.delete();
});

test('assembler resumes a cut-off transfer from its prefix, checked whole', () => {
  const body = randomBytes(500000);
  const first = new core.ChunkAssembler({});
  assert.equal(first.begin(1, 5, 0, body.length, sri(body), 0), null);
  const frames = dataFrames(core, 1, body, 65536);
  for (const f of frames.slice(0, 3)) assert.equal(first.receive(f, 0, 65536, 5).outcome, 'accepted');
  const kept = first.prefix(1).slice();  // copied out before the next call
  assert.equal(kept.length, 3 * core.payloadCapacity(65536));
  assert.equal(first.prefix(99), null);
  first.delete();

  const next = new core.ChunkAssembler({});
  assert.equal(next.begin(2, 6, 0, body.length, sri(body), 0), null);
  assert.equal(next.preload(2, kept), null);
  assert.equal(next.preload(2, kept).error, 'bad-field');
  let last;
  for (const f of dataFrames(core, 2, body.subarray(kept.length), 65536, kept.length)) last = next.receive(f, 1, 65536, 6);
  assert.equal(last.outcome, 'complete', JSON.stringify(last));
  assert.ok(Buffer.from(next.body(2)).equals(body));
  next.delete();
});

test('peer selector prefers fast peers and skips banned ones', () => {
  const sel = new core.PeerSelector(7, 0.2);
  for (let i = 0; i < 10; i++) {
    sel.onTransfer(1, 1 << 20, 1000);
    sel.onTransfer(2, 1 << 20, 50);
  }
  assert.deepEqual(sel.pick([1, 2, 3], 1 << 20, 1), [2]);
  sel.ban(2);
  assert.equal(sel.stats(2).banned, true);
  assert.ok(!sel.pick([1, 2], 1 << 20, 2).includes(2));
  assert.deepEqual(sel.pick('junk', 10, 2), []);
  sel.delete();
});

test('reputation remembers offenses across a save and load, and ranks holders', () => {
  const a = 'a'.repeat(32);
  const b = 'b'.repeat(32);
  const c = 'c'.repeat(32);
  const rep = new core.PeerReputation();
  assert.equal(rep.onOffense(a, 'injected', 1000), true);
  assert.equal(rep.onOffense(b, 'stalled', 1000), false);
  rep.onDelivered(c, 5000, 1000);
  assert.equal(rep.onOffense(c, 'no-such-offense', 1000).error, 'bad-field');
  assert.deepEqual(rep.rank([a, b, c, 'd'.repeat(32)]), [c, 'd'.repeat(32), b]);
  const next = new core.PeerReputation();
  next.load(rep.save(), 2000);
  assert.equal(next.banned(a), true);
  assert.deepEqual(next.record(a), {deliveredBytes: 0, strikes: 0, connectFailures: 0, bannedFor: 'injected'});
  assert.deepEqual(next.record(c), {deliveredBytes: 5000, strikes: 0, connectFailures: 0, bannedFor: null});
  rep.delete();
  next.delete();
});

test('piece scheduler spreads pieces over peers and names the copies to cancel', () => {
  const pieceSize = 1 << 20;
  const s = new core.PieceScheduler(6, pieceSize, 5 * pieceSize + 7, {maxInFlightPerPeer: 2});
  assert.equal(s.pieceCount(), 6);
  assert.equal(s.pieceBytes(5), 7);
  s.need(0, Infinity);
  assert.deepEqual(s.orphans(), [0, 1, 2, 3, 4, 5]);
  s.addPeer(1);
  assert.equal(s.setPieces(2, new Uint8Array([0b00110000])), '');  // pieces 2 and 3
  assert.equal(s.setPieces(3, new Uint8Array([0xff, 0])), 'bad-length');
  assert.equal(s.setPieces(3, new Uint8Array([0xff])), 'bad-field');  // bits past piece 5
  assert.equal(s.setPieces(3, 'junk'), 'bad-field');
  assert.deepEqual(s.orphans(), []);
  assert.equal(s.next(1, 0), 0);
  assert.equal(s.next(2, 0), 2);
  assert.equal(s.next(1, 0), 1);
  assert.equal(s.next(1, 0), -1);  // at capacity
  assert.deepEqual(s.done(1, 0, 100), []);
  assert.deepEqual(s.done(2, 0, 100), []);  // not asked of peer 2: ignored
  assert.equal(s.failed(2, 2, 100), false);
  assert.equal(s.next(2, 100), 3);
  assert.deepEqual(s.removePeer(2), [3]);
  assert.deepEqual(s.have(1), [1]);  // fetched elsewhere: cancel peer 1's copy
  assert.equal(s.next(1, 100), 2);
  assert.equal(s.next(1, 100), 3);
  s.cancel(1, 3);
  assert.equal(s.next(1, 100), 3);
  for (const [piece, at] of [[2, 200], [3, 300]]) assert.deepEqual(s.done(1, piece, at), []);
  assert.equal(s.next(1, 300), 4);
  assert.equal(s.next(1, 300), 5);
  assert.deepEqual(s.done(1, 4, 400), []);
  assert.equal(s.complete(), false);
  assert.deepEqual(s.done(1, 5, 400), []);
  assert.equal(s.complete(), true);
  const stats = s.peerStats(1);
  assert.equal(stats.pieces, 5);  // 0, 2, 3, 4, 5
  assert.equal(stats.bytes, 4 * pieceSize + 7);
  assert.ok(stats.rateBytesPerMs > 0);
  assert.deepEqual([stats.inFlight, stats.failures, stats.dropped], [0, 0, false]);
  assert.equal(s.peerStats(9), null);
  // Nonsense numbers do nothing.
  s.need(-1, NaN);
  assert.deepEqual(s.have(-5), []);
  assert.deepEqual(s.done(1, 1e12, NaN), []);
  assert.equal(s.next(1, -1), -1);
  s.delete();
  const bad = new core.PieceScheduler(3, 1 << 20, 1 << 20);  // one piece, not three
  assert.equal(bad.pieceCount(), 0);
  assert.equal(bad.next(1, 0), -1);
  bad.delete();
});
