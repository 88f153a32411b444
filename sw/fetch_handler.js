// Whether the browser answers this request itself, from its HTTP cache (http_freshness.js):
// decided synchronously, so only once this worker has its manifest in hand. The page is
// still told, for its figures.
function leftToBrowser(event) {
  const manifest = state.manifestNow;
  const url = event.request.url.split('#')[0];
  const file = manifest && manifest.files.get(url);
  if (!file || !state.httpFresh.answers(event.request, url, file)) return false;
  const clientId = event.clientId || event.resultingClientId;
  notify(clientId, {type: 'served', url, source: 'cache', browser: true, bytes: file.size, cached: state.storage.mayHold(url)});
  state.storage.used(url);
  return true;
}

// A page's stylesheets and scripts can hold back p2pcdn's own tag (a deferred script runs
// only once the stylesheets before it are in): waiting for that page to attach would wait
// on itself. They go to the origin (or another attached page) at once.
const HOLDS_BACK_THE_TAG = new Set(['style', 'script']);

// How one shareable request is answered: a current copy in Cache Storage, else a page
// fetching from peers, else the origin (through the browser's HTTP cache, as without
// p2pcdn). Large files stream as pieces (pieced_response.js).
async function handle(event) {
  const request = event.request;
  // A worker just started: the switch and the site's preference are read before the first answer.
  await Promise.all([state.visitorSwitch.loaded, state.taggedPages.loaded]);
  if (state.visitorSwitch.off) return fetch(request);
  let manifest;
  try {
    manifest = await loadManifest();
  } catch (_) {
    return fetch(request);  // no manifest, nothing to verify against: plain fetch
  }
  const url = request.url.split('#')[0];
  const file = manifest.files.get(url);
  if (!file) return fetch(request);
  // A request with its own integrity value that does not name the manifest's hash is left
  // to the browser: we could not vouch for bytes it does not expect.
  if (request.integrity && !request.integrity.split(/\s+/).includes(file.integrity)) return fetch(request);
  const clientId = event.clientId || event.resultingClientId;
  await adoptionOf(url);
  if (file.pieces && file.size > 0 && !request.integrity) {
    try {
      return await piecedResponse(request, url, file, clientId);
    } catch (err) {
      console.warn(`p2pcdn: ${url}: ${err.message}; fetched whole`);
    }
  }
  const cache = await openCopies();
  const held = state.storage.mayHold(url);
  const cached = held ? await currentCopy(cache, url, file) : null;
  if (held && !cached && !file.pieces) state.storage.lost(url);
  if (cached) {
    notify(clientId, {type: 'served', url, source: 'cache', bytes: file.size});
    state.storage.used(url);
    return withRange(request, typedFor(cached, file, request.destination));
  }
  if (startsLater(clientId)) return fromOrigin(event, request, url, file, cache, clientId, () => askOnAttach(clientId, url, file));
  const port = await pickPage(clientId, !HOLDS_BACK_THE_TAG.has(request.destination));
  if (port && port === state.pages.get(clientId) && state.startingPages.has(port)) {
    // A first visit still loading: its p2pcdn starts once the page has loaded, and no link
    // can be open before that. The origin now, as without p2pcdn; peers only if it fails.
    return fromOrigin(event, request, url, file, cache, clientId, () => askPage(port, url, file, true));
  }
  const peers = port && file.size > 0 ? await askPageOnce(port, url, file) : null;
  if (peers && peers.body) return fromPeers(event, request, url, file, cache, clientId, peers);
  // The page chose the origin as likely faster: if the origin fails, peers after all.
  const retry = peers && peers.reason === 'originFaster' ? () => askPage(port, url, file, true) : null;
  return fromOrigin(event, request, url, file, cache, clientId, retry);
}

function fromPeers(event, request, url, file, cache, clientId, result) {
  state.cutOff.forget(url);
  const response = responseFromPeer(result, file, true, request.destination);  // verified by the page's core (a copy of its bytes)
  if (result.kept) return withRange(request, response);  // a shared answer, stored by its first request
  result.kept = true;
  const copy = responseFromPeer(result, file);
  event.waitUntil(afterPageRead().then(() => cache.put(url, copy)).then(() => {
    notify(clientId, {type: 'served', url, source: 'peer', bytes: file.size, cached: true});
    state.storage.stored(url, file.size);
  }));
  return withRange(request, response);
}

// A copy is written once the page has read the body it waits for: on a small machine a Cache
// Storage write alongside that read made a 12 KiB file from a peer ~2 ms later (bench/README).
const P2PCDN_WRITE_AFTER_MS = 30;
const afterPageRead = () => new Promise((resolve) => setTimeout(resolve, P2PCDN_WRITE_AFTER_MS));

// The origin: the browser's HTTP cache answers as it would without p2pcdn, unless this
// worker dropped a copy of the file as another deploy's (its HTTP cache may hold those
// bytes too). `retry`: asks peers when the origin fails (down, or an error status).
async function fromOrigin(event, request, url, file, cache, clientId, retry) {
  const cacheMode = originCacheMode(url, file);
  // A media element's Range request for a small file: fetch it whole once, keep it, answer the range.
  const ranged = request.headers.has('range');
  if (!ranged) {
    const resumed = await resumeFromOrigin(url, file, cacheMode).catch(() => null);
    if (resumed) return fromOriginResumed(event, url, file, cache, clientId, resumed);
  }
  const originRequest = ranged ? new Request(url, {credentials: 'same-origin', cache: cacheMode})
                               : cacheMode === 'default' ? request : new Request(request, {cache: cacheMode});
  const started = performance.now();
  let response = null;
  let error = null;
  try {
    response = await fetch(originRequest);
  } catch (err) {
    error = err;
  }
  const headersAt = performance.now();
  if ((!response || !response.ok) && retry) {
    const peers = await retry();
    if (peers.body) return fromPeers(event, request, url, file, cache, clientId, peers);
  }
  if (!response) throw error;
  const kept = (async () => {
    const body = await response.clone().arrayBuffer();
    noteOrigin(url, started, headersAt, body.byteLength);
    const stored = await keep(cache, response, body, file, url);
    notify(clientId, {type: 'served', url, source: 'origin', bytes: body.byteLength, cached: stored});
    return body;
  })();
  if (!ranged) {
    event.waitUntil(kept);
    return response;
  }
  return withRange(request, new Response(await kept, {status: response.status, headers: response.headers}));
}

// A file whose start a navigation cut off, completed from the origin and verified whole: kept
// and answered as a whole-file response. Only the rest crossed the network.
function fromOriginResumed(event, url, file, cache, clientId, resumed) {
  // Not through keep(): the browser's HTTP cache holds the rest at most, so it is not told fresh.
  // `resumedStart`: a peer's bytes the origin was not asked for (the page counts them as used).
  const note = (cached) => notify(clientId, {type: 'served', url, source: 'origin', bytes: resumed.rest, cached, resumedStart: file.size - resumed.rest});
  event.waitUntil(cache.put(url, asCopy(resumed.body, 200, resumed.headers, file)).then(() => {
    state.storage.stored(url, file.size);
    note(true);
  }, () => note(false)));
  return new Response(resumed.body, {status: 200, headers: resumed.headers});
}
