// Pieces for end-to-end tests inside the network namespace of tests/e2e/netns.sh:
// p2pcdn-server as a child process on 10.99.0.1, and visitors, each its own Chromium.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {createHash} from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {launchChromium} from '../browser/chromium.mjs';
import {contextPrefs, launchFirefox, playwrightLikeContext, playwrightLikePage} from '../browser/firefox.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const HOST = '10.99.0.1';
export const SERVER_BIN = path.join(ROOT, 'build/native/server/p2pcdn-server');
// Every visitor a Firefox one (P2PCDN_E2E_BROWSER=firefox, a suite of scripts/test.sh).
export const IN_FIREFOX = process.env.P2PCDN_E2E_BROWSER === 'firefox';

// For {skip} on a test that needs an instrument only Chromium's driver has (CDP: network
// throttling, the JS heap, clearing the HTTP cache, stopping workers): the reason when every
// visitor is a Firefox one, false otherwise.
export function chromiumOnly(reason) {
  return IN_FIREFOX ? `Chromium only: ${reason}` : false;
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls fn() until it returns a truthy value or `ms` pass; returns the last value. A poll
// that throws (a page still navigating) counts as not yet.
export async function waitFor(fn, ms, every = 100) {
  const deadline = Date.now() + ms;
  let value;
  while (Date.now() < deadline) {
    try {
      value = await fn();
    } catch (_) {
      value = undefined;
    }
    if (value) return value;
    await sleep(every);
  }
  return value;
}

// wrap: a command prefix, e.g. ['ip', 'netns', 'exec', 'origin'] to run it in another namespace.
export async function startServer({root, port = 8099, args = [], host = HOST, wrap = []}) {
  const argv = [...wrap, SERVER_BIN, '--bind', host, '--port', String(port), '--root', root, '--log-level', 'info', ...args];
  const child = spawn(argv[0], argv.slice(1), {stdio: ['ignore', 'ignore', 'pipe']});
  let log = '';
  const listening = new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      log += d;
      if (/event=listening/.test(log)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`p2pcdn-server exited ${code}: ${log}`)));
  });
  await Promise.race([listening, sleep(5000).then(() => {
    throw new Error('p2pcdn-server did not start');
  })]);
  const url = `http://${host}:${port}`;
  return {
    url, port, child, log: () => log,
    async metrics() {
      const text = await (await fetch(`${url}/metrics`)).text();
      const values = {};
      for (const line of text.split('\n')) {
        const m = /^([a-z0-9_]+(?:\{[^}]*\})?) (\d+)$/.exec(line);
        if (m) values[m[1]] = Number(m[2]);
      }
      return values;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(8000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

// A visitor: its own browser process (like another machine), one page, console errors kept.
// Most tests exercise peer transfers with an origin as fast as the peers (one machine), so
// their visitors wait for peers (preferPeers) unless the test says otherwise.
// P2PCDN_E2E_BROWSER=firefox makes every visitor a Firefox one (IN_FIREFOX).
export async function newVisitor(origin, {config: given, contextOptions, backForwardCache} = {}) {
  if (IN_FIREFOX) return newFirefoxVisitor(origin, {config: given, contextOptions});
  const config = {preferPeers: true, ...(given || {})};
  const browser = await launchChromium({origin, backForwardCache});
  const context = await browser.newContext(contextOptions);
  if (config) await context.addInitScript((c) => { window.p2pcdnConfig = c; }, config);
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return {browser, context, page, errors, close: () => browser.close().catch(() => {})};
}

// A visitor in Firefox (puppeteer-core over WebDriver BiDi): the same shape as newVisitor's
// (page and context as tests/browser/firefox.mjs maps them), console errors kept.
// contextOptions: those of playwright-core that Firefox prefs stand for (contextPrefs).
export async function newFirefoxVisitor(origin, {config: given, contextOptions} = {}) {
  const config = {preferPeers: true, ...(given || {})};
  const browser = await launchFirefox({host: new URL(origin).hostname, prefs: contextPrefs(contextOptions)});
  const raw = (await browser.pages())[0] || (await browser.newPage());
  await raw.evaluateOnNewDocument((c) => {
    window.p2pcdnConfig = c;
  }, config);
  const errors = [];
  raw.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  raw.on('pageerror', (e) => errors.push(String(e)));
  return {
    browser, context: playwrightLikeContext(raw), page: playwrightLikePage(raw), errors, firefox: true,
    close: () => browser.close().catch(() => {}),
  };
}

// p2pcdn's page part, once p2pcdn.js has run: the company site's loader adds it only after a
// first visit's load event (in a task after it), so a test reading it right after load waits
// up to 5 s for it. Polled from here, each look returning at once: an evaluate left waiting
// in a page that navigates meanwhile can hang in Firefox.
export async function stats(visitor) {
  for (let i = 0; i < 50; i++) {
    const s = await visitor.page.evaluate(() => (window.p2pcdn ? window.p2pcdn.stats.snapshot() : null));
    if (s) return s;
    await sleep(100);
  }
  return visitor.page.evaluate(() => window.p2pcdn.stats.snapshot());
}

// Loads the demo and waits until every media element has loaded.
export async function loadDemo(visitor, url, ms = 30000) {
  await visitor.page.goto(`${url}/`);
  return visitor.page.waitForFunction(() => {
    const media = [...document.querySelectorAll('#media img, #media video')];
    return media.length === 3 && media.every((m) => (m.tagName === 'IMG' ? m.complete && m.naturalWidth > 0 : m.readyState >= 2));
  }, null, {timeout: ms, polling: 100});
}

// SHA-256 (hex) of each URL as this page's fetch (through the service worker) returns it.
export function pageHashes(visitor, paths) {
  return visitor.page.evaluate(async (list) => {
    const out = {};
    for (const p of list) {
      const body = await (await fetch(p)).arrayBuffer();
      out[p] = [...new Uint8Array(await crypto.subtle.digest('SHA-256', body))]
                   .map((b) => b.toString(16).padStart(2, '0')).join('');
    }
    return out;
  }, paths);
}

// Fetches `p` through the page's worker, reading the stream and hashing it as it goes (the
// page never holds the body). range: a Range header value.
export function fetchHashed(v, p, range) {
  return v.page.evaluate(async ({p, range}) => {
    for (let i = 0; !window.p2pcdn && i < 50; i++) await new Promise((r) => setTimeout(r, 100));
    await window.p2pcdn.ready;
    const res = await fetch(p, range ? {headers: {range}} : {});
    const hash = new window.p2pcdn.core.Sha256Stream();
    const reader = res.body.getReader();
    let bytes = 0;
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      hash.update(value);
      bytes += value.length;
    }
    const hex = hash.finishHex();
    hash.delete();
    return {status: res.status, bytes, hash: hex, source: res.headers.get('x-p2pcdn-source')};
  }, {p, range});
}

export function fileHash(file) {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

// The paths the page's worker holds in Cache Storage, whole or some pieces of them.
export function cachedPaths(visitor) {
  return visitor.page.evaluate(async () => {
    const names = (await caches.keys()).filter((n) => n === 'p2pcdn-copies');
    const out = [];
    for (const n of names) for (const r of await (await caches.open(n)).keys()) out.push(new URL(r.url).pathname);
    return [...new Set(out)].sort();  // a large file's pieces share its path
  });
}

// Whether the visitor's page holds every one of `paths` whole (a large file: every piece),
// so it can serve them.
export function holdsWhole(visitor, paths) {
  return visitor.page.evaluate((list) => window.p2pcdn.ready.then(() => list.every((p) => {
    const entry = window.p2pcdn.entries.get(new URL(p, location.href).href);
    return entry && window.p2pcdn.held.ids.has(entry.resourceId);
  })), paths);
}

// ---- swarms of demo visitors ----

export const DEMO_SITE = path.join(ROOT, 'build/site/demo');
export const DEMO_MEDIA = ['/media/logo.png', '/media/animation.gif', '/media/video.webm'];
export const DEMO_TOTAL = DEMO_MEDIA.reduce((n, p) => n + fs.statSync(path.join(DEMO_SITE, p)).size, 0);

// A withSwarm(options, body) for one test file: each call gets a fresh server on the next
// port (a separate origin: separate workers and caches) and its own browser processes, and
// closes them all afterwards. ctx.visitor(options) adds a visitor.
export function swarmRunner(firstPort) {
  let nextPort = firstPort;
  return async ({root = DEMO_SITE, serverArgs = []} = {}, body) => {
    const ctx = {root, visitors: [], port: nextPort++};
    ctx.server = await startServer({root, port: ctx.port, args: serverArgs});
    ctx.visitor = async (options) => {
      const v = await newVisitor(ctx.server.url, options);
      ctx.visitors.push(v);
      return v;
    };
    try {
      await body(ctx);
    } finally {
      for (const v of ctx.visitors) await v.close();
      await ctx.server.stop();
    }
  };
}

// A visitor that has loaded the demo, cached every media file and announced them (at least
// `announced` announcements in the swarm, with this one's).
export async function seedDemo(ctx, options, announced = DEMO_MEDIA.length) {
  const a = await ctx.visitor(options);
  await loadDemo(a, ctx.server.url);
  const cached = await waitFor(() => holdsWhole(a, DEMO_MEDIA), 20000);
  assert.ok(cached, 'the seeder cached every media file');
  const done = await waitFor(async () => (await ctx.server.metrics()).p2pcdn_announcements >= announced, 10000);
  assert.ok(done, 'the seeder announced them');
  return a;
}

export async function expectBytesIdentical(v, root = DEMO_SITE, paths = DEMO_MEDIA) {
  const hashes = await pageHashes(v, paths);
  for (const p of paths) assert.equal(hashes[p], fileHash(path.join(root, p)), `bytes of ${p}`);
}

// The visitor's stats once predicate holds, or after ms whatever they are.
export async function settled(v, predicate, ms = 20000) {
  const s = await waitFor(async () => {
    const snapshot = await stats(v);
    return predicate(snapshot) ? snapshot : null;
  }, ms);
  return s || stats(v);
}
