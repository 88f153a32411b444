// Requests this page makes to peers: one per REQUEST frame, reassembled and verified by the
// core's ChunkAssembler. A request fails at once when its peer closes, answers NOT_FOUND or
// sends bytes that fail the hash; it is expired when it stops making progress.
class PeerRequests {
  constructor(page) {
    this.page = page;
    this.nextId = 0;
    this.open = new Map();  // requestId -> request
  }

  // background: a prefetch, which the page's first-peer-byte figure leaves out.
  start(link, entry, onProgress, signal, background = false) {
    const {core, assembler, selector} = this.page;
    const id = (this.nextId = (this.nextId + 1) >>> 0) || (this.nextId = 1);
    const error = assembler.begin(id, 0, entry.size, entry.integrity, performance.now());
    if (error) return Promise.reject(new Error(error.error));
    const frame = core.encodeFrame({
      type: 'request', requestId: id, resource: entry.resourceId, contentHash: entry.hashHex,
      offset: 0, length: null,
    });
    return new Promise((resolve, reject) => {
      const request = {id, link, entry, resolve, reject, onProgress, received: 0, headers: '',
                       started: performance.now(), background};
      this.open.set(id, request);
      selector.onRequestStart(link.handle);
      if (signal) signal.addEventListener('abort', () => this.fail(id, signal.reason === 'stalled' ? 'stalled' : 'cancelled'), {once: true});
      if (!link.send(frame)) this.fail(id, 'closed');
    });
  }

  // The outcome of one DATA frame, as ChunkAssembler.receive reported it.
  onData(link, result) {
    const request = this.open.get(result.requestId);
    if (!request || request.link !== link) return;  // late data for a cancelled request
    if (result.error) {
      this.fail(request.id, result.error === 'hash-mismatch' ? 'integrity' : 'stalled');
      return;
    }
    request.received += result.bytes;
    if (request.onProgress) request.onProgress(request.received);
    if (result.outcome === 'complete') this._complete(request);
  }

  onHead(frame) {
    const request = this.open.get(frame.requestId);
    if (request) request.headers = frame.headers;
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
    selector.onTransfer(handle, body.byteLength, ms);
    this.page.stats.lastPeerTransfer = {bytes: body.byteLength, ms};
    request.resolve({body, headers: request.headers});
  }

  // Ends a request with a reason; CANCEL tells the peer to stop sending.
  fail(id, reason) {
    const request = this.open.get(id);
    if (!request) return;
    const {core, assembler, selector} = this.page;
    this.open.delete(id);
    assembler.release(id);
    selector.onRequestEnd(request.link.handle);
    if (reason === 'integrity') {
      selector.ban(request.link.handle);
      this.page.banned.add(request.link.peerId);
    } else if (reason !== 'cancelled') {
      selector.onFailure(request.link.handle);
    }
    if (reason !== 'closed') request.link.send(core.encodeFrame({type: 'cancel', requestId: id}));
    request.reject(new Error(reason));
  }

  failLink(link, reason) {
    for (const request of [...this.open.values()]) {
      if (request.link === link) this.fail(request.id, reason);
    }
  }

  expire(now) {
    for (const id of this.page.assembler.expire(now)) {
      this.fail(id, 'stalled');  // the assembler has already freed its buffer
    }
  }
}
