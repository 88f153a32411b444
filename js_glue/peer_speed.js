// What a peer transfer costs this visitor, learned across its visits (localStorage): the
// time from a lookup to a link that can carry a request, and the throughput of peer
// transfers. Against the worker's measure of the origin it answers one question for a
// request no open link can serve: is it likely to come sooner from peers (look them up,
// connect, transfer) or from the origin? A page is judged by how soon it shows, so a
// request waits for new links only when that is likely to be faster.
const P2PCDN_PEER_SPEED_KEY = 'p2pcdn:peer-speed';
const P2PCDN_SPEED_WEIGHT = 0.3;  // of the newest sample
// Until measured: a link comes up in ~300 ms; a data channel moves ~4 MB/s on a slow
// device; an origin is assumed at ~20 Mbit/s with a 50 ms first byte.
const P2PCDN_SPEED_UNMEASURED = {setupMs: 300, bytesPerMs: 4000, originTtfbMs: 50, originBytesPerMs: 2500};

class PeerSpeed {
  constructor() {
    this._setupMs = null;
    this._bytesPerMs = null;
    this._loaded = false;
    this._saveTimer = 0;
  }

  // Read when first needed, not as the page loads: a page's first localStorage access is a
  // synchronous load of the whole area from the browser (7.7 ms of a first visit's main
  // thread in a profile of the company site), and nothing asks this before a request does.
  _load() {
    if (this._loaded) return;
    this._loaded = true;
    try {
      const saved = JSON.parse(localStorage.getItem(P2PCDN_PEER_SPEED_KEY) || '{}');
      if (saved.setupMs > 0) this._setupMs = saved.setupMs;
      if (saved.bytesPerMs > 0) this._bytesPerMs = saved.bytesPerMs;
    } catch (_) {
      // Storage blocked or garbled: measured again on this page.
    }
  }

  get setupMs() {
    this._load();
    return this._setupMs;
  }

  get bytesPerMs() {
    this._load();
    return this._bytesPerMs;
  }

  // A lookup found a holder and a link to it came up after `ms`.
  linkUp(ms) {
    if (ms >= 0 && ms < 60000) this._setupMs = speedBlend(this.setupMs, ms);
    this._saveSoon();
  }

  // A peer delivered `bytes` in `ms` from its request.
  transfer(bytes, ms) {
    if (bytes >= 32768 && ms > 0) this._bytesPerMs = speedBlend(this.bytesPerMs, bytes / ms);
    this._saveSoon();
  }

  // Expected milliseconds for `size` bytes from peers not connected yet.
  viaNewLinks(size) {
    const u = P2PCDN_SPEED_UNMEASURED;
    return (this.setupMs ?? u.setupMs) + size / (this.bytesPerMs ?? u.bytesPerMs);
  }

  // Expected milliseconds for `size` bytes from the origin as the worker measured it
  // ({ttfbMs, bytesPerMs} or null).
  viaOrigin(size, origin) {
    const u = P2PCDN_SPEED_UNMEASURED;
    const ttfb = origin && origin.ttfbMs >= 0 ? origin.ttfbMs : u.originTtfbMs;
    const rate = origin && origin.bytesPerMs > 0 ? origin.bytesPerMs : u.originBytesPerMs;
    return ttfb + size / rate;
  }

  newLinksFaster(size, origin) {
    return this.viaNewLinks(size) < this.viaOrigin(size, origin);
  }

  _saveSoon() {
    if (this._saveTimer) return;
    this._saveTimer = setTimeout(() => {
      this._saveTimer = 0;
      try {
        localStorage.setItem(P2PCDN_PEER_SPEED_KEY, JSON.stringify({setupMs: this.setupMs, bytesPerMs: this.bytesPerMs}));
      } catch (_) {
        // Not kept: this page still uses what it measured.
      }
    }, 1000);
  }
}

function speedBlend(old, value) {
  return old === null ? value : old + P2PCDN_SPEED_WEIGHT * (value - old);
}
