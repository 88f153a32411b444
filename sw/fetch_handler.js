// How one shareable request is answered: a current copy in Cache Storage, else a page
// fetching from peers, else the origin (through the browser's HTTP cache, as without
// p2pcdn). Large files stream as pieces (pieced_response.js).
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
      return await piecedResponse(request, url, file, clientId);
    } catch (err) {
      console.warn(`p2pcdn: ${url}: ${err.message}; fetched whole`);
    }
  }
  const cache = await openCopies();
  const cached = await currentCopy(cache, url, file);
  if (cached) {
    notify(clientId, {type: 'served', url, source: 'cache', bytes: file.size});
    return withRange(request, cached);
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
  // The browser's HTTP cache answers as it would without p2pcdn, unless this worker dropped
  // a copy of the file as another deploy's: its HTTP cache may hold those bytes too.
  const cacheMode = state.changedUrls.has(url) ? 'no-cache' : 'default';
  if (request.headers.has('range')) {
    // A media element asks for a range of a small file: fetch it whole once, keep it, answer the range.
    const whole = await fetch(new Request(url, {credentials: 'same-origin', cache: cacheMode}));
    const body = await whole.clone().arrayBuffer();
    const kept = await keep(cache, whole, body, file, url);
    notify(clientId, {type: 'served', url, source: 'origin', bytes: body.byteLength, cached: kept});
    return withRange(request, new Response(body, {status: whole.status, headers: whole.headers}));
  }
  const response = await fetch(cacheMode === 'default' ? request : new Request(request, {cache: cacheMode}));
  event.waitUntil((async () => {
    const body = await response.clone().arrayBuffer();
    const kept = await keep(cache, response, body, file, url);
    notify(clientId, {type: 'served', url, source: 'origin', bytes: body.byteLength, cached: kept});
  })());
  return response;
}
