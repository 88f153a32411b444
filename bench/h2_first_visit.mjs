// A first visit's LCP with p2pcdn's tag against the same page with the tag's request
// blocked, over HTTP/2 and over HTTP/1.1 from the same TLS server (bench/static_tls_server.mjs),
// the origin in its own namespace shaped by bench/h2_first_visit.sh. Each visit is a fresh
// browser context (its own connections and caches); the two variants alternate in order.
// The site is served from a copy whose pages carry the tag in place of the company site's
// inline loader (tests/e2e/site_with_tag.mjs). Writes bench/results/h2_first_visit.json and
// prints a table. Env: SITE (build/site/site), ROUNDS (8), PAGE (/).
import {execFileSync, spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {launchChromium} from '../tests/browser/chromium.mjs';
import {useTag} from '../tests/e2e/site_with_tag.mjs';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const SITE = fs.mkdtempSync(path.join(os.tmpdir(), 'h2fv-site-'));
process.on('exit', () => fs.rmSync(SITE, {recursive: true, force: true}));
fs.cpSync(path.resolve(process.env.SITE || path.join(ROOT, 'build/site/site')), SITE, {recursive: true});
useTag(SITE);
const ROUNDS = Number(process.env.ROUNDS || 8);
const PAGE = process.env.PAGE || '/';
const HOST = '10.99.0.2';
const PORTS = {h2: 8443, h1: 8444};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h2fv-'));
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${HOST}`,
                         '-addext', `subjectAltName=IP:${HOST}`, '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`],
             {stdio: 'ignore'});
const servers = Object.entries(PORTS).map(([proto, port]) =>
  spawn('ip', ['netns', 'exec', 'origin', process.execPath, path.join(ROOT, 'bench/static_tls_server.mjs'), SITE, String(port),
               `${dir}/cert.pem`, `${dir}/key.pem`, proto], {stdio: ['ignore', 'pipe', 'inherit']}));
await Promise.all(servers.map((s) => new Promise((resolve, reject) => {
  s.stdout.once('data', resolve);
  s.once('exit', (code) => reject(new Error(`server exited ${code}`)));
})));

function lcpObserver() {
  window.__lcp = null;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__lcp = {ms: e.startTime, url: e.url};
  }).observe({type: 'largest-contentful-paint', buffered: true});
}

const browser = await launchChromium({extraArgs: ['--ignore-certificate-errors']});
async function visit(proto, blocked) {
  const context = await browser.newContext({ignoreHTTPSErrors: true});
  try {
    await context.addInitScript(lcpObserver);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    if (blocked) await cdp.send('Network.setBlockedURLs', {urls: ['*/p2pcdn/p2pcdn.js']});
    await page.goto(`https://${HOST}:${PORTS[proto]}${PAGE}`, {waitUntil: 'load', timeout: 30000});
    await sleep(1500);
    return await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      return {lcp: window.__lcp ? Math.round(window.__lcp.ms) : null, lcpUrl: window.__lcp ? window.__lcp.url : '',
              complete: Math.round(nav.loadEventEnd - nav.startTime), protocol: nav.nextHopProtocol};
    });
  } finally {
    await context.close();
  }
}

const results = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const proto of ['h2', 'h1']) {
      const order = round % 2 ? [true, false] : [false, true];
      for (const blocked of order) {
        const r = await visit(proto, blocked);
        results.push({round, proto, variant: blocked ? 'without' : 'tag', ...r});
        console.error(`h2_first_visit: round ${round + 1} ${proto} ${blocked ? 'without' : 'tag'}: LCP ${r.lcp} ms, complete ${r.complete} ms (${r.protocol})`);
      }
    }
  }
} finally {
  await browser.close();
  for (const s of servers) s.kill();
  fs.rmSync(dir, {recursive: true, force: true});
}

const median = (xs) => {
  const s = xs.filter((x) => x !== null).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};
const rows = [];
for (const proto of ['h2', 'h1']) {
  const of = (variant, key) => results.filter((r) => r.proto === proto && r.variant === variant).map((r) => r[key]);
  const paired = [];
  for (let round = 0; round < ROUNDS; round++) {
    const t = results.find((r) => r.proto === proto && r.round === round && r.variant === 'tag');
    const w = results.find((r) => r.proto === proto && r.round === round && r.variant === 'without');
    if (t && w && t.lcp && w.lcp) paired.push(t.lcp / w.lcp);
  }
  const protocols = [...new Set(results.filter((r) => r.proto === proto).map((r) => r.protocol))].join(', ');
  rows.push({proto, protocols, lcpTag: median(of('tag', 'lcp')), lcpWithout: median(of('without', 'lcp')), paired: median(paired),
             completeTag: median(of('tag', 'complete')), completeWithout: median(of('without', 'complete'))});
}
fs.mkdirSync(path.join(ROOT, 'bench/results'), {recursive: true});
fs.writeFileSync(path.join(ROOT, 'bench/results/h2_first_visit.json'),
                 JSON.stringify({date: new Date().toISOString(), rounds: ROUNDS, page: PAGE, rate: process.env.ORIGIN_RATE || 'full', rows, results}, null, 1));
console.log(`| protocol | ${PAGE} LCP, tag / without | ratio (paired) | complete, tag / without |`);
console.log('|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.proto} (${r.protocols}) | ${r.lcpTag} / ${r.lcpWithout} ms | ${(r.lcpTag / r.lcpWithout).toFixed(2)}x (${r.paired.toFixed(2)}x) | ${r.completeTag} / ${r.completeWithout} ms |`);
}
