// The copies this worker keeps and shares, in one Cache Storage cache for every deploy. Each
// copy (a whole file, or one piece of a large file) carries the content hash of the file it
// belongs to (the manifest's `integrity`), so a deploy keeps every copy whose file did not
// change and drops the others: one changed stylesheet no longer costs every image.
const P2PCDN_COPIES = 'p2pcdn-copies';
const P2PCDN_HASH_HEADER = 'x-p2pcdn-hash';
// The worker's own small records (which manifest the copies were last swept for, how fast
// the origin is), in a cache of their own.
const P2PCDN_STATE = 'p2pcdn-state';
const P2PCDN_SWEPT_KEY = '/p2pcdn-swept-for';

// Opened once per page visit, not per piece or request: each open is a round trip to the
// browser's storage (80 opens cost a 20 MiB file ~0.1-0.2 s of CPU there). A navigation
// opens it afresh, so a cache deleted behind the worker's back is not written to for long.
let p2pcdnCopiesOpen = null;
function openCopies() {
  if (!p2pcdnCopiesOpen) {
    p2pcdnCopiesOpen = caches.open(P2PCDN_COPIES);
    p2pcdnCopiesOpen.catch(() => { p2pcdnCopiesOpen = null; });
  }
  return p2pcdnCopiesOpen;
}

// Opened again as the navigation starts, not at the new page's first request: the open is
// done by the time the page asks for its images (2-3 ms sooner for the first, in a trace).
function reopenCopies() {
  p2pcdnCopiesOpen = null;
  openCopies().catch(() => {});
}

// A response to keep as a copy of `file`'s bytes.
function asCopy(body, status, headers, file) {
  const h = new Headers(headers);
  h.set(P2PCDN_HASH_HEADER, file.integrity);
  return new Response(body, {status, headers: h});
}

function isCurrent(response, file) {
  return !!response && response.headers.get(P2PCDN_HASH_HEADER) === file.integrity;
}

// The copy under `key` if it holds `file`'s current bytes; a copy of other bytes is deleted.
async function currentCopy(cache, key, file) {
  const response = await cache.match(key);
  if (!response) return null;
  if (isCurrent(response, file)) return response;
  await cache.delete(key);
  return null;
}

// The file a cache key belongs to: its URL, or a piece's (`?p2pcdn-piece=<i>`).
function copyOf(key) {
  const piece = /^(.*)[?&]p2pcdn-piece=(\d+)$/.exec(key);
  return piece ? {url: piece[1], piece: Number(piece[2])} : {url: key, piece: null};
}

// After a deploy: drops every copy of a file the new manifest does not name with the same
// bytes, and the caches of older versions of this worker. Once per manifest: the cache
// remembers which one it was swept for, so a restarted worker does not sweep again. True
// when it swept.
async function sweepCopies(contentHash, files) {
  for (const name of await caches.keys()) {
    if (name.startsWith('p2pcdn-') && name !== P2PCDN_COPIES && name !== P2PCDN_STATE) await caches.delete(name);
  }
  const cache = await openCopies();
  const marks = await caches.open(P2PCDN_STATE);
  const swept = await sweptFor(marks);
  if (swept.contentHash === contentHash) {
    state.changedUrls = new Set(swept.changed);
    return false;
  }
  // Still possibly in the HTTP cache from an earlier deploy.
  const changed = new Set(swept.changed.filter((url) => files.has(url)));
  for (const request of await cache.keys()) {
    const {url, piece} = copyOf(request.url);
    const file = files.get(url);
    const fits = file && (piece === null || (!!file.pieces && piece < Math.ceil(file.size / file.pieces.size)));
    if (fits && isCurrent(await cache.match(request), file)) continue;
    await cache.delete(request);
    if (file) changed.add(url);
  }
  state.changedUrls = changed;
  await marks.put(P2PCDN_SWEPT_KEY, new Response(JSON.stringify({contentHash, changed: [...changed]})));
  return true;
}

async function sweptFor(marks) {
  try {
    const marker = await marks.match(P2PCDN_SWEPT_KEY);
    const m = marker ? await marker.json() : {};
    return {contentHash: m.contentHash, changed: Array.isArray(m.changed) ? m.changed.slice(0, 10000) : []};
  } catch (_) {
    return {contentHash: null, changed: []};
  }
}
