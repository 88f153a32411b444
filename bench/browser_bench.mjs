// Runs js_core_bench.mjs inside headless Chromium (the environment the core ships to) and
// prints its figures as JSON. Page served on loopback, so crypto.subtle is available.
// JS_FLAGS passes V8 flags to Chromium, e.g. JS_FLAGS=--no-liftoff (every Wasm function
// compiled by TurboFan up front) or JS_FLAGS=--liftoff-only (baseline tier only) to check
// which tier the default run measures.
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {launchChromium} from '../tests/browser/chromium.mjs';
import {serveStatic} from '../tests/browser/static_server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const server = await serveStatic(root);
const jsFlags = process.env.JS_FLAGS || '';
const browser = await launchChromium({extraArgs: jsFlags ? [`--js-flags=${jsFlags}`] : []});
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}/bench/blank.html`);
  await page.addScriptTag({url: '/dist/p2pcdn-core.js'});
  const figures = await page.evaluate(async (runs) => {
    const {measure} = await import('/bench/js_core_bench.mjs');
    const core = await createP2pcdnCore();  // eslint-disable-line no-undef
    return measure({core, subtle: crypto.subtle, now: () => performance.now(), runs});
  }, Number(process.env.RUNS || 7));
  const environment = `Chromium ${browser.version()}${jsFlags ? ` (${jsFlags})` : ''}`;
  console.log(JSON.stringify({environment, ...figures}, null, 2));
} finally {
  await browser.close();
  await server.close();
}
