// How fast the origin answers this visitor: time to first byte and throughput, measured on
// this worker's own origin fetches (and on what a first page loaded before any worker
// controlled it). A page weighs a peer transfer against it: on a fast origin, waiting for a
// peer link is a slower page. Kept across worker restarts in the worker's state cache.
const P2PCDN_ORIGIN_SPEED_KEY = '/p2pcdn-origin-speed';
const P2PCDN_ORIGIN_WEIGHT = 0.3;             // of the newest sample
// Smaller bodies say little about throughput: TCP's slow start and the page's other
// downloads dominate them (a first page's 47 KB script measured a 20 Mbit/s origin at ~8).
const P2PCDN_ORIGIN_MIN_RATE_BYTES = 256 * 1024;

class OriginSpeed {
  constructor() {
    this.ttfbMs = null;
    this.bytesPerMs = null;
    this.samples = 0;
    this.loaded = null;
    this.saveTimer = 0;
  }

  load() {
    if (!this.loaded) {
      this.loaded = (async () => {
        const saved = await (await caches.open(P2PCDN_STATE)).match(P2PCDN_ORIGIN_SPEED_KEY);
        const m = saved ? await saved.json() : {};
        if (m.ttfbMs > 0 && this.ttfbMs === null) this.ttfbMs = m.ttfbMs;
        if (m.bytesPerMs > 0 && this.bytesPerMs === null) this.bytesPerMs = m.bytesPerMs;
        this.samples = Math.max(this.samples, Number(m.samples) || 0);
      })().catch(() => {});
    }
    return this.loaded;
  }

  // One origin answer: `ttfbMs` from request to headers, `bytes` in `bodyMs` after them.
  sample(ttfbMs, bytes, bodyMs) {
    if (!(ttfbMs >= 0) || ttfbMs > 60000) return;
    this.ttfbMs = blend(this.ttfbMs, ttfbMs);
    if (bytes >= P2PCDN_ORIGIN_MIN_RATE_BYTES && bodyMs > 0) this.bytesPerMs = blend(this.bytesPerMs, bytes / bodyMs);
    this.samples++;
    this._saveSoon();
  }

  // What pages are told: null until measured.
  snapshot() {
    return this.ttfbMs === null ? null : {ttfbMs: this.ttfbMs, bytesPerMs: this.bytesPerMs, samples: this.samples};
  }

  _saveSoon() {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = 0;
      const body = JSON.stringify({ttfbMs: this.ttfbMs, bytesPerMs: this.bytesPerMs, samples: this.samples});
      caches.open(P2PCDN_STATE).then((c) => c.put(P2PCDN_ORIGIN_SPEED_KEY, new Response(body))).catch(() => {});
    }, 1000);
  }
}

function blend(old, value) {
  return old === null ? value : old + P2PCDN_ORIGIN_WEIGHT * (value - old);
}

// An origin answer to `url` fetched from `started`, headers at `headersAt`, `bytes` read to
// the end now: a sample only if the bytes crossed the network (an HTTP-cache hit says nothing
// of the origin; Resource Timing gives it a transferSize of 0).
function noteOrigin(url, started, headersAt, bytes) {
  const ended = performance.now();
  if (fromNetwork(url, started)) state.originSpeed.sample(headersAt - started, bytes, ended - headersAt);
}

function fromNetwork(url, since) {
  try {
    const entries = performance.getEntriesByName(new URL(url, self.location.href).href).filter((e) => e.startTime >= since - 1);
    const network = entries.length > 0 && entries[entries.length - 1].transferSize > 0;
    if (performance.getEntriesByType('resource').length > 200) performance.clearResourceTimings();
    return network;
  } catch (_) {
    return false;
  }
}
