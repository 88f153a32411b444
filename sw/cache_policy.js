// What this worker keeps, and so shares: only public, complete, same-origin answers whose
// bytes are exactly what the manifest names. Cookies are not visible here: a site that
// personalises by cookie marks such answers private, as it must for any shared cache.
function cacheable(response) {
  if ((response.status !== 200 && response.status !== 206) || response.type === 'opaque') return false;
  const cc = (response.headers.get('cache-control') || '').toLowerCase();
  return !/\b(private|no-store)\b/.test(cc) && !response.headers.has('set-cookie');
}

async function sriOf(buffer) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', buffer));
  let binary = '';
  for (const b of digest) binary += String.fromCharCode(b);
  return `sha256-${btoa(binary)}`;
}

async function matches(body, file) {
  return body.byteLength === file.size && (await sriOf(body)) === file.integrity;
}

// Caches an origin response only if it is public and is exactly the bytes the manifest
// names: a stale deploy or a private answer is never spread.
async function keep(cache, response, body, file, url, verified = false) {
  if (response.status !== 200 || !cacheable(response)) return false;
  if (!verified && !(await matches(body, file))) return false;
  await cache.put(url, asCopy(body, 200, response.headers, file));
  state.cutOff.forget(url);
  state.storage.stored(url, body.byteLength);
  state.httpFresh.saw(url, file, response.headers);  // it came through the HTTP cache
  return true;
}

// How the origin is asked for `url`: through the browser's HTTP cache as without p2pcdn,
// unless this worker dropped a copy of it as another deploy's, or the HTTP cache holds other
// bytes (then revalidated).
function originCacheMode(url, file) {
  return state.changedUrls.has(url) || state.httpFresh.holdsOther(url, file) ? 'no-cache' : 'default';
}

// The rest of `url` from the origin after the start a navigation cut off (from a peer,
// unverified): {body, headers, rest} when start and rest are exactly the manifest's bytes,
// else null (the file is then fetched whole). The start is used once either way.
async function resumeFromOrigin(url, file, cacheMode) {
  const start = file.pieces ? null : state.cutOff.take(url, file);
  if (!start || start.byteLength >= file.size) return null;
  const from = start.byteLength;
  const res = await fetch(new Request(url, {credentials: 'same-origin', cache: cacheMode, headers: {range: `bytes=${from}-`}}));
  const range = parseContentRange(res.headers.get('content-range'));
  if (res.status !== 206 || !cacheable(res) || !range || range.first !== from || range.size !== file.size) {
    if (res.body) res.body.cancel().catch(() => {});
    return null;
  }
  const rest = await res.arrayBuffer();
  if (from + rest.byteLength !== file.size) return null;
  const whole = new Uint8Array(file.size);
  whole.set(new Uint8Array(start));
  whole.set(new Uint8Array(rest), from);
  if (!(await matches(whole.buffer, file))) return null;
  const headers = new Headers(res.headers);
  headers.delete('content-range');
  headers.set('content-length', String(file.size));
  return {body: whole.buffer, headers, rest: rest.byteLength};
}

function fromHttpCache(url) {
  return fetch(new Request(url, {cache: 'only-if-cached', mode: 'same-origin', credentials: 'same-origin'}))
      .then((res) => (res.ok ? res : null), () => null);
}

// The URLs a cache holds: one read of its keys instead of a match per URL.
async function heldUrls(cache) {
  return new Set((await cache.keys()).map((request) => request.url));
}

// The content type of an answer this worker makes itself (from a peer's body, or pieces):
// the manifest's where it names one; else what the request's destination needs (Chromium
// applies a stylesheet without a type, or with another, only as text/css: checked), else
// none (the browser sniffs images, media and fonts). Never a peer's: headers are not covered
// by the hash. `application/octet-stream` is the manifest tool's "not known".
function contentTypeFor(file, destination = '') {
  const type = typeof file.type === 'string' ? file.type.trim() : '';
  if (type && !/^application\/octet-stream\s*(;|$)/i.test(type)) return type;
  return {style: 'text/css', script: 'text/javascript'}[destination] || '';
}

// The headers of a body a peer delivered: the content type above, and of the peer's lines
// only a well-formed `last-modified`. A lying `content-type` with `x-content-type-options:
// nosniff` would otherwise stop a verified script or stylesheet from running, and be kept
// with the copy for later pages.
function headersFromPeer(text, file, destination = '') {
  const headers = new Headers();
  try {
    const type = contentTypeFor(file, destination);
    if (type) headers.set('content-type', type);
  } catch (_) {
    // A manifest's type that is no header value: none, as for a file the manifest gives no type.
  }
  for (const line of (text || '').split('\n')) {
    const at = line.indexOf(':');
    if (at <= 0 || line.slice(0, at).trim().toLowerCase() !== 'last-modified') continue;
    const value = line.slice(at + 1).trim();
    if (value.length <= 64 && !Number.isNaN(Date.parse(value))) headers.set('last-modified', new Date(value).toUTCString());
  }
  return headers;
}

// A copy kept without a type (the manifest names none, and it came from a peer) answers a
// stylesheet or script as one; every other answer goes as it is.
function typedFor(response, file, destination) {
  if (response.headers.has('content-type')) return response;
  const type = contentTypeFor(file, destination);
  if (!type) return response;
  const headers = new Headers(response.headers);
  headers.set('content-type', type);
  return new Response(response.body, {status: response.status, statusText: response.statusText, headers});
}

// `streamed`: the body as a one-chunk stream, for the page. Chromium hands a stream to the
// page through a data pipe, and an ArrayBuffer as a blob first: a 12 KiB answer reached the
// page ~0.8 ms sooner as a stream (bench/README, "a small file's answer from the worker").
// `destination`: the request's, for the type when the manifest names none ('' for a copy).
function responseFromPeer(result, file, streamed = false, destination = '') {
  const headers = headersFromPeer(result.headers, file, destination);
  headers.set('content-length', String(result.body.byteLength));
  headers.set('x-p2pcdn-source', 'peer');
  return asCopy(streamed ? oneChunkStream(result.body) : result.body, 200, headers, file);
}

function oneChunkStream(buffer) {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new Uint8Array(buffer));
      controller.close();
    },
  });
}

// Keeps verified copies of what a page loaded before this worker controlled it (they are in
// the HTTP cache), so a first visit's first page becomes shareable too. A large file is
// kept piece by piece, each checked against its own hash.
// `settled(url)` is called as each file is done (kept or not).
async function adopt(urls, clientId, settled = () => {}) {
  const manifest = await loadManifest();
  const cache = await openCopies();
  const held = await heldUrls(cache);
  for (const url of urls) {
    try {
      const file = manifest.files.get(url);
      if (!file || !shareable(new Request(url)) || held.has(url)) continue;
      const local = await fromHttpCache(url);
      if (!local) continue;
      if (await adoptOne(cache, local, file, url)) notify(clientId, {type: 'served', url, source: 'adopted', bytes: 0, cached: true});
    } finally {
      settled(url);
    }
  }
}

async function adoptOne(cache, local, file, url) {
  if (!file.pieces) return keep(cache, local, await local.clone().arrayBuffer(), file, url);
  if (local.status !== 200 || !cacheable(local)) return false;
  const whole = await PieceSource.of(url, file).adopt(local);
  // Every piece checked and nothing after them: the HTTP cache holds the manifest's bytes.
  if (whole && Number(local.headers.get('content-length')) === file.size) state.httpFresh.saw(url, file, local.headers);
  return whole;
}

// Keeps a prefetched body: fetched from peers and verified by the page's core, like a
// peer answer to a request of this worker.
async function storePrefetched(m, port) {
  const manifest = await loadManifest();
  const file = typeof m.url === 'string' && manifest.files.get(m.url);
  if (!file || file.pieces || !shareable(new Request(m.url)) || !(m.body instanceof ArrayBuffer) || m.body.byteLength !== file.size) return;
  const cache = await openCopies();
  state.cutOff.forget(m.url);
  if (await currentCopy(cache, m.url, file)) return;
  await cache.put(m.url, responseFromPeer({body: m.body, headers: m.headers}, file));
  state.storage.stored(m.url, file.size);
  port.postMessage({type: 'served', url: m.url, source: 'prefetch', bytes: file.size, cached: true});
}

// A prefetch this page was named the fetcher of (a crowd waits for its copy): fetched from
// the origin at low priority, as the browser would fetch it (its HTTP cache first), and kept
// only if it is exactly the manifest's bytes. Answers the bytes fetched and whether it was
// kept; the page announces what was kept ('served') and withdraws its claim otherwise.
async function prefetchFromOrigin(m, port) {
  const manifest = await loadManifest();
  const file = typeof m.url === 'string' && manifest.files.get(m.url);
  let bytes = 0;
  let cached = false;
  if (file && !file.pieces && file.size > 0 && shareable(new Request(m.url))) {
    const cache = await openCopies();
    cached = !!(await currentCopy(cache, m.url, file));
    if (!cached) {
      const started = performance.now();
      const response = await fetch(new Request(m.url, {credentials: 'same-origin', cache: originCacheMode(m.url, file), priority: 'low'}));
      const headersAt = performance.now();
      const body = await response.clone().arrayBuffer();
      if (response.ok) noteOrigin(m.url, started, headersAt, body.byteLength);
      bytes = response.ok ? body.byteLength : 0;  // an error page is no prefetch
      cached = await keep(cache, response, body, file, m.url);
    }
    port.postMessage({type: 'served', url: m.url, source: 'prefetch', bytes, cached});
  }
  port.postMessage({type: 'prefetch-origin', id: m.id, bytes, cached});
}
