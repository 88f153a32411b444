// The company site with p2pcdn's inline loader (js_glue/loader.js) in place of its tag, as the
// README's "An HTTP/1.1 origin: the inline loader" says: each page's tag becomes the loader
// with data-sw, site.js registers nothing itself, and the manifest is made again (the pages
// changed). For tests/e2e/loader.test.mjs and the benches' LOADER=1.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import {ROOT} from './harness.mjs';

export const LOADER_LINE = fs.readFileSync(path.join(ROOT, 'js_glue/loader.js'), 'utf8').trim().split('\n').pop();
export const LOADER_TAG = `<script data-p2pcdn="/p2pcdn/p2pcdn.js" data-sw="/sw.js">${LOADER_LINE}</script>`;
const TAG = /<script (?:async|defer) src="\/p2pcdn\/p2pcdn.js"><\/script>/;

// Rewrites the assembled site at `root` (a copy of build/site/site) in place.
export function useLoader(root) {
  for (const page of ['index.html', 'products.html', 'about.html']) {
    const file = path.join(root, page);
    const html = fs.readFileSync(file, 'utf8');
    if (!TAG.test(html)) throw new Error(`${file}: p2pcdn's tag not found`);
    fs.writeFileSync(file, html.replace(TAG, LOADER_TAG));
    for (const ext of ['.gz', '.br']) fs.rmSync(file + ext, {force: true});
  }
  fs.writeFileSync(path.join(root, 'assets/site.js'), '// the site\'s own script: p2pcdn\'s loader registers its worker (data-sw)\n');
  for (const ext of ['.gz', '.br']) fs.rmSync(path.join(root, 'assets/site.js') + ext, {force: true});
  execFileSync(path.join(ROOT, 'build/native/server/p2pcdn-manifest'), [root, '--out', path.join(root, 'p2pcdn/manifest.json')], {stdio: 'ignore'});
  for (const ext of ['.gz', '.br']) fs.rmSync(path.join(root, 'p2pcdn/manifest.json') + ext, {force: true});
}
