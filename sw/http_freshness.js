// Which files the browser's own HTTP cache holds fresh, with the bytes the manifest names:
// a request for one is left to the browser (no respondWith), which answers it from its
// HTTP or memory cache as it would without p2pcdn, in a few milliseconds and without the
// worker in the path. Known only from what this worker saw come from the origin: a file it
// fetched whole, or adopted from the HTTP cache after a first visit, and verified. Never for
// a Range request (a media element's ranges stay with the worker: Chromium fails a stream
// mixing the worker's answers with the network's), nor for other bytes than the manifest's
// (a deploy changed the file), nor past the freshness the origin gave.
const P2PCDN_FRESHNESS_KEY = '/p2pcdn-http-fresh';
const P2PCDN_FRESHNESS_MAX = 5000;       // files remembered, at most
const P2PCDN_FRESHNESS_MARGIN_MS = 10000;  // clocks differ: what is nearly stale counts as stale

class HttpFreshness {
  constructor() {
    this.files = new Map();  // url -> {integrity, until (ms since epoch)}
    this.loaded = false;     // until the saved records are read, nothing is left to the browser
    this.saveTimer = 0;
  }

  // How long (ms since epoch) an origin response stays fresh in a private cache, by its
  // headers (RFC 9111 4.2): max-age, else Expires; 0 when it must be revalidated or when
  // the origin said nothing (no heuristic freshness: the browser may or may not use one).
  static freshUntil(headers, now = Date.now()) {
    const cc = (headers.get('cache-control') || '').toLowerCase();
    if (/\b(no-store|no-cache|private)\b/.test(cc)) return 0;
    const date = Date.parse(headers.get('date') || '');
    const base = Number.isFinite(date) ? Math.min(date, now) : now;
    const age = Math.max(0, Number.parseInt(headers.get('age') || '0', 10) || 0) * 1000;
    const maxAge = /\bmax-age\s*=\s*"?(\d+)/.exec(cc);
    let lifetime = 0;
    if (maxAge) lifetime = Number(maxAge[1]) * 1000;
    else if (headers.has('expires')) lifetime = (Date.parse(headers.get('expires')) || 0) - base;
    if (!(lifetime > 0)) return 0;
    return base + lifetime - age - P2PCDN_FRESHNESS_MARGIN_MS;
  }

  // An origin answer for `file` at `url` (its bytes verified against the manifest) is in
  // the HTTP cache with these headers.
  saw(url, file, headers) {
    const until = HttpFreshness.freshUntil(headers);
    if (until <= Date.now()) {
      if (this.files.delete(url)) this._saveSoon();
      return;
    }
    if (!this.files.has(url) && this.files.size >= P2PCDN_FRESHNESS_MAX) this.files.delete(this.files.keys().next().value);
    this.files.set(url, {integrity: file.integrity, until});
    this._saveSoon();
  }

  // Whether the browser can answer this request itself with `file`'s current bytes. Sync:
  // called in the fetch event, before respondWith.
  answers(request, url, file) {
    if (!this.loaded || request.headers.has('range') || request.cache === 'no-store' || request.cache === 'reload') return false;
    const f = this.files.get(url);
    return !!f && f.integrity === file.integrity && f.until > Date.now();
  }

  // Whether the HTTP cache may hold other bytes for `url` than `file`'s (an earlier deploy
  // fetched there): an origin fetch must then revalidate.
  holdsOther(url, file) {
    const f = this.files.get(url);
    return !!f && f.integrity !== file.integrity && f.until > Date.now();
  }

  // The HTTP cache lacked a file it was said to hold: it was likely cleared, so none of the
  // rest is trusted either until this worker sees the origin again.
  forgetAll() {
    if (!this.files.size) return;
    this.files.clear();
    this._saveSoon();
  }

  async load() {
    if (this.loaded) return;
    try {
      const saved = await (await caches.open(P2PCDN_STATE)).match(P2PCDN_FRESHNESS_KEY);
      const list = saved ? await saved.json() : [];
      const now = Date.now();
      for (const [url, f] of Array.isArray(list) ? list.slice(0, P2PCDN_FRESHNESS_MAX) : []) {
        if (typeof url === 'string' && f && typeof f.integrity === 'string' && f.until > now && !this.files.has(url)) this.files.set(url, f);
      }
    } catch (_) {
      // Unreadable: nothing is left to the browser until this worker sees the origin again.
    }
    this.loaded = true;
  }

  _saveSoon() {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = 0;
      caches.open(P2PCDN_STATE).then((c) => c.put(P2PCDN_FRESHNESS_KEY, new Response(JSON.stringify([...this.files]))))
          .catch(() => {});
    }, 500);
  }
}
