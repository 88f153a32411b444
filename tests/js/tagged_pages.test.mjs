// The worker's idea of whether the site's pages put their start off (sw/tagged_pages.js): the
// default until a page says otherwise, written to the state cache only when it changes, read
// back by a restarted worker (a site whose pages prefer peers keeps being waited for).
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import vm from 'node:vm';

const root = new URL('../../', import.meta.url);
const KEY = '/p2pcdn-pages-prefer-peers';

// `reading`: a promise the state cache's first read waits for (a slow Cache Storage).
function taggedPages(store = new Map(), reading = Promise.resolve()) {
  const writes = [];
  const cache = {
    match: async (key) => (await reading, store.get(key)),
    put: async (key, value) => { writes.push(['put', key]); store.set(key, value); },
    delete: async (key) => { writes.push(['delete', key]); return store.delete(key); },
  };
  const context = vm.createContext({caches: {open: async () => cache}, Response: class { constructor(b) { this.b = b; } }, P2PCDN_STATE: 'p2pcdn-state', URL});
  vm.runInContext(readFileSync(new URL('sw/tagged_pages.js', root), 'utf8'), context, {filename: 'sw/tagged_pages.js'});
  return {pages: vm.runInContext('new TaggedPages()', context), writes, store};
}

const settle = () => new Promise((r) => setTimeout(r, 0));

test('until a page has said, the site\'s pages put their start off (the default), and nothing is written', async () => {
  const {pages, writes} = taggedPages();
  await pages.loaded;
  assert.equal(pages.putStartOff, true);
  for (let i = 0; i < 3; i++) pages.onAttach('https://site.example/a.html', false);
  await settle();
  assert.equal(pages.putStartOff, true);
  assert.deepEqual(writes, []);
});

test('pages that prefer peers are remembered once, by a restarted worker too, until a page says otherwise', async () => {
  const {pages, writes, store} = taggedPages();
  await pages.loaded;
  for (let i = 0; i < 3; i++) pages.onAttach('https://site.example/a.html', true);
  await settle();
  assert.equal(pages.putStartOff, false);
  assert.deepEqual(writes, [['put', KEY]]);
  const restarted = taggedPages(store);
  await restarted.pages.loaded;
  assert.equal(restarted.pages.putStartOff, false, 'read back');
  restarted.pages.onAttach('https://site.example/a.html', false);
  await settle();
  assert.equal(restarted.pages.putStartOff, true);
  assert.deepEqual(restarted.writes, [['delete', KEY]]);
});

test('a page that attaches before the record is read is not undone by it', async () => {
  let release;
  const store = new Map([[KEY, '1']]);
  const slow = new Promise((r) => { release = r; });
  const {pages, writes} = taggedPages(store, slow);
  pages.onAttach('https://site.example/a.html', false);  // the site no longer prefers peers
  release();
  await pages.loaded;
  await settle();
  assert.equal(pages.putStartOff, true);
  assert.deepEqual(writes, [['delete', KEY]]);
});
