// Which pages will attach to this worker (they run p2pcdn's page part), so that their first
// requests may wait for them (pageAttachMs): the page can fetch them from peers. A page that
// never attaches (no p2pcdn tag, or turned off) must not be held: its requests go to the
// origin at once. Known from the manifest (a page listed with p2pcdn.js among the files it
// asks for; listed without it: no) and from what pages did here (a path where a page
// attached: yes, whatever the manifest says, e.g. p2pcdn in a bundle; where one did not
// attach in time: no). A page the manifest does not list gets the benefit of the doubt once.
const P2PCDN_PAGES_START_STATE_KEY = '/p2pcdn-pages-start';

class TaggedPages {
  constructor() {
    this.attached = new Set();  // paths
    this.silent = new Set();    // paths where a page did not attach in time
    // Whether the site's pages put their start off (true), prefer peers (false), or null
    // until a page has said: as the last page to attach said, kept in the state cache (a
    // worker restarts after ~30 s idle). Unknown, a page's first requests wait for its
    // attach, as for a site whose pages prefer peers (and the worker asks the page to attach
    // at once, page_ports.js); known to be put off, they go to the origin at once: p2pcdn's
    // loader runs such a later page's p2pcdn.js only after load.
    this.startsOff = null;
    this.loaded = this._load();
  }

  get putStartOff() {
    return this.startsOff === true;
  }

  async _load() {
    try {
      const saved = await (await caches.open(P2PCDN_STATE)).match(P2PCDN_PAGES_START_STATE_KEY);
      if (saved) this.startsOff = (await saved.text()) === 'off';  // pages' words wait for this (_setStartsOff)
    } catch (_) {
      // no Cache Storage: unknown until a page says
    }
  }

  // Written only when it changes: once per site configuration, not on each page. After the
  // record is read: a page attaching first must not be undone by an older word read late.
  _setStartsOff(off) {
    this.loaded.then(() => {
      if (this.startsOff === off) return;
      this.startsOff = off;
      caches.open(P2PCDN_STATE).then((cache) => cache.put(P2PCDN_PAGES_START_STATE_KEY, new Response(off ? 'off' : 'prefer')))
          .catch(() => {});
    });
  }

  static pathOf(url) {
    const path = new URL(url).pathname;
    return path.endsWith('/') ? `${path}index.html` : path;
  }

  onAttach(url, preferPeers) {
    this._setStartsOff(preferPeers === false);
    const path = TaggedPages.pathOf(url);
    this.silent.delete(path);
    if (this.attached.size < 1000) this.attached.add(path);
  }

  onSilent(url) {
    const path = TaggedPages.pathOf(url);
    if (!this.attached.has(path) && this.silent.size < 1000) this.silent.add(path);
  }

  expects(url, manifest) {
    const path = TaggedPages.pathOf(url);
    if (this.attached.has(path)) return true;
    if (this.silent.has(path)) return false;
    const asks = manifest && manifest.raw.pages && manifest.raw.pages[path];
    if (Array.isArray(asks)) return asks.some((p) => typeof p === 'string' && /(^|\/)p2pcdn\.js$/.test(p));
    return true;
  }
}
