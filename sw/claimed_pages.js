// Pages this worker took control of part-way (clients.claim() on a first visit): a media
// element there may have started on the network's answers, and Chromium fails a stream that
// mixes those with a worker's (PIPELINE_ERROR_READ). So for such a page each media element's
// Range requests (a script's own fetch() is not concerned) keep to the side they started on: a first Range request from byte 0 (the element
// started under this worker, as a player that waits for it does) is answered here, one from
// further on (the element began before the claim) goes to the network, and so do all that
// follow it. Kept in the state cache: a worker restarted mid-film keeps to the same sides.
const P2PCDN_CLAIMED_KEY = '/p2pcdn-claimed-pages';
const P2PCDN_CLAIMED_MAX = 256;  // pages and files remembered, at most

class ClaimedPages {
  constructor() {
    this.pages = new Set();   // client ids
    this.sides = new Map();   // `${clientId} ${url}` -> 'worker' | 'network'
    this.loaded = this._load();
  }

  // At activation: the window clients open now were not under this worker when they started
  // (unless an older version of it controlled them: `updating`).
  async claim(updating) {
    if (!updating) {
      for (const c of await self.clients.matchAll({type: 'window', includeUncontrolled: true})) this._add(this.pages, c.id);
      this._save();
    }
    await self.clients.claim();
  }

  // Whether this request goes to the network, decided synchronously in the fetch event.
  toNetwork(request, clientId, url) {
    const range = request.headers.get('range');
    const media = request.destination === 'video' || request.destination === 'audio';
    if (!range || !media || !clientId || !this.pages.has(clientId)) return false;
    const key = `${clientId} ${url}`;
    let side = this.sides.get(key);
    if (!side) {
      side = /^bytes=0-/.test(range.trim()) ? 'worker' : 'network';
      this._add(this.sides, key, side);
      this._save();
    }
    return side === 'network';
  }

  _add(collection, key, value) {
    if (collection.size >= P2PCDN_CLAIMED_MAX) collection.delete(collection.keys().next().value);
    if (value === undefined) collection.add(key);
    else collection.set(key, value);
  }

  async _load() {
    try {
      const saved = await (await caches.open(P2PCDN_STATE)).match(P2PCDN_CLAIMED_KEY);
      const m = saved ? await saved.json() : {};
      for (const id of Array.isArray(m.pages) ? m.pages.slice(-P2PCDN_CLAIMED_MAX) : []) if (typeof id === 'string') this.pages.add(id);
      for (const [k, side] of Array.isArray(m.sides) ? m.sides.slice(-P2PCDN_CLAIMED_MAX) : []) {
        if (typeof k === 'string' && (side === 'worker' || side === 'network') && !this.sides.has(k)) this.sides.set(k, side);
      }
    } catch (_) {
      // unreadable: pages claimed before this start are answered as any other
    }
  }

  _save() {
    const record = JSON.stringify({pages: [...this.pages], sides: [...this.sides]});
    caches.open(P2PCDN_STATE).then((c) => c.put(P2PCDN_CLAIMED_KEY, new Response(record))).catch(() => {});
  }
}
