// Serving other peers from this page's Cache Storage. Work per peer is bounded: at most
// P2PCDN_UPLOAD.maxConcurrent requests per peer (BUSY beyond, and a peer that keeps asking
// past that is a flooder), bodies are read in slices as they are sent (a Blob from Cache
// Storage, never a whole body in memory per request), and uploads are paced per peer and
// page-wide. Each link sends, frame by frame, the upload with the fewest bytes left (ties:
// the oldest): a small response never waits behind a large one, and pieces asked for in
// order arrive one after another, each whole as soon as it can be, instead of all together
// at the end of a round robin (the asker's next requests then keep the channel full).
const P2PCDN_UPLOAD = {
  maxConcurrent: 8,        // open uploads per peer; more get ERROR busy
  floodBusy: 64,           // busy answers to one peer within floodWindowMs: it is flooding
  floodWindowMs: 10000,
  readWholeBytes: 1 << 20,  // bodies up to this size are read in one go
  // A DATA frame's bytes at most, whatever message size the link agreed (two Firefoxes agree
  // on ~1 GiB): the asker sees a message only once all of it is in, so a 16 MiB piece sent
  // as one frame is no first byte for seconds, and a stall by its deadlines.
  maxFrameBytes: 256 << 10,
  // Of a file served whole (not in pieces: under 1 MiB), frames of at most this: an asker
  // that navigates mid-transfer hands the start it has on to its next page, which asks only
  // for the rest; a photo sent as one frame is whole or nothing, and all of it is lost when
  // the visitor follows a link while it is on its way (bench/README.md, twenty-fourth session).
  wholeFileFrameBytes: 64 << 10,
};

class PeerUploads {
  constructor(page) {
    this.page = page;
    this.hot = new HotBodies();
  }

  async serve(link, frame) {
    const {core, config} = this.page;
    const reply = (f) => link.send(core.encodeFrame(f));
    link.served = true;
    link.uploads = link.uploads || [];
    if (!config.upload) return reply({type: 'error', requestId: frame.requestId, code: 2, message: 'uploads are off'});
    if (link.uploads.length + (link.opening || 0) >= P2PCDN_UPLOAD.maxConcurrent) return this._busy(link, frame.requestId, reply);
    const entry = this.page.byResource.get(frame.resource);
    const size = entry ? entry.size : 0;
    const offset = frame.offset;
    const end = frame.length === null ? size : offset + frame.length;
    // Still held (not evicted since), the very bytes asked for: no storage lookup.
    const hot = entry && entry.hashHex === frame.contentHash && this.page.held.has(entry) && this.hot.get(entry);
    if (hot && offset < size && end <= size) {
      reply({type: 'response-head', requestId: frame.requestId, totalSize: size, headers: this._headers(hot.headers)});
      return this._queue(link, {requestId: frame.requestId, url: entry.url, body: new WholeBody(hot.buffer, offset), next: offset, end, whole: !entry.pieces});
    }
    link.opening = (link.opening || 0) + 1;  // counted while Cache Storage answers
    let copy = null;
    try {
      copy = entry && entry.hashHex === frame.contentHash ? await this._copy(entry, offset, end) : null;
    } finally {
      link.opening--;
    }
    if (!copy || link.closed) return copy ? null : reply({type: 'not-found', requestId: frame.requestId});
    const cached = copy.response;
    if (offset >= size || end > size || !cached.body || copy.range) {
      return reply({type: 'error', requestId: frame.requestId, code: 4, message: 'range not satisfiable'});
    }
    const headers = ['content-type', 'last-modified']
                        .filter((h) => cached.headers.has(h))
                        .map((h) => `${h}: ${cached.headers.get(h)}\n`)
                        .join('');
    reply({type: 'response-head', requestId: frame.requestId, totalSize: size, headers: this._headers(headers)});
    // Small bodies are read whole (one read, bounded: 8 uploads of 1 MiB per peer); larger
    // ones stream.
    const start = offset - copy.base;  // where the range starts in the copy
    let body;
    if (copy.size <= P2PCDN_UPLOAD.readWholeBytes) {
      const buffer = await cached.arrayBuffer();
      if (!copy.base && HotBodies.fits(copy.size)) this.hot.put(entry, buffer, headers);
      body = new WholeBody(buffer, start);
    } else {
      body = new BodySlices(cached.body, start);
    }
    this._queue(link, {requestId: frame.requestId, url: entry.url, body, next: offset, end, whole: !entry.pieces});
  }

  _queue(link, upload) {
    if (link.closed) return upload.body.close();
    link.uploads.push(upload);
    this._pump(link);
  }

  // The cached copy a range is served from: the whole body, or for a large file held in
  // pieces the one piece that holds the range ({range: true} when it spans pieces). Null
  // when this page does not hold it.
  async _copy(entry, offset, end) {
    const index = entry.pieces ? Math.floor(offset / entry.pieces.size) : -1;
    // A piece held is read at once (one storage lookup per piece, not two).
    const piece = index >= 0 && this.page.pieceHoldings.has(entry, index) ? await this._pieceCopy(entry, index, end) : null;
    if (piece) return piece;
    const whole = await this.page.held.response(entry);
    return whole && {response: whole, base: 0, size: entry.size};
  }

  async _pieceCopy(entry, index, end) {
    const base = index * entry.pieces.size;
    const pieceEnd = Math.min(entry.size, base + entry.pieces.size);
    const response = await this.page.held.copy(entry, p2pcdnPieceKey(entry.url, index));
    return response && {response, base, size: pieceEnd - base, range: end > pieceEnd};
  }

  _busy(link, requestId, reply) {
    const now = performance.now();
    if (!link.busySince || now - link.busySince > P2PCDN_UPLOAD.floodWindowMs) {
      link.busySince = now;
      link.busyCount = 0;
    }
    if (++link.busyCount > P2PCDN_UPLOAD.floodBusy) {
      this.page.punish(link, 'flooded', `${link.busyCount} requests past the cap of ${P2PCDN_UPLOAD.maxConcurrent}`);
      return;
    }
    reply({type: 'error', requestId, code: 2, message: 'busy'});
  }

  // The test switch (config.test) makes this page a hostile peer for end-to-end tests.
  _hostile() {
    return this.page.config.test || {};
  }

  // The header lines to send: the copy's, or a hostile test peer's lies (test.lieHeaders).
  _headers(lines) {
    const lie = this._hostile().lieHeaders;
    return typeof lie === 'string' ? lie : lines;
  }

  _corrupts(upload) {
    const c = this._hostile().corruptUploads;
    return c === true || (typeof c === 'string' && upload.url.includes(c));
  }

  // A capped upload sends frames of at most 50 ms of its tightest cap (16 KiB at least): a
  // visitor who leaves mid-transfer loses what was in flight, not a whole 256 KiB burst sent
  // a second apart, and the asker sees a steady rate.
  _frameBytes(capacity) {
    const {config} = this.page;
    capacity = Math.min(capacity, P2PCDN_UPLOAD.maxFrameBytes);
    const caps = [config.maxUploadBytesPerSecond, config.maxUploadBytesPerSecondPerPeer].filter((r) => r > 0);
    if (!caps.length) return capacity;
    return Math.min(capacity, Math.max(16 << 10, Math.floor(Math.min(...caps) / 20)));
  }

  // Upload control: at most `rate` bytes a second; `state` holds the schedule (page or link).
  _pace(state, bytes, rate) {
    const now = performance.now();
    state.nextSendAt = Math.max(state.nextSendAt || now, now) + (bytes / rate) * 1000;
    const wait = state.nextSendAt - now - 50;  // let 50 ms of credit go out as a burst
    return wait > 0 ? new Promise((resolve) => setTimeout(resolve, wait)) : Promise.resolve();
  }

  cancel(link, requestId) {
    for (const u of link.uploads || []) if (u.requestId === requestId) u.body.close();
    if (link.uploads) link.uploads = link.uploads.filter((u) => u.requestId !== requestId);
    if (link.reading && link.reading.requestId === requestId) link.reading.cancelled = true;
  }

  // The link closed: release every body stream it was reading. What was still queued in its
  // channel never went out (the asker navigated or left): no upload, in the figures either.
  closeLink(link) {
    for (const u of link.uploads || []) u.body.close();
    if (link.reading) link.reading.body.close();
    link.uploads = [];
    const unsent = Math.min(link.unsentBytes || 0, link.bytesSent || 0);
    if (!unsent) return;
    const {stats} = this.page;
    stats.bytesToPeers -= unsent;
    stats.bytesToPeersUnsent += unsent;
    stats.changed();
  }

  // Takes out the upload with the fewest bytes left; the queue keeps arrival order for ties.
  _next(link) {
    let best = 0;
    for (let i = 1; i < link.uploads.length; i++) {
      const u = link.uploads[i], b = link.uploads[best];
      if (u.end - u.next < b.end - b.next) best = i;
    }
    return link.uploads.splice(best, 1)[0];
  }

  async _pump(link) {
    if (link.pumping) return;
    link.pumping = true;
    const {core, stats, config} = this.page;
    const capacity = this._frameBytes(core.payloadCapacity(link.maxMessageSize));
    const headerSize = core.dataHeaderSize;
    const hostile = this._hostile();
    try {
      while (link.uploads.length && !link.closed) {
        if (!link.canSend()) {
          await link.drained();
          continue;
        }
        const upload = this._next(link);
        if (hostile.stall) continue;  // says RESPONSE_HEAD, then nothing
        const frameBytes = upload.whole ? Math.min(capacity, P2PCDN_UPLOAD.wholeFileFrameBytes) : capacity;
        let n = Math.min(frameBytes, upload.end - upload.next);
        if (hostile.drip) n = Math.min(n, 16);
        if (hostile.truncate && upload.next + n >= upload.end) {
          if (hostile.truncate === 'close') link.close('test: truncating');
          continue;  // never sends the last frame
        }
        link.reading = upload;
        const payload = await upload.body.take(n);
        link.reading = null;
        if (link.closed) break;
        if (upload.cancelled || !payload) continue;  // cancelled while the slice was read
        const frame = new Uint8Array(headerSize + n);
        frame.set(core.dataHeader(upload.requestId, upload.next, n));
        frame.set(payload, headerSize);
        upload.next += n;
        if (upload.next === upload.end && this._corrupts(upload)) frame[frame.length - 1] ^= 0xff;
        if (!link.send(frame)) break;
        stats.bytesToPeers += n;
        link.bytesSent = (link.bytesSent || 0) + n;
        if (config.maxUploadBytesPerSecond) await this._pace(this, n, config.maxUploadBytesPerSecond);
        if (config.maxUploadBytesPerSecondPerPeer) await this._pace(link, n, config.maxUploadBytesPerSecondPerPeer);
        if (hostile.drip) await new Promise((resolve) => setTimeout(resolve, hostile.drip));
        if (upload.next < upload.end) link.uploads.push(upload);
        else upload.body.close();
      }
    } catch (err) {
      // The cached copy went away (evicted, a new deploy): whatever is left fails at the peer.
      console.debug(`p2pcdn: upload stopped: ${err.message}`);
    } finally {
      link.pumping = false;
      stats.changed();
    }
  }
}

// A small body, read whole, handed out in slices like BodySlices.
class WholeBody {
  constructor(buffer, offset) {
    this.bytes = new Uint8Array(buffer);
    this.at = offset;
  }

  async take(n) {
    if (!this.bytes) return null;
    if (this.at + n > this.bytes.length) throw new Error('cached body shorter than the manifest says');
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  close() {
    this.bytes = null;
  }
}

// A response body read as a stream, handed out in slices of the size each frame needs; holds
// the rest of one stream chunk and one read ahead (so the next frame's bytes are on their
// way while this one is sent). Starts at `offset` (bytes before it are read and dropped: a
// Cache Storage body cannot seek).
class BodySlices {
  constructor(stream, offset) {
    this.reader = stream.getReader();
    this.skip = offset;
    this.buffered = null;  // Uint8Array: the rest of the last chunk read
    this.ahead = this.reader.read();
  }

  _next() {
    const read = this.ahead;
    this.ahead = this.reader.read();
    this.ahead.catch(() => {});  // a cancelled stream rejects the read nobody waits for
    return read;
  }

  // The next n bytes (fewer only at the end), or null once closed.
  async take(n) {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (!this.buffered || !this.buffered.length) {
        const {value, done} = await this._next();
        if (done || !value) break;
        this.buffered = value;
        if (this.skip) {
          const dropped = Math.min(this.skip, value.length);
          this.skip -= dropped;
          this.buffered = value.subarray(dropped);
        }
        continue;
      }
      const m = Math.min(n - filled, this.buffered.length);
      out.set(this.buffered.subarray(0, m), filled);
      this.buffered = this.buffered.subarray(m);
      filled += m;
    }
    if (this.closed) return null;
    if (filled < n) throw new Error('cached body shorter than the manifest says');
    return out;
  }

  close() {
    this.closed = true;
    this.buffered = null;
    this.reader.cancel().catch(() => {});
  }
}
