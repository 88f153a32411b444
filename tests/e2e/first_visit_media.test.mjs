// A site that adopts p2pcdn with a plain <video src> on its first page: on a first visit the
// element starts on the network, then the worker installs and claims the page mid-playback.
// Chromium fails a media stream whose answers mix the network's and a worker's
// (PIPELINE_ERROR_READ), so the worker must leave that element's later Range requests to the
// network. Chromium inside the network namespace, the visitor's link slowed so that the film
// is still loading when the worker takes control.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'node:test';

import {newVisitor, ROOT, startServer, waitFor} from './harness.mjs';

const FILM = '/media/film.webm';

// A copy of the demo with one more page: the film, its source set in the HTML.
function siteWithPlainVideo() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'p2pcdn-plain-video-'));
  fs.cpSync(path.join(ROOT, 'build/site/demo'), root, {recursive: true});
  fs.writeFileSync(path.join(root, 'plain-video.html'), `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script defer src="/p2pcdn/p2pcdn.js" data-sw="/sw.js"></script><title>plain video</title></head>
<body><video src="${FILM}" muted autoplay playsinline></video></body></html>
`);
  return root;
}

test('a video playing when the worker claims its first-visit page plays on without an error', async () => {
  const root = siteWithPlainVideo();
  const server = await startServer({root, port: 8941});
  const v = await newVisitor(server.url, {config: {prefetchBytes: 0}});
  try {
    // ~8 Mbit/s: the film (~5 Mbit/s) keeps loading for its whole length.
    const cdp = await v.context.newCDPSession(v.page);
    await cdp.send('Network.emulateNetworkConditions', {offline: false, latency: 10, downloadThroughput: 1e6, uploadThroughput: -1});
    const mediaRequests = [];
    v.context.on('request', (r) => {
      if (new URL(r.url()).pathname === FILM) mediaRequests.push({range: r.headers().range || null, worker: !!r.serviceWorker()});
    });
    await v.page.goto(`${server.url}/plain-video.html`);
    const claimed = await waitFor(() => v.page.evaluate(() => !!navigator.serviceWorker.controller), 20000);
    assert.ok(claimed, 'the worker took control of the first page');
    // Past 12 s of the film: well after the claim, with Range requests made under the worker.
    const state = await waitFor(async () => {
      const s = await v.page.evaluate(() => {
        const video = document.querySelector('video');
        return {t: video.currentTime, error: video.error && `${video.error.code} ${video.error.message}`};
      });
      return (s.t > 12 || s.error) && s;
    }, 45000, 250);
    console.log(`# media requests: ${JSON.stringify(mediaRequests)}; state ${JSON.stringify(state)}`);
    assert.ok(state, 'the film played past 12 s');
    assert.equal(state.error, null);
    assert.deepEqual(v.errors, []);
  } finally {
    await v.close();
    await server.stop();
    fs.rmSync(root, {recursive: true, force: true});
  }
});
