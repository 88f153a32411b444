// Pages that never attach to the worker are not held; the visitor's own switch
// (p2pcdn.disable()/enable()); Save-Data turns uploads off. On a copy of the company site
// (build/site/site) whose worker waits up to 5 s for a page to attach (pageAttachMs), so a
// request held for an attach that never comes shows.
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';

import {cachedPaths, ROOT, sleep, stats, swarmRunner, waitFor} from './harness.mjs';
import {TAG_OR_LOADER} from './site_with_tag.mjs';

const ATTACH_MS = 5000;
const PHOTOS = ['/assets/img/photo-4.jpg', '/assets/img/photo-5.jpg', '/assets/img/photo-6.jpg'];
let site;
let withSwarm;

before(() => {
  site = fs.mkdtempSync(path.join(os.tmpdir(), 'p2pcdn-visitor-site-'));
  fs.cpSync(path.join(ROOT, 'build/site/site'), site, {recursive: true});
  fs.writeFileSync(path.join(site, 'sw.js'),
                   `importScripts('/p2pcdn/p2pcdn-sw.js');\np2pcdn.configure({shareable: ['/assets/'], pageAttachMs: ${ATTACH_MS}});\n`);
  // The products page without p2pcdn's loader: under the worker, but never attaching to it.
  const products = fs.readFileSync(path.join(site, 'products.html'), 'utf8');
  const untagged = products.replace(TAG_OR_LOADER, '');
  assert.notEqual(untagged, products, 'the loader was removed');
  fs.writeFileSync(path.join(site, 'notag.html'), untagged);
  execFileSync(path.join(ROOT, 'build/native/server/p2pcdn-manifest'), [site, '--out', path.join(site, 'p2pcdn/manifest.json')], {stdio: 'ignore'});
  withSwarm = swarmRunner(8601);
});

after(() => fs.rmSync(site, {recursive: true, force: true}));

async function controlled(v, url) {
  await v.page.goto(url, {waitUntil: 'load'});
  assert.ok(await waitFor(() => v.page.evaluate(() => !!navigator.serviceWorker.controller), 10000), 'the worker controls the page');
}

// How long each of `paths` took in the page, from Resource Timing (request start to last byte).
function durations(v, paths) {
  return v.page.evaluate((list) => Object.fromEntries(list.map((p) => {
    const e = performance.getEntriesByName(new URL(p, location.href).href)[0];
    return [p, e ? Math.round(e.responseEnd - e.startTime) : null];
  })), paths);
}

test('a page without the tag under the worker is never held: its requests go to the origin at once', () => withSwarm({root: site}, async (ctx) => {
  const v = await ctx.visitor();
  await controlled(v, `${ctx.server.url}/`);
  await v.page.goto(`${ctx.server.url}/notag.html`, {waitUntil: 'load'});
  assert.equal(await v.page.evaluate(() => typeof window.p2pcdn), 'undefined');
  const took = await durations(v, PHOTOS);
  for (const p of PHOTOS) {
    assert.ok(took[p] !== null && took[p] < ATTACH_MS / 2, `${p} took ${took[p]} ms: held for an attach that never comes`);
  }
  assert.deepEqual(v.errors, []);
}));

test('p2pcdn.disable() turns p2pcdn off for the visitor, on this page and later ones, until enable()', () => withSwarm({root: site}, async (ctx) => {
  // No prefetch: a lone visitor fetches the next page's photos ahead as soon as p2pcdn has
  // started (into the browser's HTTP cache too), and the photos must be seen at the origin.
  const v = await ctx.visitor({config: {prefetchBytes: 0}});
  await controlled(v, `${ctx.server.url}/`);
  await v.page.evaluate(() => window.p2pcdn.ready);
  await v.page.evaluate(() => window.p2pcdn.disable());
  assert.match((await stats(v)).noPeerReason, /turned off for this visitor/);
  const originBytes = async (p) => (await ctx.server.metrics())[`p2pcdn_static_bytes_total{path="${p}"}`] || 0;
  const before = await Promise.all(PHOTOS.map(originBytes));

  // A later page: no p2pcdn, no signaling, and the worker answers nothing itself.
  await v.page.goto(`${ctx.server.url}/products.html`, {waitUntil: 'load'});
  const s = await stats(v);
  assert.match(s.noPeerReason, /turned off for this visitor/);
  assert.equal(await v.page.evaluate(() => window.p2pcdn.off), true);
  await sleep(500);
  assert.equal((await ctx.server.metrics()).p2pcdn_peers || 0, 0, 'nobody joined signaling');
  const after = await Promise.all(PHOTOS.map(originBytes));
  PHOTOS.forEach((p, i) => assert.ok(after[i] > before[i], `${p} came from the origin`));
  const took = await durations(v, PHOTOS);
  for (const p of PHOTOS) assert.ok(took[p] < ATTACH_MS / 2, `${p} took ${took[p]} ms`);
  const kept = await cachedPaths(v);
  for (const p of PHOTOS) assert.ok(!kept.includes(p), `the worker kept ${p} while off`);

  // Back on, from the next page.
  await v.page.evaluate(() => window.p2pcdn.enable());
  await v.page.goto(`${ctx.server.url}/about.html`, {waitUntil: 'load'});
  await v.page.evaluate(() => window.p2pcdn.ready);
  assert.ok(await waitFor(() => v.page.evaluate(() => window.p2pcdn.joined), 10000), 'joined again');
  assert.ok(await waitFor(async () => (await cachedPaths(v)).includes('/assets/img/photo-7.jpg'), 10000), 'the worker keeps copies again');
  assert.deepEqual(v.errors, []);
}));

// A page no worker controls reads the switch at load, not as p2pcdn.js runs (the first
// localStorage read of a page is a synchronous load of the whole area, before its first frame).
test('a visitor who turned p2pcdn off is off on a first visit too: no core, no signaling, no copies', () => withSwarm({root: site}, async (ctx) => {
  const v = await ctx.visitor();
  await v.context.addInitScript(() => {
    try {
      localStorage.setItem('p2pcdn:disabled', '1');
    } catch (_) {
      // about:blank, before the first navigation: no storage there
    }
  });
  await v.page.goto(`${ctx.server.url}/`, {waitUntil: 'load'});
  assert.ok(await waitFor(() => v.page.evaluate(() => window.p2pcdn.off === true), 5000), 'off');
  assert.match((await stats(v)).noPeerReason, /turned off for this visitor/);
  await v.page.evaluate(() => window.p2pcdn.ready.then(() => 'started', () => 'not started')).then((r) => assert.equal(r, 'not started'));
  assert.ok(await waitFor(() => v.page.evaluate(() => !!navigator.serviceWorker.controller), 10000), 'the worker controls the page');
  await sleep(1500);
  const wasm = await v.page.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.endsWith('.wasm')).length);
  assert.equal(wasm, 0, 'the core was loaded');
  assert.equal((await ctx.server.metrics()).p2pcdn_peers || 0, 0, 'nobody joined signaling');
  assert.deepEqual(await cachedPaths(v), [], 'the worker kept copies of the first page');
  assert.deepEqual(v.errors, []);
}));

test('a browser asking to save data uploads nothing and announces nothing', () => withSwarm({root: site}, async (ctx) => {
  const v = await ctx.visitor();
  await v.context.addInitScript(() => {
    Object.defineProperty(navigator, 'connection', {get: () => ({saveData: true, effectiveType: '4g'})});
  });
  await controlled(v, `${ctx.server.url}/`);
  await v.page.goto(`${ctx.server.url}/products.html`, {waitUntil: 'load'});
  await v.page.evaluate(() => window.p2pcdn.ready);
  assert.equal(await v.page.evaluate(() => window.p2pcdn.config.upload), false);
  assert.ok(await waitFor(async () => (await cachedPaths(v)).includes(PHOTOS[0]), 10000), 'it keeps copies for itself');
  assert.ok(await waitFor(() => v.page.evaluate(() => window.p2pcdn.joined), 10000), 'it joined signaling');
  await sleep(1000);
  assert.equal((await ctx.server.metrics()).p2pcdn_announcements || 0, 0, 'it announced nothing');
  assert.deepEqual(v.errors, []);
}));

test('with firstVisitStartMs, a first visit that leaves early downloads no core; one that stays starts', () => withSwarm({root: site}, async (ctx) => {
  const v = await ctx.visitor({config: {firstVisitStartMs: 4000}});
  const wasm = [];
  v.context.on('request', (r) => {
    if (r.url().endsWith('.wasm')) wasm.push(r.url());
  });
  await v.page.goto(`${ctx.server.url}/`, {waitUntil: 'load'});
  await sleep(2000);
  assert.deepEqual(wasm, [], 'the core was fetched before the visitor had stayed 4 s');
  assert.equal(await v.page.evaluate(() => window.p2pcdn.joined), false);
  assert.ok(await waitFor(() => v.page.evaluate(() => window.p2pcdn.joined), 10000), 'started and joined after 4 s');
  assert.equal(wasm.length, 1);
  assert.deepEqual(v.errors, []);
}));
