// Relayed signaling between pages names the link's session (js_glue/page.js onRelay,
// docs/protocol.md): a message of an earlier link to the same peer is not applied to a new
// one (an answer left over from a closed dial failed the honest holder dialled again, which
// was then never dialled for the rest of the visit), and an offer in a new session replaces
// the peer's old link.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {webcrypto} from 'node:crypto';
import {readFileSync} from 'node:fs';
import vm from 'node:vm';

const read = (file) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

const context = vm.createContext({EventTarget, crypto: webcrypto, performance});
vm.runInContext(`${read('js_glue/page.js')}\nthis.P2pcdnPage = P2pcdnPage; this.newSession = p2pcdnLinkSession;`, context);

// The page's relay routing over fake links, which record the signals applied to them.
function fakePage(peerId = 'b') {
  const page = Object.create(context.P2pcdnPage.prototype);
  Object.assign(page, {
    peerId,
    links: new Map(),
    reputation: {},
    admission: {admitOffer: () => true},
    made: [],
    _newLink(id, initiator, session) {
      const link = {peerId: id, initiator, session, opened: false, applied: [], closedFor: null,
                    onSignal(kind, payload) { this.applied.push(`${kind} ${payload}`); },
                    close(reason) { this.closedFor = reason; page.links.delete(id); }};
      page.links.set(id, link);
      page.made.push(link);
      return link;
    },
  });
  return page;
}

test('sessions are 16 hex digits, a new one per link', () => {
  const a = context.newSession();
  assert.match(a, /^[0-9a-f]{16}$/);
  assert.notEqual(a, context.newSession());
});

test('an answer or a candidate of an earlier link to the peer is dropped', () => {
  const page = fakePage();
  const dial = page._newLink('a', true, '1111111111111111');
  page.onRelay('a', 'answer', '0000000000000000:v=0 stale');
  page.onRelay('a', 'candidate', '0000000000000000:{}');
  page.onRelay('a', 'bye', '0000000000000000:');
  assert.deepEqual(dial.applied, []);
  assert.equal(dial.closedFor, null);
  page.onRelay('a', 'answer', '1111111111111111:v=0 ours');
  assert.deepEqual(dial.applied, ['answer v=0 ours']);
});

test('an offer in a new session replaces the peer\'s old link; a payload without a session is dropped', () => {
  const page = fakePage();
  page.onRelay('a', 'offer', 'v=0 no session');
  assert.equal(page.links.size, 0);
  page.onRelay('a', 'offer', 'aaaaaaaaaaaaaaaa:v=0 first');
  const first = page.links.get('a');
  first.opened = true;
  page.onRelay('a', 'offer', 'bbbbbbbbbbbbbbbb:v=0 again');
  assert.equal(first.closedFor, 'peer dialled again');
  const second = page.links.get('a');
  assert.equal(second.session, 'bbbbbbbbbbbbbbbb');
  assert.deepEqual(second.applied, ['offer v=0 again']);
  page.onRelay('a', 'candidate', 'aaaaaaaaaaaaaaaa:{"old":1}');
  assert.deepEqual(second.applied, ['offer v=0 again']);
});

test('offers crossing: the smaller peer id keeps its own dial', () => {
  const smaller = fakePage('a');
  const mine = smaller._newLink('b', true, '1111111111111111');
  smaller.onRelay('b', 'offer', '2222222222222222:v=0 theirs');
  assert.equal(smaller.links.get('b'), mine);
  assert.deepEqual(mine.applied, []);
  const larger = fakePage('c');
  const dropped = larger._newLink('b', true, '3333333333333333');
  larger.onRelay('b', 'offer', '2222222222222222:v=0 theirs');
  assert.equal(dropped.closedFor, 'offer collision');
  assert.equal(larger.links.get('b').session, '2222222222222222');
});
