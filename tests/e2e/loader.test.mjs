// p2pcdn's inline loader (js_glue/loader.js), as the company site carries it in each page's
// <head>: a first visit asks for nothing of p2pcdn before its load event, the loader's data-sw
// registers the worker, a page the worker controls gets p2pcdn.js as it starts, and later pages
// come from peers. No console error, no failed request.
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'node:test';

import {holdsWhole, ROOT, sleep, stats, swarmRunner, waitFor} from './harness.mjs';
import {remakeManifest} from './site_with_tag.mjs';

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

// A site whose Content Security Policy allows scripts by hash: the loader's hash (as README
// gives it) and 'wasm-unsafe-eval' (the core is WebAssembly) let p2pcdn start on a first visit
// and on a later page; without the hash the loader is blocked and the page loads as without.
const LOADER_LINE = fs.readFileSync(path.join(ROOT, 'js_glue/loader.js'), 'utf8').trim().split('\n').pop();
const LOADER_HASH = `'sha256-${createHash('sha256').update(LOADER_LINE).digest('base64')}'`;

// What the page's policy refused, as the page saw it (both browsers fire the event).
const watchViolations = (v) => v.context.addInitScript(() => {
  window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
});
const violations = (v) => v.page.evaluate(() => window.__violations);

function siteWithPolicy(policy) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'p2pcdn-csp-'));
  fs.cpSync(site, root, {recursive: true});
  for (const page of ['index.html', 'products.html', 'about.html']) {
    const file = path.join(root, page);
    const html = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, html.replace('<head>', `<head>\n  <meta http-equiv="Content-Security-Policy" content="${policy}">`));
    for (const ext of ['.gz', '.br']) fs.rmSync(file + ext, {force: true});
  }
  remakeManifest(root);
  return root;
}

test('under a Content Security Policy that allows the loader by its hash, p2pcdn starts; without it the page loads as without', async () => {
  assert.ok(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').includes(LOADER_HASH), `README gives the loader's hash ${LOADER_HASH}`);
  const allowed = siteWithPolicy(`script-src 'self' ${LOADER_HASH} 'wasm-unsafe-eval'`);
  const blocked = siteWithPolicy("script-src 'self' 'wasm-unsafe-eval'");
  try {
    await withSwarm({root: allowed}, async (ctx) => {
      const v = await ctx.visitor();
      await watchViolations(v);
      await visit(v, `${ctx.server.url}/`);
      assert.ok(await waitFor(() => v.page.evaluate(() => !!navigator.serviceWorker.controller), 10000), 'data-sw registered the worker');
      await visit(v, `${ctx.server.url}/products.html`);
      const started = await v.page.evaluate(() => window.p2pcdn.ready.then(() => !!window.p2pcdn.core, (e) => `failed: ${e.message}`));
      assert.equal(started, true, 'the core loaded');
      assert.deepEqual(await violations(v), [], 'no policy violation');
      assert.deepEqual(v.errors, []);
    });
    await withSwarm({root: blocked}, async (ctx) => {
      const v = await ctx.visitor();
      await watchViolations(v);
      await v.page.goto(`${ctx.server.url}/`, {waitUntil: 'load'});
      await sleep(1000);
      assert.equal(await v.page.evaluate(() => typeof window.p2pcdn), 'undefined', 'the loader did not run');
      assert.equal(await v.page.evaluate(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0)), true, 'the page loaded');
      assert.ok((await violations(v)).some((x) => x.startsWith('script-src')), `the inline script was refused: ${JSON.stringify(await violations(v))}`);
    });
  } finally {
    for (const root of [allowed, blocked]) fs.rmSync(root, {recursive: true, force: true});
  }
});
