// The worker's side of the page bridge: each controlled page with p2pcdn.js attaches a
// MessageChannel port; the worker asks pages to fetch from peers over it (bytes travel
// transferred, not copied) and tells them what it served, so their stats are whole.

// Tells a page what was served for it. A page's first requests are answered before its
// script has attached, so those notes wait for it (a few, for a few pages).
function notify(clientId, message) {
  const port = state.pages.get(clientId);
  if (port) return port.postMessage(message);
  if (!clientId) return;
  if (!state.unsent.has(clientId)) {
    if (state.unsent.size >= 16) state.unsent.delete(state.unsent.keys().next().value);
    state.unsent.set(clientId, []);
  }
  const queue = state.unsent.get(clientId);
  if (queue.length < 256) queue.push(message);
}

// Tells every attached page (each one is a peer that may now serve it).
function notifyAll(message) {
  for (const port of state.pages.values()) port.postMessage(message);
}

// The requesting page's port, waiting briefly for it if that page has not attached yet and
// is expected to (tagged_pages.js); else any page's port; else null. A page not expected to
// attach gets null: its requests are not held.
async function pickPage(clientId, mayWait = true) {
  if (mayWait && clientId && !state.pages.has(clientId)) {
    const client = await self.clients.get(clientId);
    // Checked again after each await: the page may attach meanwhile.
    if (client && !state.pages.has(clientId)) {
      const manifest = await loadManifest().catch(() => null);
      if (!state.taggedPages.expects(client.url, manifest)) return null;
      // p2pcdn's loader runs a later page's p2pcdn.js after load, which may wait for this very
      // request: the page is told to run it now (js_glue/loader.js), once.
      if (!state.attachWaiters.has(clientId)) client.postMessage({type: 'p2pcdn:attach'});
      await new Promise((resolve) => {
        const waiters = state.attachWaiters.get(clientId) || [];
        waiters.push(resolve);
        state.attachWaiters.set(clientId, waiters);
        setTimeout(resolve, state.config.pageAttachMs);
      });
      if (!state.pages.has(clientId)) state.taggedPages.onSilent(client.url);
    }
  }
  if (state.pages.has(clientId)) return state.pages.get(clientId);
  const any = [...state.pages.values()];
  return any.length ? any[any.length - 1] : null;
}

// Whether the page `clientId`, not attached yet, will put its start off once it does: the
// site's pages do (TaggedPages.putStartOff), and until a page has started the worker sends
// what it lacks to the origin (fetch_handler.js). Its first requests then go there at once:
// waiting for its attach only made them later (all at once on two cores, a later page's
// photos came 0.4-2.2 s late, as late as its p2pcdn.js ran; bench/README.md).
function startsLater(clientId) {
  return !!clientId && !state.pages.has(clientId) && state.taggedPages.putStartOff;
}

// A file the origin failed, asked of the page `clientId` once it has attached (bounded).
async function askOnAttach(clientId, url, file) {
  const port = await pickPage(clientId);
  return port ? askPage(port, url, file, true) : {reason: 'noPeers'};
}

// Asks a page to fetch a whole file from peers. Resolves {body, headers}, or {reason} when
// the page did not deliver; never rejects. `originFailed`: the origin failed it, so the page
// looks for peers whatever the origin's speed.
async function askPage(port, url, file, originFailed = false) {
  const id = ++state.nextId;
  await state.originSpeed.load();
  return new Promise((resolve) => {
    const entry = {resolve, timer: 0};
    const arm = (ms) => {
      clearTimeout(entry.timer);
      entry.timer = setTimeout(() => {
        state.pending.delete(id);
        port.postMessage({type: 'cancel', id, reason: 'stalled'});  // stop the peer transfer: no double traffic
        resolve({reason: 'stalled'});
      }, ms);
    };
    entry.arm = arm;
    state.pending.set(id, entry);
    arm(state.config.firstByteTimeoutMs);
    const origin = originFailed ? {failed: true} : state.originSpeed.snapshot();
    // The start of a prefetch a navigation cut off: the page asks peers for the rest only.
    const start = state.cutOff.startOf(url, file);
    port.postMessage({type: 'fetch', id, url, size: file.size, integrity: file.integrity, origin, start});
  });
}

// A page's requests for one file at once (its fetch() while its <img> of the same URL is on
// its way) share one transfer from peers: the second waits for the first's answer.
const asking = new Map();  // url -> {port, answer}

function askPageOnce(port, url, file) {
  const open = asking.get(url);
  if (open && open.port === port) return open.answer;
  const answer = askPage(port, url, file);
  asking.set(url, {port, answer});
  answer.then(() => {
    if (asking.get(url) && asking.get(url).answer === answer) asking.delete(url);
  });
  return answer;
}

function onPageMessage(m, port, clientId) {
  if (m.type === 'adopt' && Array.isArray(m.urls)) return adoptFor(m.urls.slice(0, 1000), clientId);
  if (m.type === 'manifest') return answerManifest(m, port).catch(() => port.postMessage({type: 'manifest', id: m.id, manifest: null}));
  if (m.type === 'wanted') return answerWanted(m, port).catch(() => port.postMessage({type: 'wanted', id: m.id, urls: []}));
  if (m.type === 'store') return storePrefetched(m, port).catch(() => {});
  if (m.type === 'cut-off') return keepCutOff(m).catch(() => {});
  if (m.type === 'take-cut-off') return giveCutOff(m, port).catch(() => port.postMessage({type: 'take-cut-off', id: m.id, body: null}));
  if (m.type === 'prefetch-origin') return prefetchFromOrigin(m, port).catch(() => port.postMessage({type: 'prefetch-origin', id: m.id, bytes: 0, cached: false}));
  if (m.type === 'prefetch-pieces') return answerPrefetchPieces(m, port).catch(() => port.postMessage({type: 'prefetch-pieces', id: m.id, bytes: 0}));
  if (m.type === 'leaving') return forgetPage(port, clientId);
  if (m.type === 'started') {
    state.startingPages.delete(port);
    for (const source of state.pieceSources.values()) if (source.port === port) source.noPeersUntil = 0;
    return;
  }
  // A file left to the browser came over the network: its HTTP cache was cleared or evicted.
  if (m.type === 'browser-missed') return state.httpFresh.forgetAll();
  if (m.type === 'used' && Array.isArray(m.urls)) return m.urls.slice(0, 1000).forEach((url) => state.storage.used(url));
  if (m.type === 'piece' || m.type === 'pieces-missing') return PieceSource.onPageMessage(m);
  const entry = state.pending.get(m.id);
  if (!entry) return;
  if (m.type === 'progress') {
    entry.arm(state.config.progressTimeoutMs);
    return;
  }
  clearTimeout(entry.timer);
  state.pending.delete(m.id);
  entry.resolve(m.ok ? {body: m.body, headers: m.headers} : {reason: String(m.reason)});
}

// What a page loaded before this worker controlled it, kept (cache_policy.js).
// A page asks for its adoptions once it is done starting, or as it leaves: a request of the
// next page for one of those files waits for its copy (a read of the HTTP cache and a store),
// at most P2PCDN_ADOPTING_WAIT_MS, rather than fetch it again beside the adoption.
const P2PCDN_ADOPTING_WAIT_MS = 1000;
const adopting = new Map();  // url -> {done: Promise, resolve}, one per file under adoption: the adoptions under way

function adoptFor(urls, clientId) {
  const mine = new Map();
  for (const url of urls) {
    if (typeof url !== 'string' || adopting.has(url)) continue;
    const entry = {};
    entry.done = new Promise((resolve) => { entry.resolve = resolve; });
    adopting.set(url, entry);
    mine.set(url, entry);
  }
  const settled = (url) => {
    const entry = mine.get(url);
    if (!entry) return;
    mine.delete(url);
    if (adopting.get(url) === entry) adopting.delete(url);
    entry.resolve();
  };
  return adopt([...mine.keys()], clientId, settled).catch(() => {}).finally(() => [...mine.keys()].forEach(settled));
}

// Resolves when `url`'s adoption under way is done (at once if none is), bounded.
function adoptionOf(url) {
  const entry = adopting.get(url);
  if (!entry) return Promise.resolve();
  return Promise.race([entry.done, new Promise((resolve) => setTimeout(resolve, P2PCDN_ADOPTING_WAIT_MS))]);
}

// A page's prefetch asks which of these URLs to fetch from peers: those this worker shares
// and does not hold yet (a large file: some of whose pieces it lacks). It waits for the
// adoptions of these URLs only: a first visit's own files, adopted meanwhile, are not among
// them, and the visitor's seconds on the page are the prefetch's whole window.
async function answerWanted(m, port) {
  const asked = (Array.isArray(m.urls) ? m.urls : []).slice(0, 1000);
  await Promise.all(asked.map(adoptionOf));
  const manifest = await loadManifest();
  const held = await heldUrls(await openCopies());
  const urls = [];
  for (const url of asked) {
    const file = typeof url === 'string' && manifest.files.get(url);
    if (!file || !shareable(new Request(url)) || held.has(url)) continue;
    if (file.pieces && allPiecesHeld(held, url, file)) continue;
    urls.push(url);
  }
  port.postMessage({type: 'wanted', id: m.id, urls, cutOff: state.cutOff.heldOf(urls, manifest)});
}

// A page leaving with a whole-file prefetch under way hands on the bytes it had.
async function keepCutOff(m) {
  const manifest = await loadManifest();
  if (typeof m.url === 'string') state.cutOff.keep(m.url, m.integrity, m.body, manifest.files.get(m.url));
}

// A page resuming a prefetch takes the start kept for it (transferred: one page resumes it).
async function giveCutOff(m, port) {
  const manifest = await loadManifest();
  const body = typeof m.url === 'string' ? state.cutOff.take(m.url, manifest.files.get(m.url)) : null;
  port.postMessage({type: 'take-cut-off', id: m.id, body}, body ? [body] : []);
}

// From the keys listed once above: no source made, no listing per file.
function allPiecesHeld(held, url, file) {
  const count = Math.ceil(file.size / file.pieces.size);
  for (let i = 0; i < count; i++) if (!held.has(p2pcdnPieceKeyOf(url, i))) return false;
  return true;
}

// A page's prefetch of a large file's pieces, from its peers only; answers the bytes they
// delivered once done.
async function answerPrefetchPieces(m, port) {
  const manifest = await loadManifest();
  const file = typeof m.url === 'string' && manifest.files.get(m.url);
  const maxBytes = Number(m.maxBytes);
  let bytes = 0;
  if (file && file.pieces && shareable(new Request(m.url)) && maxBytes > 0) {
    bytes = await PieceSource.of(m.url, file).prefetch(port, maxBytes);
  }
  port.postMessage({type: 'prefetch-pieces', id: m.id, bytes});
}

// A page going for good: nothing more is asked of it (its open asks it fails itself).
function forgetPage(port, clientId) {
  if (state.pages.get(clientId) === port) state.pages.delete(clientId);
  state.startingPages.delete(port);
}

function attachPage(event) {
  const port = event.ports[0];
  const id = event.source.id;
  const url = event.source.url;
  const starting = event.data.starting;
  // A page attaches only while the visitor's switch is on: that is said here, not apart.
  if (event.data.off === false) event.waitUntil(state.visitorSwitch.set(false).catch(() => {}));
  // Whether the page is a first visit (claimed at activation, its navigation under no worker)
  // is known once the claimed pages are read back; the port's messages queue until then.
  event.waitUntil(state.claimedPages.loaded.then(() => {
    const claimed = state.claimedPages.pages.has(id);
    port.onmessage = (e) => onPageMessage(e.data || {}, port, id);
    port.postMessage({type: 'attached', claimed});
    state.pages.set(id, port);
    if (url) state.taggedPages.onAttach(url, event.data.preferPeers);
    if (starting === true || (starting === 'if-claimed' && claimed)) state.startingPages.add(port);
    for (const message of state.unsent.get(id) || []) port.postMessage(message);
    state.unsent.delete(id);
    for (const resolve of state.attachWaiters.get(id) || []) resolve();
    state.attachWaiters.delete(id);
    // Forget pages that have gone.
    return self.clients.matchAll().then((clients) => {
      const live = new Set(clients.map((c) => c.id));
      for (const pageId of state.pages.keys()) if (!live.has(pageId)) state.pages.delete(pageId);
    });
  }));
}
