// The company site with p2pcdn's script tag in place of its inline loader (js_glue/loader.js),
// as the README's "The script tag instead of the loader" says: each page's loader becomes the
// tag, site.js registers the worker through p2pcdn.registerWorker(), and the manifest is made
// again (the pages changed). For the tag's own tests and the benches' TAG=1.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import {ROOT} from './harness.mjs';

// p2pcdn's loader as the company site's pages carry it (with data-sw).
export const LOADER = /<script data-p2pcdn="\/p2pcdn\/p2pcdn.js" data-sw="\/sw.js">[^<]*<\/script>/;
const TAG = '<script defer src="/p2pcdn/p2pcdn.js"></script>';
// p2pcdn's tag or its loader, with the white space before it: what a copy of the site
// "without p2pcdn" drops (tests/e2e/wpe.test.mjs, bench/wpe_bench.mjs).
export const TAG_OR_LOADER = /\s*<script (?:(?:async|defer) src="\/p2pcdn\/p2pcdn.js">|data-p2pcdn="[^"]*"[^>]*>[^<]*)<\/script>/;
export const PAGES = ['index.html', 'products.html', 'about.html'];

// A file changed in place: its precompressed siblings are stale.
function dropCompressed(file) {
  for (const ext of ['.gz', '.br']) fs.rmSync(file + ext, {force: true});
}

export function changed(file, text) {
  fs.writeFileSync(file, text);
  dropCompressed(file);
}

// The manifest of the assembled site at `root` made again, after its pages changed.
export function remakeManifest(root) {
  const manifest = path.join(root, 'p2pcdn/manifest.json');
  execFileSync(path.join(ROOT, 'build/native/server/p2pcdn-manifest'), [root, '--out', manifest], {stdio: 'ignore'});
  dropCompressed(manifest);
}

// Rewrites the assembled site at `root` (a copy of build/site/site) in place.
export function useTag(root) {
  for (const page of PAGES) {
    const file = path.join(root, page);
    const html = fs.readFileSync(file, 'utf8');
    if (!LOADER.test(html)) throw new Error(`${file}: p2pcdn's loader not found`);
    changed(file, html.replace(LOADER, TAG));
  }
  changed(path.join(root, 'assets/site.js'),
          "// the site's own script: registers its worker through p2pcdn, after a first visit's largest paint\n" +
              "if (window.p2pcdn && window.p2pcdn.registerWorker) window.p2pcdn.registerWorker('/sw.js');\n");
  remakeManifest(root);
}
