// The page side of p2pcdn: signaling (through the core's SignalSocket), peer links,
// lookups, serving peers from Cache Storage, and answering the service worker.
const P2PCDN_DEFAULTS = {
  signalUrl: null,          // default: ws(s)://<this origin>/signal
  manifestUrl: null,        // default: <script folder>/manifest.json
  swarmKey: '',
  iceServers: [],           // STUN/TURN for visitors behind NATs
  maxPeers: 8,              // open peer connections at once
  lookupPeers: 3,           // peers to connect to per lookup
  // The hold window: how long a request waits for a peer that holds the resource to come up
  // (lookup, connect, HELLO/HAVE) before the origin. Only when a lookup found holders; a
  // resource nobody holds goes to the origin at once. It is also the most a page waits when
  // its holders are unreachable. See docs/architecture.md for how it was chosen.
  connectTimeoutMs: 1500,
  stallTimeoutMs: 4000,     // a transfer with no progress for this long fails
  idleCloseMs: 120000,      // close peer connections unused this long
  upload: true,             // serve other peers
  maxUploadBytesPerSecond: 0,  // 0: no limit
  maxAttempts: 3,           // peers tried per resource before the origin
  // Next-page prefetch (prefetch.js): after load, fetch from peers up to this many bytes of
  // what the linked pages need; 0 turns it off.
  prefetchBytes: 4 << 20,
  prefetchAfterMs: 300,
  test: null,               // {corruptUploads: true | 'url part'}: test-only lying peer
};

// Tells the worker what this page loaded before the worker controlled it (from `since` on,
// requests go through the worker). A request begun before that but still loading is listed
// only when it ends, so later entries are sent as they arrive, for a bounded time.
function adoptLoadedBefore(worker, since) {
  const send = (entries) => {
    const urls = entries.filter((e) => e.startTime < since).map((e) => e.name.split('#')[0]);
    if (urls.length) worker.postMessage({type: 'p2pcdn:adopt', urls: [...new Set(urls)]});
  };
  send(performance.getEntriesByType('resource'));
  try {
    const observer = new PerformanceObserver((list) => send(list.getEntries()));
    observer.observe({type: 'resource'});
    setTimeout(() => observer.disconnect(), 60000);
  } catch (_) {
    // No PerformanceObserver: what was still loading stays unshared on this first page.
  }
}

class P2pcdnPage extends EventTarget {
  constructor(config) {
    super();
    this.config = {...P2PCDN_DEFAULTS, ...config};
    this.stats = new P2pcdnStats();
    this.links = new Map();     // peerId -> PeerLink
    this.banned = new Set();    // peer ids that served bad bytes
    this.entries = new Map();   // absolute URL -> manifest entry
    this.byResource = new Map();  // resource id -> manifest entry
    this.cachedIds = new Set();   // resource ids this page can serve
    this.lookups = new Map();   // lookupId -> resolve
    this.holderWaiters = new Set();
    this.nextLookup = 0;
    this.nextQuestion = 0;
    this.nextHandle = 0;
    this.workerRequests = new Map();  // worker request id -> AbortController
    this.workerIdleWaiters = [];
    this.workerReplies = new Map();   // id -> resolve, for questions this page asks the worker
    this.pages = new Map();           // page path -> paths of the resources it asks for
    // The worker may ask for resources before the core has loaded: attach to it first.
    this._connectWorker();
    this.ready = this._start().catch((err) => {
      this.stats.noPeerReason = `failed to start: ${err.message}`;
      this.stats.changed();
      throw err;
    });
  }

  async _start() {
    const manifest = this._loadManifest();
    manifest.catch(() => {});  // handled below, once the core is in
    const core = await p2pcdnLoadCore(this.config.base);
    this.core = core;
    performance.mark('p2pcdn:core-ready');
    // Joining needs no manifest: signaling comes up while the manifest is still on its way.
    this._connectSignaling();
    try {
      this._indexManifest(await manifest);
    } catch (err) {
      this.socket.delete();
      this.socket = null;
      throw err;
    }
    this.selector = new core.PeerSelector(Math.floor(Math.random() * 2 ** 32), 0.2);
    this.assembler = new core.ChunkAssembler({maxTotalBytes: 256 << 20, stallTimeoutMs: this.config.stallTimeoutMs});
    this.requests = new PeerRequests(this);
    this.uploads = new PeerUploads(this);
    // Requests need not wait for the scan: it only adds what this page can serve.
    this._scanCache().catch(() => {});
    this.prefetch = new NextPagePrefetch(this);
    this.prefetch.start();
    this._tick = setInterval(() => this._onTick(), 250);
    // Leaving: close links now, so peers fail over at once instead of waiting for a stall.
    addEventListener('pagehide', () => {
      for (const link of [...this.links.values()]) link.close('page left');
    });
  }

  async _loadManifest() {
    // The worker holds the manifest and checks it on every navigation: asking it costs the
    // origin no request and the page no round trip.
    const answer = this.port && (await this.askWorker({type: 'manifest', url: this.config.manifestUrl}, 1000));
    if (answer && answer.manifest) return answer.manifest;
    const res = await fetch(this.config.manifestUrl, {cache: 'no-cache'});
    if (!res.ok) throw new Error(`manifest ${res.status}`);
    return res.json();
  }

  _indexManifest(manifest) {
    this.cacheName = `p2pcdn-${manifest.contentHash}`;
    for (const [path, resources] of Object.entries(manifest.pages || {})) {
      if (Array.isArray(resources)) this.pages.set(path, resources);
    }
    for (const [path, file] of Object.entries(manifest.files || {})) {
      const url = new URL(path, location.origin).href;
      const entry = {url, size: file.size, integrity: file.integrity, type: file.type,
                     resourceId: this.core.resourceId(url), hashHex: this.core.sriToHex(file.integrity)};
      if (!entry.hashHex) continue;
      this.entries.set(url, entry);
      this.byResource.set(entry.resourceId, entry);
    }
  }

  async cachedResponse(entry) {
    const cache = await caches.open(this.cacheName);
    return (await cache.match(entry.url)) || null;
  }

  async _scanCache() {
    if (!self.caches) return;
    const cache = await caches.open(this.cacheName);
    for (const request of await cache.keys()) {
      const entry = this.entries.get(request.url);
      if (entry) this.cachedIds.add(entry.resourceId);
    }
    this._announce([...this.cachedIds]);
  }

  // ---- signaling ----

  _connectSignaling() {
    const url = this.config.signalUrl || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/signal`;
    this.socket = new this.core.SignalSocket(url, (kind, detail) => this._onSignalEvent(kind, detail));
    this.joined = false;
    this.socket.open();
  }

  _onSignalEvent(kind, detail) {
    if (!this.socket) return;
    if (kind === 'open') {
      this._signal({type: 'join', site: location.origin, swarmKey: this.config.swarmKey, capabilities: 0});
    } else if (kind === 'message') {
      this._onSignal(detail);
    } else if (kind === 'close' || kind === 'error') {
      if (!this.joined || kind === 'close') {
        this.stats.noPeerReason = kind === 'close' ? `signaling closed (${detail.code})` : 'signaling unreachable';
        this.stats.changed();
      }
      if (kind === 'close') this._reconnectSignaling();
    }
  }

  _reconnectSignaling() {
    this.joined = false;
    clearInterval(this._heartbeat);
    this._retryMs = Math.min(30000, (this._retryMs || 500) * 2);
    setTimeout(() => {
      if (this.socket) this.socket.delete();
      this._connectSignaling();
    }, this._retryMs);
  }

  _signal(message) {
    const error = this.socket && this.socket.send(message);
    return !error;
  }

  _onSignal(m) {
    if (m.type === 'welcome') {
      performance.mark('p2pcdn:joined');
      this.joined = true;
      this._retryMs = 0;
      this.peerId = m.peerId;
      if (this.stats.noPeerReason.startsWith('signaling') || this.stats.noPeerReason === 'starting') {
        this.stats.noPeerReason = 'no peer holds what this page needed yet';
      }
      this._heartbeat = setInterval(() => this._signal({type: 'heartbeat', sentAtMs: Date.now()}),
                                    Math.max(1000, m.heartbeatIntervalMs));
      this._announce([...this.cachedIds]);
      this.dispatchEvent(new Event('joined'));
    } else if (m.type === 'peers') {
      const resolve = this.lookups.get(m.lookupId);
      this.lookups.delete(m.lookupId);
      if (resolve) resolve(m.peers);
    } else if (m.type === 'relay') {
      this._onRelay(m.peer, m.kind, m.payload);
    } else if (m.type === 'error') {
      console.warn(`p2pcdn: signaling error ${m.code}: ${m.message}`);
    }
  }

  _announce(ids) {
    if (!this.joined || ids.length === 0) return;
    for (let i = 0; i < ids.length; i += 1000) this._signal({type: 'announce', ids: ids.slice(i, i + 1000)});
  }

  // Resolves when signaling has welcomed this page, or after ms (false).
  _whenJoined(ms) {
    if (this.joined) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.addEventListener('joined', () => {
        clearTimeout(timer);
        resolve(true);
      }, {once: true});
    });
  }

  async _lookup(resourceId, timeoutMs) {
    const started = performance.now();
    if (!(await this._whenJoined(timeoutMs))) return [];
    performance.mark('p2pcdn:lookup');
    timeoutMs -= performance.now() - started;
    const lookupId = (this.nextLookup = (this.nextLookup + 1) >>> 0);
    return new Promise((resolve) => {
      this.lookups.set(lookupId, resolve);
      this._signal({type: 'lookup', lookupId, resource: resourceId, maxPeers: this.config.lookupPeers + 2});
      setTimeout(() => {
        if (this.lookups.delete(lookupId)) resolve([]);
      }, timeoutMs);
    });
  }

  // ---- peer links ----

  _link(peerId, initiator) {
    if (this.links.size >= this.config.maxPeers) this._closeIdlest();
    const link = new PeerLink({
      peerId, initiator, handle: ++this.nextHandle, iceServers: this.config.iceServers,
      signal: (kind, payload) => this._signal({type: 'relay', peer: peerId, kind, payload}),
      onOpen: (l) => this._onLinkOpen(l),
      onMessage: (l, data) => this._onLinkMessage(l, data),
      onClose: (l, reason) => this._onLinkClose(l, reason),
    });
    link.lastUsed = performance.now();
    this.links.set(peerId, link);
    return link;
  }

  _onRelay(peerId, kind, payload) {
    let link = this.links.get(peerId);
    if (kind === 'offer' && link && link.initiator && !link.opened) {
      // Both sides offered at once: the smaller peer id keeps its offer.
      if (this.peerId < peerId) return;
      link.onClose = () => {};
      link.close('offer collision');
      this.links.delete(peerId);
      link = null;
    }
    if (!link && kind === 'offer' && !this.banned.has(peerId)) link = this._link(peerId, false);
    if (link) link.onSignal(kind, payload);
  }

  _onLinkOpen(link) {
    performance.mark('p2pcdn:link-open');
    const core = this.core;
    link.send(core.encodeFrame({type: 'hello', maxVersion: core.wireVersion,
                                maxMessageSize: link.localMaxMessageSize(), capabilities: 1}));
    this._sendHave(link, 'replace', [...this.cachedIds]);
    this.stats.peersConnected = [...this.links.values()].filter((l) => l.opened).length;
    this.stats.noPeerReason = '';
    this.stats.changed();
  }

  _sendHave(link, op, ids) {
    const perFrame = 500;  // fits a 16 KiB message, the size allowed before HELLO
    for (let i = 0; i === 0 || i < ids.length; i += perFrame) {
      link.send(this.core.encodeFrame({type: 'have', op: i === 0 ? op : 'add', ids: ids.slice(i, i + perFrame)}));
    }
  }

  _onLinkMessage(link, data) {
    link.lastUsed = performance.now();
    const r = this.assembler.receive(data, performance.now(), link.localMaxMessageSize());
    if (r.frame) {
      this._onFrame(link, r.frame);
    } else if (r.requestId !== undefined) {
      if (!r.error) {
        const request = this.requests.open.get(r.requestId);
        if (this.stats.firstPeerByteMs === null && request && !request.background) {
          this.stats.firstPeerByteMs = performance.now();
          performance.mark('p2pcdn:first-peer-byte');
        }
        this.stats.peerBytesReceived += r.bytes;
      }
      this.requests.onData(link, r);
    } else if (r.error) {
      link.send(this.core.encodeFrame({type: 'error', requestId: 0, code: 1, message: r.message}));
    }
  }

  _onFrame(link, f) {
    switch (f.type) {
      case 'hello':
        link.remoteHello = f;
        link.maxMessageSize = this.core.negotiatedMessageSize(link.localMaxMessageSize(), f.maxMessageSize);
        break;
      case 'have':
        link.haveSeen = true;
        if (f.op === 'replace') link.have = new Set(f.ids);
        if (f.op === 'remove') f.ids.forEach((id) => link.have.delete(id));
        else f.ids.forEach((id) => link.have.add(id));
        this._wakeHolderWaiters();
        break;
      case 'request':
        this.uploads.serve(link, f);
        break;
      case 'response-head':
        this.requests.onHead(f);
        break;
      case 'not-found':
        this.requests.fail(f.requestId, 'notFound');
        break;
      case 'error':
        if (f.requestId) this.requests.fail(f.requestId, f.code === 2 ? 'busy' : 'notFound');
        break;
      case 'cancel':
        this.uploads.cancel(link, f.requestId);
        break;
      case 'ping':
        link.send(this.core.encodeFrame({type: 'pong', nonce: f.nonce, sentAtMs: f.sentAtMs}));
        break;
      case 'pong':
        this.selector.onRtt(link.handle, performance.now() - f.sentAtMs);
        break;
    }
  }

  _onLinkClose(link, reason) {
    if (this.links.get(link.peerId) === link) this.links.delete(link.peerId);
    this.requests.failLink(link, 'closed');
    link.uploads = [];
    this.selector.forget(link.handle);
    this.stats.peersConnected = [...this.links.values()].filter((l) => l.opened).length;
    this.stats.changed();
    this._wakeHolderWaiters();
    if (reason && !reason.startsWith('offer collision')) console.debug(`p2pcdn: peer closed: ${reason}`);
  }

  _closeIdlest() {
    let idlest = null;
    for (const l of this.links.values()) {
      if (!idlest || l.lastUsed < idlest.lastUsed) idlest = l;
    }
    if (idlest) idlest.close('too many peers');
  }

  _onTick() {
    const now = performance.now();
    this.requests.expire(now);
    for (const link of [...this.links.values()]) {
      const busy = (link.uploads && link.uploads.length) || [...this.requests.open.values()].some((r) => r.link === link);
      if (!busy && now - link.lastUsed > this.config.idleCloseMs) link.close('idle');
      if (!link.opened && now - link.lastUsed > this.config.connectTimeoutMs * 2) link.close('connect timeout');
    }
  }

  // ---- fetching from peers ----

  _usableHolders(resourceId, tried) {
    return [...this.links.values()].filter((l) => l.opened && l.remoteHello && l.have.has(resourceId) &&
                                                  !tried.has(l.peerId) && !this.banned.has(l.peerId));
  }

  _wakeHolderWaiters() {
    for (const w of [...this.holderWaiters]) {
      if (this._usableHolders(w.resourceId, w.tried).length || w.pending() === 0) w.done();
    }
  }

  // A connected peer that has the resource: an existing link, or new ones found by lookup.
  async _holderFor(entry, tried, background) {
    const pick = () => {
      const holders = this._usableHolders(entry.resourceId, tried);
      if (!holders.length) return null;
      const [handle] = this.selector.pick(holders.map((l) => l.handle), entry.size, 1);
      return holders.find((l) => l.handle === handle) || null;
    };
    const now = pick();
    if (now) return now;
    const heldFrom = performance.now();
    const holder = await this._waitForHolder(entry, tried, pick, background);
    if (holder !== undefined && !background) {
      tried.held = true;  // this request waited for a peer to come up
      this.stats.held.totalMs += performance.now() - heldFrom;
    }
    return holder || null;
  }

  // Lookup, then connections to new holders; resolves a link, null, or undefined when
  // nobody holds the resource (nothing was held).
  async _waitForHolder(entry, tried, pick, background) {
    const fail = (reason) => background || this.stats.fail(reason);
    const deadline = performance.now() + this.config.connectTimeoutMs;
    const found = await this._lookup(entry.resourceId, this.config.connectTimeoutMs);
    const fresh = found.filter((p) => !tried.has(p) && !this.banned.has(p) && p !== this.peerId);
    const connecting = [];
    for (const peerId of fresh) {
      if (connecting.length >= this.config.lookupPeers) break;
      connecting.push(this.links.get(peerId) || this._link(peerId, true));
    }
    if (!connecting.length && !pick()) {
      fail(found.length ? 'connectFailed' : 'noPeers');
      return found.length ? null : undefined;
    }
    await new Promise((resolve) => {
      const waiter = {
        resourceId: entry.resourceId, tried,
        // Links still coming up, or up but not yet saying what they have.
        pending: () => connecting.filter((l) => !l.closed && !l.haveSeen).length,
        done: () => {
          this.holderWaiters.delete(waiter);
          clearTimeout(waiter.timer);
          resolve();
        },
      };
      waiter.timer = setTimeout(waiter.done, Math.max(0, deadline - performance.now()));
      this.holderWaiters.add(waiter);
      this._wakeHolderWaiters();
    });
    const holder = pick();
    if (!holder) fail(connecting.some((l) => l.opened) ? 'notFound' : 'connectFailed');
    return holder;
  }

  // Fetches a manifest entry from peers: {body, headers}, or throws with the reason.
  // An aborted signal stops it between attempts and cancels a transfer under way. A
  // background fetch (a prefetch) is left out of the held and failure figures.
  async fetchFromPeers(entry, {onProgress, signal, background = false} = {}) {
    await this.ready;
    if (!entry.size) throw new Error('empty');
    const tried = new Set();
    let reason = 'noPeers';
    const outcome = (fromPeer) => {
      if (!tried.held || background) return;
      this.stats.held.count++;
      if (fromPeer) this.stats.held.fromPeer++;
      else this.stats.held.toOrigin++;
    };
    for (let attempt = 0; attempt < this.config.maxAttempts; attempt++) {
      const link = signal && signal.aborted ? null : await this._holderFor(entry, tried, background);
      if (!link || (signal && signal.aborted)) break;
      tried.add(link.peerId);
      link.lastUsed = performance.now();
      try {
        const result = await this.requests.start(link, entry, onProgress, signal, background);
        outcome(true);
        return result;
      } catch (err) {
        reason = err.message;
        if (reason !== 'cancelled' && !background) this.stats.fail(reason);
      }
    }
    outcome(false);
    throw new Error(signal && signal.aborted ? 'cancelled' : reason);
  }

  // ---- the service worker ----

  _connectWorker() {
    if (!navigator.serviceWorker) return;
    // A page the worker controlled from the start loaded everything through it. Asked of the
    // navigation, not of the controller now: on a slow link the worker may claim the page
    // before this script has even arrived.
    const navigation = performance.getEntriesByType('navigation')[0];
    const startedUncontrolled = navigation ? navigation.workerStart === 0 : !navigator.serviceWorker.controller;
    const attach = () => {
      const worker = navigator.serviceWorker.controller;
      if (!worker || this._workerAttached === worker) return;
      this._workerAttached = worker;
      const channel = new MessageChannel();
      this.port = channel.port1;
      this.port.onmessage = (e) => this._onWorkerMessage(e.data);
      worker.postMessage({type: 'p2pcdn:page'}, [channel.port2]);
      performance.mark('p2pcdn:worker-attached');
      // What this page loaded before the worker controlled it can be shared too.
      if (startedUncontrolled) adoptLoadedBefore(worker, performance.now());
    };
    attach();
    navigator.serviceWorker.addEventListener('controllerchange', attach);
  }

  _onWorkerMessage(m) {
    if (m.type === 'fetch') {
      if (!this._askedOnce) performance.mark('p2pcdn:first-worker-request');
      this._askedOnce = true;
      this._answerWorker(m);
    } else if (m.type === 'cancel') {
      // The worker gave up waiting for bytes: for this page's figures, the peer stalled.
      const controller = this.workerRequests.get(m.id);
      if (controller) controller.abort(m.reason === 'stalled' ? 'stalled' : undefined);
    } else if (m.type === 'wanted' || m.type === 'manifest') {
      const resolve = this.workerReplies.get(m.id);
      this.workerReplies.delete(m.id);
      if (resolve) resolve(m);
    } else if (m.type === 'served') {
      if (m.source !== 'peer') this.stats.count(m.source, m.bytes);
      const entry = this.entries.get(m.url);
      if (entry && m.cached && !this.cachedIds.has(entry.resourceId)) {
        this.cachedIds.add(entry.resourceId);
        this._announce([entry.resourceId]);
        for (const link of this.links.values()) {
          if (link.opened) this._sendHave(link, 'add', [entry.resourceId]);
        }
      }
    }
  }

  // Asks the worker a question over the port; resolves its answer, or null after ms.
  askWorker(message, ms = 5000) {
    if (!this.port) return Promise.resolve(null);
    const id = `q${++this.nextQuestion}`;
    return new Promise((resolve) => {
      this.workerReplies.set(id, resolve);
      this.port.postMessage({...message, id});
      setTimeout(() => {
        if (this.workerReplies.delete(id)) resolve(null);
      }, ms);
    });
  }

  // Resolves once no request of the worker is open.
  whenWorkerIdle() {
    if (this.workerRequests.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.workerIdleWaiters.push(resolve));
  }

  async _answerWorker({id, url}) {
    const port = this.port;
    const reply = (message, transfer) => port.postMessage({id, ...message}, transfer || []);
    try {
      await this.ready;
    } catch (err) {
      return reply({type: 'result', ok: false, reason: 'disabled'});
    }
    const entry = this.entries.get(url);
    if (!entry) return reply({type: 'result', ok: false, reason: 'notInManifest'});
    const controller = new AbortController();
    this.workerRequests.set(id, controller);
    let lastProgress = 0;
    const onProgress = (received) => {
      const now = performance.now();
      if (now - lastProgress > 200) {
        lastProgress = now;
        reply({type: 'progress', received});
      }
    };
    try {
      const {body, headers} = await this.fetchFromPeers(entry, {onProgress, signal: controller.signal});
      this.stats.count('peer', body.byteLength);
      reply({type: 'result', ok: true, body, headers}, [body]);
    } catch (err) {
      reply({type: 'result', ok: false, reason: err.message});
    } finally {
      this.workerRequests.delete(id);
      if (this.workerRequests.size === 0) this.workerIdleWaiters.splice(0).forEach((resolve) => resolve());
    }
  }
}
