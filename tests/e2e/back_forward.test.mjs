// Back to a page left for another (Chromium: restored from the back/forward cache, which
// playwright-core turns off, so only this test has it): its links and signaling socket were
// closed when it was left, yet it must serve and fetch again as a freshly loaded page would.
// Firefox ESR keeps no page with an open WebSocket in that cache (its log: the socket is a
// request in the page's load group as the navigation starts, even when closed at
// beforeunload), so there the page loads again, and must work as well.
import assert from 'node:assert/strict';
import path from 'node:path';
import {test} from 'node:test';

import {fileHash, IN_FIREFOX, ROOT, stats, swarmRunner, waitFor} from './harness.mjs';

const SITE = path.join(ROOT, 'build/site/site');
const withSwarm = swarmRunner(8991);

// Visitor A, controlled, holding and announcing /'s files (photo-3 is on / only).
async function seederOfHome(ctx) {
  const a = await ctx.visitor();
  await a.page.goto(`${ctx.server.url}/`, {waitUntil: 'load'});
  assert.ok(await waitFor(() => a.page.evaluate(() => !!navigator.serviceWorker.controller), 10000), 'A is controlled');
  await a.page.reload({waitUntil: 'load'});
  assert.ok(await waitFor(async () => (await ctx.server.metrics()).p2pcdn_announcements >= 5, 15000), 'A announced /\'s files');
  return a;
}

test('a page gone back to (restored from the back/forward cache in Chromium) joins again and fetches from peers', () => withSwarm({root: SITE}, async (ctx) => {
  await seederOfHome(ctx);

  const b = await ctx.visitor({backForwardCache: true, config: {prefetchBytes: 0}});
  await b.page.goto(`${ctx.server.url}/products.html`, {waitUntil: 'load'});
  assert.ok(await waitFor(() => b.page.evaluate(() => !!navigator.serviceWorker.controller), 10000), 'B is controlled');
  await b.page.goto(`${ctx.server.url}/about.html`, {waitUntil: 'load'});
  await b.page.evaluate(() => window.p2pcdn.ready);
  await b.page.evaluate(() => addEventListener('pageshow', (e) => { window.restored = e.persisted; }));
  await b.page.goto(`${ctx.server.url}/products.html`, {waitUntil: 'load'});
  await b.page.goBack({waitUntil: 'commit'});
  if (IN_FIREFOX) {
    assert.ok(await waitFor(() => b.page.evaluate(() => location.pathname === '/about.html' && document.readyState === 'complete'), 10000), 'back on about.html');
  } else {
    assert.ok(await waitFor(() => b.page.evaluate(() => window.restored === true), 5000), 'about.html came back from the cache');
  }
  assert.ok(await waitFor(() => b.page.evaluate(() => window.p2pcdn.joined), 10000), 'joined signaling again');
  // photo-3 is on / only: A holds it, B never loaded it.
  const got = await b.page.evaluate(async () => {
    const started = performance.now();
    const res = await fetch('/assets/img/photo-3.jpg');
    const bytes = new Uint8Array(await res.arrayBuffer());
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    return {ms: performance.now() - started, hash: [...digest].map((x) => x.toString(16).padStart(2, '0')).join('')};
  });
  assert.equal(got.hash, fileHash(path.join(SITE, 'assets/img/photo-3.jpg')), 'the right bytes');
  const s = await stats(b);
  assert.ok(s.bytesFromPeers > 0, `from a peer: ${JSON.stringify({ms: got.ms, peers: s.bytesFromPeers, origin: s.bytesFromOrigin, reason: s.noPeerReason})}`);
  assert.deepEqual(b.errors, []);
}));

// A link followed (not a typed URL): the page's idle links close as the navigation starts
// (its `navigate` event), not in the pagehide that runs inside the next page's commit.
test('a link followed closes the page\'s idle links as the navigation starts, not at pagehide', () => withSwarm({root: SITE}, async (ctx) => {
  const a = await seederOfHome(ctx);

  // No prefetch: its end would close B's dialled links before the click.
  const b = await ctx.visitor({config: {prefetchBytes: 0}});
  await b.page.goto(`${ctx.server.url}/products.html`, {waitUntil: 'load'});
  assert.ok(await waitFor(() => b.page.evaluate(() => !!navigator.serviceWorker.controller), 10000), 'B is controlled');
  await b.page.goto(`${ctx.server.url}/about.html`, {waitUntil: 'load'});
  await b.page.evaluate(() => window.p2pcdn.ready);
  const got = await b.page.evaluate(async () => (await (await fetch('/assets/img/photo-3.jpg')).arrayBuffer()).byteLength);
  assert.ok(got > 0 && (await stats(b)).bytesFromPeers > 0, 'B fetched photo-3 from A');
  // Each open link says why it closed first, in storage the next page can read.
  const api = await b.page.evaluate(() => {
    sessionStorage.removeItem('closed');
    for (const link of window.p2pcdn.links.values()) {
      const close = link.close.bind(link);
      link.close = (reason) => {
        if (!link.closed) sessionStorage.setItem('closed', `${sessionStorage.getItem('closed') || ''}${reason};`);
        close(reason);
      };
    }
    return {navigation: !!self.navigation, links: window.p2pcdn.links.size};
  });
  assert.ok(api.links > 0, 'B has a link open');
  await Promise.all([b.page.waitForNavigation({waitUntil: 'load'}), b.page.click('a[href="/products.html"]')]);
  const closed = await b.page.evaluate(() => sessionStorage.getItem('closed'));
  // Where there is no Navigation API, pagehide closes them, as before.
  assert.equal(closed, api.navigation ? 'page navigating;'.repeat(api.links) : 'page left;'.repeat(api.links));
  assert.deepEqual(b.errors, []);
  assert.deepEqual(a.errors, []);
}));
