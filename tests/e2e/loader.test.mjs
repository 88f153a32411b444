// p2pcdn's inline loader (js_glue/loader.js), as the company site carries it in each page's
// <head>: a first visit asks for nothing of p2pcdn before its load event, the loader's data-sw
// registers the worker, a page the worker controls gets p2pcdn.js as it starts, and later pages
// come from peers. No console error, no failed request.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {test} from 'node:test';

import {holdsWhole, ROOT, stats, swarmRunner, waitFor} from './harness.mjs';

const PAGES = ['/', '/products.html', '/about.html'];
const site = path.join(ROOT, 'build/site/site');
const withSwarm = swarmRunner(8621);

const assetOriginBytes = (m) =>
  Object.entries(m).filter(([k]) => k.startsWith('p2pcdn_static_bytes_total{path="/assets/')).reduce((n, [, v]) => n + v, 0);

// Loads `url`; resolves when p2pcdn.js was asked for, against the page's load event and parse, and
// whether a worker controlled the page from its start.
async function visit(v, url) {
  const controlledAtStart = await v.page.goto(url, {waitUntil: 'load'}).then(() => v.page.evaluate(() => !!navigator.serviceWorker.controller));
  assert.ok(await waitFor(() => v.page.evaluate(() => !!window.p2pcdn), 10000), `${url}: p2pcdn.js ran`);
  return v.page.evaluate((controlled) => {
    const nav = performance.getEntriesByType('navigation')[0];
    const script = performance.getEntriesByType('resource').find((e) => new URL(e.name).pathname === '/p2pcdn/p2pcdn.js');
    return {controlled, scriptAt: script ? script.startTime : null, loadStart: nav.loadEventStart, domInteractive: nav.domInteractive};
  }, controlledAtStart);
}

test('with the inline loader a first visit asks for p2pcdn.js only after load, and later pages come from peers', () => withSwarm({root: site}, async (ctx) => {
  const a = await ctx.visitor();
  const first = await visit(a, `${ctx.server.url}/`);
  assert.equal(first.controlled, false, 'a first visit');
  assert.ok(first.scriptAt !== null && first.scriptAt >= first.loadStart, `p2pcdn.js asked for at ${first.scriptAt} ms, the load event at ${first.loadStart} ms`);
  assert.ok(await waitFor(() => a.page.evaluate(() => !!navigator.serviceWorker.controller), 10000), 'data-sw registered the worker');
  for (const page of PAGES.slice(1)) {
    const later = await visit(a, `${ctx.server.url}${page}`);
    assert.equal(later.controlled, true, `${page}: under the worker`);
    assert.ok(later.scriptAt !== null && later.scriptAt < later.domInteractive, `${page}: p2pcdn.js asked for at ${later.scriptAt} ms, parsing over at ${later.domInteractive} ms`);
  }
  const assets = Object.keys(JSON.parse(fs.readFileSync(path.join(site, 'p2pcdn/manifest.json'), 'utf8')).files).filter((p) => p.startsWith('/assets/'));
  assert.ok(await waitFor(() => holdsWhole(a, assets), 20000), 'A holds every asset');

  const b = await ctx.visitor({config: {prefetchBytes: 0}});
  await visit(b, `${ctx.server.url}/`);
  assert.ok(await waitFor(() => b.page.evaluate(() => !!navigator.serviceWorker.controller), 10000), 'B under the worker');
  for (const page of PAGES.slice(1)) {
    const before = assetOriginBytes(await ctx.server.metrics());
    await visit(b, `${ctx.server.url}${page}`);
    const s = await waitFor(async () => {
      const x = await stats(b);
      return x.bytesFromPeers > 0 && x;
    }, 5000);
    const origin = assetOriginBytes(await ctx.server.metrics()) - before;
    assert.ok(s, `B ${page}: bytes from peers`);
    assert.ok(s.bytesFromPeers / (s.bytesFromPeers + origin) >= 0.9, `B ${page}: ${s.bytesFromPeers} B from peers, ${origin} B from the origin`);
  }
  assert.deepEqual(a.errors, [], 'A console');
  assert.deepEqual(b.errors, [], 'B console');
}));
