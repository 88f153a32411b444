// How a page dials the holders a lookup named (js_glue/holder_search.js): three at a time,
// each dial left unanswered past answerTimeoutMs replaced by the next holder, and a holder
// found fake since the lookup (by another search's dial) skipped. (A search that widened as
// dials went unanswered was tried and not kept: bench/README, seventeenth session.)
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import vm from 'node:vm';

const read = (file) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

function harness(peers, honest) {
  let now = 0;
  const timers = [];
  const context = vm.createContext({
    performance: {now: () => now},
    setTimeout: (fn, ms) => timers.push({fn, at: now + ms}) && timers.length,
    clearTimeout: () => {},
  });
  vm.runInContext(`${read('js_glue/holder_search.js')}\nthis.HolderSearch = HolderSearch;`, context);
  const dialled = [];
  const page = {
    peerId: 'me',
    config: {connectTimeoutMs: 1500, answerTimeoutMs: 500, lookupPeers: 3, maxPeers: 8, crowdWaitMs: 3000,
             hostileDelayBudgetMs: 2000, upload: true, test: null},
    links: new Map(),
    claimed: new Set(),
    stats: {fail: () => {}, held: {totalMs: 0}},
    peerSpeed: {linkUp: () => {}},
    reputation: {rank: (ids) => ids, usable: () => true, record: () => null},
    selector: {pick: (handles) => handles.slice(0, 1)},
    signaling: {lookup: async () => ({peers: peers, claimed: false, coming: false})},
    dial(peerId) {
      const link = {peerId, handle: dialled.length + 1, initiator: true, createdAt: now, opened: false, answered: false,
                    closed: false, have: new Set(), haveSeen: false};
      dialled.push({peerId, at: now});
      this.links.set(peerId, link);
      return link;
    },
  };
  const search = new context.HolderSearch(page);
  page.holders = search;
  // Advances the clock to `to` in steps of 100 ms, as the page's ticks do; honest holders
  // answer 50 ms after they are dialled and are up, holding the file, 100 ms later.
  const run = async (to) => {
    for (; now < to; now += 100) {
      await new Promise((r) => setImmediate(r));
      for (const link of page.links.values()) {
        if (!honest.includes(link.peerId)) continue;
        if (now - link.createdAt >= 50) link.answered = true;
        if (now - link.createdAt >= 150) Object.assign(link, {opened: true, remoteHello: true, haveSeen: true, have: new Set(['file'])});
      }
      for (const t of timers.splice(0)) if (t.at <= now) t.fn(); else timers.push(t);
      search.wake();
    }
  };
  return {page, search, dialled, run, now: () => now};
}

test('an honest swarm is dialled three at a time', async () => {
  const peers = ['h1', 'h2', 'h3', 'h4', 'h5'];
  const {search, dialled, run} = harness(peers, peers);
  const found = search.find({resourceId: 'file', size: 1000}, new Set(), false);
  await run(1000);
  const link = await found;
  assert.ok(link && link.opened, 'a holder came up');
  assert.deepEqual(dialled.map((d) => d.peerId), ['h1', 'h2', 'h3']);
});

test('a holder judged since the lookup (another search found it fake) is not dialled', async () => {
  const peers = ['fake0', 'fake1', 'honest'];
  const {page, search, dialled, run} = harness(peers, ['honest']);
  page.reputation.usable = (id) => id !== 'fake1';
  const found = search.find({resourceId: 'file', size: 1000}, new Set(), false);
  await run(1000);
  assert.equal((await found).peerId, 'honest');
  assert.deepEqual(dialled.map((d) => d.peerId), ['fake0', 'honest']);
});
