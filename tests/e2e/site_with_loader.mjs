// The company site with p2pcdn's inline loader (js_glue/loader.js) in place of its tag, as the
// README's "An HTTP/1.1 origin: the inline loader" says: each page's tag becomes the loader
// with data-sw, site.js registers nothing itself, and the manifest is made again (the pages
// changed). For tests/e2e/loader.test.mjs and the benches' LOADER=1.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import {ROOT} from './harness.mjs';

const LOADER_LINE = fs.readFileSync(path.join(ROOT, 'js_glue/loader.js'), 'utf8').trim().split('\n').pop();
const LOADER_TAG = `<script data-p2pcdn="/p2pcdn/p2pcdn.js" data-sw="/sw.js">${LOADER_LINE}</script>`;
const TAG = /<script (?:async|defer) src="\/p2pcdn\/p2pcdn.js"><\/script>/;
// p2pcdn's tag or its loader, with the white space before it: what a copy of the site
// "without p2pcdn" drops (tests/e2e/wpe.test.mjs, bench/wpe_bench.mjs).
export const TAG_OR_LOADER = /\s*<script (?:(?:async|defer) src="\/p2pcdn\/p2pcdn.js">|data-p2pcdn="[^"]*"[^>]*>[^<]*)<\/script>/;

// A file changed in place: its precompressed siblings are stale.
function dropCompressed(file) {
  for (const ext of ['.gz', '.br']) fs.rmSync(file + ext, {force: true});
}

function changed(file, text) {
  fs.writeFileSync(file, text);
  dropCompressed(file);
}

// Rewrites the assembled site at `root` (a copy of build/site/site) in place.
export function useLoader(root) {
  for (const page of ['index.html', 'products.html', 'about.html']) {
    const file = path.join(root, page);
    const html = fs.readFileSync(file, 'utf8');
    if (!TAG.test(html)) throw new Error(`${file}: p2pcdn's tag not found`);
    changed(file, html.replace(TAG, LOADER_TAG));
  }
  changed(path.join(root, 'assets/site.js'), '// the site\'s own script: p2pcdn\'s loader registers its worker (data-sw)\n');
  const manifest = path.join(root, 'p2pcdn/manifest.json');
  execFileSync(path.join(ROOT, 'build/native/server/p2pcdn-manifest'), [root, '--out', manifest], {stdio: 'ignore'});
  dropCompressed(manifest);
}
