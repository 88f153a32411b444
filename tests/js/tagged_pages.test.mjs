// The worker's idea of whether the site's pages put their start off (sw/tagged_pages.js):
// unknown until a page says (its first requests then wait for its attach), written to the
// state cache only when it changes, read back by a restarted worker.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import vm from 'node:vm';

const root = new URL('../../', import.meta.url);
const KEY = '/p2pcdn-pages-start';

// `reading`: a promise the state cache's first read waits for (a slow Cache Storage).
function taggedPages(store = new Map(), reading = Promise.resolve()) {
  const writes = [];
  const cache = {
    match: async (key) => (await reading, store.has(key) ? {text: async () => store.get(key)} : undefined),
    put: async (key, value) => { writes.push(['put', key, value.b]); store.set(key, value.b); },
    delete: async (key) => { writes.push(['delete', key]); return store.delete(key); },
  };
  const context = vm.createContext({caches: {open: async () => cache}, Response: class { constructor(b) { this.b = b; } }, P2PCDN_STATE: 'p2pcdn-state', URL});
  vm.runInContext(readFileSync(new URL('sw/tagged_pages.js', root), 'utf8'), context, {filename: 'sw/tagged_pages.js'});
  return {pages: vm.runInContext('new TaggedPages()', context), writes, store};
}

const settle = () => new Promise((r) => setTimeout(r, 0));

test('until a page has said, a page\'s start is not taken as put off (its requests wait for it), and nothing is written', async () => {
  const {pages, writes} = taggedPages();
  await pages.loaded;
  assert.equal(pages.putStartOff, false);
  assert.equal(pages.startsOff, null);
  assert.deepEqual(writes, []);
});

test('what pages say is written once, read back by a restarted worker, and written again when it changes', async () => {
  const {pages, writes, store} = taggedPages();
  await pages.loaded;
  for (let i = 0; i < 3; i++) pages.onAttach('https://site.example/a.html', false);
  await settle();
  assert.equal(pages.putStartOff, true);
  assert.deepEqual(writes, [['put', KEY, 'off']]);
  const restarted = taggedPages(store);
  await restarted.pages.loaded;
  assert.equal(restarted.pages.putStartOff, true, 'read back');
  for (let i = 0; i < 3; i++) restarted.pages.onAttach('https://site.example/a.html', true);
  await settle();
  assert.equal(restarted.pages.putStartOff, false);
  assert.deepEqual(restarted.writes, [['put', KEY, 'prefer']]);
  const again = taggedPages(store);
  await again.pages.loaded;
  assert.equal(again.pages.startsOff, false, 'a site whose pages prefer peers: still waited for');
});

test('a page that attaches before the record is read is not undone by it', async () => {
  let release;
  const store = new Map([[KEY, 'prefer']]);
  const slow = new Promise((r) => { release = r; });
  const {pages, writes} = taggedPages(store, slow);
  pages.onAttach('https://site.example/a.html', false);  // the site no longer prefers peers
  release();
  await pages.loaded;
  await settle();
  assert.equal(pages.putStartOff, true);
  assert.deepEqual(writes, [['put', KEY, 'off']]);
});
