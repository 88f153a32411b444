// Runs js_core_bench.mjs inside headless Chromium (the environment the core ships to) and
// prints its figures as JSON. Page served on loopback, so crypto.subtle is available.
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {launchChromium} from '../tests/browser/chromium.mjs';
import {serveStatic} from '../tests/browser/static_server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const server = await serveStatic(root);
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}/bench/blank.html`);
  await page.addScriptTag({url: '/dist/p2pcdn-core.js'});
  const figures = await page.evaluate(async (runs) => {
    const {measure} = await import('/bench/js_core_bench.mjs');
    const core = await createP2pcdnCore();  // eslint-disable-line no-undef
    return measure({core, subtle: crypto.subtle, now: () => performance.now(), runs});
  }, Number(process.env.RUNS || 7));
  console.log(JSON.stringify({environment: `Chromium ${browser.version()}`, ...figures}, null, 2));
} finally {
  await browser.close();
  await server.close();
}
