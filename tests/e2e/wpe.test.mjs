// A browser that cannot be a peer: Debian's WPE WebKit (no WebRTC in its build; service
// workers, Cache Storage, WebAssembly and WebSocket all there) on the company site. Each page
// must look exactly as on the same site without p2pcdn, with no console error, and p2pcdn
// must cost it nothing but its script: no core, no signaling, and the worker answers
// nothing itself. WPE needs a secure context for its worker: both sites are on 127.0.0.1.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';

import {launchWpe} from '../browser/wpe.mjs';
import {ROOT, startServer} from './harness.mjs';
import {TAG_OR_LOADER as TAG} from './site_with_tag.mjs';

const PAGES = ['/', '/products.html', '/about.html'];
// First in <head> of both copies (so they render alike): keeps what the console would show.
const ERRORS = '<script>window.testErrors=[];addEventListener("error",(e)=>testErrors.push(String(e.message)));' +
               'const ce=console.error;console.error=(...a)=>{testErrors.push(a.join(" "));ce.apply(console,a)};</script>';
const made = [];

function copySite(plain) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), plain ? 'p2pcdn-wpe-plain-' : 'p2pcdn-wpe-'));
  made.push(root);
  fs.cpSync(path.join(ROOT, 'build/site/site'), root, {recursive: true});
  for (const page of ['index.html', 'products.html', 'about.html']) {
    let html = fs.readFileSync(path.join(root, page), 'utf8').replace('<head>', `<head>\n  ${ERRORS}`);
    if (plain) html = html.replace(TAG, '');
    fs.writeFileSync(path.join(root, page), html);
  }
  // The p2pcdn copy registers its worker in every browser (a site with other uses for its
  // worker), so that WPE's pages are under it: it must answer nothing itself. The company
  // site as shipped registers none where there is no WebRTC (bench/wpe_bench.mjs).
  fs.writeFileSync(path.join(root, 'assets/site.js'), plain ? '// the same site without p2pcdn: no worker\n'
                                                             : "navigator.serviceWorker.register('/sw.js');\n");
  return root;
}

let sites;
before(() => {
  sites = {p2pcdn: copySite(false), plain: copySite(true)};
});
after(() => made.forEach((root) => fs.rmSync(root, {recursive: true, force: true})));

// Loads `url` and waits until every image, background and font is in; returns what the page saw.
async function load(b, url) {
  await b.goto(url);
  return b.evaluateAsync(async () => {
    await document.fonts.ready;
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline && ![...document.images].every((i) => i.complete && i.naturalWidth > 0)) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 300));  // backgrounds decoded and painted
    // p2pcdn's loader adds p2pcdn.js after load in a browser without WebRTC.
    while (Date.now() < deadline && document.querySelector('script[data-p2pcdn]') && !window.p2pcdn) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const nav = performance.getEntriesByType('navigation')[0];
    return {
      images: [...document.images].every((i) => i.complete && i.naturalWidth > 0),
      completeMs: nav ? Math.round(nav.loadEventEnd - nav.startTime) : null,
      resources: performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname),
      controlled: !!(navigator.serviceWorker && navigator.serviceWorker.controller),
      noPeerReason: window.p2pcdn ? window.p2pcdn.stats.noPeerReason : null,
      errors: window.testErrors,
    };
  });
}

test('WPE WebKit (no WebRTC) loads every page as without p2pcdn: same pixels, no errors, no core, no signaling', async () => {
  const servers = {p2pcdn: await startServer({root: sites.p2pcdn, port: 8961, host: '127.0.0.1'}),
                   plain: await startServer({root: sites.plain, port: 8962, host: '127.0.0.1'})};
  const browsers = {p2pcdn: await launchWpe(), plain: await launchWpe()};
  const times = [];
  try {
    for (const b of Object.values(browsers)) await b.setWindowRect({width: 1280, height: 900});
    // A first visit, so that every later page is under the worker.
    await load(browsers.p2pcdn, `${servers.p2pcdn.url}/`);
    for (const page of PAGES) {
      const got = await load(browsers.p2pcdn, `${servers.p2pcdn.url}${page}`);
      const plain = await load(browsers.plain, `${servers.plain.url}${page}`);
      assert.ok(got.images && plain.images, `${page}: every image loaded`);
      assert.equal(got.controlled, true, `${page}: the worker controls the page`);
      assert.match(got.noPeerReason, /no WebRTC/);
      assert.deepEqual(got.errors, [], `${page}: console errors`);
      assert.deepEqual(got.resources.filter((p) => p.endsWith('.wasm') || p === '/signal'), [], `${page}: p2pcdn's core or signaling`);
      const [a, b] = [await browsers.p2pcdn.screenshot(), await browsers.plain.screenshot()];
      assert.ok(a.equals(b), `${page} renders differently with p2pcdn (${a.length} and ${b.length} bytes of PNG)`);
      times.push(`${page} ${got.completeMs} ms (without p2pcdn ${plain.completeMs} ms)`);
    }
    const plainMetrics = await servers.plain.metrics();
    assert.equal(plainMetrics.p2pcdn_peers || 0, 0);
    assert.equal((await servers.p2pcdn.metrics()).p2pcdn_peers || 0, 0, 'nobody joined signaling');
    console.log(`# WPE page complete, with p2pcdn's tag and worker: ${times.join('; ')}`);
  } finally {
    for (const b of Object.values(browsers)) await b.close();
    for (const s of Object.values(servers)) await s.stop();
  }
});
