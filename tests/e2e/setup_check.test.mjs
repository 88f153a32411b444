// Misconfigurations a site can make, each said once on the console and in
// stats.noPeerReason: no worker controls the page, the worker's manifest differs from the
// page's, the worker was never configured, signaling refuses, the manifest is missing; and a
// browser without WebRTC. Each on its own copy of the company site (build/site/site).
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, test} from 'node:test';

import {HOST, IN_FIREFOX, newVisitor, ROOT, sleep, startServer, stats, waitFor} from './harness.mjs';
import {changed, PAGES} from './site_with_tag.mjs';

const made = [];
let nextPort = 8701;

// A copy of the site, changed by `edit(root)`, its manifest made again unless told not to.
function siteWith(edit, {manifest = true} = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'p2pcdn-setup-'));
  made.push(root);
  fs.cpSync(path.join(ROOT, 'build/site/site'), root, {recursive: true});
  edit(root);
  if (manifest) {
    execFileSync(path.join(ROOT, 'build/native/server/p2pcdn-manifest'), [root, '--out', path.join(root, 'p2pcdn/manifest.json')], {stdio: 'ignore'});
  }
  return root;
}

after(() => made.forEach((root) => fs.rmSync(root, {recursive: true, force: true})));

// Two visits of `page` (the second one under the worker, if any), the second's console warnings kept;
// resolves once `reason` is in stats.noPeerReason (or after 12 s), with what was said.
async function visitAndSay(root, reason, {config, page = '/', prepare = null} = {}) {
  const server = await startServer({root, port: nextPort++});
  const v = await newVisitor(server.url, {config});
  const warnings = [];
  const requests = [];
  v.page.on('console', (m) => {
    if (m.type() === 'warning' && m.text().startsWith('p2pcdn:')) warnings.push(m.text());
  });
  v.context.on('request', (r) => requests.push(new URL(r.url()).pathname));
  v.page.on('websocket', (ws) => requests.push(new URL(ws.url()).pathname));
  try {
    if (prepare) await prepare(v);
    await v.page.goto(`${server.url}${page}`, {waitUntil: 'load'});
    await sleep(1500);
    warnings.length = 0;  // once per page: the second page's lines
    await v.page.goto(`${server.url}${page}`, {waitUntil: 'load'});
    const s = await waitFor(async () => {
      const x = await stats(v);
      return reason.test(x.noPeerReason) && x;
    }, 12000, 200);
    const last = s || (await stats(v));
    return {noPeerReason: last.noPeerReason, warnings, errors: v.errors, requests};
  } finally {
    await v.close();
    await server.stop();
  }
}

// `browserSays`: the browser's own console errors for the failure itself (a refused
// WebSocket, a 404), which p2pcdn cannot keep it from logging.
function expectSaid(got, reason, browserSays = null) {
  assert.match(got.noPeerReason, reason, `noPeerReason: ${got.noPeerReason}`);
  const lines = got.warnings.filter((w) => reason.test(w));
  assert.equal(lines.length, 1, `said once on the console: ${JSON.stringify(got.warnings)}`);
  assert.deepEqual(got.errors.filter((e) => !(browserSays && browserSays.test(e))), []);
}

test('no worker controls the page', async () => {
  // The loader without data-sw: nothing registers the worker.
  const root = siteWith((r) => PAGES.forEach((page) => {
    const file = path.join(r, page);
    changed(file, fs.readFileSync(file, 'utf8').replace(' data-sw="/sw.js"', ''));
  }));
  expectSaid(await visitAndSay(root, /no service worker controls this page/), /no service worker controls this page/);
});

test('the worker uses another manifest than the page', async () => {
  const root = siteWith((r) => {
    fs.writeFileSync(path.join(r, 'sw.js'), "importScripts('/p2pcdn/p2pcdn-sw.js');\np2pcdn.configure({shareable: ['/assets/'], manifestUrl: '/p2pcdn/other.json'});\n");
  });
  fs.copyFileSync(path.join(root, 'p2pcdn/manifest.json'), path.join(root, 'p2pcdn/other.json'));
  expectSaid(await visitAndSay(root, /uses the manifest .*other\.json/), /uses the manifest .*other\.json, this page .*manifest\.json/);
});

test('the worker was never configured: it shares nothing', async () => {
  const root = siteWith((r) => fs.writeFileSync(path.join(r, 'sw.js'), "importScripts('/p2pcdn/p2pcdn-sw.js');\n"));
  expectSaid(await visitAndSay(root, /shares nothing/), /the service worker shares nothing: call p2pcdn\.configure/);
});

test('a worker without p2pcdn\'s part controls the page', async () => {
  const root = siteWith((r) => fs.writeFileSync(path.join(r, 'sw.js'), "self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));\n"));
  expectSaid(await visitAndSay(root, /does not run p2pcdn's part/), /does not run p2pcdn's part/);
});

test('signaling refuses', async () => {
  const root = siteWith(() => {});
  const signalUrl = `ws://${HOST}:8799/signal`;  // nothing listens there
  // Each browser's own words for the refused WebSocket.
  const refused = IN_FIREFOX ? /^Error: Firefox can’t establish a connection to the server at ws:\/\/10\.99\.0\.1:8799\/signal\.$/
                             : /^WebSocket connection to .*8799\/signal' failed/;
  expectSaid(await visitAndSay(root, /signaling at .* is unreachable|refused/, {config: {signalUrl}}),
             /signaling at ws:\/\/10\.99\.0\.1:8799\/signal (is unreachable|refused)/, refused);
});

test('the manifest is missing', async () => {
  const root = siteWith(() => {}, {manifest: false});
  fs.rmSync(path.join(root, 'p2pcdn/manifest.json'));
  fs.rmSync(path.join(root, 'p2pcdn/manifest.json.gz'), {force: true});
  fs.rmSync(path.join(root, 'p2pcdn/manifest.json.br'), {force: true});
  const got = await visitAndSay(root, /manifest/);
  expectSaid(got, /failed to start: the manifest .*manifest\.json answered 404/, /^Failed to load resource: the server responded with a status of 404/);
});

test('a browser without WebRTC loads the page with no added request and says why', async () => {
  const root = siteWith(() => {});
  const got = await visitAndSay(root, /no WebRTC/, {
    page: '/products.html',
    prepare: (v) => v.context.addInitScript(() => {
      delete window.RTCPeerConnection;
    }),
  });
  expectSaid(got, /this browser has no WebRTC/);
  // Neither the core nor signaling: p2pcdn.js is all it costs.
  assert.deepEqual(got.requests.filter((p) => p.endsWith('.wasm') || p === '/signal'), []);
});
