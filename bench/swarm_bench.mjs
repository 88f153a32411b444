// Swarm benchmark (issue 15), run through bench/swarm_bench.sh: VISITORS (5) visitors, each
// its own Chromium process, walk the multi-page demo site (web_app/site, assembled into
// build/site/site) with the origin in its own namespace (tests/e2e/netns.sh with
// ORIGIN_NS=1; ORIGIN_RATE shapes it, e.g. 20mbit). Each visitor opens /, /products.html and
// /about.html in turn, reading each page for DWELL_MS (2000) before the next.
// Scenarios, each on a fresh server port (a fresh swarm, fresh workers and caches) with
// fresh browsers:
//   one-after-another  visitor k starts when visitor k-1 has finished its walk (and stays,
//                      on its last page, until the scenario ends);
//   all-at-once        all visitors start their walk at the same moment;
//   one-leaving        as one-after-another, but visitor 1 closes its browser LEAVE_AFTER_MS
//                      (500) after visitor 2's first page has loaded: visitor 2's next-page
//                      prefetch is under way then, and later visitors must do without it.
// Every scenario runs twice per round: with p2pcdn as shipped (page config
// {preferPeers: false}, the default, passed explicitly because the test harness defaults to
// true), and without p2pcdn (service workers blocked and the p2pcdn script blocked through
// CDP, as bench/site_bench.mjs does); which of the two goes first alternates from round to
// round. ROUNDS (3) rounds.
// Per page and visitor it records: page-complete (navigation loadEventEnd - startTime),
// Largest Contentful Paint (a buffered PerformanceObserver installed before the page's own
// scripts, read at the end of the dwell), the page's p2pcdn stats as the visitor leaves it,
// the site's asset bytes the page uses (the manifest's `pages`), and, before each page after
// the first, which assets the swarm held at that moment (for the offload ceiling: what every
// visitor still in the swarm had loaded on a page, plus what its worker held in Cache Storage,
// read from each browser). Per run: the origin's bytes per path (/metrics).
// Writes OUT (bench/results/swarm-<rate>.json): raw runs; bench/swarm_report.mjs makes the
// figures. Exits 1 if any run saw an error (a console error, a failed navigation, an image
// that did not load, a timeout), 0 otherwise, whatever the figures.
// Env: ROUNDS, DWELL_MS, VISITORS, SCENARIOS (comma-separated subset), LEAVE_AFTER_MS, PORT
// (8720, then one port per run), RUN_TIMEOUT_S (300), DEADLINE_S (2400: no new run after it),
// ORIGIN_RATE (the label; netns.sh applies it), SITE (the assembled site to copy:
// build/site/site), OUT, VARIANTS (p2pcdn,without; may add bare-worker, see below),
// NAV (goto: later pages opened as typed URLs; click: by clicking the page's link to them),
// PAGE_CONFIG (JSON merged into the p2pcdn variant's page config: to measure what one
// setting costs, e.g. '{"upload":false}'), TAG (1: p2pcdn's script tag in place of the site's inline loader).
// TRACE=dir: a Chromium trace of one visitor (TRACE_VISITOR, 1 = the second) over its whole
// walk in the first round, per scenario and variant (<scenario>-<variant>.json, for
// bench/trace_threads.mjs); tracing slows that visitor, so its figures are not comparable.
// TRACE_JS=1 adds JS samples, and serves p2pcdn's readable bundles (build/wasm) so that
// they name functions (the manifest's hashes of those two files then no longer match).
// Also per run, for finding where time goes: the CPU time the browsers' processes used,
// per Chromium process type, in CPU_SAMPLE_MS (250) steps (this PID namespace's /proc);
// CPU_BY_THREAD=1 splits it per thread name too ('renderer/CrRendererMain').
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {cachedPaths, newVisitor, ROOT, sleep, startServer} from '../tests/e2e/harness.mjs';
import {useTag} from '../tests/e2e/site_with_tag.mjs';

const ROUNDS = Number(process.env.ROUNDS || 3);
const DWELL_MS = Number(process.env.DWELL_MS || 2000);
const VISITORS = Number(process.env.VISITORS || 5);
const LEAVE_AFTER_MS = Number(process.env.LEAVE_AFTER_MS || 500);
const ALL_SCENARIOS = ['one-after-another', 'all-at-once', 'one-leaving'];
const SCENARIOS = (process.env.SCENARIOS || ALL_SCENARIOS.join(',')).split(',').filter((s) => ALL_SCENARIOS.includes(s));
const PORT = Number(process.env.PORT || 8720);
const RUN_TIMEOUT_MS = Number(process.env.RUN_TIMEOUT_S || 300) * 1000;
const DEADLINE_MS = Number(process.env.DEADLINE_S || 2400) * 1000;
const NAV_TIMEOUT_MS = 60000;
const NAV = process.env.NAV || 'goto';
const ORIGIN_RATE = process.env.ORIGIN_RATE || 'full speed';
const PAGE_CONFIG = JSON.parse(process.env.PAGE_CONFIG || '{}');
const CPU_SAMPLE_MS = Number(process.env.CPU_SAMPLE_MS || 250);
const CPU_BY_THREAD = Boolean(process.env.CPU_BY_THREAD);  // keys become '<type>/<thread name>'
const TRACE_DIR = process.env.TRACE || null;
const TRACE_VISITOR = Number(process.env.TRACE_VISITOR || 1);
const TRACE_CATEGORIES = ['toplevel', 'v8', 'devtools.timeline', 'disabled-by-default-devtools.timeline',
                          'ServiceWorker', 'CacheStorage', 'webrtc', 'blink', 'loading', 'navigation',
                          ...(process.env.TRACE_JS ? ['disabled-by-default-v8.cpu_profiler'] : [])];
// Served from a private copy: build/site/site may be assembled afresh by others meanwhile.
const SITE_SOURCE = path.resolve(process.env.SITE || path.join(ROOT, 'build/site/site'));
const SITE = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-bench-site-'));
process.on('exit', () => fs.rmSync(SITE, {recursive: true, force: true}));
fs.cpSync(SITE_SOURCE, SITE, {recursive: true, preserveTimestamps: true});  // the server ignores a .br/.gz older than its file
// TAG=1: the site with p2pcdn's script tag in place of its inline loader (README, "The
// script tag instead of the loader"; tests/e2e/site_with_tag.mjs).
if (process.env.TAG) useTag(SITE);
if (TRACE_DIR && process.env.TRACE_JS) {
  for (const name of ['p2pcdn.js', 'p2pcdn-sw.js']) {
    fs.copyFileSync(path.join(ROOT, 'build/wasm/js_glue/readable', name), path.join(SITE, 'p2pcdn', name));
    for (const ext of ['.gz', '.br']) fs.rmSync(path.join(SITE, 'p2pcdn', name + ext), {force: true});
  }
}
const OUT = process.env.OUT || path.join(ROOT, 'bench/results', `swarm-${process.env.ORIGIN_RATE || 'full'}.json`);
const PAGES = ['/', '/products.html', '/about.html'];
const VARIANTS = (process.env.VARIANTS || 'p2pcdn,without').split(',').filter((v) => ['p2pcdn', 'without', 'bare-worker'].includes(v));
// 'bare-worker': the site's own registration of its worker kept, that worker a bare one
// (claims pages, has a fetch handler that answers nothing; not an empty one, which Chromium
// skips without starting the worker), p2pcdn.js blocked: what a
// service worker alone costs the same visits. Served from its own copy of the site.
const BARE_SITE = VARIANTS.includes('bare-worker') ? fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-bench-bare-')) : null;
if (BARE_SITE) {
  process.on('exit', () => fs.rmSync(BARE_SITE, {recursive: true, force: true}));
  fs.cpSync(SITE, BARE_SITE, {recursive: true, preserveTimestamps: true});
  fs.writeFileSync(path.join(BARE_SITE, 'sw.js'), "self.addEventListener('install', () => self.skipWaiting());\nself.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));\nself.addEventListener('fetch', (e) => { if (e.request.url === '') e.respondWith(fetch(e.request)); });\n");
}
const started = Date.now();
const log = (text) => console.error(`swarm_bench [${((Date.now() - started) / 1000).toFixed(0)} s]: ${text}`);

// Rejects after ms: nothing here waits unbounded.
function within(ms, promise, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  })]).finally(() => clearTimeout(timer));
}

// The site's files and sizes, and each page's assets (the manifest's `pages`: what
// p2pcdn-manifest read from the HTML and CSS).
const manifest = JSON.parse(fs.readFileSync(path.join(SITE, 'p2pcdn/manifest.json'), 'utf8'));
const SIZES = {};
for (const dir of ['assets']) {
  const walkDir = (d) => {
    for (const e of fs.readdirSync(path.join(SITE, d), {withFileTypes: true})) {
      const rel = `${d}/${e.name}`;
      if (e.isDirectory()) walkDir(rel);
      else SIZES[`/${rel}`] = fs.statSync(path.join(SITE, rel)).size;
    }
  };
  walkDir(dir);
}
for (const [p, f] of Object.entries(manifest.files)) {  // a copy taken while the site was being assembled
  if (TRACE_DIR && process.env.TRACE_JS && p.startsWith('/p2pcdn/')) continue;  // readable bundles, above
  const size = fs.existsSync(path.join(SITE, p)) ? fs.statSync(path.join(SITE, p)).size : -1;
  if (size !== f.size) throw new Error(`${SITE_SOURCE}${p}: ${size} bytes, the manifest says ${f.size}: assemble the site again`);
}
const pageKey = (p) => (p.endsWith('/') ? `${p}index.html` : p);
const PAGE_ASSETS = Object.fromEntries(PAGES.map((p) => [p, (manifest.pages[pageKey(p)] || []).filter((a) => a.startsWith('/assets/'))]));
for (const p of PAGES) if (!PAGE_ASSETS[p].length) throw new Error(`the manifest lists no assets for ${p}`);
const bytesOf = (paths) => paths.reduce((n, p) => n + (SIZES[p] || 0), 0);

// Installed before the page's own scripts: the last LCP candidate, kept on window.
function lcpObserver() {
  window.__swarmLcp = null;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        window.__swarmLcp = {ms: e.startTime, url: e.url ? new URL(e.url).pathname : '', size: e.size,
                             element: e.element ? e.element.tagName.toLowerCase() + (e.element.className ? `.${e.element.className}` : '') : ''};
      }
    }).observe({type: 'largest-contentful-paint', buffered: true});
  } catch (_) {
    // no LCP in this browser: read as null
  }
}

// Installed before the page's own scripts: the page's p2pcdn figures as it goes, kept in the
// tab's sessionStorage for the next page to hand over. A page serves and prefetches until its
// pagehide, after its dwell has been read: read then, at most 30 s after load is waited for
// p2pcdn's start (its own pagehide handler, which closes its links and takes back what they
// never sent, is added by then and runs first).
function statsAtLeaving() {
  let tries = 0;
  const hook = () => {
    if (!window.p2pcdn || !window.p2pcdn.ready) {
      if (++tries < 300) setTimeout(hook, 100);
      return;
    }
    window.p2pcdn.ready.then(() => addEventListener('pagehide', () => {
      try {
        sessionStorage.setItem('swarm:left', JSON.stringify({path: location.pathname, stats: window.p2pcdn.stats.snapshot()}));
      } catch (_) {
        // storage full or off: the figures read after the dwell stand
      }
    }), () => {});
  };
  addEventListener('load', hook, {once: true});
}

// Console errors; without p2pcdn, less the one its blocked script causes.
const consoleErrors = (rec) => rec.v.errors.filter((e) => rec.variant === 'p2pcdn' || !/ERR_BLOCKED_BY_CLIENT/.test(e));

// CPU time (ms) used so far by this namespace's browser processes, per process type (the
// browser process itself is 'browser'; a service worker runs in a renderer).
const CLOCK_TICK_MS = 10;  // USER_HZ is 100 on Linux
const ticksOf = (statFile) => {
  const fields = fs.readFileSync(statFile, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;  // utime, stime
};
function cpuByType() {
  const out = {};
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!/chrom/.test(cmd.split('\0')[0])) continue;
      const type = (/--type=([a-z-]+)/.exec(cmd) || [null, 'browser'])[1];
      const util = (/--utility-sub-type=([\w.]+)/.exec(cmd) || [null, ''])[1];
      const key = type === 'utility' && util ? util.split('.').pop() : type;
      if (!CPU_BY_THREAD) {
        out[key] = (out[key] || 0) + ticksOf(`/proc/${pid}/stat`);
        continue;
      }
      for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
        try {
          const name = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim().replace(/[0-9]+$/, '');
          out[`${key}/${name}`] = (out[`${key}/${name}`] || 0) + ticksOf(`/proc/${pid}/task/${tid}/stat`);
        } catch (_) {
          // this thread ended meanwhile
        }
      }
    } catch (_) {
      // gone meanwhile
    }
  }
  return out;
}

// Samples cpuByType every CPU_SAMPLE_MS; stop() gives [[ms since t0, {type: CPU ms in the
// step}]]. A process that ended within a step loses that step's time (rare: browsers close
// after the walk).
function cpuSampler(t0) {
  const samples = [];
  let last = cpuByType();
  const timer = setInterval(() => {
    const now = cpuByType();
    const step = {};
    for (const [k, v] of Object.entries(now)) if (v - (last[k] || 0) > 0) step[k] = v - (last[k] || 0);
    samples.push([Date.now() - t0, step]);
    last = now;
  }, CPU_SAMPLE_MS);
  return () => {
    clearInterval(timer);
    return samples;
  };
}

async function launch(run, k) {
  const plain = run.variant !== 'p2pcdn';
  const v = await within(30000, newVisitor(run.url, run.variant === 'without' ? {contextOptions: {serviceWorkers: 'block'}} : plain ? {}
                                                           : {config: {preferPeers: false, ...PAGE_CONFIG}}), `launching visitor ${k + 1}`);
  if (run.stopped) {  // the run timed out while this browser started
    await v.close();
    throw new Error('stopped');
  }
  const rec = {k, variant: run.variant, v, alive: true, loaded: new Set(), pages: [], final: null, leftAt: null};
  run.recs.push(rec);
  if (plain) {  // blocked through CDP: Playwright's routing would turn the HTTP cache off
    const cdp = await v.context.newCDPSession(v.page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setBlockedURLs', {urls: ['*/p2pcdn/p2pcdn.js']});
  }
  await v.page.addInitScript(lcpObserver);
  if (!plain) await v.page.addInitScript(statsAtLeaving);
  if (TRACE_DIR && k === TRACE_VISITOR && run.round === 0) {
    fs.mkdirSync(TRACE_DIR, {recursive: true});
    await v.browser.startTracing(undefined, {path: path.join(TRACE_DIR, `${run.scenario}-${run.variant}.json`), categories: TRACE_CATEGORIES});
    rec.traced = true;
  }
  if (!run.browserVersion) run.browserVersion = v.browser.version();
  return rec;
}

// The assets the swarm holds now: for each visitor still in it, what it loaded on its pages
// and what its worker keeps in Cache Storage (whole or pieces). The others are asked while
// `self` already navigates (its own start is not held up by their answers).
function heldNow(run, self) {
  const held = new Set();
  const ask = async (r) => {
    for (const p of r.loaded) held.add(p);
    try {
      for (const p of await within(3000, cachedPaths(r.v), 'cachedPaths')) held.add(p);
    } catch (_) {
      // navigating, or gone: what it loaded stands
    }
  };
  const own = ask(self);
  const others = own.then(() => Promise.all(run.recs.filter((r) => r.alive && r !== self).map(ask))).then(() => held);
  return {own, others};
}

// NAV=click: a later page is opened by clicking the current page's link to it, as a visitor
// does (a navigation the page starts, which fires its `navigate` event), not as a typed URL.
async function followLink(page, pagePath) {
  const [response] = await Promise.all([page.waitForNavigation({waitUntil: 'load', timeout: NAV_TIMEOUT_MS}),
                                        page.click(`a[href="${pagePath}"]`, {timeout: 10000})]);
  return response;
}

async function visit(run, rec, index, afterLoad) {
  const pagePath = PAGES[index];
  const assets = PAGE_ASSETS[pagePath];
  let held = null;
  if (run.variant === 'p2pcdn' && index > 0) {
    held = heldNow(run, rec);
    await held.own;
  }
  const startedAt = Date.now() - run.t0;
  const response = NAV === 'click' && index > 0 ? await followLink(rec.v.page, pagePath)
                                               : await rec.v.page.goto(`${run.url}${pagePath}`, {waitUntil: 'load', timeout: NAV_TIMEOUT_MS});
  if (!response || !response.ok()) throw new Error(`visitor ${rec.k + 1} ${pagePath}: navigation answered ${response ? response.status() : 'nothing'}`);
  await rec.v.page.waitForFunction(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return nav && nav.loadEventEnd > 0;
  }, null, {timeout: 10000, polling: 50});
  const loadedAt = Date.now() - run.t0;
  // The previous page's figures as it went (statsAtLeaving), not as its dwell ended: all at
  // once, its uploads after that read were counted by the pages that received them only
  // (upload over needed came out at 0.72x in a round).
  const left = index > 0 && run.variant === 'p2pcdn' &&
               await within(5000, rec.v.page.evaluate(() => JSON.parse(sessionStorage.getItem('swarm:left') || 'null')), 'the stats of the page left');
  if (left && left.stats && rec.pages[index - 1] && pageKey(left.path) === pageKey(rec.pages[index - 1].page)) {
    rec.pages[index - 1].stats = left.stats;
    rec.pages[index - 1].statsAtLeaving = true;
  }
  const after = await within(5000, rec.v.page.evaluate(() => ({
    assets: [...new Set(performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname).filter((p) => p.startsWith('/assets/')))],
    broken: [...document.images].filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => new URL(i.src).pathname),
  })), 'reading the loaded page');
  if (after.broken.length) throw new Error(`visitor ${rec.k + 1} ${pagePath}: images not loaded: ${after.broken.join(', ')}`);
  for (const a of after.assets) rec.loaded.add(a);
  if (afterLoad) afterLoad();
  let heldAtStart = null;
  if (held) {
    const set = await held.others;
    heldAtStart = assets.filter((a) => set.has(a));
  }
  const ceilingBytes = heldAtStart ? bytesOf(heldAtStart) : null;
  await sleep(DWELL_MS);
  const r = await within(5000, rec.v.page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const marks = {};
    for (const m of performance.getEntriesByType('mark')) {
      if (m.name.startsWith('p2pcdn:') && !(m.name.slice(7) in marks)) marks[m.name.slice(7)] = Math.round(m.startTime);
    }
    // Each asset's timing: when asked, when its last byte arrived, whether the worker
    // answered it (none: the browser's memory cache did), bytes over the network.
    const resources = performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname.startsWith('/assets/'))
      .map((e) => ({path: new URL(e.name).pathname, start: Math.round(e.startTime), end: Math.round(e.responseEnd),
                    worker: e.workerStart > 0, transfer: e.transferSize, delivery: e.deliveryType || '',
                    freshConnection: e.connectEnd > e.connectStart}));
    // Where a page's first milliseconds go: the navigation's phases, first paint, p2pcdn's own files.
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    const phases = Object.fromEntries(['workerStart', 'fetchStart', 'requestStart', 'responseStart', 'responseEnd', 'domInteractive',
                                       'domContentLoadedEventStart', 'loadEventStart'].map((k) => [k, Math.round(nav[k])]));
    phases.fcp = fcp ? Math.round(fcp.startTime) : null;
    const own = performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname.startsWith('/p2pcdn/'))
      .map((e) => ({path: new URL(e.name).pathname, start: Math.round(e.startTime), end: Math.round(e.responseEnd), worker: e.workerStart > 0,
             freshConnection: e.connectEnd > e.connectStart}));
    return {completeMs: nav.loadEventEnd - nav.startTime, responseEndMs: nav.responseEnd - nav.startTime, phases, own,
            controlled: nav.workerStart > 0, lcp: window.__swarmLcp, resources,
            stats: window.p2pcdn ? window.p2pcdn.stats.snapshot() : null, marks};
  }), 'reading the page after its dwell');
  return {page: pagePath, startedAt, loadedAt, completeMs: r.completeMs, responseEndMs: r.responseEndMs,
          controlled: r.controlled, lcpMs: r.lcp ? r.lcp.ms : null, lcp: r.lcp, assetBytes: bytesOf(assets),
          loadedAssets: after.assets.length, ceilingBytes, heldAtStart, stats: r.stats, marks: r.marks,
          resources: r.resources, phases: r.phases, own: r.own};
}

async function walk(run, rec, afterFirstPage) {
  for (let i = 0; i < PAGES.length && !run.stopped; i++) rec.pages.push(await visit(run, rec, i, i === 0 ? afterFirstPage : null));
}

// Closes the visitor's browser as a visitor closing its window would: the page gets
// `pagehide` first (p2pcdn closes its links there, so peers fail over at once and no byte
// leaves after it), then its last page's stats (its uploads while it sat there) are taken.
async function leave(run, rec) {
  if (!rec.alive) return;
  rec.alive = false;
  rec.leftAt = Date.now() - run.t0;
  try {
    rec.final = await within(5000, rec.v.page.evaluate(() => {
      dispatchEvent(new PageTransitionEvent('pagehide', {persisted: false}));
      return window.p2pcdn ? window.p2pcdn.stats.snapshot() : null;
    }), 'stats at leaving');
  } catch (err) {
    run.errors.push(`visitor ${rec.k + 1}: final stats: ${err.message}`);
  }
  if (rec.traced) await within(30000, rec.v.browser.stopTracing(), 'writing the trace').catch((err) => run.errors.push(err.message));
  const errors = consoleErrors(rec);
  if (errors.length) run.errors.push(`visitor ${rec.k + 1} console: ${errors.join(' | ')}`);
  await rec.v.close();
}

async function scenario(run) {
  if (run.scenario === 'all-at-once') {
    const recs = [];
    for (let k = 0; k < VISITORS; k++) recs.push(await launch(run, k));  // one at a time: 2 cores
    run.walkStart = Date.now() - run.t0;
    await Promise.all(recs.map((rec) => walk(run, rec)));
    return;
  }
  let leaving = null;
  for (let k = 0; k < VISITORS; k++) {
    const rec = await launch(run, k);
    const afterFirstPage = run.scenario === 'one-leaving' && k === 1
      ? () => { leaving = sleep(LEAVE_AFTER_MS).then(() => leave(run, run.recs[0])); }
      : null;
    await walk(run, rec, afterFirstPage);
    if (leaving) await leaving;
  }
}

async function oneRun(spec, port) {
  const server = await startServer({root: spec.variant === 'bare-worker' ? BARE_SITE : SITE, port, host: '10.99.0.2', wrap: ['ip', 'netns', 'exec', 'origin']});
  const run = {...spec, port, url: server.url, t0: Date.now(), recs: [], errors: [], browserVersion: null, stopped: false};
  const stopCpu = cpuSampler(run.t0);
  try {
    await within(RUN_TIMEOUT_MS, scenario(run), `${spec.scenario} (${spec.variant})`);
  } catch (err) {
    run.errors.push(err.message);
  }
  run.stopped = true;
  run.durationMs = Date.now() - run.t0;
  const cpu = stopCpu();
  for (const rec of run.recs) await leave(run, rec).catch((err) => run.errors.push(`closing visitor ${rec.k + 1}: ${err.message}`));
  let metrics = {};
  try {
    metrics = await within(10000, server.metrics(), 'metrics');
  } catch (err) {
    run.errors.push(err.message);
  }
  await server.stop();
  const originBytes = {};
  for (const [key, value] of Object.entries(metrics)) {
    const m = /^p2pcdn_static_bytes_total\{path="(.*)"\}$/.exec(key);
    if (m) originBytes[m[1]] = value;
  }
  return {scenario: run.scenario, variant: run.variant, round: run.round, first: run.first, port, durationMs: run.durationMs,
          walkStart: run.walkStart ?? null, browserVersion: run.browserVersion, errors: run.errors, originBytes,
          claims: metrics.p2pcdn_claims_total ?? null, lookups: metrics.p2pcdn_lookups_total ?? null, cpu, pageConfig: PAGE_CONFIG,
          visitors: run.recs.map((r) => ({k: r.k, leftAt: r.leftAt, pages: r.pages, final: r.final}))};
}

const commit = (() => {
  try {
    return execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], {encoding: 'utf8'}).trim();
  } catch (_) {
    return null;
  }
})();
const result = {
  origin_rate: ORIGIN_RATE, rounds: ROUNDS, dwell_ms: DWELL_MS, nav: NAV, visitors: VISITORS, leave_after_ms: LEAVE_AFTER_MS,
  scenarios: SCENARIOS, pages: PAGES, page_assets: PAGE_ASSETS, sizes: SIZES, date: new Date().toISOString(), commit,
  machine: {cpus: os.cpus().length, model: os.cpus()[0] ? os.cpus()[0].model : null, mhz: os.cpus()[0] ? os.cpus()[0].speed : null,
            loadavg: os.loadavg()},
  browser: null, runs: [], errors: [],
};
let port = PORT;
try {
  outer:
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of SCENARIOS) {
      const order = round % 2 ? [...VARIANTS].reverse() : VARIANTS;
      for (const variant of order) {
        if (Date.now() - started > DEADLINE_MS) {
          result.errors.push(`deadline of ${DEADLINE_MS / 1000} s passed before round ${round + 1} ${name} ${variant}`);
          break outer;
        }
        const r = await oneRun({scenario: name, variant, round, first: order[0]}, port++);
        if (!result.browser) result.browser = r.browserVersion;
        for (const e of r.errors) result.errors.push(`${ORIGIN_RATE}, round ${round + 1}, ${name}, ${variant}: ${e}`);
        result.runs.push(r);
        log(`round ${round + 1} ${name} ${variant}: ${(r.durationMs / 1000).toFixed(1)} s${r.errors.length ? `, ${r.errors.length} error(s)` : ''}`);
      }
    }
  }
} catch (err) {
  result.errors.push(`run: ${err.stack || err.message}`);
}
result.duration_s = Math.round((Date.now() - started) / 1000);
fs.mkdirSync(path.dirname(OUT), {recursive: true});
fs.writeFileSync(OUT, `${JSON.stringify(result, null, 1)}\n`);
if (result.errors.length) log(`${result.errors.length} error(s):\n${result.errors.map((e) => `- ${e}`).join('\n')}`);
process.exit(result.errors.length ? 1 : 0);
