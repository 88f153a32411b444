// Next-page prefetch from peers. Every navigation starts its peer links from nothing, and a
// later page of a site needs only a few hundred KB that its visitor does not hold: fetching
// them over a fresh link loses to a fast origin. So once this page has loaded, while it sits
// idle, the page fetches from peers (never from the origin) what the pages it links to will
// need, and the worker keeps it; the next page then finds its files in Cache Storage.
// The manifest's `pages` lists each page's resources (p2pcdn-manifest reads them from the
// HTML and CSS); the worker says which of them it shares and lacks. A byte budget bounds it,
// and it stays off when the visitor asked the browser to save data.
class NextPagePrefetch {
  constructor(page) {
    this.page = page;
    this.stop = new AbortController();
  }

  start() {
    const budget = this.page.config.prefetchBytes;
    if (!budget || !this.page.pages.size || (navigator.connection && navigator.connection.saveData)) return;
    addEventListener('pagehide', () => this.stop.abort());
    const later = () => setTimeout(() => this._run(budget).catch(() => {}), this.page.config.prefetchAfterMs);
    if (document.readyState === 'complete') later();
    else addEventListener('load', later, {once: true});
  }

  // The resources of the pages this page links to, in link order, each once; not this page's
  // own (they are held already, or still on their way).
  candidates() {
    const here = NextPagePrefetch.pagePath(location.href);
    const seen = new Set(this.page.pages.get(here) || []);
    const urls = [];
    for (const a of document.querySelectorAll('a[href]')) {
      const target = new URL(a.href, location.href);
      if (target.origin !== location.origin) continue;
      const path = NextPagePrefetch.pagePath(target.href);
      if (path === here) continue;
      for (const resource of this.page.pages.get(path) || []) {
        if (seen.has(resource)) continue;
        seen.add(resource);
        urls.push(new URL(resource, location.origin).href);
      }
    }
    return urls;
  }

  async _run(budget) {
    const signal = this.stop.signal;
    const answer = await this.page.bridge.ask({type: 'wanted', urls: this.candidates()});
    let spent = 0;
    for (const url of (answer && answer.urls) || []) {
      const entry = this.page.entries.get(url);
      if (!entry || !entry.size || spent + entry.size > budget) continue;
      await this.page.bridge.whenIdle();  // what the page asks for now comes first
      if (signal.aborted) return;
      try {
        const {body, headers} = await this.page.fetchFromPeers(entry, {signal, background: true});
        spent += body.byteLength;
        this.page.stats.prefetched(body.byteLength);
        this.page.bridge.post({type: 'store', url, body, headers}, [body]);
      } catch (_) {
        // No peer has it (or it failed): the next page asks for it the usual way.
      }
    }
  }

  static pagePath(url) {
    const path = new URL(url).pathname;
    return path.endsWith('/') ? `${path}index.html` : path;
  }
}
