// The npm package as a site would use it: `npm pack`, installed from the tarball into a fresh
// project, bundled by esbuild and by Rollup (from npm), served, and two Chromium visitors,
// one on each bundle, share an image through it. Its types checked by tsc on consumer files.
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';

import nodeResolve from '@rollup/plugin-node-resolve';
import * as esbuild from 'esbuild';
import {rollup} from 'rollup';

import {fileHash, newVisitor, pageHashes, ROOT, startServer, stats, waitFor} from './harness.mjs';

const BIN = path.join(ROOT, 'node_modules/.bin');
const PHOTO = path.join(ROOT, 'build/site/site/assets/img/photo-1.jpg');
let project;

// The consumer's page code: what a site writes, nothing of this repository's.
const MAIN = `import {start} from 'p2pcdn';

const p2pcdn = start({preferPeers: true});
window.consumerReady = p2pcdn.ready.then(() => true);
// A first visit shows the photo once the worker controls the page, so it goes through p2pcdn.
function show() {
  const img = document.createElement('img');
  img.id = 'photo';
  img.src = '/img/photo.jpg';
  document.body.append(img);
}
if (navigator.serviceWorker.controller) show();
else navigator.serviceWorker.addEventListener('controllerchange', show, {once: true});
navigator.serviceWorker.register('/sw.js');
`;

const page = (bundle) => `<!doctype html><html><head><meta charset="utf-8"><title>${bundle}</title>
<link rel="icon" href="data:,"><script type="module" src="/${bundle}"></script></head><body></body></html>
`;

const CONSUMER_TS = `import {start, type P2pcdnConfig, type P2pcdnStatsSnapshot} from 'p2pcdn';

const config: P2pcdnConfig = {iceServers: [{urls: 'stun:stun.example.org'}], preferPeers: true, wasmUrl: '/x.wasm'};
const p2pcdn = start(config);
p2pcdn.addEventListener('joined', () => console.log(p2pcdn.joined));
p2pcdn.stats.addEventListener('stats', (e) => console.log(e.detail.bytesFromPeers.toFixed(0), e.detail.noPeerReason));
const s: P2pcdnStatsSnapshot = p2pcdn.stats.snapshot();
console.log(s.failures.stalled, s.pieces.fromPeers, window.p2pcdn === p2pcdn);
void p2pcdn.ready.then(() => undefined);
// @ts-expect-error a misspelt key is an error
start({manifestURL: '/m.json'});
// @ts-expect-error maxPeers is a number
start({maxPeers: 'eight'});
`;

const WORKER_TS = `/// <reference types="p2pcdn/sw" />
importScripts('/p2pcdn-sw.js');
p2pcdn.configure({shareable: ['/img/', /\\.mp4$/], maxStorageBytes: 1 << 28});
console.log(p2pcdn.config.pieceReadAhead);
// @ts-expect-error shareable is required
p2pcdn.configure({});
`;

function write(file, text) {
  fs.mkdirSync(path.dirname(file), {recursive: true});
  fs.writeFileSync(file, text);
}

// A fresh project with the packed tarball installed, as `npm install p2pcdn` would.
before(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'p2pcdn-consumer-'));
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', project], {cwd: ROOT, encoding: 'utf8'}).trim().split('\n').pop();
  write(path.join(project, 'package.json'), JSON.stringify({name: 'consumer', private: true, version: '1.0.0'}));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', path.join(project, tarball)],
               {cwd: project, stdio: 'pipe', timeout: 60000});
});

after(() => fs.rmSync(project, {recursive: true, force: true}));

test('the tarball holds only what a site needs', () => {
  const installed = path.join(project, 'node_modules/p2pcdn');
  const files = execFileSync('find', ['.', '-type', 'f'], {cwd: installed, encoding: 'utf8'}).trim().split('\n').map((f) => f.slice(2)).sort();
  assert.deepEqual(files.filter((f) => !/^(README\.md|LICENSE|package\.json)$/.test(f)),
                   ['dist/p2pcdn-core.wasm', 'dist/p2pcdn-loader.js', 'dist/p2pcdn-sw.js', 'dist/p2pcdn.js', 'dist/p2pcdn.mjs', 'types/p2pcdn.d.ts', 'types/sw.d.ts']);
});

test('its types check against a consumer page and worker (tsc --noEmit)', () => {
  write(path.join(project, 'ts/page/consumer.ts'), CONSUMER_TS);
  write(path.join(project, 'ts/page/tsconfig.json'), JSON.stringify({
    compilerOptions: {strict: true, noEmit: true, target: 'es2020', module: 'esnext', moduleResolution: 'bundler', lib: ['es2020', 'dom']},
    include: ['consumer.ts'],
  }));
  write(path.join(project, 'ts/worker/sw.ts'), WORKER_TS);
  write(path.join(project, 'ts/worker/tsconfig.json'), JSON.stringify({
    compilerOptions: {strict: true, noEmit: true, target: 'es2020', module: 'esnext', moduleResolution: 'bundler', lib: ['es2020', 'webworker'], types: []},
    include: ['sw.ts'],
  }));
  for (const dir of ['ts/page', 'ts/worker']) {
    try {
      execFileSync(path.join(BIN, 'tsc'), ['-p', path.join(project, dir)], {cwd: project, encoding: 'utf8', timeout: 120000});
    } catch (err) {
      assert.fail(`tsc ${dir}: ${err.stdout}${err.stderr}`);
    }
  }
});

test('bundled by esbuild and by Rollup, two visitors share an image through the package', async () => {
  const pub = path.join(project, 'public');
  write(path.join(project, 'src/main.js'), MAIN);
  await esbuild.build({entryPoints: [path.join(project, 'src/main.js')], bundle: true, format: 'esm', minify: true,
                       outfile: path.join(pub, 'app-esbuild.js'), logLevel: 'error', absWorkingDir: project});
  const bundle = await rollup({input: path.join(project, 'src/main.js'), plugins: [nodeResolve({browser: true, rootDir: project})],
                               onwarn: (w) => assert.fail(`rollup: ${w.message}`)});
  await bundle.write({file: path.join(pub, 'app-rollup.js'), format: 'es'});
  await bundle.close();
  // What the package's exports name: the worker part and the .wasm, copied where a site serves them.
  const resolve = (spec) => execFileSync('node', ['-p', `require.resolve(${JSON.stringify(spec)})`], {cwd: project, encoding: 'utf8'}).trim();
  fs.copyFileSync(resolve('p2pcdn/sw'), path.join(pub, 'p2pcdn-sw.js'));
  fs.copyFileSync(resolve('p2pcdn/p2pcdn-core.wasm'), path.join(pub, 'p2pcdn-core.wasm'));
  write(path.join(pub, 'sw.js'), "importScripts('/p2pcdn-sw.js');\np2pcdn.configure({shareable: ['/img/']});\n");
  write(path.join(pub, 'esbuild.html'), page('app-esbuild.js'));
  write(path.join(pub, 'rollup.html'), page('app-rollup.js'));
  fs.mkdirSync(path.join(pub, 'img'));
  fs.copyFileSync(PHOTO, path.join(pub, 'img/photo.jpg'));
  fs.mkdirSync(path.join(pub, 'p2pcdn'));
  execFileSync(path.join(ROOT, 'build/native/server/p2pcdn-manifest'), [pub, '--out', path.join(pub, 'p2pcdn/manifest.json')]);

  const server = await startServer({root: pub, port: 8501});
  const visitors = [];
  try {
    const photoBytes = async () => (await server.metrics())['p2pcdn_static_bytes_total{path="/img/photo.jpg"}'] || 0;
    const size = fs.statSync(PHOTO).size;
    const visit = async (v, html) => {
      await v.page.goto(`${server.url}/${html}`);
      await v.page.waitForFunction(() => {
        const img = document.getElementById('photo');
        return img && img.complete && img.naturalWidth > 0;
      }, null, {timeout: 30000, polling: 100});
      assert.equal(await v.page.evaluate(() => window.consumerReady), true, `${html}: p2pcdn started`);
    };
    // A, on the esbuild bundle, fetches the photo from the origin and keeps it.
    const a = await newVisitor(server.url);
    visitors.push(a);
    await visit(a, 'esbuild.html');
    const announced = await waitFor(async () => (await server.metrics()).p2pcdn_announcements >= 1, 15000);
    assert.ok(announced, 'A announced the photo');
    assert.equal(await photoBytes(), size, 'A took the photo from the origin, once');
    // B, on the Rollup bundle, gets it from A.
    const b = await newVisitor(server.url);
    visitors.push(b);
    await visit(b, 'rollup.html');
    const s = await waitFor(async () => {
      const x = await stats(b);
      return x.requestsFromPeers >= 1 && x;
    }, 10000);
    assert.ok(s, `B took the photo from a peer: ${JSON.stringify(await stats(b))}`);
    assert.equal(s.bytesFromPeers, size);
    assert.equal(await photoBytes(), size, 'the origin sent the photo to A only');
    assert.deepEqual(await pageHashes(b, ['/img/photo.jpg']), {'/img/photo.jpg': fileHash(PHOTO)});
    assert.deepEqual(a.errors, [], 'A console');
    assert.deepEqual(b.errors, [], 'B console');
  } finally {
    for (const v of visitors) await v.close();
    await server.stop();
  }
});
