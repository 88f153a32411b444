// How one shareable request is answered: Cache Storage, else the browser's HTTP cache if it
// holds this deploy's bytes, else a page fetching from peers, else the origin. Large files
// stream as pieces (pieced_response.js).
async function handle(event) {
  const request = event.request;
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
  if (file.pieces && file.size > 0 && !request.integrity) {
    try {
      return await piecedResponse(request, url, file, manifest, clientId);
    } catch (err) {
      console.warn(`p2pcdn: ${url}: ${err.message}; fetched whole`);
    }
  }
  const cache = await caches.open(manifest.cacheName);
  const cached = await cache.match(url);
  if (cached) {
    notify(clientId, {type: 'served', url, source: 'cache', bytes: file.size});
    return withRange(request, cached);
  }
  // Already in the browser's HTTP cache (e.g. loaded before this worker controlled the
  // page)? Then no peer or origin transfer is needed; keep a verified copy to share.
  // Only if they are this deploy's bytes: only-if-cached returns an entry however stale.
  const local = await fromHttpCache(url);
  const localBody = local && (await local.clone().arrayBuffer());
  if (local && (await matches(localBody, file))) {
    const kept = await keep(cache, local, localBody, file, url, true);
    notify(clientId, {type: 'served', url, source: 'cache', bytes: localBody.byteLength, cached: kept});
    return withRange(request, new Response(localBody, {status: 200, headers: local.headers}));
  }
  const port = await pickPage(clientId);
  const result = port && file.size > 0 ? await askPage(port, url, file) : null;
  if (result) {
    const response = responseFromPeer(result, file);  // verified by the page's core
    event.waitUntil(cache.put(url, response.clone()).then(() => {
      notify(clientId, {type: 'served', url, source: 'peer', bytes: file.size, cached: true});
    }));
    return withRange(request, response);
  }
  // The HTTP cache holds another deploy's bytes: ask the origin past it.
  const cacheMode = local ? 'no-cache' : 'default';
  if (request.headers.has('range')) {
    // A media element asks for a range of a small file: fetch it whole once, keep it, answer the range.
    const whole = await fetch(new Request(url, {credentials: 'same-origin', cache: cacheMode}));
    const body = await whole.clone().arrayBuffer();
    const kept = await keep(cache, whole, body, file, url);
    notify(clientId, {type: 'served', url, source: 'origin', bytes: body.byteLength, cached: kept});
    return withRange(request, new Response(body, {status: whole.status, headers: whole.headers}));
  }
  const response = await fetch(local ? new Request(request, {cache: cacheMode}) : request);
  event.waitUntil((async () => {
    const body = await response.clone().arrayBuffer();
    const kept = await keep(cache, response, body, file, url);
    notify(clientId, {type: 'served', url, source: 'origin', bytes: body.byteLength, cached: kept});
  })());
  return response;
}
