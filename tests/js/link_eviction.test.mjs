// Which link a page closes to make room for a new one (js_glue/link_admission.js): a dial of
// ours that went unanswered first, then the idlest link doing no work; never a dial still
// coming up. A crowd of fake holders that never answer must not churn every place while an
// honest holder is still connecting.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import vm from 'node:vm';

const read = (file) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

let now = 0;
const context = vm.createContext({performance: {now: () => now}});
vm.runInContext(`${read('js_glue/link_admission.js')}\nthis.LinkAdmission = LinkAdmission;`, context);

function pageWith(links) {
  const page = {
    config: {answerTimeoutMs: 500, maxPeers: links.length},
    links: new Map(links.map((l) => [l.peerId, l])),
    requests: {openOn: () => 0},
    closed: [],
  };
  for (const l of links) {
    l.close = (reason) => {
      page.closed.push(`${l.peerId}: ${reason}`);
      page.links.delete(l.peerId);
    };
  }
  return {page, admission: new context.LinkAdmission(page)};
}

const link = (peerId, fields) => ({peerId, initiator: true, opened: false, answered: false, createdAt: 0, lastUsed: 0, ...fields});

test('an unanswered dial goes first, the oldest of them', () => {
  now = 2000;
  const {page, admission} = pageWith([
    link('idle', {opened: true, lastUsed: 0}),
    link('fake-new', {createdAt: 1200, lastUsed: 1200}),
    link('fake-old', {createdAt: 100, lastUsed: 100}),
  ]);
  assert.equal(admission.evictIdle({inbound: false}), true);
  assert.deepEqual(page.closed, ['fake-old: making room']);
  assert.equal(admission.unanswered(page.links.get('fake-new')), true);
});

test('a dial still coming up is never closed: answered, or young', () => {
  now = 2000;
  const {page, admission} = pageWith([
    link('answered', {answered: true, createdAt: 0}),
    link('young', {createdAt: 1800, lastUsed: 1800}),
  ]);
  assert.equal(admission.evictIdle({inbound: false}), false);
  assert.equal(admission.evictIdle({inbound: true}), false);
  assert.deepEqual(page.closed, []);
});

test('then the idlest link doing no work; an offer never evicts one that carried a transfer', () => {
  now = 100000;
  const {page, admission} = pageWith([
    link('served-us', {opened: true, delivered: true, lastUsed: 10}),
    link('idle', {opened: true, lastUsed: 50}),
    link('busy', {opened: true, lastUsed: 0, uploads: [{}]}),
  ]);
  assert.equal(admission.evictIdle({inbound: true}), true);
  assert.deepEqual(page.closed, ['idle: making room']);
  assert.equal(admission.evictIdle({inbound: true}), false, 'left: a link that delivered, and a busy one');
  assert.equal(admission.evictIdle({inbound: false}), true);
  assert.deepEqual(page.closed, ['idle: making room', 'served-us: making room']);
});
