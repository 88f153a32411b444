// Offload on an ordinary multi-page site (web_app/site): pages whose images, CSS, fonts and
// backgrounds are requested the moment the HTML is parsed. Origin bytes are counted by the
// server itself (per path, /metrics); peer bytes by each page's own stats.
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'node:test';

import {
  cachedPaths, chromiumOnly, fileHash, holdsWhole, IN_FIREFOX, newVisitor, pageHashes, ROOT, settled, sleep, startServer, stats, waitFor,
} from './harness.mjs';
import {RawSignalClient, resourceIds} from './raw_signal.mjs';

const SITE = path.join(ROOT, 'build/site/site');
const PAGES = ['/', '/products.html', '/about.html'];
let nextPort = 8201;

const assetOriginBytes = (m) =>
  Object.entries(m).filter(([k]) => k.startsWith('p2pcdn_static_bytes_total{path="/assets/')).reduce((n, [, v]) => n + v, 0);

// Loads a page until every image, background and font is in; returns what it cost and where
// its bytes came from.
async function visit(server, v, page) {
  const before = assetOriginBytes(await server.metrics());
  await v.page.goto(`${server.url}${page}`, {waitUntil: 'load'});
  await v.page.evaluate(() => document.fonts.ready);
  // A first visit's worker is registered once the page has painted its largest element, up
  // to 1 s after load (worker_registration.js): the visitor stays until it controls the page.
  await waitFor(() => v.page.evaluate(() => !!navigator.serviceWorker.controller), 5000);
  const s = await waitFor(async () => {
    const x = await stats(v);
    // The worker reports origin and cache answers a moment after the page has them.
    return x;
  }, 2000);
  await sleep(300);
  const after = assetOriginBytes(await server.metrics());
  const snapshot = await stats(v);
  return {page, origin: after - before, peers: snapshot.bytesFromPeers, stats: snapshot, first: s};
}

async function withSite(body, root = SITE) {
  const server = await startServer({root, port: nextPort++});
  const visitors = [];
  const visitor = async (options) => {
    const v = await newVisitor(server.url, options);
    visitors.push(v);
    return v;
  };
  try {
    await body(server, visitor);
  } finally {
    for (const v of visitors) await v.close();
    await server.stop();
  }
}

// Waits up to 15 s until v's worker holds every path; returns the paths it still lacks.
async function lacking(v, paths) {
  const missing = async () => {
    const cached = await cachedPaths(v);
    return paths.filter((p) => !cached.includes(p));
  };
  await waitFor(async () => (await missing()).length === 0, 15000);
  return missing();
}

// A seeds every page; waits until its worker holds and has announced every asset.
async function seed(server, visitor) {
  const a = await visitor();
  for (const p of PAGES) await visit(server, a, p);
  const served = Object.keys(await server.metrics())
                     .filter((k) => k.startsWith('p2pcdn_static_bytes_total{path="/assets/'))
                     .map((k) => k.slice(k.indexOf('"') + 1, k.lastIndexOf('"')));
  assert.deepEqual(await lacking(a, served), [], 'A did not cache these');
  return a;
}

// Origin bytes per asset path, from the server's own metrics.
const originByPath = (m) => Object.fromEntries(Object.entries(m)
    .filter(([k]) => k.startsWith('p2pcdn_static_bytes_total{path="/assets/'))
    .map(([k, v]) => [k.slice(k.indexOf('"') + 1, k.lastIndexOf('"')), v]));
const grewOn = (before, after) => Object.keys(after).filter((p) => after[p] > (before[p] || 0));
const share = (r) => (r.peers + r.origin === 0 ? 1 : r.peers / (r.peers + r.origin));
// The connection path on its own: no next-page prefetch, so every page fetches over links
// it opens itself after navigation.
const NO_PREFETCH = {config: {prefetchBytes: 0}};

test('later pages of a first visit, and every page of a returning visitor, come from peers', (t) => withSite(async (server, visitor) => {
  await seed(server, visitor);
  const report = [];
  for (const name of ['B', 'C']) {
    const v = await visitor(NO_PREFETCH);
    // p2pcdn adds no failed request to a page's network log (the worker's own included; in
    // Firefox the page's own only: WebDriver BiDi reports no service-worker requests).
    // A request still in flight when the visitor leaves its page (a first visit's core, whose
    // start waits for the page to settle, and may come while the next page is on its way) is
    // cut by the navigation, as any page's own would be: not a failure. Anything else that
    // fails, and any request the new page made, is.
    // Judged once the walk is over: the browser may report such a request failed before it
    // reports the next page's document in place.
    const failed = [], cut = [], aborted = [];
    const issuedAt = new WeakMap();
    const commits = [];  // when each page's document took over
    v.context.on('request', (r) => issuedAt.set(r, Date.now()));
    v.page.on('framenavigated', (frame) => {
      if (!frame.parentFrame()) commits.push(Date.now());
    });
    v.context.on('requestfailed', (r) => {
      const error = r.failure() && r.failure().errorText;
      const line = `${r.url()}: ${error}`;
      if (/ERR_ABORTED|NS_BINDING_ABORTED/.test(error || '') && !r.isNavigationRequest()) aborted.push({line, issued: issuedAt.get(r)});
      else failed.push(line);
    });
    for (const [i, p] of PAGES.entries()) {
      const r = await visit(server, v, p);
      report.push({visitor: name, page: p, peers: r.peers, origin: r.origin});
      if (i > 0) assert.ok(share(r) >= 0.9, `${name} ${p}: ${r.peers} B from peers, ${r.origin} B from origin`);
    }
    for (const a of aborted) (commits.some((c) => c > a.issued) ? cut : failed).push(a.line);
    assert.deepEqual(v.errors, [], `${name} console`);
    assert.deepEqual(failed, [], `${name}: failed requests`);
    if (cut.length) t.diagnostic(`${name}: cut by leaving the page: ${cut.join(', ')}`);
    if (name === 'B' && IN_FIREFOX) {
      // Emptying the HTTP cache and ending the worker take CDP (Network.clearBrowserCache,
      // ServiceWorker.stopAllWorkers); BiDi has neither.
      t.diagnostic('skipped in Firefox: the returning visitor with every cache cleared (Chromium only: CDP clears the HTTP cache and stops the worker)');
    } else if (name === 'B') {
      // Returning visitor: worker installed, every cache emptied (a deploy, an eviction).
      await v.page.evaluate(async () => {
        for (const n of await caches.keys()) await caches.delete(n);
      });
      const cdp = await v.context.newCDPSession(v.page);
      await cdp.send('Network.clearBrowserCache');
      // Returning later: the browser ended the idle worker meanwhile (within 30 s), so the
      // one that answers reads its records afresh (an emptied HTTP cache behind a running
      // worker's back: the test of files left to the browser).
      await cdp.send('ServiceWorker.enable');
      await cdp.send('ServiceWorker.stopAllWorkers');
      // Its first page is a first page again: no link is open as it starts, and on this fast
      // origin what is asked before one is goes to the origin (by design: never slower than
      // without). Most of it still comes from peers; every page after it, nearly all.
      for (const [i, p] of PAGES.entries()) {
        const r = await visit(server, v, p);
        report.push({visitor: 'B returning, caches cleared', page: p, peers: r.peers, origin: r.origin});
        assert.ok(share(r) >= (i ? 0.9 : 0.5), `returning ${p}: ${r.peers} B from peers, ${r.origin} B from origin`);
      }
    }
  }
  console.log(`# offload: ${JSON.stringify(report)}`);
}));

test('files the browser holds fresh from the origin are left to it, until its HTTP cache turns out cleared', (t) => withSite(async (server, visitor) => {
  const a = await visitor(NO_PREFETCH);
  const viaWorker = new Map();  // path -> whether the last response came through the worker
  a.page.on('response', (r) => {
    const p = new URL(r.url()).pathname;
    // WebDriver BiDi does not say whether the worker answered: in Firefox only that it was
    // requested (null), and the origin's counts and the page's stats below decide.
    if (p.startsWith('/assets/')) viaWorker.set(p, IN_FIREFOX ? null : r.fromServiceWorker());
  });
  await visit(server, a, '/');
  const manifest = await (await fetch(`${server.url}/p2pcdn/manifest.json`)).json();
  const first = manifest.pages['/index.html'].filter((p) => p.startsWith('/assets/'));
  assert.deepEqual(await lacking(a, first), [], 'the first page is adopted');
  const again = manifest.pages['/products.html'].filter((p) => first.includes(p));
  assert.ok(again.length > 0, '/products.html shares files with /index.html');

  // The worker knows them fresh in the HTTP cache: the browser answers them without it.
  viaWorker.clear();
  let before = originByPath(await server.metrics());
  const products = await visit(server, a, '/products.html');
  const seen = again.filter((p) => viaWorker.has(p));
  console.log(`# left to the browser: ${JSON.stringify(Object.fromEntries(viaWorker))}, stats ${products.stats.requestsFromBrowserCache}`);
  assert.ok(seen.length > 0, 'the shared files were requested');
  if (IN_FIREFOX) t.diagnostic('skipped in Firefox: "shared files went through the worker" (Chromium only: BiDi does not tell a worker\'s answer)');
  else assert.deepEqual(seen.filter((p) => viaWorker.get(p)), [], 'shared files went through the worker');
  assert.deepEqual(grewOn(before, originByPath(await server.metrics())).filter((p) => again.includes(p)), [], 'the origin was asked');
  if (IN_FIREFOX) {
    // Firefox answers some of them from its own in-memory caches (style sheets, images,
    // fonts) with no fetch event, so the worker never sees them: at least one left to the browser.
    t.diagnostic(`Firefox: ${products.stats.requestsFromBrowserCache} of ${seen.length} requested shared files left to the browser by the worker`);
    assert.ok(products.stats.requestsFromBrowserCache >= 1, JSON.stringify(products.stats));
  } else {
    // Those the first page loaded again under the worker come from the renderer's memory
    // cache without reaching it (memory_cache_warm.js); each one that reaches it is left to
    // the browser.
    const reached = await a.page.evaluate((paths) => paths.filter((p) => performance.getEntriesByName(new URL(p, location.href).href).some((e) => e.workerStart > 0)), seen);
    t.diagnostic(`reached the worker: ${JSON.stringify(reached)}`);
    assert.ok(products.stats.requestsFromBrowserCache >= reached.length, JSON.stringify(products.stats));
  }

  // The HTTP cache cleared behind the worker's back: what it left to the browser came from
  // the origin, counted so; then nothing more is left to the browser, Cache Storage answers.
  // Firefox: BiDi cannot clear the HTTP cache (with its network.setCacheBehavior 'bypass' for
  // that page instead, none of the first page's files reached the origin: no stand-in).
  if (IN_FIREFOX) {
    t.diagnostic('skipped in Firefox: the HTTP cache cleared behind the worker\'s back (Chromium only: CDP clears it)');
  } else {
    const cdp = await a.context.newCDPSession(a.page);
    await cdp.send('Network.clearBrowserCache');
    before = originByPath(await server.metrics());
    const about = await visit(server, a, '/about.html');
    const missed = grewOn(before, originByPath(await server.metrics())).filter((p) => first.includes(p));
    assert.ok(missed.length > 0, 'the cleared cache sent a file to the origin');
    assert.ok(about.stats.bytesFromOrigin > 0, JSON.stringify(about.stats));
    viaWorker.clear();
    before = originByPath(await server.metrics());
    const back = await visit(server, a, '/');
    assert.equal(back.stats.requestsFromBrowserCache, 0, JSON.stringify(back.stats));
    assert.deepEqual(grewOn(before, originByPath(await server.metrics())), [], 'the origin was asked again');
  }
  assert.deepEqual(a.errors, []);
}));

test('pages render the same with p2pcdn as without', () => withSite(async (server, visitor) => {
  await seed(server, visitor);
  const b = await visitor(NO_PREFETCH);
  await visit(server, b, '/');
  const plain = await visitor({contextOptions: {serviceWorkers: 'block'}});
  for (const p of ['/products.html', '/about.html']) {
    const r = await visit(server, b, p);
    assert.ok(r.peers > 0, `${p} came from peers`);
    await visit(server, plain, p);
    const shot = async (v) => v.page.screenshot({fullPage: true});
    assert.ok((await shot(b)).equals(await shot(plain)), `${p} renders differently`);
  }
  assert.deepEqual(b.errors, []);
}));

// Chromium keeps a renderer's memory cache apart per controlling worker: what the first page
// loaded before the worker took control is not reused by the next page, which the worker
// controls, unless p2pcdn loads it again under the worker (memory_cache_warm.js).
const MEMORY_CACHE_SPLIT = chromiumOnly("Chromium's memory cache is kept apart per controlling worker");
test("a first visit's next page reuses from memory the stylesheet, fonts and images the first page loaded, as without p2pcdn", {skip: MEMORY_CACHE_SPLIT}, () => withSite(async (server, visitor) => {
  const v = await visitor();
  await visit(server, v, '/');
  const shared = ['/assets/site.css', '/assets/fonts/SiteSans.ttf', '/assets/fonts/SiteSans-Bold.ttf', '/assets/img/hero.jpg', '/assets/img/banner.jpg'];
  // The visitor reads the first page a moment (p2pcdn's loads again are answered locally).
  await waitFor(() => v.page.evaluate((n) => (window.p2pcdn.bridge.warmed || []).length >= n, shared.length), 10000);
  await sleep(500);
  await v.page.goto(`${server.url}/products.html`, {waitUntil: 'load'});
  const seen = await v.page.evaluate((paths) => paths.map((p) => {
    const e = performance.getEntriesByName(new URL(p, location.href).href)[0];
    return e ? {path: p, worker: e.workerStart > 0, ms: Math.round(e.responseEnd - e.startTime)} : {path: p, missing: true};
  }), shared);
  const controlled = await v.page.evaluate(() => !!navigator.serviceWorker.controller);
  assert.ok(controlled, 'the next page is controlled');
  const throughWorker = seen.filter((e) => e.missing || e.worker);
  assert.deepEqual(throughWorker, [], `not from the memory cache: ${JSON.stringify(seen)}`);
  assert.deepEqual(v.errors, []);
}));

test('a page prefetches from peers what its linked pages need; they then load from Cache Storage', () => withSite(async (server, visitor) => {
  await seed(server, visitor);
  const b = await visitor();
  await visit(server, b, '/');
  // What the linked pages need beyond the first page's own resources, from the manifest.
  const expected = await b.page.evaluate(async () => {
    const pages = (await (await fetch('/p2pcdn/manifest.json')).json()).pages;
    const own = new Set(pages['/index.html']);
    return [...new Set([...pages['/products.html'], ...pages['/about.html']])]
        .filter((p) => !own.has(p) && p.startsWith('/assets/'));
  });
  assert.ok(expected.length > 0, 'the linked pages need something new');
  assert.deepEqual(await lacking(b, expected), [], 'not prefetched');
  const first = await stats(b);
  assert.ok(first.prefetch.bytes > 0 && first.prefetch.count === expected.length, JSON.stringify(first.prefetch));
  // Nothing left to prefetch: the links it dialled close now, not inside the next page's commit.
  assert.ok(await waitFor(async () => (await stats(b)).peersConnected === 0, 5000), `links still open after the prefetch: ${(await stats(b)).peersConnected}`);
  for (const p of ['/products.html', '/about.html']) {
    const r = await visit(server, b, p);
    assert.equal(r.origin, 0, `${p}: ${r.origin} asset bytes from the origin`);
    assert.equal(r.stats.held.count, 0, `${p}: requests held for peers`);
    assert.ok(r.stats.bytesFromCache > 0, `${p} loaded from Cache Storage`);
  }
  assert.deepEqual(b.errors, []);
}));

test('with a budget for one linked page, the page of the link pointed at is prefetched first', () => withSite(async (server, visitor) => {
  await seed(server, visitor);
  const manifest = await (await fetch(`${server.url}/p2pcdn/manifest.json`)).json();
  const own = new Set(manifest.pages['/index.html']);
  const fresh = (page) => manifest.pages[page].filter((p) => p.startsWith('/assets/') && !own.has(p));
  const bytes = (paths) => paths.reduce((n, p) => n + manifest.files[p].size, 0);
  const [about, products] = [fresh('/about.html'), fresh('/products.html')];
  assert.ok(bytes(about) < bytes(products), 'the test needs /about.html to need less');
  // Enough for /about.html's files, not for /products.html's, whose link comes first.
  const b = await visitor({config: {prefetchBytes: bytes(about), prefetchAfterMs: 1000}});
  await b.page.goto(`${server.url}/`, {waitUntil: 'load'});
  await b.page.hover('a[href="/about.html"]');
  assert.deepEqual(await lacking(b, about), [], 'the pointed-at page\'s files were prefetched');
  const cached = await cachedPaths(b);
  assert.deepEqual(products.filter((p) => !about.includes(p) && cached.includes(p)), [], 'nothing of the other page');
  assert.deepEqual(b.errors, []);
}));

// A copy of the site (removed by the caller) with an image `image` of `size` bytes, first in
// `page`'s <main>: `from`'s JPEG padded out (a decoder ignores what follows the image's end),
// and its manifest made again.
function siteWithImage(image, from, size, page) {
  return siteEdited((root) => {
    const jpeg = fs.readFileSync(path.join(root, 'assets/img', from));
    fs.writeFileSync(path.join(root, image.slice(1)), Buffer.concat([jpeg, Buffer.alloc(size - jpeg.length, 7)]));
    const html = path.join(root, page);
    fs.writeFileSync(html, fs.readFileSync(html, 'utf8').replace('<main>', `<main><img src="${image}" alt="" width="480" height="300">`));
  });
}

// A copy of the site, changed by `edit(root)`, with its manifest made again.
function siteEdited(edit) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'p2pcdn-site-'));
  fs.cpSync(SITE, root, {recursive: true});
  edit(root);
  execFileSync(path.join(ROOT, 'build/native/server/p2pcdn-manifest'), [root, '--out', path.join(root, 'p2pcdn/manifest.json')]);
  return root;
}

test('a page pointed at after the budget is spent is prefetched too, its large file in pieces from peers', async () => {
  // The site with a poster only /about.html shows: above the manifest's piece threshold, so
  // held and fetched in pieces (a JPEG decoder ignores what follows the image's end).
  const poster = '/assets/img/poster.jpg';
  const root = siteWithImage(poster, 'hero.jpg', fs.statSync(path.join(SITE, 'assets/img/hero.jpg')).size + (2 << 20), 'about.html');
  try {
    await withSite(async (server, visitor) => {
      const manifest = await (await fetch(`${server.url}/p2pcdn/manifest.json`)).json();
      assert.ok(manifest.files[poster].pieces, 'the poster is held in pieces');
      await seed(server, visitor);
      // A budget of 64 KiB: the likeliest page (/products.html, the first link) gets what
      // it needs whole; /about.html's files wait until its link is pointed at.
      const b = await visitor({config: {prefetchBytes: 64 << 10}});
      await b.page.goto(`${server.url}/`, {waitUntil: 'load'});
      const products = manifest.pages['/products.html'].filter((p) => p.startsWith('/assets/'));
      assert.deepEqual(await lacking(b, products), [], 'the likeliest page\'s files were prefetched');
      assert.equal(await holdsWhole(b, [poster]), false, 'the poster waits for its page to be pointed at');
      await b.page.hover('a[href="/about.html"]');
      assert.ok(await waitFor(() => holdsWhole(b, [poster]), 15000), 'the pointed-at page\'s poster was prefetched');
      const r = await visit(server, b, '/about.html');
      assert.equal(r.origin, 0, `/about.html: ${r.origin} asset bytes from the origin`);
      assert.equal((await pageHashes(b, [poster]))[poster], fileHash(path.join(root, poster.slice(1))));
      assert.deepEqual(b.errors, []);
    }, root);
  } finally {
    fs.rmSync(root, {recursive: true, force: true});
  }
});

// Firefox to Firefox, the message size is negotiated up to 1 GiB and the seeder sends the
// image in one message: nothing is ever part-way (seen in CI: never found part-way).
const ONE_MESSAGE = chromiumOnly('Firefox to Firefox sends the 900 KB image in one message: a transfer is never part-way');
const WIDE = '/assets/img/wide.jpg';

// The site with a 900 KB image first on /products.html: fetched whole (under the piece
// threshold), and from seeder A (config `aConfig`, capped at 400 KiB/s) on its way for ~2 s.
// B holds /about.html's files first (its first page, adopted), opens /, and leaves for
// /products.html while its prefetch of the image from A is part-way. `body(ctx)` then checks.
async function cutOffPrefetch(aConfig, body, bConfig = undefined) {
  const root = siteWithImage(WIDE, 'photo-7.jpg', 900000, 'products.html');
  try {
    await withSite(async (server, visitor) => {
      const manifest = await (await fetch(`${server.url}/p2pcdn/manifest.json`)).json();
      const fresh = manifest.pages['/products.html'].filter((p) => !manifest.pages['/index.html'].includes(p));
      assert.ok(!manifest.files[WIDE].pieces && fresh[0] === WIDE, `the image is fetched whole, first: ${JSON.stringify(fresh)}`);
      const a = await visitor({config: {maxUploadBytesPerSecond: 400 << 10, ...aConfig}});
      for (const p of PAGES) await visit(server, a, p);
      assert.deepEqual(await lacking(a, [WIDE]), [], 'A holds the image');
      const b = await visitor(bConfig && {config: bConfig});
      await b.page.goto(`${server.url}/about.html`, {waitUntil: 'load'});
      const about = manifest.pages['/about.html'];
      assert.deepEqual(await lacking(b, about.filter((p) => p.startsWith('/assets/'))), [], 'B adopted /about.html\'s files');
      const sentBefore = (await stats(a)).bytesToPeers;
      await b.page.goto(`${server.url}/`, {waitUntil: 'load'});
      // B's prefetch of the image is under way: B leaves for the page that shows it.
      const partWay = () => b.page.evaluate((url) => {
        const open = window.p2pcdn.requests ? [...window.p2pcdn.requests.open.values()] : [];
        return open.some((r) => r.entry.url.endsWith(url) && r.received >= 200000);
      }, WIDE);
      assert.ok(await waitFor(partWay, 15000, 50), 'the prefetch of the image was not seen part-way');
      const originBefore = originByPath(await server.metrics());
      await b.page.goto(`${server.url}/products.html`, {waitUntil: 'load'});
      await body({server, manifest, root, a, b, about, sentBefore, originBefore});
    }, root);
  } finally {
    fs.rmSync(root, {recursive: true, force: true});
  }
}

test('a prefetch cut off by a navigation resumes where it stopped: the peer sends the rest only', {skip: ONE_MESSAGE}, () => cutOffPrefetch({}, async ({server, manifest, root, a, b, about, sentBefore}) => {
  const s = await settled(b, (x) => x.resumedFrom.count > 0, 5000);
  assert.ok(s.resumedFrom.count >= 1 && s.resumedFrom.bytes >= 200000, `not resumed: ${JSON.stringify(s.resumedFrom)}`);
  assert.deepEqual(await lacking(b, [WIDE]), [], 'B\'s worker keeps the image');
  assert.equal((await pageHashes(b, [WIDE]))[WIDE], fileHash(path.join(root, WIDE.slice(1))), 'the image\'s bytes');
  const r = await visit(server, b, '/products.html');
  assert.equal(r.origin, 0, `${r.origin} asset bytes from the origin`);
  // A sent each file of / and /products.html that /about.html lacks once, plus what was on
  // its way when B's page left (frames of 50 ms of A's cap, a few of them on a loaded
  // machine): less than the image's start, which a transfer started over sends again.
  const files = new Set([...manifest.pages['/index.html'], ...manifest.pages['/products.html']].filter((p) => !about.includes(p)));
  const needed = [...files].reduce((n, p) => n + manifest.files[p].size, 0);
  const sent = (await stats(a)).bytesToPeers - sentBefore;
  console.log(`# resumed ${JSON.stringify(s.resumedFrom)}; A sent ${sent} B for ${needed} B of files`);
  assert.ok(sent - needed < s.resumedFrom.bytes, `A sent ${sent} B for ${needed} B of files, resumed from ${s.resumedFrom.bytes}`);
  assert.deepEqual(a.errors, []);
  assert.deepEqual(b.errors, []);
}));

// A resumed body that fails its hash cannot say whether the kept start or the peer's rest was
// wrong: the whole file is asked of the same peer, and a wrong whole body is its lie.
test('a peer that sends a wrong rest for a resumed transfer is asked for the whole file and banned when that is wrong too', {skip: ONE_MESSAGE}, () => cutOffPrefetch({test: {corruptUploads: 'wide.jpg'}}, async ({root, a, b}) => {
  const s = await settled(b, (x) => x.hostile.some((h) => h.offense === 'lied'), 10000);
  assert.ok(s.failures.resumeMismatch >= 1 || s.resumedFrom.count >= 1, `not resumed: ${JSON.stringify({resumed: s.resumedFrom, failures: s.failures})}`);
  const aId = await a.page.evaluate(() => window.p2pcdn.peerId);
  const lies = s.hostile.filter((h) => h.offense === 'lied' && h.peer === aId);
  assert.ok(lies.length >= 1, `A was not found lying: ${JSON.stringify(s.hostile)}`);
  assert.ok(lies.some((h) => h.action === 'banned for this visit'), `A was not banned: ${JSON.stringify(lies)}`);
  assert.ok(await waitFor(async () => (await lacking(b, [WIDE])).length === 0, 10000), 'B\'s worker keeps the image (from the origin)');
  assert.equal((await pageHashes(b, [WIDE]))[WIDE], fileHash(path.join(root, WIDE.slice(1))), 'the image\'s bytes');
  assert.deepEqual(b.errors, []);
}));

// B as shipped (preferPeers: false) on a fast origin: its own request for the image goes to
// the origin, which is asked for the rest only (a Range request); the whole is checked
// against the hash.
test('a prefetch cut off by a navigation resumes from the origin when no peer is left: the origin sends the rest only', {skip: ONE_MESSAGE}, () => cutOffPrefetch({}, async ({server, root, b, originBefore}) => {
  const size = fs.statSync(path.join(root, WIDE.slice(1))).size;
  assert.ok(await waitFor(async () => (await lacking(b, [WIDE])).length === 0, 10000), 'B\'s worker keeps the image');
  assert.equal((await pageHashes(b, [WIDE]))[WIDE], fileHash(path.join(root, WIDE.slice(1))), 'the image\'s bytes');
  const sent = (originByPath(await server.metrics())[WIDE] || 0) - (originBefore[WIDE] || 0);
  console.log(`# the origin sent ${sent} B of the ${size} B image`);
  assert.ok(sent > 0 && sent <= size - 200000, `the origin sent ${sent} B of the ${size} B image`);
  // B's figures count the peer's start as used (swarm_bench's upload over needed).
  const s = await settled(b, (x) => x.resumedOnOriginFrom.count > 0, 5000);
  assert.deepEqual(s.resumedOnOriginFrom, {count: 1, bytes: size - sent}, 'the start counted as a peer\'s bytes used');
  assert.deepEqual(b.errors, []);
}, {preferPeers: false}));

test('a page\'s two requests for one file at once take it from a peer once', () => withSite(async (server, visitor) => {
  const photo = '/assets/img/photo-4.jpg';
  const size = fs.statSync(path.join(SITE, photo.slice(1))).size;
  const a = await visitor();
  for (const p of PAGES) await visit(server, a, p);
  assert.deepEqual(await lacking(a, [photo]), [], 'A holds the photo');
  const b = await visitor({config: {prefetchBytes: 0}});
  await visit(server, b, '/about.html');
  await visit(server, b, '/about.html');  // controlled by the worker now
  await b.page.evaluate(() => window.p2pcdn.ready);
  const sentBefore = (await stats(a)).bytesToPeers;
  const originBefore = assetOriginBytes(await server.metrics());
  const got = await b.page.evaluate((url) => Promise.all([fetch(url), fetch(url)].map((p) => p.then((r) => r.arrayBuffer()).then((x) => x.byteLength))), photo);
  assert.deepEqual(got, [size, size], 'both answers are the whole photo');
  await sleep(500);
  assert.equal(assetOriginBytes(await server.metrics()) - originBefore, 0, 'nothing from the origin');
  const sent = (await stats(a)).bytesToPeers - sentBefore;
  assert.equal(sent, size, `A sent ${sent} B for one ${size} B photo`);
  assert.equal((await pageHashes(b, [photo]))[photo], fileHash(path.join(SITE, photo.slice(1))), 'the photo\'s bytes');
  assert.deepEqual(b.errors, []);
}));

test('a misspelt config key is named once on the console', () => withSite(async (server, visitor) => {
  const v = await visitor({config: {prefetchbytes: 0}});
  const warnings = [];
  v.page.on('console', (m) => {
    if (m.type() === 'warning' && m.text().startsWith('p2pcdn:')) warnings.push(m.text());
  });
  // p2pcdn's loader adds p2pcdn.js after a first visit's load event.
  await v.page.goto(`${server.url}/`, {waitUntil: 'load'});
  await waitFor(() => warnings.length >= 1, 5000);
  await v.page.reload({waitUntil: 'load'});
  await waitFor(() => warnings.length >= 2, 5000);
  await sleep(300);
  assert.deepEqual(warnings, ['p2pcdn: unknown config keys ignored: prefetchbytes', 'p2pcdn: unknown config keys ignored: prefetchbytes']);
}));

test('on a fast origin a request no open link can serve goes to the origin at once; when the origin fails, peers serve it', async () => {
  const port = nextPort++;
  let server = await startServer({root: SITE, port});
  const visitors = [];
  try {
    const a = await seed(server, async (o) => {
      const v = await newVisitor(server.url, o);
      visitors.push(v);
      return v;
    });
    const b = await newVisitor(server.url, {config: {preferPeers: false, prefetchBytes: 0}});
    visitors.push(b);
    await visit(server, b, '/');  // uncontrolled: the origin measured as it loads
    // Until its first paint the page has not started: the worker sends what it lacks to the
    // origin without asking it.
    const r = await visit(server, b, '/products.html');
    assert.equal(r.stats.held.count, 0, 'no request waited for a new link');
    assert.ok(r.origin > 0 && r.peers === 0, `the origin served them: ${JSON.stringify(r)}`);
    // Started, the page weighs the origin against peers itself: a file only A holds.
    await b.page.evaluate(() => window.p2pcdn.ready);
    await b.page.evaluate(() => fetch('/assets/img/photo-8.jpg').then((res) => res.arrayBuffer()));
    const s = await settled(b, (x) => x.originFaster > 0, 5000);
    assert.ok(s.originFaster > 0, `requests sent to the origin as faster: ${s.originFaster}`);
    assert.equal(s.held.count, 0, 'no request waited for a new link');
    assert.deepEqual(b.errors, []);

    // The origin now refuses the images: the worker asks peers for them after all.
    await server.stop();
    server = await startServer({root: SITE, port, args: ['--deny-prefix', '/assets/img/']});
    // A's and B's pages rejoin by themselves and announce what they hold again.
    const back = await waitFor(async () => (await server.metrics()).p2pcdn_announcements >= 10, 15000);
    assert.ok(back, 'the holders announced again after the restart');
    assert.equal((await fetch(`${server.url}/assets/img/photo-7.jpg`)).status, 403, 'the origin denies the images');
    await b.page.goto(`${server.url}/about.html`, {waitUntil: 'load'});
    const broken = await b.page.evaluate(() => [...document.images].filter((i) => !i.complete || i.naturalWidth === 0).map((i) => i.src));
    assert.deepEqual(broken, [], 'every image shows');
    const after = await stats(b);
    // Sent to the origin first (the page had not started), then to peers when it refused.
    assert.ok(after.bytesFromPeers > 0, JSON.stringify(after));
    assert.deepEqual(b.errors.filter((e) => !/403/.test(e)), []);
  } finally {
    for (const v of visitors) await v.close();
    await server.stop();
  }
});

// As shipped (preferPeers off), a later page puts its start off until its first paint: the
// worker sends what it lacks to the origin. Here that page's p2pcdn.js runs 1.5 s late (a
// long script at the end of its body, as on a busy machine), within the 5 s this worker would
// hold a page's requests for its attach: its photos must not wait for it.
test("a later page's requests are not held for its p2pcdn.js when its start is put off", async () => {
  const root = siteEdited((r) => {
    fs.writeFileSync(path.join(r, 'sw.js'), "importScripts('/p2pcdn/p2pcdn-sw.js');\np2pcdn.configure({shareable: ['/assets/'], pageAttachMs: 5000});\n");
    const html = path.join(r, 'products.html');
    const late = '<script>for (const t = performance.now(); performance.now() - t < 1500;);</script></body>';
    fs.writeFileSync(html, fs.readFileSync(html, 'utf8').replace('</body>', late));
  });
  try {
    await withSite(async (server, visitor) => {
      const b = await visitor({config: {preferPeers: false, prefetchBytes: 0}});
      await visit(server, b, '/');
      await b.page.reload({waitUntil: 'load'});  // a page attached: the worker knows the site's pages put their start off
      await waitFor(() => b.page.evaluate(() => performance.getEntriesByName('p2pcdn:worker-attached').length > 0), 5000);
      await b.page.goto(`${server.url}/products.html`, {waitUntil: 'load'});
      // p2pcdn's loader runs such a page's p2pcdn.js after its load event.
      await waitFor(() => b.page.evaluate(() => performance.getEntriesByName('p2pcdn:worker-attached').length > 0), 5000);
      const seen = await b.page.evaluate(() => ({
        attached: (performance.getEntriesByName('p2pcdn:worker-attached')[0] || {}).startTime,
        photos: performance.getEntriesByType('resource').filter((e) => /photo-[456]\.jpg$/.test(e.name))
                    .map((e) => ({name: e.name.split('/').pop(), worker: e.workerStart > 0, end: Math.round(e.responseEnd)})),
      }));
      assert.ok(seen.attached > 1500, `p2pcdn.js ran after the long script: ${seen.attached}`);
      assert.equal(seen.photos.length, 3, JSON.stringify(seen));
      for (const photo of seen.photos) {
        // Firefox gives every request a workerStart of 0: there the worker's counts say it (below).
        if (!IN_FIREFOX) assert.ok(photo.worker, `${photo.name} went through the worker`);
        assert.ok(photo.end < seen.attached, `${photo.name} in at ${photo.end} ms, not held until the attach at ${Math.round(seen.attached)} ms`);
      }
      const s = await settled(b, (x) => x.requestsFromOrigin >= 3, 5000);
      assert.equal(s.held.count, 0, 'no request waited for a new link');
      assert.deepEqual(b.errors, []);
    }, root);
  } finally {
    fs.rmSync(root, {recursive: true, force: true});
  }
});

const LRU_FIREFOX = IN_FIREFOX &&
  'product bug in Firefox: the last page\'s /assets/site.css and /assets/img/hero.jpg are evicted as least recently used: Firefox serves them ' +
  'to that page from its in-memory style sheet and image caches, without a fetch event, so the worker never sees them used';

test('under a small storage budget the least recently used files are evicted and withdrawn from the swarm', {skip: LRU_FIREFOX}, async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'p2pcdn-budget-'));
  fs.cpSync(SITE, root, {recursive: true});
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'p2pcdn/manifest.json'), 'utf8'));
  const sizeOf = (p) => manifest.files[p].size;
  const assetsOf = (page) => manifest.pages[page].filter((p) => p.startsWith('/assets/'));
  const needed = [...new Set(PAGES.flatMap((p) => assetsOf(p === '/' ? '/index.html' : p)))];
  const last = assetsOf('/about.html');
  // Room for the last page's files and a little more, not for the whole site.
  const budget = Math.round(last.reduce((n, p) => n + sizeOf(p), 0) * 1.05);
  assert.ok(needed.reduce((n, p) => n + sizeOf(p), 0) > budget * 1.1, 'the site is larger than the budget');
  fs.writeFileSync(path.join(root, 'sw.js'), "importScripts('/p2pcdn/p2pcdn-sw.js');\n" +
                   `p2pcdn.configure({shareable: ['/assets/'], maxStorageBytes: ${budget}, keepRecentMs: 0});\n`);
  let probe = null;
  try {
    await withSite(async (server, visitor) => {
      const a = await visitor();
      for (const p of PAGES) await visit(server, a, p);
      // The worker's evictions come 2 s after its last store (later on a loaded machine: CI
      // once saw the budget still exceeded after 4 s); the page's withdrawals follow them.
      const keptNow = async () => (await cachedPaths(a)).filter((p) => manifest.files[p]);
      const totalOf = (paths) => paths.reduce((n, p) => n + sizeOf(p), 0);
      await waitFor(async () => totalOf(await keptNow()) <= budget, 10000, 500);
      await sleep(1000);
      const held = await keptNow();
      const total = totalOf(held);
      assert.ok(total <= budget, `${total} bytes kept, over the budget of ${budget}: ${held}`);
      assert.deepEqual(last.filter((p) => !held.includes(p)), [], 'the most recently used files (the last page\'s) are kept');
      const evicted = needed.filter((p) => !held.includes(p));
      assert.ok(evicted.length > 0, 'some of the earlier pages\' files were evicted');
      // The swarm no longer names A for what it evicted, and still does for what it holds.
      probe = new RawSignalClient(`ws://${new URL(server.url).host}/signal`, {origin: server.url});
      assert.ok(await probe.join(server.url));
      const aId = await a.page.evaluate(() => window.p2pcdn.peerId);
      const paths = [...evicted, ...held];
      const ids = await resourceIds(server.url, paths);
      for (const [i, p] of paths.entries()) {
        const peers = await probe.lookup(ids[i]);
        assert.equal(peers.includes(aId), held.includes(p), `${p}: ${held.includes(p) ? 'held but not' : 'evicted but still'} announced`);
      }
      assert.deepEqual(a.errors, []);
    }, root);
  } finally {
    if (probe) probe.close();
    fs.rmSync(root, {recursive: true, force: true});
  }
});


test('a deploy that changes one CSS file keeps every other copy cached and shared; the old CSS is never served', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'p2pcdn-deploy-'));
  fs.cpSync(SITE, root, {recursive: true});
  const manifestTool = path.join(ROOT, 'build/native/server/p2pcdn-manifest');
  const css = '/assets/site.css';
  try {
    await withSite(async (server, visitor) => {
      const a = await seed(server, visitor);
      const old = await visitor(NO_PREFETCH);  // stays on the old deploy, holding the old CSS
      for (const p of PAGES) await visit(server, old, p);
      assert.deepEqual(await lacking(old, [css]), [], 'the old-deploy visitor holds the old CSS');
      const held = await cachedPaths(a);
      // The deploy: one rule more in the stylesheet, a new manifest.
      fs.appendFileSync(path.join(root, css.slice(1)), '\nhtml { --p2pcdn-deploy: 2; }\n');
      execFileSync(manifestTool, [root, '--out', path.join(root, 'p2pcdn/manifest.json')]);
      await sleep(5500);  // past the worker's manifestCheckMs
      const beforeA = originByPath(await server.metrics());
      await visit(server, a, '/');  // a navigation: A's worker reads the new manifest
      await visit(server, a, '/');  // the one after it runs under the new manifest throughout
      const deployed = () => getComputedStyle(document.documentElement).getPropertyValue('--p2pcdn-deploy').trim();
      // Through A's worker (its page may still show the old sheet from the renderer's memory
      // cache, as it would without p2pcdn within the sheet's max-age).
      assert.equal((await pageHashes(a, [css]))[css], fileHash(path.join(root, css.slice(1))), 'A gets the new CSS');
      assert.deepEqual(grewOn(beforeA, originByPath(await server.metrics())), [css], 'A fetched only the changed file');
      // The new CSS's copy is written after its answer went out (a loaded machine: a moment later).
      assert.deepEqual(await lacking(a, held), [], 'A kept every unchanged copy, and a copy of the new CSS');

      // B, a new visitor: after its first page, every file from peers, the new CSS included.
      const b = await visitor(NO_PREFETCH);
      await visit(server, b, '/');
      assert.equal(await b.page.evaluate(deployed), '2', 'B\'s first page applies the new CSS');
      for (const p of PAGES.slice(1)) {
        const r = await visit(server, b, p);
        assert.ok(share(r) >= 0.9, `B ${p}: ${r.peers} B from peers, ${r.origin} B from origin`);
      }
      assert.equal(await b.page.evaluate(deployed), '2', 'B\'s later pages apply the new CSS');
      const hashes = await pageHashes(b, [css]);
      assert.equal(hashes[css], fileHash(path.join(root, css.slice(1))), 'B got the new CSS bytes');
      for (const v of [a, old, b]) assert.deepEqual(v.errors, []);
    }, root);
  } finally {
    fs.rmSync(root, {recursive: true, force: true});
  }
});

test('four visitors opening the same page at once fetch each of its new files from the origin at most twice', () => withSite(async (server, visitor) => {
  const visitors = [];
  for (let i = 0; i < 4; i++) {
    const v = await visitor(NO_PREFETCH);
    await visit(server, v, '/');  // each has the worker now; nobody holds what /products.html adds
    visitors.push(v);
  }
  const manifest = await (await fetch(`${server.url}/p2pcdn/manifest.json`)).json();
  const fresh = manifest.pages['/products.html'].filter((p) => p.startsWith('/assets/') && !manifest.pages['/index.html'].includes(p));
  assert.ok(fresh.length > 0, '/products.html needs files /index.html does not');
  const before = originByPath(await server.metrics());
  await Promise.all(visitors.map((v) => v.page.goto(`${server.url}/products.html`, {waitUntil: 'load'})));
  await sleep(500);
  const after = originByPath(await server.metrics());
  const fetches = Object.fromEntries(fresh.map((p) => [p, ((after[p] || 0) - (before[p] || 0)) / manifest.files[p].size]));
  console.log(`# origin fetches per file, four visitors at once: ${JSON.stringify(fetches)}; claims: ${(await server.metrics()).p2pcdn_claims_total}`);
  // How each visitor's requests went, for a failure's sake: held for a peer, failures by reason.
  const how = await Promise.all(visitors.map(async (v) => {
    const s = await stats(v);
    const failures = Object.fromEntries(Object.entries(s.failures).filter(([, n]) => n));
    return {peers: s.requestsFromPeers, origin: s.requestsFromOrigin, cache: s.requestsFromCache, held: s.held, failures, originFaster: s.originFaster};
  }));
  console.log(`# per visitor: ${JSON.stringify(how)}`);
  for (const [p, n] of Object.entries(fetches)) assert.ok(n <= 2, `${p} came from the origin ${n} times`);
  for (const v of visitors) {
    const broken = await v.page.evaluate(() => [...document.images].filter((i) => !i.complete || i.naturalWidth === 0).length);
    assert.equal(broken, 0, 'every image shows');
    assert.deepEqual(v.errors, []);
  }
}));

test('on a fast origin, visitors on a page at once share one origin fetch of each file the next page needs: a prefetch claims it', () => withSite(async (server, visitor) => {
  // As shipped (preferPeers off): a page's own request would go to the fast origin, so the
  // crowd shares only through prefetch, where one visitor claims each file.
  const visitors = [];
  for (let i = 0; i < 3; i++) visitors.push(await visitor({config: {preferPeers: false}}));
  const manifest = await (await fetch(`${server.url}/p2pcdn/manifest.json`)).json();
  const fresh = manifest.pages['/products.html'].filter((p) => p.startsWith('/assets/') && !manifest.pages['/index.html'].includes(p));
  assert.ok(fresh.length > 0, '/products.html needs files /index.html does not');
  await Promise.all(visitors.map((v) => v.page.goto(`${server.url}/`, {waitUntil: 'load'})));
  for (const v of visitors) assert.deepEqual(await lacking(v, fresh), [], 'the likeliest next page was not prefetched');
  const origin = originByPath(await server.metrics());
  const fetches = Object.fromEntries(fresh.map((p) => [p, (origin[p] || 0) / manifest.files[p].size]));
  const prefetch = await Promise.all(visitors.map(async (v) => (await stats(v)).prefetch));
  console.log(`# origin fetches per file: ${JSON.stringify(fetches)}; prefetch per visitor: ${JSON.stringify(prefetch)}; claims: ${(await server.metrics()).p2pcdn_claims_total}`);
  for (const [p, n] of Object.entries(fetches)) assert.equal(n, 1, `${p} came from the origin ${n} times`);
  assert.equal(prefetch.reduce((n, x) => n + x.originCount, 0), fresh.length, 'each file claimed and fetched once');
  assert.equal(prefetch.reduce((n, x) => n + x.count, 0), 2 * fresh.length, 'the others took each from a peer');
  // The next page: those files from Cache Storage, none from the origin.
  await Promise.all(visitors.map((v) => v.page.goto(`${server.url}/products.html`, {waitUntil: 'load'})));
  await sleep(500);
  const later = originByPath(await server.metrics());
  for (const p of fresh) assert.equal(later[p] || 0, origin[p] || 0, `${p} fetched from the origin again`);
  for (const v of visitors) {
    const broken = await v.page.evaluate(() => [...document.images].filter((i) => !i.complete || i.naturalWidth === 0).length);
    assert.equal(broken, 0, 'every image shows');
    assert.deepEqual(v.errors, []);
  }
}));

// A's first page, with the worker taking control part-way through it; `slow(a)` shapes how.
async function firstPageShared(server, visitor, slow) {
  const a = await visitor();
  await slow(a);
  await a.page.goto(`${server.url}/`, {waitUntil: 'load', timeout: 60000});
  const own = await a.page.evaluate(async () => (await (await fetch('/p2pcdn/manifest.json')).json()).pages['/index.html']);
  const expected = own.filter((p) => p.startsWith('/assets/'));
  assert.deepEqual(await lacking(a, expected), [], 'not shared');
  assert.deepEqual(a.errors, []);
  return a;
}

const THROTTLE_CDP = chromiumOnly('network throttling is CDP (BiDi emulates offline only)');

// The site as one that registers its worker as its script runs, not after the largest paint
// as p2pcdn.registerWorker() does (so the worker can take control while the page loads).
function siteRegisteringAtOnce() {
  return siteEdited((root) => fs.writeFileSync(path.join(root, 'assets/site.js'), "navigator.serviceWorker.register('/sw.js');\n"));
}

test('a first page still loading when the worker takes control is shared whole', {skip: THROTTLE_CDP}, async () => {
  const root = siteRegisteringAtOnce();
  try {
    await withSite(async (server, visitor) => {
      // A slow link (1 MB/s): the worker installs and claims the page while its photos are still coming.
      const a = await firstPageShared(server, visitor, async (v) => (await v.context.newCDPSession(v.page)).send('Network.emulateNetworkConditions',
          {offline: false, latency: 20, downloadThroughput: 1e6, uploadThroughput: -1}));
      const late = await a.page.evaluate(() => {
        const attached = performance.getEntriesByName('p2pcdn:worker-attached')[0].startTime;
        return performance.getEntriesByType('resource').filter((e) => e.responseEnd > attached && e.startTime < attached).length;
      });
      assert.ok(late > 0, 'the test needs requests that end after the page attached to its worker');
    }, root);
  } finally {
    fs.rmSync(root, {recursive: true, force: true});
  }
});

test('a first page the worker claimed before p2pcdn.js arrived is shared too', async () => {
  const root = siteRegisteringAtOnce();
  try {
    await withSite((server, visitor) => claimedBeforeScript(server, visitor), root);
  } finally {
    fs.rmSync(root, {recursive: true, force: true});
  }
});

// p2pcdn.js held back 2 s (the HTTP cache stays on, unlike with Playwright's routing).
async function claimedBeforeScript(server, visitor) {
  await firstPageShared(server, visitor, async (v) => {
    if (v.firefox) {
      // puppeteer's BiDi request interception (network.addIntercept): every request of the
      // page paused, p2pcdn.js continued 2 s later, the others at once.
      await v.page.raw.setRequestInterception(true);
      v.page.raw.on('request', (r) => {
        const go = () => r.continue().catch(() => {});
        if (/\/p2pcdn\/p2pcdn\.js/.test(new URL(r.url()).pathname)) setTimeout(go, 2000);
        else go();
      });
      return;
    }
    const cdp = await v.context.newCDPSession(v.page);
    cdp.on('Fetch.requestPaused', ({requestId}) => {
      setTimeout(() => cdp.send('Fetch.continueRequest', {requestId}).catch(() => {}), 2000);
    });
    await cdp.send('Fetch.enable', {patterns: [{urlPattern: '*/p2pcdn/p2pcdn.js*'}]});
  });
}
