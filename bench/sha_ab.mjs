// Wasm SHA-256 of two builds of the core in the same run, for before/after figures of a
// build change: Node and Chromium each load both builds and alternate between them, one
// sample of A, one of B, ROUNDS times, after a 0.5 s warm-up of each. A sample hashes 16 MiB
// (1024 × 16 KiB or 16 × 1 MiB) with core.sha256Hex. Prints medians as JSON.
// usage: node bench/sha_ab.mjs DIST_A DIST_B   (folders holding p2pcdn-core.{js,wasm})
import fs from 'node:fs';
import {createRequire} from 'node:module';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {launchChromium} from '../tests/browser/chromium.mjs';
import {serveStatic} from '../tests/browser/static_server.mjs';
import {randomBody} from './js_core_bench.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dists = process.argv.slice(2, 4).map((d) => path.resolve(d));
if (dists.length !== 2) throw new Error('usage: node bench/sha_ab.mjs DIST_A DIST_B');
const ROUNDS = Number(process.env.ROUNDS || 9);
const SIZES = [16 << 10, 1 << 20];
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// These two run in Node and, as source text, in the page. `bodies` caches one body per size.
function sampleMiBs(core, bodies, size) {
  const bytes = (bodies[size] ??= randomBody(size));
  const reps = (16 << 20) / size;
  const start = performance.now();
  for (let i = 0; i < reps; i++) core.sha256Hex(bytes);
  return 16 / ((performance.now() - start) / 1000);
}
function warmUp(core, bodies, size) {
  const bytes = (bodies[size] ??= randomBody(size));
  const start = performance.now();
  while (performance.now() - start < 500) core.sha256Hex(bytes);
  return core.sha256Hex(bytes);
}

// runners[i].run(fn, size) runs warmUp or sampleMiBs against build i.
async function compare(runners) {
  const out = {};
  for (const size of SIZES) {
    const digests = await Promise.all(runners.map((r) => r.run('warmUp', size)));
    if (digests[0] !== digests[1]) throw new Error(`the builds disagree: ${digests}`);
    const samples = [[], []];
    for (let round = 0; round < ROUNDS; round++) {
      for (const i of [0, 1]) samples[i].push(await runners[i].run('sampleMiBs', size));
    }
    const [a, b] = samples.map(median);
    out[size >= 1 << 20 ? `${size >> 20} MiB` : `${size >> 10} KiB`] = {
      a_mib_s: Math.round(a), b_mib_s: Math.round(b), b_over_a: Number((b / a).toFixed(3)),
    };
  }
  return out;
}

async function nodeFigures() {
  const require = createRequire(import.meta.url);
  const fns = {warmUp, sampleMiBs};
  const runners = [];
  for (const dist of dists) {
    // Builds since the split have a Node module of their own; older ones served both.
    const nodeCore = ['p2pcdn-core-node.js', 'p2pcdn-core.js'].find((f) => fs.existsSync(path.join(dist, f)));
    const core = await require(path.join(dist, nodeCore))({
      locateFile: (f) => path.join(dist, f),
    });
    const bodies = {};
    runners.push({run: async (fn, size) => fns[fn](core, bodies, size)});
  }
  return {version: process.version, ...(await compare(runners))};
}

async function chromiumFigures() {
  // Both builds and the blank page under one loopback origin.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sha-ab-'));
  fs.copyFileSync(path.join(here, 'blank.html'), path.join(root, 'blank.html'));
  dists.forEach((dist, i) => {
    fs.mkdirSync(path.join(root, `${i}`));
    for (const f of ['p2pcdn-core.js', 'p2pcdn-core.wasm']) {
      fs.copyFileSync(path.join(dist, f), path.join(root, `${i}`, f));
    }
  });
  const server = await serveStatic(root);
  const browser = await launchChromium();
  try {
    const runners = [];
    for (const i of [0, 1]) {
      const page = await browser.newPage();
      await page.goto(`${server.url}/blank.html`);
      await page.addScriptTag({url: `/${i}/p2pcdn-core.js`});
      await page.addScriptTag({content: [randomBody, sampleMiBs, warmUp].join('\n')});
      await page.evaluate(async () => {
        self.core = await createP2pcdnCore();  // eslint-disable-line no-undef
        self.bodies = {};
      });
      runners.push({
        run: (fn, size) => page.evaluate(([f, s]) => self[f](self.core, self.bodies, s), [fn, size]),
      });
    }
    return {version: browser.version(), ...(await compare(runners))};
  } finally {
    await browser.close();
    await server.close();
    fs.rmSync(root, {recursive: true, force: true});
  }
}

const node = await nodeFigures();
const chromium = await chromiumFigures();
console.log(JSON.stringify({a: dists[0], b: dists[1], rounds: ROUNDS, node, chromium}, null, 2));
