// Next-page prefetch. Every navigation starts its peer links from nothing, and a later page
// of a site needs only a few hundred KB that its visitor does not hold: fetching them over a
// fresh link loses to a fast origin. So once this page has loaded, while it sits idle, the
// page fetches from peers what the pages it links to will need, and the worker keeps it; the
// next page then finds its files in Cache Storage.
// The origin only for a crowd's sake: a file of a page the visitor is likely to open next
// (the likeliest linked page, or one pointed at) that no peer holds or is fetching is
// claimed through signaling, and this page has the worker fetch it from the origin; the
// visitors asking after it meanwhile wait for this copy instead of each fetching their own
// (a class opening the same site at once: one origin fetch per file, not one per visitor).
// The manifest's `pages` lists each page's resources (p2pcdn-manifest reads them from the
// HTML and CSS); the worker says which of them it shares and lacks. Likeliest pages first: a
// link pointed at or focused, then one on screen, then link order. A byte budget bounds it,
// and it stays off when the visitor asked the browser to save data.
const P2PCDN_PREFETCH_CEILING_BYTES = 16 << 20;  // at most, in all, unless 4x prefetchBytes is more
// Of a large file (in pieces) at most its start: a film the visitor may not watch, or a
// download not taken, costs no more than a large image.
const P2PCDN_PREFETCH_LARGE_FILE_BYTES = 4 << 20;

class NextPagePrefetch {
  constructor(page) {
    this.page = page;
    this.stop = new AbortController();
    this.hovered = [];         // page paths pointed at or focused, latest first
    this.visible = new Set();  // page paths a link on screen leads to
    this.missed = new Set();   // URLs no holder delivered: tried once more at the end
    addEventListener('pagehide', () => this.stop.abort());
    // From the first moment: a link pointed at while p2pcdn is still starting counts too.
    this._watchPointer();
  }

  start() {
    const budget = this.page.config.prefetchBytes;
    if (!budget || !this.page.pages.size || (navigator.connection && navigator.connection.saveData)) {
      this.stop.abort();
      return;
    }
    this._watchVisible();
    // prefetchAfterMs after the load event, not after this start: a first visit starts 1-3 s
    // after load (its worker installs first), and a visitor reads a page for only a few.
    const later = () => {
      const nav = performance.getEntriesByType('navigation')[0];
      const since = nav && nav.loadEventEnd > 0 ? performance.now() - nav.loadEventEnd : 0;
      setTimeout(() => this._run(budget).catch(() => {}), Math.max(0, this.page.config.prefetchAfterMs - since));
    };
    if (document.readyState === 'complete') later();
    else addEventListener('load', later, {once: true});
  }

  // Which links the visitor is likely to follow: one pointed at or focused, then one on screen.
  _watchPointer() {
    const note = (e) => {
      const a = e.target && e.target.closest && e.target.closest('a[href]');
      const path = a && this._linkedPath(a);
      if (!path) return;
      this.hovered = [path, ...this.hovered.filter((p) => p !== path)].slice(0, 8);
      if (this.onPointed) this.onPointed();
    };
    document.addEventListener('pointerover', note, {passive: true, signal: this.stop.signal});
    document.addEventListener('focusin', note, {passive: true, signal: this.stop.signal});
  }

  _watchVisible() {
    if (!self.IntersectionObserver) return;
    const seen = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const path = this._linkedPath(e.target);
        if (path && e.isIntersecting) this.visible.add(path);
      }
    });
    for (const a of document.querySelectorAll('a[href]')) seen.observe(a);
    this.stop.signal.addEventListener('abort', () => seen.disconnect());
  }

  // The page path a link leads to on this site, or null (elsewhere, or this page).
  _linkedPath(a) {
    const target = new URL(a.href, location.href);
    if (target.origin !== location.origin) return null;
    const path = NextPagePrefetch.pagePath(target.href);
    return path === NextPagePrefetch.pagePath(location.href) ? null : path;
  }

  // The linked pages, likeliest first: pointed at or focused, then on screen, then the rest
  // in link order.
  linkedPages() {
    const all = [];
    for (const a of document.querySelectorAll('a[href]')) {
      const path = this._linkedPath(a);
      if (path && !all.includes(path)) all.push(path);
    }
    const rank = (p) => (this.hovered.includes(p) ? this.hovered.indexOf(p) : this.visible.has(p) ? 100 : 200);
    return all.map((p, i) => [p, rank(p), i]).sort((x, y) => x[1] - y[1] || x[2] - y[2]).map(([p]) => p);
  }

  // The resources of the linked pages, likeliest page first, each once; not this page's own
  // (they are held already, or still on their way).
  candidates() {
    const seen = new Set(this.page.pages.get(NextPagePrefetch.pagePath(location.href)) || []);
    const urls = [];
    for (const path of this.linkedPages()) {
      for (const resource of this.page.pages.get(path) || []) {
        if (seen.has(resource)) continue;
        seen.add(resource);
        urls.push(new URL(resource, location.origin).href);
      }
    }
    return urls;
  }

  // One file at a time, the next one chosen afresh each time (a link pointed at meanwhile
  // goes first), until the budget is spent or nothing is left; then again when the visitor
  // points at a page not covered yet. The budget is what the likeliest page still lacking
  // something needs whole, and at least prefetchBytes; a page pointed at adds what it needs, up to
  // P2PCDN_PREFETCH_CEILING_BYTES (or 4x prefetchBytes) in all: a visitor sweeping the
  // pointer over a menu does not download the site.
  async _run(budget) {
    const signal = this.stop.signal;
    // A first visit's worker may claim the page only after this (a loaded machine): the worker
    // keeps what is prefetched, so without one there is nothing to do yet.
    if (!(await this.page.bridge.whenAttached(10000))) return;
    const answer = await this.page.bridge.ask({type: 'wanted', urls: this.candidates()});
    const wanted = new Set((answer && answer.urls) || []);
    this.cutOff = new Set((answer && answer.cutOff) || []);  // a start of these is kept: resume
    const ceiling = Math.max(4 * budget, P2PCDN_PREFETCH_CEILING_BYTES);
    // The likeliest page this visitor still lacks something of (the home page a later page
    // links to first is usually held already).
    const linked = this.linkedPages();
    const covered = new Set([linked.find((path) => this.need(path, wanted) > 0) || linked[0]].filter(Boolean));
    budget = Math.min(ceiling, Math.max(budget, this.need([...covered][0], wanted)));
    let spent = 0;
    let retried = false;
    for (;;) {
      await this._pageIdle();  // what the page asks for now comes first
      if (signal.aborted) return;
      for (const path of this.hovered) {
        if (!covered.has(path)) budget = Math.min(ceiling, budget + this.need(path, wanted));
        covered.add(path);
      }
      const url = this.candidates().find((u) => {
        const entry = wanted.has(u) && this.page.entries.get(u);
        // A large file takes the pieces that fit, from its first: a film's start at least.
        return entry && entry.size && spent + (entry.pieces ? entry.pieces.size : entry.size) <= budget;
      });
      if (!url) {
        // Files whose holders did not come up in time, once more: a crowd's holders are
        // busy loading their own pages, and their links often open just after.
        if (this.missed.size && !retried) {
          retried = true;
          for (const u of this.missed) wanted.add(u);
          this.missed.clear();
          continue;
        }
        this.page.closeLinksDone();
        if (await this._pointedAtNew(covered)) continue;
        return;
      }
      wanted.delete(url);
      const likely = [...covered].some((path) => (this.page.pages.get(path) || []).some((r) => new URL(r, location.origin).href === url));
      spent += await this._fetch(this.page.entries.get(url), Math.min(budget - spent, P2PCDN_PREFETCH_LARGE_FILE_BYTES), likely);
    }
  }

  // Resolves once the worker asks this page for nothing: no file, and no piece of a large
  // one (a film playing here reads ahead in bursts; a prefetch goes between them).
  async _pageIdle() {
    for (;;) {
      await this.page.bridge.whenIdle();
      const pieces = [...this.page.piecedFetches.values()].some((f) => f.askOf.size > 0);
      if (!pieces || this.stop.signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  // Fetches one file (or pieces of a large one, up to maxBytes) from peers for the worker to
  // keep; resolves the bytes it took. `likely`: a file of a page the visitor is likely to
  // open next, which this page fetches from the origin if signaling names it the fetcher.
  async _fetch(entry, maxBytes, likely) {
    const signal = this.stop.signal;
    try {
      if (entry.pieces) {
        // The worker asks this page for the pieces it lacks, as for a response; peers only.
        const answer = await this.page.bridge.ask({type: 'prefetch-pieces', url: entry.url, maxBytes}, 120000);
        const bytes = (answer && answer.bytes) || 0;
        this.page.stats.prefetched(bytes);
        return bytes;
      }
      const claim = likely && this.page.config.prefetchFromOrigin;
      const start = this.cutOff.has(entry.url) ? await this._takeStart(entry) : null;
      const {body, headers} = await this.page.fetchFromPeers(entry, {signal, background: true, claim, start});
      const bytes = body.byteLength;
      this.page.stats.prefetched(bytes);
      this.page.bridge.post({type: 'store', url: entry.url, body, headers}, [body]);
      return bytes;
    } catch (err) {
      if (err.message === 'claimed' && !signal.aborted) return this._fetchClaimed(entry);
      if (!signal.aborted) this.missed.add(entry.url);
      return 0;  // no peer has it (or it failed): the next page asks for it the usual way
    }
  }

  // What the worker kept of this file from a prefetch a navigation cut off, or null.
  async _takeStart(entry) {
    const answer = await this.page.bridge.ask({type: 'take-cut-off', url: entry.url});
    return answer && answer.body instanceof ArrayBuffer ? answer.body : null;
  }

  // A file signaling named this page the fetcher of: the worker fetches it from the origin
  // and keeps it if its bytes are the manifest's; the page then announces it ('served'), and
  // withdraws the claim otherwise, so nobody waits on a copy that is not coming.
  async _fetchClaimed(entry) {
    const page = this.page;
    const answer = await page.bridge.ask({type: 'prefetch-origin', url: entry.url}, 60000);
    const bytes = (answer && answer.bytes) || 0;
    if (page.claimed.delete(entry.resourceId) && !(answer && answer.cached)) page.signaling.withdraw([entry.resourceId]);
    if (bytes) page.stats.prefetchedFromOrigin(bytes);
    return bytes;
  }

  // The bytes of `path`'s files still wanted (of a large file, its start).
  need(path, wanted) {
    let bytes = 0;
    for (const resource of this.page.pages.get(path) || []) {
      const entry = this.page.entries.get(new URL(resource, location.origin).href);
      if (entry && wanted.has(entry.url)) bytes += entry.pieces ? Math.min(entry.size, P2PCDN_PREFETCH_LARGE_FILE_BYTES) : entry.size;
    }
    return bytes;
  }

  // Resolves true once the visitor points at a page not covered yet, false when the page goes.
  _pointedAtNew(covered) {
    return new Promise((resolve) => {
      const signal = this.stop.signal;
      const check = () => {
        const pointed = this.hovered.some((p) => !covered.has(p));
        if (!signal.aborted && !pointed) return;
        this.onPointed = null;
        signal.removeEventListener('abort', check);
        resolve(!signal.aborted);
      };
      this.onPointed = check;
      signal.addEventListener('abort', check, {once: true});
      check();
    });
  }

  static pagePath(url) {
    const path = new URL(url).pathname;
    return path.endsWith('/') ? `${path}index.html` : path;
  }
}
