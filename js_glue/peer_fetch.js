// One resource fetched from peers: attempts on holders one after another (at most
// maxAttempts), and a hedge: when the attempt under way has sent no byte for hedgeAfterMs
// (no first byte yet, or a pause), the next holder is asked in parallel and the first
// complete, verified body wins. So a stalling, dripping or truncating peer costs a page about
// hedgeAfterMs, not the core's deadlines, and an honest transfer, which streams, is never
// duplicated. A loser still delivering is cancelled; a quiet one is left to the core's
// deadlines, which judge it (a strike if it misses them) without the page waiting for it.
class PeerFetch {
  // origin: the worker's measure of the origin ({ttfbMs, bytesPerMs} or null); given for a
  // page's own request, which waits for new links only when peers are likely faster.
  // claim: a lookup that finds no holder makes this page the file's fetcher (a page's own
  // request does; a prefetch may): the fetch then fails with 'claimed'.
  // start: the first bytes of the file from a transfer a navigation cut off (unverified):
  // holders that serve ranges are asked for the rest only, and the whole is checked.
  constructor(page, entry, {onProgress, signal, background = false, origin, claim = !background, start = null} = {}) {
    this.page = page;
    this.entry = entry;
    this.onProgress = onProgress;
    this.signal = signal;
    this.background = background;
    this.origin = origin;
    this.claim = claim;
    this.start = start;
    this.tried = new Set();
    this.attempts = new Set();  // {link, controller, started, lastByteAt}
    this.count = 0;
    this.reason = 'noPeers';
    this.received = 0;
    this.done = false;
    this.launching = false;
  }

  run() {
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      if (this.signal) this.signal.addEventListener('abort', () => this._abort(), {once: true});
      this.timer = setInterval(() => this._maybeHedge(), 100);
      if (this._originSooner()) return this._finish(null, new Error('originFaster'));
      this._launch();
    });
  }

  // No open link holds it and the origin is likely to deliver it sooner than new links
  // would: the origin it is. Links come up in the background for the requests after it.
  _originSooner() {
    const {page, entry} = this;
    if (this.background || this.origin === undefined || (this.origin && this.origin.failed)) return false;
    if (page.holders.usable(entry.resourceId, this.tried).length) return false;
    if (!page.originSooner(entry.size, this.origin)) return false;
    page.stats.originFaster++;
    page.holders.warmUp(entry);
    return true;
  }

  // Starts an attempt on the best holder not tried yet; ends the fetch if there is none and
  // nothing else is running.
  async _launch() {
    const {page, entry, tried, background} = this;
    if (this.launching) return;
    this.launching = true;
    let link = null;
    if (this.count < page.config.maxAttempts && !this._aborted()) link = await page.holders.find(entry, tried, background, this.claim, background);
    this.launching = false;
    if (tried.claimed) this.reason = 'claimed';
    if (this.done) return;
    if (!link || this._aborted()) {
      if (this.attempts.size === 0) this._finish(null, new Error(this._aborted() ? 'cancelled' : this.reason));
      return;
    }
    tried.add(link.peerId);
    this._attempt(link, this.start);
  }

  // One transfer from `link`; `start`: the kept start to resume from (or null: whole).
  async _attempt(link, start) {
    const {page, entry, background} = this;
    this.count++;
    link.lastUsed = performance.now();
    const attempt = {link, start, controller: new AbortController(), started: performance.now(), lastByteAt: 0};
    this.attempts.add(attempt);
    const progress = (received) => {
      attempt.lastByteAt = performance.now();
      if (received > this.received && !this.done) {
        this.received = received;
        if (this.onProgress) this.onProgress(received);
      }
    };
    try {
      if (!(await page.requests.whenSlotFree(link, page.config.connectTimeoutMs))) throw new Error('busy');
      if (attempt.controller.signal.aborted) throw new Error('cancelled');
      const result = await page.requests.start(link, entry, progress, attempt.controller.signal, background, null, start);
      this.attempts.delete(attempt);
      // Counted once the resumed transfer delivered (a hedge may have resumed too, and lost).
      if (result.resumedFrom && !this.done) page.stats.resumed(result.resumedFrom);
      page.peerSpeed.transfer(result.body.byteLength, performance.now() - attempt.started);
      this._finish(result, null);
    } catch (err) {
      this.attempts.delete(attempt);
      this._lost(attempt, err.message);
    }
  }

  _lost(attempt, reason) {
    if (this.done) return;
    if (reason === 'resume-mismatch') {
      // The kept start (from another page's peer) or this peer's rest was wrong, and the hash
      // cannot say which. The whole file from the same peer can: a wrong whole body is its lie,
      // judged as any (a peer that sends a wrong rest is never let off for it).
      this.start = null;
      if (!this.background) this.page.stats.fail(P2pcdnStats.failureKey(reason));
      if (attempt.start && !attempt.link.closed && !this._aborted()) return this._attempt(attempt.link, null);
    }
    if (reason !== 'cancelled' && reason !== 'resume-mismatch') {
      this.reason = reason;
      if (!this.background) {
        this.page.holders.lose(attempt.started, performance.now());
        this.page.stats.fail(P2pcdnStats.failureKey(reason));
      }
    }
    if (this.attempts.size === 0) this._launch();
  }

  _maybeHedge() {
    if (this.done || this.launching || this.noHedge || this.attempts.size !== 1 ||
        this.count >= this.page.config.maxAttempts) {
      return;
    }
    const [attempt] = this.attempts;
    const quietSince = attempt.lastByteAt || attempt.started;
    if (performance.now() - quietSince < this.page.config.hedgeAfterMs) return;
    this._hedge();
  }

  // One hedge at most per quiet spell; if no other holder can be had, none again for this
  // fetch (no lookup storm while a lone holder pauses).
  async _hedge() {
    const before = this.count;
    await this._launch();
    if (this.count === before) this.noHedge = true;
    else if (!this.background) this.page.stats.hedged++;
  }

  _aborted() {
    return this.signal && this.signal.aborted;
  }

  _abort() {
    // The worker gave up waiting (its own watchdog): for this page's figures, a stall.
    if (this.signal.reason === 'stalled' && !this.background && !this.done) this.page.stats.fail('stalled');
    for (const a of this.attempts) a.controller.abort(this.signal.reason);
    if (!this.launching) this._finish(null, new Error('cancelled'));
  }

  _finish(result, error) {
    if (this.done) return;
    this.done = true;
    clearInterval(this.timer);
    const now = performance.now();
    for (const a of this.attempts) {
      // CANCEL stops a loser's bytes; a quiet loser sends none, and its deadline will say
      // whether it merely started late or stalls.
      const quiet = now - (a.lastByteAt || a.started) >= this.page.config.hedgeAfterMs;
      if (!result || !quiet) a.controller.abort();
    }
    this.attempts.clear();
    if (this.tried.held && !this.background) {  // it waited for a peer to come up: how it ended
      const held = this.page.stats.held;
      held.count++;
      if (result) held.fromPeer++;
      else held.toOrigin++;
    }
    if (result) this.resolve(result);
    else this.reject(error);
  }
}
