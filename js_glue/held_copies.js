// What this page holds and may serve: the worker's copies of manifest files in Cache Storage
// (parts of large files are PieceHoldings'), read for uploads, and announced to signaling and
// to every linked peer as they come (the worker stored one) and go (the worker evicted it).
// The worker's one cache of copies, each tagged with its file's content hash (sw/copies.js).
const P2PCDN_COPIES = 'p2pcdn-copies';

class HeldCopies {
  constructor(page) {
    this.page = page;
    this.ids = new Set();  // resource ids this page holds whole
    this.cache = null;     // the copies' cache, opened once
  }

  has(entry) {
    return this.ids.has(entry.resourceId);
  }

  async response(entry) {
    return this.copy(entry, entry.url);
  }

  // The worker's copy under `key` (a URL or a piece's key), if it holds `entry`'s bytes.
  async copy(entry, key) {
    const response = await (await this._open()).match(key);
    return response && response.headers.get('x-p2pcdn-hash') === entry.integrity ? response : null;
  }

  // What the worker kept before this page started: one read of the cache's keys.
  async scan() {
    if (!self.caches) return;
    const {page} = this;
    const cache = await this._open();
    const pieces = [];
    for (const request of await cache.keys()) {
      const piece = /^(.*)[?&]p2pcdn-piece=(\d+)$/.exec(request.url);
      if (piece) pieces.push([piece[1], Number(piece[2])]);
      const entry = page.entries.get(request.url);
      if (entry) this.ids.add(entry.resourceId);
    }
    for (const [url, index] of pieces) this.pieceStored(page.entries.get(url), index);
    page.signaling.announce([...this.ids]);
  }

  // The worker kept `entry` whole: ours to serve from now on.
  add(entry) {
    if (this.ids.has(entry.resourceId)) return;
    this.ids.add(entry.resourceId);
    this._told('add', [entry.resourceId]);
  }

  // The worker stored a piece; a file whose last piece arrived is held whole.
  pieceStored(entry, index) {
    if (!entry || !entry.pieces || !this.page.pieceHoldings.add(entry, index)) return;
    this.add(entry);
  }

  // The worker evicted these files (its storage budget): no longer ours to serve.
  evicted(urls) {
    const {page} = this;
    const gone = urls.map((url) => page.entries.get(url))
        .filter((e) => e && (this.ids.has(e.resourceId) || page.pieceHoldings.partial.has(e.resourceId)));
    if (!gone.length) return;
    for (const entry of gone) {
      this.ids.delete(entry.resourceId);
      page.pieceHoldings.drop(entry);
      if (page.uploads) page.uploads.hot.drop(entry.url);
    }
    const ids = gone.map((e) => e.resourceId);
    page.signaling.withdraw(ids);
    page.frames.haveToAll('remove', ids);
  }

  // Opened once: every upload and piece looks here, and an open is a round trip to storage.
  _open() {
    this.cache = this.cache || caches.open(P2PCDN_COPIES);
    return this.cache;
  }

  _told(op, ids) {
    this.page.signaling.announce(ids);
    this.page.frames.haveToAll(op, ids);
  }
}
