// A large file held as verified pieces (the manifest's `pieces`: a size and one SHA-256 per
// piece). Each piece is fetched once, from the page's peers or, when no peer has it or the
// page gives up, from the origin with a Range request; kept in Cache Storage under its own
// key; and handed to the responses reading it. Memory holds the pieces being read and those
// fetched ahead of the reader, at most its read-ahead (so a piece is not written to storage
// and read straight back); the rest go to storage as they arrive, whatever the file's size.
const P2PCDN_AHEAD_BYTES = 8 << 20;          // pieces kept in memory for a reader, per file
const P2PCDN_AHEAD_WORKER_BYTES = 16 << 20;  // and in all: files a reader left drop theirs first

class PieceSource {
  // One source per file and version, shared by every response reading it.
  static of(url, file) {
    const key = `${file.integrity} ${url}`;
    let source = state.pieceSources.get(key);
    if (!source) {
      source = new PieceSource(url, file);
      state.pieceSources.set(key, source);
      if (state.pieceSources.size > 32) state.pieceSources.delete(state.pieceSources.keys().next().value);
    }
    return source;
  }

  // A page's answer to an ask, routed by the ask's id.
  static onPageMessage(m) {
    const source = state.pieceAsks.get(m.id);
    if (source) source._onPage(m);
  }

  constructor(url, file) {
    this.url = url;
    this.file = file;
    this.pieceSize = file.pieces.size;
    this.count = Math.ceil(file.size / this.pieceSize);
    this.hashes = decodeBase64(file.pieces.hashes);
    if (!(this.pieceSize > 0) || this.hashes.length !== this.count * 32) throw new Error('bad pieces in the manifest');
    this.held = null;             // Promise<Set<index>>: pieces in Cache Storage
    this.waiters = new Map();     // index -> [{resolve, reject}]
    this.asked = new Map();       // index -> ask id (a page's) or 'origin'
    this.fetched = new Set();     // pieces this worker fetched (counted then, not again when read)
    this.ahead = new Map();       // index -> bytes: fetched, not read yet (oldest first)
    this.aheadBytes = 0;
    this.port = null;             // the page asked for pieces
    this.noPeersUntil = 0;        // the page just said no peer holds pieces: origin until then
    this.originFailed = new Set(); // pieces the origin failed: from peers or nowhere
    this.filling = null;           // the piece an origin run is filling: {index, buffer, filled, failed}
    this.fillWaiters = [];         // chunks() waiting for more of it
    this.clientId = null;
    this.origin = new OriginRuns(this);  // what the origin is asked for, in Range requests
  }

  key(index) {
    return p2pcdnPieceKeyOf(this.url, index);
  }

  range(index) {
    const offset = index * this.pieceSize;
    return {offset, length: Math.min(this.pieceSize, this.file.size - offset)};
  }

  heldSet() {
    if (!this.held && !state.storage.mayHold(this.url)) this.held = Promise.resolve(new Set());  // nothing of it kept
    if (!this.held) {
      this.held = (async () => {
        const set = new Set();
        const prefix = this.key('');
        for (const request of await (await openCopies()).keys()) {
          if (request.url.startsWith(prefix)) set.add(Number(request.url.slice(prefix.length)));
        }
        return set;
      })();
    }
    return this.held;
  }

  // Which page fetches from peers for the responses now reading (the latest requester's).
  use(port, clientId) {
    if (port) this.port = port;
    this.clientId = clientId;
  }

  // Piece `index`: {bytes, source} once it is here and verified ('cache' when it was held
  // before, 'fetched' when it came in now); rejects when it can be had from nowhere.
  async read(index) {
    const ahead = this.ahead.get(index);
    if (ahead) return {bytes: this._takeAhead(index, ahead), source: 'fetched'};
    const unwritten = state.pieceWrites.get(this, index);
    if (unwritten) return {bytes: unwritten, source: 'fetched'};
    const held = await this.heldSet();
    if (held.has(index)) {
      const cached = await currentCopy(await openCopies(), this.key(index), this.file);
      if (cached) return {bytes: new Uint8Array(await cached.arrayBuffer()), source: this.fetched.has(index) ? 'fetched' : 'cache'};
      held.delete(index);  // evicted under us
    }
    const piece = new Promise((resolve, reject) => {
      if (!this.waiters.has(index)) this.waiters.set(index, []);
      this.waiters.get(index).push({resolve, reject});
    });
    this.want([index]);
    return piece;
  }

  // Piece `index` as chunks ({bytes, source}) for a response: while the origin is filling it,
  // its bytes as they come (the origin is the truth: a player starts without waiting for a
  // whole piece); otherwise the whole piece once it is here. If the origin stops part-way,
  // the rest comes from the piece fetched elsewhere, only if it starts with the very bytes
  // already sent.
  async *chunks(index) {
    let whole = null;
    const piece = this.read(index).then((p) => (whole = p), (error) => (whole = {error}));
    let sent = 0;
    let buffer = null;
    while (!whole) {
      const f = this.filling && this.filling.index === index && !this.filling.failed ? this.filling : null;
      if (f && f.filled > sent) {
        buffer = f.buffer;
        const bytes = f.buffer.slice(sent, f.filled);
        sent = f.filled;
        yield {bytes, source: 'fetched'};
        if (sent === f.buffer.length) return;
      } else {
        await Promise.race([piece, new Promise((resolve) => this.fillWaiters.push(resolve))]);
      }
    }
    if (whole.error) throw whole.error;
    if (!sent) {
      yield whole;
    } else if (sameStart(whole.bytes, buffer, sent)) {
      yield {bytes: whole.bytes.subarray(sent), source: whole.source};
    } else {
      throw new Error(`piece ${index}: the origin's bytes and the verified piece differ`);
    }
  }

  // From OriginRuns: the piece a run is filling, as it grows (chunks() streams it before it
  // is whole), and that the run failed.
  onOriginFill(index, buffer, filled) {
    if (!this.filling || this.filling.index !== index) this.filling = {index, buffer, filled, failed: false};
    this.filling.filled = filled;
    this.fillWaiters.splice(0).forEach((wake) => wake());
  }

  onOriginFillFailed() {
    if (this.filling) this.filling.failed = true;
    this.fillWaiters.splice(0).forEach((wake) => wake());
  }

  // Starts fetching what is neither held nor on its way: from the page's peers if a page is
  // attached, else from the origin.
  async want(indices) {
    const held = await this.heldSet();
    const fresh = indices.filter((i) => i >= 0 && i < this.count && !held.has(i) && !this.asked.has(i));
    if (!fresh.length) return;
    // A page whose start is put off (a first visit) would only hand every piece back.
    if (this.port && !state.startingPages.has(this.port) && Date.now() >= this.noPeersUntil) this._askPage(fresh);
    else this.origin.ask(this._originWindow(fresh, held));
  }

  // Going to the origin anyway: one Range request for the pieces after these too, up to
  // originRunPieces (a first visitor streams a file in a few requests, not one per piece).
  _originWindow(indices, held) {
    const out = new Set(indices);
    const first = Math.min(...indices);
    for (let i = first; i < Math.min(this.count, first + state.config.originRunPieces); i++) {
      if (!held.has(i) && !this.asked.has(i)) out.add(i);
    }
    return [...out];
  }

  // A prefetch for a page the visitor may open next: the pieces of this file that are not
  // held, from the first, up to maxBytes, from the page's peers only (never the origin).
  // Resolves the bytes delivered once the page has delivered or given back each of them. A
  // prefetch cut off (by a navigation) resumes where it stopped: delivered pieces are held.
  async prefetch(port, maxBytes) {
    const held = await this.heldSet();
    const indices = [];
    let bytes = 0;
    for (let i = 0; i < this.count && bytes + this.range(i).length <= maxBytes; i++) {
      if (held.has(i) || this.asked.has(i)) continue;
      indices.push(i);
      bytes += this.range(i).length;
    }
    if (!indices.length) return 0;
    return new Promise((resolve) => this._askPage(indices, false, {port, prefetch: true, onRetire: resolve}));
  }

  _askPage(indices, originFailed = false, {port = this.port, prefetch = false, onRetire = null} = {}) {
    const id = ++state.nextId;
    const ask = {id, port, timer: 0, prefetch, onRetire, delivered: 0};
    for (const i of indices) this.asked.set(i, id);
    state.pieceAsks.set(id, this);
    this.asks = this.asks || new Map();
    this.asks.set(id, ask);
    this._arm(ask, state.config.firstByteTimeoutMs);
    ask.port.postMessage({type: 'pieces', id, url: this.url, indices, originFailed, pieceSize: this.pieceSize,
                          origin: state.originSpeed.snapshot()});
  }

  // A page that delivers nothing for this long gives its pieces back: they go to the origin.
  _arm(ask, ms) {
    clearTimeout(ask.timer);
    ask.timer = setTimeout(() => {
      ask.port.postMessage({type: 'cancel-pieces', id: ask.id});
      this._giveBack(ask.id, null);
    }, ms);
  }

  _onPage(m) {
    const ask = this.asks && this.asks.get(m.id);
    if (!ask) return;
    if (m.type === 'pieces-missing') return this._giveBack(m.id, m.indices, m.noHolders !== false);
    const index = m.index;
    if (this.asked.get(index) !== m.id || !(m.body instanceof ArrayBuffer) ||
        m.body.byteLength !== this.range(index).length) {
      return;
    }
    // The page is making progress on this file: every ask waits on (the newest piece of a
    // read-ahead queues behind the earlier ones, on a slow peer for seconds).
    for (const open of this.asks.values()) if (open.port === ask.port) this._arm(open, state.config.progressTimeoutMs);
    ask.delivered += m.body.byteLength;
    // Verified by the page's core. A prefetched piece no reader waits for goes to storage only.
    this._store(index, new Uint8Array(m.body), 'peer', true, ask.prefetch && !this.waiters.has(index));
    this._retireIfDone(ask);
  }

  // Pieces a page will not deliver (all of an ask's when `indices` is null) go to the origin.
  _giveBack(id, indices, noHolders = false) {
    const back = [];
    for (const [i, asker] of this.asked) {
      if (asker === id && (!indices || indices.includes(i))) back.push(i);
    }
    back.forEach((i) => this.asked.delete(i));
    const ask = this.asks.get(id);
    // A prefetch's pieces are dropped, but for those a reader came to wait for meanwhile.
    if (ask && ask.prefetch) back.splice(0, back.length, ...back.filter((i) => this.waiters.has(i)));
    // What the origin failed already has no source left.
    for (const i of back.filter((i) => this.originFailed.has(i))) {
      back.splice(back.indexOf(i), 1);
      this._settle(i, null, new Error(`piece ${i}: the origin failed and no peer has it`));
    }
    if (noHolders) this.noPeersUntil = Date.now() + state.config.noPeersRetryMs;
    if (!indices) this._retire(ask);
    else this._retireIfDone(ask);
    // With no holder at all, the origin streams ahead; pieces only some holders lack go alone,
    // so the ones after them still come from peers.
    if (back.length && noHolders) this.heldSet().then((held) => this.origin.ask(this._originWindow(back, held)));
    else if (back.length) this.origin.ask(back);
  }

  _retireIfDone(ask) {
    for (const asker of this.asked.values()) if (asker === ask.id) return;
    this._retire(ask);
  }

  _retire(ask) {
    if (!ask) return;
    clearTimeout(ask.timer);
    this.asks.delete(ask.id);
    state.pieceAsks.delete(ask.id);
    if (ask.onRetire) ask.onRetire(ask.delivered);
  }

  // The origin failed pieces first..last: a page's peers may still have them (the origin can
  // be down while peers are not); else, or if peers were asked before, they fail.
  async onOriginFailed(first, last, err) {
    const failed = [];
    for (let i = first; i <= last; i++) {
      if (this.asked.get(i) !== 'origin') continue;
      this.asked.set(i, 'origin-failed');  // not asked for again meanwhile
      failed.push(i);
    }
    // A page that has not attached yet (its script still loading) is waited for, briefly.
    if (!this.port) this.port = await pickPage(this.clientId);
    const retry = [];
    for (const i of failed) {
      this.asked.delete(i);
      if (this.port && !this.originFailed.has(i)) retry.push(i);
      else this._settle(i, null, err);
      this.originFailed.add(i);
    }
    if (retry.length) this._askPage(retry, true);
  }

  // A whole copy a page loaded before this worker controlled it (from the HTTP cache), read
  // as a stream: each piece not yet held is kept if it is exactly the manifest's. True when
  // the file is then held whole.
  async adopt(response) {
    const held = await this.heldSet();
    let verified = 0;
    await new PieceCutter(this, 0).cut(response.body.getReader(), this.count - 1, 0, async (i, piece) => {
      if (!(await this._verify(i, piece))) return;
      verified++;
      if (held.has(i) || this.asked.has(i)) return;
      this.asked.set(i, 'storing');
      await this._keep(i, piece);
    });
    return verified === this.count;
  }

  // The origin is the source of truth: its bytes are served as they are. Only bytes that are
  // exactly the manifest's piece are kept, and so shared.
  async onOriginPiece(index, bytes, keepable) {
    const ok = keepable && (await this._verify(index, bytes));
    this._store(index, bytes, 'origin', ok);
  }

  async _verify(index, bytes) {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    const expected = this.hashes.subarray(index * 32, index * 32 + 32);
    return digest.every((b, k) => b === expected[k]);
  }

  // A piece arrived: counted for the page that wanted it as it arrives (a piece fetched
  // ahead and never read still cost its transfer), then kept if it may be shared.
  // A prefetched piece is counted by the page that prefetched it, and kept out of memory.
  _store(index, bytes, source, keep, prefetched = false) {
    state.pieceWrites.arrived();
    if (!prefetched) {
      this.fetched.add(index);
      notify(this.clientId, {type: 'served', url: this.url, source, bytes: bytes.length, piece: true});
    }
    if (this.waiters.has(index)) this._settle(index, {bytes, source: 'fetched'}, null);
    else if (!prefetched) this._keepAhead(index, bytes);
    if (!keep) {
      this.asked.delete(index);
      return;
    }
    this.asked.set(index, 'storing');  // not asked for again until written
    // A piece from the origin is written at once: other visitors fetching the same file at the
    // same moment wait for it to be announced (a crowd shares one origin fetch). One from a
    // peer waits for the transfer to end (piece_writes.js).
    if (source === 'origin') this._keep(index, bytes).catch(() => {});
    else state.pieceWrites.add(this, index, bytes);
  }

  async _keep(index, bytes) {
    try {
      const cache = await openCopies();
      const headers = {'content-type': 'application/octet-stream', 'content-length': String(bytes.length)};
      await cache.put(this.key(index), asCopy(bytes, 200, headers, this.file));
      (await this.heldSet()).add(index);
      state.storage.stored(this.url, bytes.length, true);
      notifyAll({type: 'piece-stored', url: this.url, index, count: this.count});
    } finally {
      this.asked.delete(index);
      this._settle(index, {bytes, source: 'fetched'}, null);  // readers that came while it was written
    }
  }

  // A piece no reader waits for yet, kept for the one that will, within the read-ahead and
  // P2PCDN_AHEAD_BYTES (a file of large pieces keeps fewer). A dropped piece is read from
  // storage (or fetched again if it could not be kept).
  _keepAhead(index, bytes) {
    if (this.ahead.has(index)) this._takeAhead(index, this.ahead.get(index));
    this.ahead.set(index, bytes);
    this.aheadBytes += bytes.length;
    state.aheadBytes += bytes.length;
    while (this.ahead.size > state.config.pieceReadAhead + 1 || this.aheadBytes > P2PCDN_AHEAD_BYTES) {
      const [oldest, dropped] = this.ahead.entries().next().value;
      this._takeAhead(oldest, dropped);
    }
    // Most recently filled last: sources a reader left behind (a seek elsewhere, a page gone,
    // a source no longer in state.pieceSources) are the first to give their pieces up.
    state.aheadSources.delete(this);
    state.aheadSources.add(this);
    for (const other of state.aheadSources) {
      if (state.aheadBytes <= P2PCDN_AHEAD_WORKER_BYTES || other === this) break;
      other._dropAhead();
    }
  }

  _takeAhead(index, bytes) {
    this.ahead.delete(index);
    this.aheadBytes -= bytes.length;
    state.aheadBytes -= bytes.length;
    if (!this.ahead.size) state.aheadSources.delete(this);
    return bytes;
  }

  _dropAhead() {
    for (const [index, bytes] of [...this.ahead]) this._takeAhead(index, bytes);
  }

  _settle(index, piece, error) {
    const waiters = this.waiters.get(index) || [];
    this.waiters.delete(index);
    for (const w of waiters) {
      if (piece) w.resolve(piece);
      else w.reject(error);
    }
  }
}

function sameStart(a, b, length) {
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function decodeBase64(text) {
  try {
    const binary = atob(text || '');
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch (_) {
    return new Uint8Array(0);
  }
}
