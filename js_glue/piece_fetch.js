// The pieces of one large file that the worker asked for, fetched from several peers at
// once. The core's PieceScheduler picks which piece each peer gets: the earliest needed
// first, more in flight to faster peers, a slow peer's piece copied to a faster one, the
// last pieces asked of two peers (end-game), and never again a piece from a peer that failed
// it. Each piece is a ranged REQUEST the core verifies against that piece's own hash, so a
// bad piece blames exactly its sender (and bans it, as any lie). Verified pieces go to the
// worker as they arrive; pieces no usable peer holds go back to it at once, and it takes them
// from the origin with a Range request.
const P2PCDN_PIECE_SEARCH_BACKOFF_MS = 2000;  // after a lookup found no new holder
// With no link to a holder, the earliest pieces wanted go to the origin at once instead of
// waiting on a lookup: what a player needs to start (never later than without p2pcdn).
const P2PCDN_PIECES_NOT_WAITING = 4;
const P2PCDN_TIMING_FAILURES = new Set(['no-first-byte', 'too-slow', 'stalled']);
const P2PCDN_WIDEN_ABOVE_PIECES = 8;  // pieces still to come for a second holder to be worth a link
const P2PCDN_IN_FLIGHT_BYTES_PER_PEER = 1.5 * (1 << 20);

// Pieces in flight per peer: enough to keep a fast link busy (6 of 256 KiB), fewer of larger
// pieces (a file over 256 MiB gets pieces of 512 KiB up to 64 MiB, and each piece asked is a
// body held whole in this page until verified), two at least so a link never waits on a
// round trip between pieces.
function p2pcdnPiecesInFlight(pieceSize) {
  return Math.max(2, Math.min(P2PCDN_MAX_IN_FLIGHT_PER_PEER, Math.ceil(P2PCDN_IN_FLIGHT_BYTES_PER_PEER / pieceSize)));
}

class PiecedFetch {
  // One per file, shared by the worker's asks for it.
  static of(page, entry) {
    let fetch = page.piecedFetches.get(entry.resourceId);
    if (!fetch) {
      fetch = new PiecedFetch(page, entry);
      page.piecedFetches.set(entry.resourceId, fetch);
    }
    return fetch;
  }

  constructor(page, entry) {
    this.page = page;
    this.entry = entry;
    // As many pieces in flight per peer as the link allows (the core's default, 4 of 256 KiB,
    // left a fast link idle between pieces: 0.64x of a bare channel), bounded in bytes.
    this.maxInFlight = p2pcdnPiecesInFlight(entry.pieces.size);
    this.scheduler = new page.core.PieceScheduler(entry.pieces.count, entry.pieces.size, entry.size,
                                                  {maxInFlightPerPeer: this.maxInFlight});
    this.askOf = new Map();     // piece -> the worker's ask id
    this.inFlight = new Map();  // `${handle}:${piece}` -> {controller, link, index}
    this.known = new Map();     // link handle -> what the scheduler was told ('all' or a pieces version)
    this.settled = new Set();   // pieces delivered to the worker or given back to it
    this.searching = false;
    this.foundNobodyAt = -Infinity;
    this.peersOnly = new Set();  // pieces the origin failed: never handed back before a lookup
  }

  // The worker wants these pieces (its ask `id`), earliest first. `originFailed`: it took them
  // from the origin, which failed, so they are wanted from peers even if settled before.
  // `origin`: the worker's measure of the origin, weighed against new links (peer_speed.js).
  ask(id, indices, originFailed = false, origin = null) {
    this.origin = origin;
    const count = this.entry.pieces.count;
    const valid = indices.filter((i) => Number.isInteger(i) && i >= 0 && i < count && !this.askOf.has(i));
    if (originFailed) {
      this.page.stats.pieces.originFailed += valid.length;
      for (const i of valid) {
        this.peersOnly.add(i);
        if (this.settled.delete(i)) this.scheduler.needAgain(i);
      }
    }
    // A piece this fetch already settled (delivered, or given back) is never scheduled again:
    // asked once more, it goes back to the worker at once.
    const fresh = valid.filter((i) => !this.settled.has(i));
    const again = valid.filter((i) => this.settled.has(i));
    if (again.length) this.page.bridge.post({type: 'pieces-missing', id, indices: again, noHolders: false});
    if (!fresh.length) return;
    const wanted = [...this.askOf.keys()];
    fresh.forEach((i) => this.askOf.set(i, id));
    // The scheduler puts its newest need first. A response reading on extends what is wanted
    // and the order stays earliest first; only a jump past it (a seek) goes first. Asks may
    // arrive out of order, so the order is rebuilt from every piece wanted, not the ask's span.
    const seek = wanted.length > 0 && Math.min(...fresh) > Math.max(...wanted) + 1;
    const runs = pieceRuns(seek ? fresh : [...this.askOf.keys()]);
    for (let k = runs.length - 1; k >= 0; k--) this.scheduler.need(runs[k][0], runs[k][1]);
    this.pump();
  }

  // The worker gave up on ask `id` (it takes the rest from the origin).
  cancel(id) {
    for (const [i, asker] of [...this.askOf]) {
      if (asker !== id) continue;
      this.askOf.delete(i);
      this.settled.add(i);
      this.scheduler.have(i);
      this._abortPiece(i, null);
    }
  }

  // A link that went away (closed or banned): its pieces in flight fail there and are needed
  // again from others.
  forget(link) {
    if (!this.known.delete(link.handle)) return;
    this.scheduler.removePeer(link.handle);
    this.pump();
  }

  _links() {
    const {page, entry} = this;
    return [...page.links.values()].filter((l) => l.opened && !l.closed && l.remoteHello &&
                                                  page.reputation.usable(l.peerId) &&
                                                  (l.have.has(entry.resourceId) || (l.pieces && l.pieces.has(entry.resourceId))));
  }

  _know(link) {
    const id = this.entry.resourceId;
    if (link.have.has(id)) {
      if (this.known.get(link.handle) !== 'all') this.scheduler.addPeer(link.handle);
      this.known.set(link.handle, 'all');
    } else if (this.known.get(link.handle) !== link.piecesVersion) {
      this.scheduler.setPieces(link.handle, link.pieces.get(id));
      this.known.set(link.handle, link.piecesVersion);
    }
  }

  pump() {
    if (!this.askOf.size) return;
    const {page} = this;
    const links = this._links();
    const now = performance.now();
    for (const link of links) {
      this._know(link);
      while (page.requests.openOn(link) < this.maxInFlight) {
        const index = this.scheduler.next(link.handle, now);
        if (index < 0) break;
        this._request(link, index);
      }
    }
    if (!links.length) this._notWaiting();
    if (!links.length || this._orphans().length) this._search(links);
    else if (links.length === 1 && this.entry.pieces.count - this.settled.size > P2PCDN_WIDEN_ABOVE_PIECES) this._widen(links);
  }

  // One holder serving a large file: a second one is looked for alongside, once, so the file
  // comes from several peers at once (otherwise the first link up takes it all, while others
  // that hold it sit idle).
  async _widen(links) {
    if (this.widening || this.widened) return;
    this.widening = true;
    const link = await this.page.holders.find(this.entry, new Set(links.map((l) => l.peerId)), true).catch(() => null);
    this.widening = false;
    this.widened = true;
    if (link) this.pump();
  }

  // No link to a holder yet: the earliest wanted pieces go to the origin now, the rest wait
  // for the lookup, unless new links are likely to bring them sooner.
  _notWaiting() {
    const wanted = [...this.askOf.keys()].sort((a, b) => a - b);
    const first = wanted.find((i) => !this.peersOnly.has(i));
    if (first === undefined) return;
    const now = wanted.filter((i) => i < first + P2PCDN_PIECES_NOT_WAITING && !this.peersOnly.has(i) && !this._pieceInFlight(i));
    if (!this.page.originSooner(now.length * this.entry.pieces.size, this.origin)) return;
    this._giveBack(now, false);
  }

  // Pieces wanted that no connected holder can give (none holds them, or all that do failed them).
  _orphans() {
    return this.scheduler.orphans().filter((i) => this.askOf.has(i));
  }

  // Pieces no connected peer can give: look up holders not connected yet and connect (up to
  // the hold window); what still has no holder goes back to the worker, which takes it from
  // the origin.
  async _search(links) {
    if (this.searching) return;
    // With holders connected, pieces none of them has go back at once after a fruitless
    // lookup; with none connected the worker goes to the origin for a while by itself.
    if (links.length && performance.now() - this.foundNobodyAt < P2PCDN_PIECE_SEARCH_BACKOFF_MS) return this._giveBackOrphans();
    this.searching = true;
    const link = await this.page.holders.find(this.entry, new Set(links.map((l) => l.peerId)), false);
    this.searching = false;
    if (link) return this.pump();
    this.foundNobodyAt = performance.now();
    this._giveBackOrphans();
  }

  _giveBackOrphans() {
    const links = this._links();
    if (links.length) return this._giveBack(this._orphans(), false);
    this._giveBack([...this.askOf.keys()].filter((i) => !this._pieceInFlight(i)), true);
  }

  // noHolders: no connected peer holds the file at all (the worker then goes to the origin
  // for its next pieces without asking).
  _giveBack(indices, noHolders) {
    if (!indices.length) return;
    const byAsk = new Map();
    for (const i of indices) {
      const id = this.askOf.get(i);
      this.askOf.delete(i);
      this.settled.add(i);
      this.scheduler.have(i);  // no longer this page's to fetch
      if (!byAsk.has(id)) byAsk.set(id, []);
      byAsk.get(id).push(i);
    }
    for (const [id, list] of byAsk) this.page.bridge.post({type: 'pieces-missing', id, indices: list, noHolders});
  }

  _pieceInFlight(index) {
    for (const f of this.inFlight.values()) if (f.index === index) return true;
    return false;
  }

  _request(link, index) {
    const {page, entry} = this;
    const offset = index * entry.pieces.size;
    const piece = {offset, length: Math.min(entry.pieces.size, entry.size - offset), hash: pieceHashHex(entry, index)};
    const key = `${link.handle}:${index}`;
    const controller = new AbortController();
    const flight = {controller, link, index, started: performance.now(), lastByteAt: 0};
    this.inFlight.set(key, flight);
    link.lastUsed = performance.now();
    const progress = () => {
      flight.lastByteAt = performance.now();
    };
    page.requests.start(link, entry, progress, controller.signal, false, piece).then(
        ({body}) => this._delivered(key, link, index, body),
        (err) => this._failed(key, link, index, err.message));
  }

  _delivered(key, link, index, body) {
    this.inFlight.delete(key);
    for (const handle of this.scheduler.done(link.handle, index, performance.now())) this._abortPiece(index, handle, true);
    const id = this.askOf.get(index);
    this.askOf.delete(index);
    this.settled.add(index);
    this.page.stats.fromPeer(link.peerId, body.byteLength);
    if (id !== undefined) this.page.bridge.post({type: 'piece', id, index, body}, [body]);
    this.pump();
  }

  _failed(key, link, index, reason) {
    this.inFlight.delete(key);
    if (reason === 'cancelled') return;
    // A missed deadline may be this page's own stall (a busy CPU): with no other holder the
    // piece is given back without blame, so the only holder may serve it again, and the
    // peer's reputation (strikes, then a ban) judges it. Otherwise, and for a lie, a refusal
    // or a closed link, never that piece from that peer again.
    const alone = this._links().filter((l) => l !== link).length === 0;
    if (P2PCDN_TIMING_FAILURES.has(reason) && alone) this.scheduler.cancel(link.handle, index);
    else this.scheduler.failed(link.handle, index, performance.now());
    this.page.stats.fail(P2pcdnStats.failureKey(reason));
    this.pump();
  }

  // Stops the copies of a piece in flight (on one peer, or on all when handle is null). A
  // losing copy still sending is cancelled; a quiet one (sparing) is left to the core's
  // deadlines, which judge its peer (a stall or a drip is a strike) without anyone waiting.
  _abortPiece(index, handle, sparingQuiet = false) {
    const now = performance.now();
    const quiet = (since) => now - since >= this.page.config.hedgeAfterMs;
    for (const f of [...this.inFlight.values()]) {
      if (f.index !== index || (handle !== null && f.link.handle !== handle)) continue;
      // Quiet: this copy and its peer as a whole (a busy honest peer still sends other pieces).
      if (sparingQuiet && quiet(f.lastByteAt || f.started) && quiet(f.link.lastByteAt || f.started)) continue;
      f.controller.abort();
    }
  }
}

function pieceHashHex(entry, index) {
  const bytes = entry.pieces.hashes.subarray(index * 32, index * 32 + 32);
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}

// Sorted runs of consecutive piece indices: [[first, last], ...].
function pieceRuns(indices) {
  const sorted = [...indices].sort((a, b) => a - b);
  const runs = [];
  for (const i of sorted) {
    const last = runs[runs.length - 1];
    if (last && i === last[1] + 1) last[1] = i;
    else runs.push([i, i]);
  }
  return runs;
}
