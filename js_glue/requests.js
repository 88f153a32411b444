// Requests this page makes to peers. A request belongs to the link it was sent on: the core's
// ChunkAssembler takes DATA for it from that peer only (any other peer's bytes are refused
// and that peer is banned as an injector), so a failure always blames exactly the sender.
// A request fails at once when its peer closes, answers NOT_FOUND or BUSY, or sends bytes
// that fail the hash; the core expires it when its peer sends no first byte in time or
// delivers below the minimum rate (a drip). What each failure says about the peer goes to
// the visit's reputation.
const P2PCDN_MAX_IN_FLIGHT_PER_PEER = 6;  // below a seeder's cap (8): BUSY means a flood
const P2PCDN_CUT_OFF_MIN_BYTES = 16 << 10;  // a cut-off start shorter than this is not worth keeping

// Failure reason -> what it says about the peer (PeerReputation offense), if anything.
const P2PCDN_OFFENSE_OF = {
  'integrity': 'lied', 'no-first-byte': 'stalled', 'too-slow': 'dripped', 'closed': 'truncated',
};

class PeerRequests {
  constructor(page) {
    this.page = page;
    // Random start: ids say nothing about how much this page has asked, and a stranger
    // cannot guess which are open (the owner check does not rely on it).
    this.nextId = (Math.random() * 2 ** 32) >>> 0;
    this.open = new Map();  // requestId -> request
    this.slotWaiters = new Map();  // link -> [resolve]
  }

  openOn(link) {
    let n = 0;
    for (const r of this.open.values()) if (r.link === link) n++;
    return n;
  }

  // Resolves when `link` has a free request slot (true), or false after ms or if it closes.
  whenSlotFree(link, ms) {
    if (this.openOn(link) < P2PCDN_MAX_IN_FLIGHT_PER_PEER) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiters = this.slotWaiters.get(link) || [];
      const done = (ok) => {
        clearTimeout(timer);
        resolve(ok);
      };
      const timer = setTimeout(() => {
        const list = this.slotWaiters.get(link) || [];
        list.splice(list.indexOf(done), 1);
        resolve(false);
      }, ms);
      waiters.push(done);
      this.slotWaiters.set(link, waiters);
    });
  }

  _slotFreed(link) {
    const waiters = this.slotWaiters.get(link);
    if (!waiters || !waiters.length) return;
    if (link.closed) {
      this.slotWaiters.delete(link);
      waiters.forEach((w) => w(false));
    } else if (this.openOn(link) < P2PCDN_MAX_IN_FLIGHT_PER_PEER) {
      waiters.shift()(true);
    }
  }

  // background: a prefetch, which the page's first-peer-byte figure leaves out. piece:
  // {offset, length, hash} asks for one piece of a large file, verified against its own hash.
  // start: the file's first bytes, kept from a transfer a navigation cut off: preloaded, and
  // a peer that serves ranges is asked for the rest only (the whole is checked as usual).
  start(link, entry, onProgress, signal, background = false, piece = null, start = null) {
    const {core, assembler, selector} = this.page;
    const id = this._newId();
    const range = piece || {offset: 0, length: entry.size, hash: entry.integrity};
    const error = assembler.begin(id, link.handle, range.offset, range.length, range.hash, this.page.deadlineClock());
    if (error) return Promise.reject(new Error(error.error));
    const ranges = !!link.remoteHello && (link.remoteHello.capabilities & core.capByteRanges) !== 0;
    const from = start && !piece && ranges && !assembler.preload(id, new Uint8Array(start)) ? start.byteLength : 0;
    const frame = core.encodeFrame({
      type: 'request', requestId: id, resource: entry.resourceId, contentHash: entry.hashHex,
      offset: piece ? range.offset : from, length: piece ? range.length : from ? entry.size - from : null,
    });
    return new Promise((resolve, reject) => {
      const request = {id, link, entry, length: range.length, resolve, reject, onProgress, received: from, headers: '',
                       started: performance.now(), background, piece: !!piece, resumedFrom: from};
      this.open.set(id, request);
      selector.onRequestStart(link.handle);
      if (signal) signal.addEventListener('abort', () => this.fail(id, signal.reason === 'stalled' ? 'stalled' : 'cancelled'), {once: true});
      if (!link.send(frame)) this.fail(id, 'closed');
    });
  }

  _newId() {
    do {
      this.nextId = (this.nextId + 1) >>> 0;
    } while (this.nextId === 0 || this.open.has(this.nextId));
    return this.nextId;
  }

  // The outcome of one DATA frame from `link`, as ChunkAssembler.receive reported it.
  onData(link, result) {
    if (result.error === 'foreign-request') {
      // Bytes for a transfer another peer is serving: nothing was written; the writer goes.
      this.page.punish(link, 'injected', `DATA for request ${result.requestId}, sent to another peer`);
      return;
    }
    const request = this.open.get(result.requestId);
    if (!request || request.link !== link) return;  // late data for a cancelled request
    if (result.error) {
      // hash-mismatch closed the request in the core; overflow, overlap and fragmenting are
      // a peer breaking the protocol.
      // A resumed body's start came from another page's peer: nobody here is to blame.
      if (result.error === 'hash-mismatch') this.fail(request.id, request.resumedFrom ? 'resume-mismatch' : 'integrity');
      else this.page.punish(link, 'malformed', `DATA ${result.error}`);
      return;
    }
    request.received += result.bytes;
    link.lastByteAt = performance.now();
    if (request.onProgress) request.onProgress(request.received);
    if (result.outcome === 'complete') this._complete(request);
  }

  onHead(link, frame) {
    const request = this.open.get(frame.requestId);
    if (request && request.link === link) request.headers = frame.headers;
  }

  // NOT_FOUND, BUSY or an ERROR from the peer a request was sent to; others are ignored.
  onRefusal(link, requestId, reason) {
    const request = this.open.get(requestId);
    if (request && request.link === link) this.fail(requestId, reason);
  }

  _complete(request) {
    const {assembler, selector} = this.page;
    // One copy out of Wasm memory, into a buffer the worker will own (transferred).
    const body = assembler.body(request.id).slice().buffer;
    assembler.release(request.id);
    this.open.delete(request.id);
    const handle = request.link.handle;
    selector.onRequestEnd(handle);
    selector.onSuccess(handle);
    const ms = Math.max(1, performance.now() - request.started);
    const sent = body.byteLength - request.resumedFrom;  // what this peer sent
    selector.onTransfer(handle, sent, ms);
    request.link.delivered = true;
    this.page.reputation.delivered(request.link.peerId, sent);
    this.page.stats.lastPeerTransfer = {bytes: sent, ms};
    this._slotFreed(request.link);
    request.resolve({body, headers: request.headers, resumedFrom: request.resumedFrom});
  }

  // Ends a request with a reason; CANCEL tells the peer to stop sending. What the failure
  // says about the peer is recorded, and a peer banned by it loses every other request too.
  fail(id, reason, rate = null) {
    const request = this.open.get(id);
    if (!request) return;
    const {core, assembler, selector} = this.page;
    this.open.delete(id);
    assembler.release(id);
    const link = request.link;
    selector.onRequestEnd(link.handle);
    if (!['cancelled', 'stalled', 'banned', 'resume-mismatch'].includes(reason)) selector.onFailure(link.handle);
    if (reason !== 'closed' && reason !== 'banned') link.send(core.encodeFrame({type: 'cancel', requestId: id}));
    request.reject(new Error(reason));
    this._slotFreed(link);
    const offense = P2PCDN_OFFENSE_OF[reason];
    // A peer that leaves with a transfer open may just have navigated: a strike, and one
    // navigation ends its peer id, so an honest peer never gathers two.
    const truncated = reason === 'closed' && link.closedByPeer;
    if (offense && (reason !== 'closed' || truncated)) {
      const at = rate === null ? '' : ` at ${Math.round(rate / 1024)} KiB/s`;
      this.page.punish(link, offense, `${reason}${at} after ${request.received} of ${request.length} bytes of ${request.entry.url}`);
    }
  }

  // Leaving: the start of each whole file still on its way goes to the worker, so the next
  // page asks peers for the rest only (sw/cut_off_prefetches.js). Called before the links
  // close, which frees the buffers.
  handOnCutOff() {
    for (const request of this.open.values()) {
      if (request.piece) continue;  // a piece is kept as it arrives: nothing to hand on
      const view = this.page.assembler.prefix(request.id);
      if (!view || view.length < P2PCDN_CUT_OFF_MIN_BYTES) continue;
      const body = view.slice().buffer;
      this.page.bridge.post({type: 'cut-off', url: request.entry.url, integrity: request.entry.integrity, body}, [body]);
    }
  }

  failLink(link, reason) {
    for (const request of [...this.open.values()]) {
      if (request.link === link) this.fail(request.id, reason);
    }
    this._slotFreed(link);
  }

  // The core's deadlines: no first byte in time, or below the minimum rate.
  expire(now) {
    for (const e of this.page.assembler.expire(now)) {
      // The assembler has already freed its buffer.
      this.fail(e.requestId, e.reason, e.reason === 'too-slow' ? e.bytesPerSecond : null);
    }
  }
}
