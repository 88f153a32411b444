// The visitor's switch (p2pcdn.disable() in a page): while it is off, this worker answers no
// request itself, so every request goes to the network as without p2pcdn. Kept in the state
// cache: a restarted worker remembers it, and pages say it again on every load while off.
const P2PCDN_OFF_STATE_KEY = '/p2pcdn-visitor-off';

class VisitorSwitch {
  constructor() {
    this.off = false;
    this.loaded = this._load();
  }

  async _load() {
    try {
      this.off = !!(await (await caches.open(P2PCDN_STATE)).match(P2PCDN_OFF_STATE_KEY));
    } catch (_) {
      // no Cache Storage: on, as configured
    }
  }

  // Every page says it as it attaches: storage is written only when it changes (a Cache
  // Storage write on the worker's thread as each page loads delayed that page's images).
  async set(off) {
    await this.loaded;
    if (this.off === off) return;
    this.off = off;
    const cache = await caches.open(P2PCDN_STATE);
    if (off) await cache.put(P2PCDN_OFF_STATE_KEY, new Response('off'));
    else await cache.delete(P2PCDN_OFF_STATE_KEY);
  }
}
