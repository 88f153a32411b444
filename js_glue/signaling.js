// The page's side of signaling: the core's SignalSocket (C++ on Emscripten's WebSocket API,
// encoding with the core's codec), JOIN, heartbeats, reconnects with back-off, ANNOUNCE
// and LOOKUP. Relayed offers, answers and candidates go to the page.
class PageSignaling {
  constructor(page) {
    this.page = page;
    this.socket = null;
    this.joined = false;
    this.lookups = new Map();  // lookupId -> resolve
    this.nextLookup = 0;
    this._retryMs = 0;
  }

  connect() {
    const page = this.page;
    const url = page.config.signalUrl || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/signal`;
    this.socket = new page.core.SignalSocket(url, (kind, detail) => this._onEvent(kind, detail));
    this.joined = false;
    this.socket.open();
  }

  close() {
    if (this.socket) this.socket.delete();
    this.socket = null;
  }

  // While the page sits in the back/forward cache: a socket left open there is closed by the
  // browser, which logs it as a failed WebSocket on the page's console. resume() when shown.
  suspend() {
    this.suspended = true;
    this.joined = false;
    clearInterval(this._heartbeat);
    this.close();
  }

  resume() {
    if (!this.suspended || this.stopped) return;
    this.suspended = false;
    this._retryMs = 0;
    this.connect();
  }

  // For good (the visitor turned p2pcdn off): no reconnect either.
  stop() {
    this.stopped = true;
    this.joined = false;
    clearInterval(this._heartbeat);
    this.close();
  }

  _onEvent(kind, detail) {
    if (!this.socket) return;
    const stats = this.page.stats;
    if (kind === 'open') {
      this.send({type: 'join', site: location.origin, swarmKey: this.page.config.swarmKey, capabilities: 0});
    } else if (kind === 'message') {
      this._onMessage(detail);
    } else if (kind === 'close' || kind === 'error') {
      if (!this.joined && !this.everJoined) {
        // Never welcomed: a wrong URL, or a server that refuses this site. Said once.
        const url = this.page.config.signalUrl || 'ws(s)://<this origin>/signal';
        this.page.setupCheck.say('signaling', kind === 'close' ? `signaling at ${url} refused (close ${detail.code})` : `signaling at ${url} is unreachable`);
      } else if (!this.joined || kind === 'close') {
        stats.noPeerReason = kind === 'close' ? `signaling closed (${detail.code})` : 'signaling unreachable';
        stats.changed();
      }
      if (kind === 'close') this._reconnect();
    }
  }

  _reconnect() {
    this.joined = false;
    clearInterval(this._heartbeat);
    this._retryMs = Math.min(30000, (this._retryMs || 500) * 2);
    setTimeout(() => {
      if (this.stopped || this.suspended) return;
      this.close();
      this.connect();
    }, this._retryMs);
  }

  send(message) {
    const error = this.socket && this.socket.send(message);
    return !error;
  }

  _onMessage(m) {
    const page = this.page;
    if (m.type === 'welcome') {
      performance.mark('p2pcdn:joined');
      this.joined = true;
      this.everJoined = true;
      this._retryMs = 0;
      page.peerId = m.peerId;
      const stats = page.stats;
      if (stats.noPeerReason.startsWith('signaling') || stats.noPeerReason === 'starting') {
        stats.noPeerReason = 'no peer holds what this page needed yet';
      }
      this._heartbeat = setInterval(() => this.send({type: 'heartbeat', sentAtMs: Date.now()}),
                                    Math.max(1000, m.heartbeatIntervalMs));
      this.announce([...page.held.ids, ...page.pieceHoldings.partial.keys()]);
      page.dispatchEvent(new Event('joined'));
    } else if (m.type === 'peers') {
      const resolve = this.lookups.get(m.lookupId);
      this.lookups.delete(m.lookupId);
      if (resolve) resolve({peers: m.peers, claimed: m.claimed === true, coming: m.coming === true});
    } else if (m.type === 'relay') {
      page.onRelay(m.peer, m.kind, m.payload);
    } else if (m.type === 'error') {
      console.warn(`p2pcdn: signaling error ${m.code}: ${m.message}`);
    }
  }

  // A page that uploads nothing (upload: false, Save-Data) announces nothing: peers would
  // dial it for files it refuses to send.
  announce(ids) {
    if (!this.joined || ids.length === 0 || !this.page.config.upload) return;
    for (let i = 0; i < ids.length; i += 1000) this.send({type: 'announce', ids: ids.slice(i, i + 1000)});
  }

  withdraw(ids) {
    if (!this.joined || ids.length === 0) return;
    for (let i = 0; i < ids.length; i += 1000) this.send({type: 'withdraw', ids: ids.slice(i, i + 1000)});
  }

  // Resolves when signaling has welcomed this page, or after ms (false).
  whenJoined(ms) {
    if (this.joined) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.page.addEventListener('joined', () => {
        clearTimeout(timer);
        resolve(true);
      }, {once: true});
    });
  }

  // The peers signaling names as holders of a resource ({peers, claimed, coming}; no peers
  // after timeoutMs). `claim`: if nobody holds it, this page fetches it from the origin and
  // the peers asking after it are told it is coming (claimed: that is us).
  async lookup(resourceId, timeoutMs, maxPeers, claim = false) {
    const none = {peers: [], claimed: false, coming: false};
    const started = performance.now();
    if (!(await this.whenJoined(timeoutMs))) return none;
    performance.mark('p2pcdn:lookup');
    timeoutMs -= performance.now() - started;
    const lookupId = (this.nextLookup = (this.nextLookup + 1) >>> 0);
    return new Promise((resolve) => {
      this.lookups.set(lookupId, resolve);
      this.send({type: 'lookup', lookupId, resource: resourceId, maxPeers, claim});
      setTimeout(() => {
        if (this.lookups.delete(lookupId)) resolve(none);
      }, timeoutMs);
    });
  }
}
