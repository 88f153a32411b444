// How much p2pcdn keeps, and what goes first: copies are counted per file (a whole copy, or
// the pieces held of a large one) with the time each was last served or stored; past the
// budget, the files used least recently are deleted and every page is told, so each
// withdraws them from the swarm (a peer never finds us holding what we dropped). The budget
// is the smaller of `maxStorageBytes` and half of what this origin may still store
// (navigator.storage.estimate()), so p2pcdn never crowds out the site's own storage.
const P2PCDN_USAGE_KEY = '/p2pcdn-usage';
// Evictions wait this long after the last store: a page that is loading reports what it
// used (memory-cache hits included) when it has loaded, and its files must not go first.
const P2PCDN_EVICT_AFTER_MS = 2000;
const P2PCDN_ESTIMATE_MS = 60000;   // storage.estimate() asked at most this often

class StorageBudget {
  constructor() {
    this.files = new Map();  // url -> {bytes, usedAt}
    this.total = 0;
    this.loaded = false;  // an index was read or built by this worker
    this.limitCache = null;  // {bytes, at}
    this.saveTimer = 0;
    this.evictTimer = 0;
    this.evicting = null;
    this.lostUrls = new Set();  // found missing, pages not told yet
    this.lostTimer = 0;
  }

  // After a manifest load: the saved index, or one rebuilt from the copies themselves when
  // there is none or the copies changed (`rebuild`). A later check of the manifest keeps
  // this worker's own index, which the saved one lags by up to a second: reading that back
  // forgot the files stored in that second, and the next page fetched them again.
  async load(files, rebuild) {
    const saved = rebuild ? null : this.loaded ? [...this.files] : await this._saved();
    this.loaded = true;
    this.files = new Map();
    this.total = 0;
    if (saved) {
      for (const [url, f] of saved) if (files.has(url) && f.bytes > 0) this._set(url, f.bytes, f.usedAt);
      return;
    }
    const now = Date.now();
    for (const request of await (await openCopies()).keys()) {
      const {url, piece} = copyOf(request.url);
      const file = files.get(url);
      if (!file || (piece !== null && !file.pieces)) continue;  // not this manifest's copy
      const bytes = piece === null ? file.size : Math.min(file.pieces.size, file.size - piece * file.pieces.size);
      this._set(url, (this.files.get(url) || {bytes: 0}).bytes + bytes, now);
    }
    this._saveSoon();
  }

  // Whether a copy of `url` (or pieces of it) may be in Cache Storage: a file this index does
  // not list is not looked up there (a Cache Storage match costs a request 1-2 ms). An index
  // behind the copies (a worker ended within a second of a store) costs a fetch again, never
  // wrong bytes: the copy is then written over.
  mayHold(url) {
    return this.files.has(url);
  }

  used(url) {
    const f = this.files.get(url);
    if (f) f.usedAt = Date.now();
    this._saveSoon();
  }

  // A whole copy of `url` (`bytes` long), or one more piece of it (`piece`), was kept;
  // what is over the budget is evicted shortly after the stores stop.
  stored(url, bytes, piece = false) {
    const f = this.files.get(url);
    this._set(url, (piece && f ? f.bytes : 0) + bytes, Date.now());
    this._saveSoon();
    clearTimeout(this.evictTimer);
    this.evictTimer = setTimeout(() => {
      if (!this.evicting) this.evicting = this._enforce().catch(() => {}).finally(() => {
        this.evicting = null;
      });
    }, P2PCDN_EVICT_AFTER_MS);
  }

  // A whole copy the record says is kept was not there (deleted behind the worker's back, by
  // the site's own code or the browser): forgotten, and withdrawn from the swarm as an
  // eviction is, so that neither this worker nor a peer asks for it again. Pages are told a
  // second later, in one message: the request that found it missing goes first.
  lost(url) {
    const f = this.files.get(url);
    if (!f) return;
    this.total -= f.bytes;
    this.files.delete(url);
    this._saveSoon();
    this.lostUrls.add(url);
    if (this.lostTimer) return;
    this.lostTimer = setTimeout(() => {
      this.lostTimer = 0;
      const urls = [...this.lostUrls].filter((u) => !this.files.has(u));  // unless stored again since
      this.lostUrls.clear();
      if (urls.length) notifyAll({type: 'evicted', urls});
    }, 1000);
  }

  _set(url, bytes, usedAt) {
    const before = this.files.get(url);
    this.total += bytes - (before ? before.bytes : 0);
    this.files.set(url, {bytes, usedAt});
  }

  async _enforce() {
    const limit = await this.limit();
    if (this.total <= limit) return;
    const now = Date.now();
    const oldest = [...this.files].filter(([, f]) => now - f.usedAt >= state.config.keepRecentMs)
                                  .sort((a, b) => a[1].usedAt - b[1].usedAt);
    const evicted = [];
    for (const [url] of oldest) {
      if (this.total <= limit) break;
      await this._evict(url);
      evicted.push(url);
    }
    if (evicted.length) notifyAll({type: 'evicted', urls: evicted});
  }

  async _evict(url) {
    const cache = await openCopies();
    await cache.delete(url);
    const manifest = await loadManifest();
    const file = manifest.files.get(url);
    if (file && file.pieces) {
      const count = Math.ceil(file.size / file.pieces.size);
      for (let i = 0; i < count; i++) await cache.delete(p2pcdnPieceKeyOf(url, i));
      for (const source of state.pieceSources.values()) if (source.url === url) source.held = null;
    }
    const f = this.files.get(url);
    if (!f) return;  // evicted meanwhile
    this.total -= f.bytes;
    this.files.delete(url);
    this._saveSoon();
  }

  async limit() {
    const now = Date.now();
    if (this.limitCache && now - this.limitCache.at < P2PCDN_ESTIMATE_MS) return this.limitCache.bytes;
    let bytes = state.config.maxStorageBytes;
    try {
      const {quota, usage} = await navigator.storage.estimate();
      // Half of what the origin may still store, counting our own copies as available.
      if (quota > 0) bytes = Math.min(bytes, (quota - Math.max(0, usage - this.total)) / 2);
    } catch (_) {
      // No estimate: the configured budget alone.
    }
    this.limitCache = {bytes, at: now};
    return bytes;
  }

  async _saved() {
    try {
      const saved = await (await caches.open(P2PCDN_STATE)).match(P2PCDN_USAGE_KEY);
      return saved ? Object.entries(await saved.json()) : null;
    } catch (_) {
      return null;
    }
  }

  _saveSoon() {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = 0;
      const body = JSON.stringify(Object.fromEntries(this.files));
      caches.open(P2PCDN_STATE).then((c) => c.put(P2PCDN_USAGE_KEY, new Response(body))).catch(() => {});
    }, 1000);
  }
}

function p2pcdnPieceKeyOf(url, index) {
  return `${url}${url.includes('?') ? '&' : '?'}p2pcdn-piece=${index}`;
}
