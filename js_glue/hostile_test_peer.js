// Test-only: makes this page a hostile peer, so end-to-end tests attack real browsers with
// the real protocol. Turned on by config.test, which a site never sets; the lying, stalling,
// dripping and truncating uploads and the lying headers (lieHeaders) are in uploads.js. Each
// behaviour is bounded in count and time and stops by itself.
//   inject: DATA for request ids 1..injectIds (and the victim's test.requestIdsFrom) on every link
//   malformed: garbage frames on every link
//   haveFlood: HAVE frames with this many made-up ids
//   requestFlood: this many REQUESTs for what the peer holds
//   claimAll: claims every file of the manifest (LOOKUP with the claim flag: "I am fetching
//             it") and never fetches one, so a crowd waits for copies that never come
class HostileTestPeer {
  constructor(page) {
    this.page = page;
    this.test = page.config.test;
    if (this.test.requestIdsFrom !== undefined) page.requests.nextId = this.test.requestIdsFrom - 1;
    if (this.test.claimAll) this._claimAll();
  }

  async _claimAll() {
    for (const entry of [...this.page.entries.values()].slice(0, 64)) {
      await this.page.signaling.lookup(entry.resourceId, 2000, 1, true);
    }
  }

  onLinkOpen(link) {
    const t = this.test;
    if (t.malformed) this._repeat(link, 20, 100, () => this._garbage(link));
    if (t.haveFlood) this._haveFlood(link, t.haveFlood);
    if (t.inject) this._repeat(link, 400, 25, () => this._inject(link, t.injectIds || 64));
    if (t.requestFlood && link.initiator) setTimeout(() => this._requestFlood(link, t.requestFlood), 300);
  }

  // Floods `peerId` with requests over the link to it, opening one if there is none.
  async requestFloodTo(peerId) {
    const page = this.page;
    const link = page.links.get(peerId) || page.dial(peerId);
    for (let i = 0; i < 100 && link && !link.haveSeen && !link.closed; i++) await new Promise((r) => setTimeout(r, 50));
    if (link && link.haveSeen) this._requestFlood(link, this.test.requestFlood);
  }

  _repeat(link, times, everyMs, fn) {
    let n = 0;
    const timer = setInterval(() => {
      if (link.closed || n++ >= times) return clearInterval(timer);
      fn();
    }, everyMs);
  }

  _garbage(link) {
    const bytes = crypto.getRandomValues(new Uint8Array(64));
    bytes[0] = 1;  // a valid version, so the decoder reads further before refusing
    link.send(bytes);
  }

  // One frame of 500 made-up ids, sent again and again: the victim's cost, not the attacker's
  // (on a test machine both share the CPU).
  _haveFlood(link, count) {
    const hex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
    const ids = [];
    for (let i = 0; i < 500; i++) ids.push(hex(crypto.getRandomValues(new Uint8Array(32))));
    const frame = this.page.core.encodeFrame({type: 'have', op: 'add', ids});
    for (let sent = 0; sent < count && !link.closed; sent += 500) link.send(frame);
  }

  // Ids the peer asked this page for are its own transfers on this link, not another peer's:
  // left alone, so every injected frame aims at a transfer someone else serves.
  onRequest(link, requestId) {
    link.askedIds = link.askedIds || new Set();
    link.askedIds.add(requestId);
  }

  _inject(link, upto) {
    if (!this.injectFrames) {
      const payload = new Uint8Array(1024).fill(0xee);
      this.injectFrames = new Map();
      for (let id = 1; id <= upto; id++) {
        this.injectFrames.set(id, this.page.core.encodeFrame({type: 'data', requestId: id, offset: 0, payload}));
      }
    }
    for (const [id, frame] of this.injectFrames) if (!link.askedIds || !link.askedIds.has(id)) link.send(frame);
  }

  _requestFlood(link, count) {
    const page = this.page;
    const held = [...link.have].map((id) => page.byResource.get(id)).filter(Boolean);
    if (!held.length) return;
    for (let i = 0; i < count && !link.closed; i++) {
      const entry = held[i % held.length];
      link.send(page.core.encodeFrame({type: 'request', requestId: 0x40000000 + i, resource: entry.resourceId,
                                       contentHash: entry.hashHex, offset: 0, length: null}));
    }
  }
}
