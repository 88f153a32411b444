// Checks what the worker left to the browser's HTTP cache (sw/http_freshness.js): Resource
// Timing tells whether the bytes came from that cache (transferSize 0) or crossed the
// network after all (the cache was cleared, or evicted the file). The page's figures count
// each as what it was, and a miss tells the worker to stop leaving files to the browser
// until it has seen them come from the origin again.
const P2PCDN_BROWSER_CHECK_MS = 30000;  // an answer not in Resource Timing by then is counted as cached

class BrowserCacheCheck {
  constructor(stats, post) {
    this.stats = stats;
    this.post = post;             // (message) => sends it to the worker
    this.waiting = new Map();     // url -> [{bytes, since}]
    this.observer = null;
  }

  // The worker left `url` (`bytes` long) to the browser just now.
  left(url, bytes) {
    const since = performance.now() - 1000;  // the note may arrive after the request began
    const done = this._entry(url, since);
    if (done) return this._judge(url, bytes, done);
    const list = this.waiting.get(url) || [];
    list.push({bytes, since});
    this.waiting.set(url, list);
    this._observe();
    setTimeout(() => this._expire(url), P2PCDN_BROWSER_CHECK_MS);
  }

  _entry(url, since) {
    const entries = performance.getEntriesByName(url).filter((e) => e.startTime >= since && e.responseEnd > 0);
    return entries.length ? entries[entries.length - 1] : null;
  }

  _observe() {
    if (this.observer || typeof PerformanceObserver === 'undefined') return;
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const url = e.name.split('#')[0];
        const first = (this.waiting.get(url) || [])[0];
        if (!first || e.startTime < first.since) continue;
        this._shift(url);
        this._judge(url, first.bytes, e);
      }
    });
    try {
      this.observer.observe({type: 'resource'});
    } catch (_) {
      this.observer = null;  // no Resource Timing: every such answer counts as cached
    }
  }

  _shift(url) {
    const list = this.waiting.get(url) || [];
    list.shift();
    if (!list.length) this.waiting.delete(url);
  }

  _expire(url) {
    const first = (this.waiting.get(url) || [])[0];
    if (!first || performance.now() - first.since < P2PCDN_BROWSER_CHECK_MS) return;
    this._shift(url);
    this.stats.count('cache', first.bytes, false, true);
  }

  _judge(url, bytes, entry) {
    if (entry.transferSize > 0) {
      this.stats.count('origin', bytes);
      this.post({type: 'browser-missed', url});
    } else {
      this.stats.count('cache', bytes, false, true);
    }
  }
}
