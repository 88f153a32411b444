// A peer's RESPONSE_HEAD header lines cannot be checked against a hash: the worker builds a
// peer-delivered response's headers from the manifest (content type) and keeps only a
// well-formed last-modified of the peer's (sw/cache_policy.js, headersFromPeer).
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import vm from 'node:vm';

const root = new URL('../../', import.meta.url);

function workerScope() {
  const context = vm.createContext({Headers, Response, ReadableStream, Uint8Array, self: {location: {origin: 'https://site.test'}}});
  for (const file of ['sw/config.js', 'sw/copies.js', 'sw/cache_policy.js']) {
    vm.runInContext(readFileSync(new URL(file, root), 'utf8'), context, {filename: file});
  }
  return context;
}

const headersOf = (h) => Object.fromEntries([...h.entries()]);

test('the content type is the manifest\'s, whatever the peer says', () => {
  const w = workerScope();
  const lie = 'content-type: text/plain\nx-content-type-options: nosniff\ncontent-disposition: attachment\ncache-control: no-store\n';
  assert.deepEqual(headersOf(w.headersFromPeer(lie, {type: 'text/css'})), {'content-type': 'text/css'});
});

test('without a type in the manifest there is none: the peer\'s is not taken', () => {
  const w = workerScope();
  assert.deepEqual(headersOf(w.headersFromPeer('content-type: text/plain\n', {})), {});
  // A manifest type that is no header value is dropped, not thrown at the page's request.
  assert.deepEqual(headersOf(w.headersFromPeer('', {type: 'image/png\nx-a: b'})), {});
});

test('a peer\'s last-modified is kept only as a date', () => {
  const w = workerScope();
  const date = 'Wed, 02 Dec 2026 10:00:00 GMT';
  assert.deepEqual(headersOf(w.headersFromPeer(`Last-Modified: ${date}\n`, {type: 'image/png'})),
                   {'content-type': 'image/png', 'last-modified': date});
  assert.deepEqual(headersOf(w.headersFromPeer('last-modified: soon\nbad line\n:x\n', {type: 'image/png'})),
                   {'content-type': 'image/png'});
});

test('the response made from a peer\'s body carries the manifest\'s hash and type', () => {
  const w = workerScope();
  const file = {type: 'image/png', integrity: 'sha256-abc'};
  const r = w.responseFromPeer({body: new Uint8Array(3).buffer, headers: 'content-type: text/html\n'}, file);
  assert.equal(r.headers.get('content-type'), 'image/png');
  assert.equal(r.headers.get('content-length'), '3');
  assert.equal(r.headers.get('x-p2pcdn-hash'), 'sha256-abc');
});

test('the page\'s response streams the same bytes as the kept copy', async () => {
  const w = workerScope();
  const body = new Uint8Array([1, 2, 3, 4]).buffer;
  const file = {type: 'image/png', integrity: 'sha256-abc'};
  const streamed = w.responseFromPeer({body, headers: ''}, file, true);
  const kept = w.responseFromPeer({body, headers: ''}, file);
  assert.deepEqual(new Uint8Array(await streamed.arrayBuffer()), new Uint8Array([1, 2, 3, 4]));
  assert.deepEqual(new Uint8Array(await kept.arrayBuffer()), new Uint8Array([1, 2, 3, 4]));
  assert.equal(streamed.headers.get('content-length'), '4');
});

test('with no type of its own in the manifest, a stylesheet or script gets the type it needs, never the peer\'s', () => {
  const w = workerScope();
  const unknown = {type: 'application/octet-stream'};
  assert.deepEqual(headersOf(w.headersFromPeer('content-type: text/plain\n', unknown, 'style')), {'content-type': 'text/css'});
  assert.deepEqual(headersOf(w.headersFromPeer('content-type: text/plain\n', {}, 'script')), {'content-type': 'text/javascript'});
  assert.deepEqual(headersOf(w.headersFromPeer('content-type: text/plain\n', unknown, 'image')), {});
  // The manifest's own type wins over the destination's.
  assert.deepEqual(headersOf(w.headersFromPeer('', {type: 'text/css; charset=utf-8'}, 'script')), {'content-type': 'text/css; charset=utf-8'});
});

test('a copy kept without a type answers a stylesheet as text/css, and is left alone otherwise', async () => {
  const w = workerScope();
  const untyped = () => new Response(new TextEncoder().encode('a{}'), {status: 200});  // bytes: no type of its own
  const styled = w.typedFor(untyped(), {}, 'style');
  assert.equal(styled.headers.get('content-type'), 'text/css');
  assert.equal(await styled.text(), 'a{}');
  assert.equal(w.typedFor(untyped(), {}, 'image').headers.get('content-type'), null);
  const typed = new Response('x', {headers: {'content-type': 'image/png'}});
  assert.equal(w.typedFor(typed, {}, 'style'), typed);
});
