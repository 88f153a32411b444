// The next-page prefetch (js_glue/prefetch.js): a file whose holders did not come up in time
// is tried once more after the others (in a crowd, holders busy loading their own pages
// answer late, and their links open just after the first try gave up), and only once; and it
// starts prefetchAfterMs after the page's load event, however late p2pcdn itself started.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import vm from 'node:vm';

const read = (file) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
const ORIGIN = 'https://site.test';

// A page at / linking to /next.html, whose files are a.jpg and b.jpg; `fetchFromPeers`
// decides each try's outcome. Resolves the URLs tried, in order, once the prefetch is idle.
async function prefetchTries(fetchFromPeers) {
  const link = {href: `${ORIGIN}/next.html`, closest: () => link};
  const context = vm.createContext({
    URL, Map, Set, Promise, Error, ArrayBuffer, console, self: {}, navigator: {},
    setTimeout, clearTimeout, AbortController,
    performance: {now: () => 0, getEntriesByType: () => []},
    addEventListener() {},
    location: {href: `${ORIGIN}/`, origin: ORIGIN},
    document: {readyState: 'complete', addEventListener() {}, querySelectorAll: () => [link]},
  });
  vm.runInContext(`${read('js_glue/prefetch.js')}\nthis.NextPagePrefetch = NextPagePrefetch;`, context);
  const entries = new Map(['a.jpg', 'b.jpg'].map((name, i) => [`${ORIGIN}/${name}`, {url: `${ORIGIN}/${name}`, size: 1000 + i, resourceId: name}]));
  const tries = [];
  let idle;
  const settled = new Promise((resolve) => (idle = resolve));
  const page = {
    config: {prefetchBytes: 4 << 20, prefetchAfterMs: 0, prefetchFromOrigin: false},
    pages: new Map([['/index.html', []], ['/next.html', ['/a.jpg', '/b.jpg']]]),
    entries,
    piecedFetches: new Map(),
    stats: {prefetched() {}, prefetchedFromOrigin() {}},
    closeLinksDone() {},  // nothing left to fetch: the page closes the links it dialled
    bridge: {
      whenAttached: async () => true,
      whenIdle: async () => {},
      ask: async (m) => (m.type === 'wanted' ? {urls: m.urls, cutOff: []} : null),
      post() {},
    },
    fetchFromPeers: async (entry) => {
      tries.push(entry.url.slice(ORIGIN.length + 1));
      return fetchFromPeers(entry.url.slice(ORIGIN.length + 1), tries);
    },
  };
  const prefetch = new context.NextPagePrefetch(page);
  // Nothing left to fetch: the prefetch waits for a link pointed at.
  prefetch._pointedAtNew = () => {
    idle();
    return Promise.resolve(false);
  };
  prefetch.start();
  let timer;
  const late = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('prefetch never idle')), 5000)));
  await Promise.race([settled, late]).finally(() => clearTimeout(timer));
  return tries;
}

const body = {body: new ArrayBuffer(8), headers: {}};

test('a file whose holder did not come up is tried once more, after the others', async () => {
  const tries = await prefetchTries((name, tries) => {
    if (name === 'a.jpg' && tries.filter((t) => t === 'a.jpg').length === 1) throw new Error('noPeers');
    return body;
  });
  assert.deepEqual(tries, ['a.jpg', 'b.jpg', 'a.jpg']);
});

test('a file that fails again is not tried a third time', async () => {
  const tries = await prefetchTries((name) => {
    if (name === 'a.jpg') throw new Error('connectFailed');
    return body;
  });
  assert.deepEqual(tries, ['a.jpg', 'b.jpg', 'a.jpg']);
});

test('files that arrived are not asked for again', async () => {
  assert.deepEqual(await prefetchTries(() => body), ['a.jpg', 'b.jpg']);
});

// The delay NextPagePrefetch.start puts before its first run, with the page loaded
// `loadEventEnd` ms after its start and p2pcdn started at `now`.
function firstDelay(loadEventEnd, now, prefetchAfterMs = 300) {
  const delays = [];
  const context = vm.createContext({
    URL, Map, Set, Promise, self: {}, navigator: {}, AbortController,
    setTimeout: (fn, ms) => delays.push(ms), clearTimeout() {},
    performance: {now: () => now, getEntriesByType: (type) => (type === 'navigation' ? [{loadEventEnd}] : [])},
    addEventListener() {},
    location: {href: `${ORIGIN}/`, origin: ORIGIN},
    document: {readyState: 'complete', addEventListener() {}, querySelectorAll: () => []},
  });
  vm.runInContext(`${read('js_glue/prefetch.js')}\nthis.NextPagePrefetch = NextPagePrefetch;`, context);
  const page = {config: {prefetchBytes: 4 << 20, prefetchAfterMs}, pages: new Map([['/next.html', []]])};
  new context.NextPagePrefetch(page).start();
  return delays[0];
}

test('the prefetch waits prefetchAfterMs from the load event, not from a late start', () => {
  assert.equal(firstDelay(1000, 1100), 200);   // started 100 ms after load: 200 ms more
  assert.equal(firstDelay(1000, 2500), 0);     // a first visit started 1.5 s after load: at once
  assert.equal(firstDelay(0, 50), 300);        // still in the load event's handlers: all of it
});
