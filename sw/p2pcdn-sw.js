// p2pcdn, service-worker part. In the site's service worker:
//   importScripts('/p2pcdn/p2pcdn-sw.js');
//   p2pcdn.configure({shareable: ['/img/', /\.mp4$/]});
// A shareable GET is answered from Cache Storage, else by a controlled page that fetches it
// from peers (verified against the manifest's hash), else by the origin. No WebRTC here:
// a worker has none.
(() => {
  const DEFAULTS = {
    shareable: [],                        // path prefixes (strings) or RegExps on the path
    manifestUrl: '/p2pcdn/manifest.json',
    manifestCheckMs: 5000,                // a navigation re-checks the manifest at most this often
    pageAttachMs: 1000,                   // a new page's port may arrive just after its first requests
    firstByteTimeoutMs: 6000,             // page must start delivering within this
    progressTimeoutMs: 3000,              // and then keep making progress
  };
  const state = {config: {...DEFAULTS}, manifest: null, manifestCheckedAt: 0, pages: new Map(), nextId: 0, pending: new Map(),
                 attachWaiters: new Map(), unsent: new Map()};

  function configure(config) {
    state.config = {...DEFAULTS, ...config};
  }

  function shareable(request) {
    // Like a shared HTTP cache (RFC 9111 3.5): a request carrying Authorization is personal.
    if (request.method !== 'GET' || request.mode === 'navigate' || request.headers.has('authorization')) return false;
    const url = new URL(request.url);
    if (url.origin !== self.location.origin) return false;
    return state.config.shareable.some((p) => (p instanceof RegExp ? p.test(url.pathname) : url.pathname.startsWith(p)));
  }

  // The manifest names the deploy; caches of other deploys are deleted. Loaded once, then
  // checked again when a page navigates (at most every manifestCheckMs), so the next page
  // sees a deploy even while this worker stays alive. Pages ask the worker for it instead of
  // each fetching it from the origin.
  function loadManifest() {
    if (!state.manifest) {
      state.manifest = fetchManifest().catch((err) => {
        state.manifest = null;  // try again on the next request
        throw err;
      });
    }
    return state.manifest;
  }

  async function fetchManifest() {
    state.manifestCheckedAt = Date.now();
    const res = await fetch(state.config.manifestUrl, {cache: 'no-cache'});
    if (!res.ok) throw new Error(`manifest ${res.status}`);
    const raw = await res.json();
    const files = new Map();
    for (const [path, file] of Object.entries(raw.files || {})) files.set(new URL(path, self.location.origin).href, file);
    const cacheName = `p2pcdn-${raw.contentHash}`;
    for (const name of await caches.keys()) {
      if (name.startsWith('p2pcdn-') && name !== cacheName) await caches.delete(name);
    }
    return {raw, files, cacheName};
  }

  function checkManifest() {
    if (!state.manifest || Date.now() - state.manifestCheckedAt < state.config.manifestCheckMs) return Promise.resolve();
    state.manifestCheckedAt = Date.now();
    return fetchManifest().then((m) => {
      state.manifest = Promise.resolve(m);
    }, () => {});  // unreachable for now: keep the one we have
  }

  // A page asks for the manifest this worker holds (if it names the same URL).
  async function answerManifest(m, port) {
    const same = typeof m.url === 'string' && new URL(m.url, self.location.origin).href === new URL(state.config.manifestUrl, self.location.origin).href;
    const manifest = same ? (await loadManifest()).raw : null;
    port.postMessage({type: 'manifest', id: m.id, manifest});
  }

  // Only public, complete, same-origin answers are kept, and so shared. Cookies are not
  // visible here: a site that personalises by cookie marks such answers private, as it must
  // for any shared cache.
  function cacheable(response) {
    if (response.status !== 200 || response.type === 'opaque') return false;
    const cc = (response.headers.get('cache-control') || '').toLowerCase();
    return !/\b(private|no-store)\b/.test(cc) && !response.headers.has('set-cookie');
  }

  async function sriOf(buffer) {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', buffer));
    let binary = '';
    for (const b of digest) binary += String.fromCharCode(b);
    return `sha256-${btoa(binary)}`;
  }

  // Tells a page what was served for it. A page's first requests are answered before its
  // script has attached, so those notes wait for it (a few, for a few pages) to keep its
  // stats whole.
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

  // The requesting page's port, waiting briefly for it if that page has not attached yet;
  // else any page's port; else null.
  async function pickPage(clientId) {
    // Checked again after the await: the page may attach while clients.get() runs.
    if (clientId && !state.pages.has(clientId) && (await self.clients.get(clientId)) && !state.pages.has(clientId)) {
      await new Promise((resolve) => {
        const waiters = state.attachWaiters.get(clientId) || [];
        waiters.push(resolve);
        state.attachWaiters.set(clientId, waiters);
        setTimeout(resolve, state.config.pageAttachMs);
      });
    }
    if (state.pages.has(clientId)) return state.pages.get(clientId);
    const any = [...state.pages.values()];
    return any.length ? any[any.length - 1] : null;
  }

  // Asks a page to fetch from peers. Resolves {body, headers} or null; never rejects.
  function askPage(port, url, file) {
    const id = ++state.nextId;
    return new Promise((resolve) => {
      const entry = {resolve, timer: 0};
      const arm = (ms) => {
        clearTimeout(entry.timer);
        entry.timer = setTimeout(() => {
          state.pending.delete(id);
          port.postMessage({type: 'cancel', id, reason: 'stalled'});  // stop the peer transfer: no double traffic
          resolve(null);
        }, ms);
      };
      entry.arm = arm;
      state.pending.set(id, entry);
      arm(state.config.firstByteTimeoutMs);
      port.postMessage({type: 'fetch', id, url, size: file.size, integrity: file.integrity});
    });
  }

  function onPageMessage(m, port) {
    if (m.type === 'manifest') return answerManifest(m, port).catch(() => port.postMessage({type: 'manifest', id: m.id, manifest: null}));
    if (m.type === 'wanted') return answerWanted(m, port).catch(() => port.postMessage({type: 'wanted', id: m.id, urls: []}));
    if (m.type === 'store') return storePrefetched(m, port).catch(() => {});
    const entry = state.pending.get(m.id);
    if (!entry) return;
    if (m.type === 'progress') {
      entry.arm(state.config.progressTimeoutMs);
      return;
    }
    clearTimeout(entry.timer);
    state.pending.delete(m.id);
    entry.resolve(m.ok ? {body: m.body, headers: m.headers} : null);
  }

  // A page's prefetch asks which of these URLs to fetch from peers: those this worker shares
  // and does not hold yet.
  async function answerWanted(m, port) {
    const manifest = await loadManifest();
    const held = await heldUrls(await caches.open(manifest.cacheName));
    const urls = (Array.isArray(m.urls) ? m.urls : []).slice(0, 1000).filter((url) =>
      typeof url === 'string' && manifest.files.has(url) && shareable(new Request(url)) && !held.has(url));
    port.postMessage({type: 'wanted', id: m.id, urls});
  }

  // The URLs a cache holds: one read of its keys instead of a match per URL.
  async function heldUrls(cache) {
    return new Set((await cache.keys()).map((request) => request.url));
  }

  // Keeps a prefetched body: fetched from peers and verified by the page's core, like a
  // peer answer to a request of this worker.
  async function storePrefetched(m, port) {
    const manifest = await loadManifest();
    const file = typeof m.url === 'string' && manifest.files.get(m.url);
    if (!file || !shareable(new Request(m.url)) || !(m.body instanceof ArrayBuffer) || m.body.byteLength !== file.size) return;
    const cache = await caches.open(manifest.cacheName);
    if (await cache.match(m.url)) return;
    await cache.put(m.url, responseFromPeer({body: m.body, headers: m.headers}, file));
    port.postMessage({type: 'served', url: m.url, source: 'prefetch', bytes: file.size, cached: true});
  }

  function responseFromPeer(result, file) {
    const headers = new Headers();
    for (const line of (result.headers || '').split('\n')) {
      const at = line.indexOf(':');
      if (at > 0) headers.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
    }
    if (!headers.has('content-type') && file.type) headers.set('content-type', file.type);
    headers.set('content-length', String(result.body.byteLength));
    headers.set('x-p2pcdn-source', 'peer');
    return new Response(result.body, {status: 200, headers});
  }

  async function withRange(request, response) {
    const range = request.headers.get('range');
    const m = range && /^bytes=(\d*)-(\d*)$/.exec(range.trim());
    if (!m || (!m[1] && !m[2])) return response;
    const body = await response.arrayBuffer();
    const size = body.byteLength;
    let first = m[1] ? Number(m[1]) : Math.max(0, size - Number(m[2]));
    let last = m[1] && m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
    const headers = new Headers(response.headers);
    if (first >= size || last < first) {
      headers.set('content-range', `bytes */${size}`);
      return new Response(null, {status: 416, headers});
    }
    headers.set('content-range', `bytes ${first}-${last}/${size}`);
    headers.set('content-length', String(last - first + 1));
    headers.set('accept-ranges', 'bytes');
    return new Response(body.slice(first, last + 1), {status: 206, headers});
  }

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
      // A media element asks for a range: fetch the whole body once, keep it, answer the range.
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

  function fromHttpCache(url) {
    return fetch(new Request(url, {cache: 'only-if-cached', mode: 'same-origin', credentials: 'same-origin'}))
        .then((res) => (res.ok ? res : null), () => null);
  }

  async function matches(body, file) {
    return body.byteLength === file.size && (await sriOf(body)) === file.integrity;
  }

  // Caches (and so shares) an origin response only if it is public and is exactly the bytes
  // the manifest names: a stale deploy or a private answer is never spread.
  async function keep(cache, response, body, file, url, verified = false) {
    if (!cacheable(response)) return false;
    if (!verified && !(await matches(body, file))) return false;
    await cache.put(url, new Response(body, {status: 200, headers: response.headers}));
    return true;
  }

  self.addEventListener('install', (event) => event.waitUntil(self.skipWaiting()));
  self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
  // Keeps verified copies of what a page loaded before this worker controlled it (they are in
  // the HTTP cache), so a first visit's first page becomes shareable too.
  async function adopt(urls, clientId) {
    const manifest = await loadManifest();
    const cache = await caches.open(manifest.cacheName);
    const held = await heldUrls(cache);
    for (const url of urls) {
      const file = manifest.files.get(url);
      if (!file || !shareable(new Request(url)) || held.has(url)) continue;
      const local = await fromHttpCache(url);
      if (!local) continue;
      const body = await local.clone().arrayBuffer();
      if (await keep(cache, local, body, file, url)) notify(clientId, {type: 'served', url, source: 'adopted', bytes: 0, cached: true});
    }
  }

  self.addEventListener('message', (event) => {
    if (event.data && event.data.type === 'p2pcdn:adopt' && Array.isArray(event.data.urls) && event.source) {
      event.waitUntil(adopt(event.data.urls.slice(0, 1000), event.source.id).catch(() => {}));
      return;
    }
    if (!event.data || event.data.type !== 'p2pcdn:page' || !event.ports[0] || !event.source) return;
    const port = event.ports[0];
    port.onmessage = (e) => onPageMessage(e.data || {}, port);
    state.pages.set(event.source.id, port);
    for (const message of state.unsent.get(event.source.id) || []) port.postMessage(message);
    state.unsent.delete(event.source.id);
    for (const resolve of state.attachWaiters.get(event.source.id) || []) resolve();
    state.attachWaiters.delete(event.source.id);
    // Forget pages that have gone.
    event.waitUntil(self.clients.matchAll().then((clients) => {
      const live = new Set(clients.map((c) => c.id));
      for (const id of state.pages.keys()) if (!live.has(id)) state.pages.delete(id);
    }));
  });
  self.addEventListener('fetch', (event) => {
    if (event.request.mode === 'navigate') {
      event.waitUntil(checkManifest());
      return;
    }
    if (shareable(event.request)) event.respondWith(handle(event));
  });

  self.p2pcdn = {configure, get config() { return state.config; }};
})();
