// Serving other peers from this page's Cache Storage. Each link interleaves its uploads one
// DATA frame at a time (a small response never waits behind a large one), paced by the
// channel's buffered amount.
class PeerUploads {
  constructor(page) {
    this.page = page;
  }

  async serve(link, frame) {
    const {core, config} = this.page;
    const reply = (f) => link.send(core.encodeFrame(f));
    if (!config.upload) {
      reply({type: 'error', requestId: frame.requestId, code: 2, message: 'uploads are off'});
      return;
    }
    const entry = this.page.byResource.get(frame.resource);
    const cached = entry && entry.hashHex === frame.contentHash ? await this.page.cachedResponse(entry) : null;
    if (!cached) {
      reply({type: 'not-found', requestId: frame.requestId});
      return;
    }
    const body = new Uint8Array(await cached.arrayBuffer());
    const offset = frame.offset;
    const end = frame.length === null ? body.length : offset + frame.length;
    if (offset >= body.length || end > body.length) {
      reply({type: 'error', requestId: frame.requestId, code: 4, message: 'range not satisfiable'});
      return;
    }
    const headers = ['content-type', 'last-modified']
                        .filter((h) => cached.headers.has(h))
                        .map((h) => `${h}: ${cached.headers.get(h)}\n`)
                        .join('');
    reply({type: 'response-head', requestId: frame.requestId, totalSize: body.length, headers});
    link.uploads = link.uploads || [];
    link.uploads.push({requestId: frame.requestId, url: entry.url, body, next: offset, end});
    this._pump(link);
  }

  // Test-only: a lying peer, to show the hash catching it. `true` or a URL substring.
  _corrupts(upload) {
    const c = this.page.config.test && this.page.config.test.corruptUploads;
    return c === true || (typeof c === 'string' && upload.url.includes(c));
  }

  // Upload control: at most `rate` bytes a second from this page, all peers together.
  _pace(bytes, rate) {
    const now = performance.now();
    this.nextSendAt = Math.max(this.nextSendAt || now, now) + (bytes / rate) * 1000;
    const wait = this.nextSendAt - now - 50;  // let 50 ms of credit go out as a burst
    return wait > 0 ? new Promise((resolve) => setTimeout(resolve, wait)) : Promise.resolve();
  }

  cancel(link, requestId) {
    if (link.uploads) link.uploads = link.uploads.filter((u) => u.requestId !== requestId);
  }

  async _pump(link) {
    if (link.pumping) return;
    link.pumping = true;
    const {core, stats, config} = this.page;
    const capacity = core.payloadCapacity(link.maxMessageSize);
    const headerSize = core.dataHeaderSize;
    while (link.uploads.length && !link.closed) {
      if (!link.canSend()) {
        await link.drained();
        continue;
      }
      const upload = link.uploads.shift();
      const n = Math.min(capacity, upload.end - upload.next);
      const frame = new Uint8Array(headerSize + n);
      frame.set(core.dataHeader(upload.requestId, upload.next, n));
      frame.set(upload.body.subarray(upload.next, upload.next + n), headerSize);
      upload.next += n;
      if (upload.next === upload.end && this._corrupts(upload)) frame[frame.length - 1] ^= 0xff;
      if (!link.send(frame)) break;
      stats.bytesToPeers += n;
      if (config.maxUploadBytesPerSecond) await this._pace(n, config.maxUploadBytesPerSecond);
      if (upload.next < upload.end) link.uploads.push(upload);
    }
    link.pumping = false;
    stats.changed();
  }
}
