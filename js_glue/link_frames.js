// The frames of the page's peer links: each message is cut by the core into a frame or a
// DATA chunk of an open request, and handed to what it concerns; HELLO, HAVE and PING are
// answered here. A malformed message, or a flood of ids this manifest does not name, costs
// the peer its link (punish); it is never answered, so a peer cannot use us as a reflector.
class LinkFrames {
  constructor(page) {
    this.page = page;
  }

  // A link just opened: what this page reads and can do.
  hello(link) {
    const {core} = this.page;
    link.send(core.encodeFrame({type: 'hello', maxVersion: core.wireVersion, maxMessageSize: link.localMaxMessageSize(),
                                capabilities: core.capByteRanges | core.capPieces}));
  }

  haveTo(link, op, ids) {
    const {page} = this;
    if (!page.config.upload) ids = [];  // it would only invite requests it refuses
    const perFrame = 500;  // fits a 16 KiB message, the size allowed before HELLO
    for (let i = 0; i === 0 || i < ids.length; i += perFrame) {
      link.send(page.core.encodeFrame({type: 'have', op: i === 0 ? op : 'add', ids: ids.slice(i, i + perFrame)}));
    }
  }

  // To every link that has had our first HAVE (the others get the whole list with theirs).
  haveToAll(op, ids) {
    for (const link of this.page.links.values()) if (link.sentHave) this.haveTo(link, op, ids);
  }

  onMessage(link, data) {
    const {page} = this;
    if (!page.assembler) return;  // not started: a peer cannot have been asked anything
    link.lastUsed = performance.now();
    const r = page.assembler.receive(data, page.deadlineClock(), link.localMaxMessageSize(), link.handle);
    if (r.frame) {
      this.onFrame(link, r.frame);
    } else if (r.requestId !== undefined) {
      if (!r.error) this._counted(r);
      if (r.error !== 'unknown-request') page.requests.onData(link, r);
    } else if (r.error) {
      page.punish(link, 'malformed', `${r.error}: ${r.message}`);
    }
  }

  _counted(r) {
    const {stats, requests} = this.page;
    const request = requests.open.get(r.requestId);
    if (stats.firstPeerByteMs === null && request && !request.background) {
      stats.firstPeerByteMs = performance.now();
      performance.mark('p2pcdn:first-peer-byte');
    }
    stats.peerBytesReceived += r.bytes;
  }

  onFrame(link, f) {
    const {page} = this;
    switch (f.type) {
      case 'hello':
        link.remoteHello = f;
        link.maxMessageSize = page.core.negotiatedMessageSize(link.localMaxMessageSize(), f.maxMessageSize);
        // What we hold, once we know what the peer reads: parts of files first, then HAVE,
        // which tells it the list is complete.
        if (!link.sentHave) {
          link.sentHave = true;
          page.pieceHoldings.sendAll(link);
          this.haveTo(link, 'replace', [...page.held.ids]);
        }
        break;
      case 'have':
        this._onHave(link, f);
        break;
      case 'have-pieces':
        this._countUnknown(link, page.pieceHoldings.onHavePieces(link, f));
        page.holdersChanged();
        break;
      case 'request':
        if (page.hostile) page.hostile.onRequest(link, f.requestId);
        // A copy this page cannot read (storage refused, evicted mid-read) fails the request
        // at once: the asker goes elsewhere instead of waiting out its first-byte deadline.
        page.uploads.serve(link, f).catch((err) => {
          console.debug(`p2pcdn: cannot serve ${f.requestId}: ${err.message}`);
          if (!link.closed) link.send(page.core.encodeFrame({type: 'error', requestId: f.requestId, code: 3, message: 'cannot read the copy'}));
        });
        break;
      case 'response-head':
        page.requests.onHead(link, f);
        break;
      case 'not-found':
        page.requests.onRefusal(link, f.requestId, 'notFound');
        break;
      case 'error':
        if (f.requestId) page.requests.onRefusal(link, f.requestId, f.code === 2 ? 'busy' : 'notFound');
        break;
      case 'cancel':
        page.uploads.cancel(link, f.requestId);
        break;
      case 'ping':
        link.send(page.core.encodeFrame({type: 'pong', nonce: f.nonce, sentAtMs: f.sentAtMs}));
        break;
      case 'pong': {
        // Only the answer to a PING this page sent, timed by its own clock: an unsolicited
        // PONG, or an echoed time, would let a peer set its own round trip and rank. This
        // page sends no PING yet, so none counts.
        const sentAt = link.pings ? link.pings.get(f.nonce) : undefined;
        if (sentAt === undefined) break;
        link.pings.delete(f.nonce);
        page.selector.onRtt(link.handle, performance.now() - sentAt);
        break;
      }
    }
  }

  // A peer's HAVE is kept only for resources of this manifest: made-up ids cost nothing. A
  // peer of another deploy may name its files, a few; far more than a manifest holds is a flood.
  _onHave(link, f) {
    const {page} = this;
    link.haveSeen = true;
    const known = f.ids.filter((id) => page.byResource.has(id));
    if (f.op === 'replace') link.have = new Set(known);
    else if (f.op === 'remove') known.forEach((id) => link.have.delete(id));
    else known.forEach((id) => link.have.add(id));
    this._countUnknown(link, f.ids.length - known.length);
    page.holdersChanged();
  }

  _countUnknown(link, n) {
    link.unknownHave = (link.unknownHave || 0) + n;
    if (link.unknownHave > 1000 + 2 * this.page.byResource.size) {
      this.page.punish(link, 'flooded', `${link.unknownHave} ids in HAVE or HAVE_PIECES that are not in the manifest`);
    }
  }
}
