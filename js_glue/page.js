// The page side of p2pcdn: its start and its peer links' lifetimes; the links' frames
// (link_frames.js), what it holds (held_copies.js), signaling (signaling.js), finding holders
// (holder_search.js), requests to peers (requests.js), serving peers (uploads.js), who may
// link to us (link_admission.js), what we remember of peers (reputation_store.js) and the
// worker bridge (worker_bridge.js) each live in their own file. Every peer is a stranger: a
// frame it sends can close its link and ban it, never reach another peer's transfer, and
// never earn a reply per bad frame.
const P2PCDN_DEFAULTS = {
  signalUrl: null,          // default: ws(s)://<this origin>/signal
  manifestUrl: null,        // default: <script folder>/manifest.json
  wasmUrl: null,            // default: p2pcdn-core.wasm beside the script (or the bundle)
  swarmKey: '',
  iceServers: [],           // STUN/TURN for visitors behind NATs
  maxPeers: 8,              // open peer connections at once
  lookupPeers: 3,           // peers to connect to at once per lookup
  // The hold window: how long a request waits for a peer that holds the resource to come up
  // (lookup, connect, HELLO/HAVE) before the origin. Only when a lookup found holders; a
  // resource nobody holds goes to the origin at once. It is also the most a page waits when
  // its holders are unreachable. See docs/architecture.md for how it was chosen.
  connectTimeoutMs: 1500,
  // A holder that has not answered our offer in this long is passed over for the next one
  // (signaling round trip plus the holder's work: tens of ms on a LAN, ~200 ms far away).
  answerTimeoutMs: 500,
  // Deadlines a peer must meet, judged by the core (ChunkAssembler): a first byte within
  // firstByteTimeoutMs, then minPeerBytesPerSecond over every second.
  firstByteTimeoutMs: 2000,
  minPeerBytesPerSecond: 256 * 1024,
  // Time a page may lose to peers that fail it (wall-clock, all requests together); once
  // spent, requests wait for no new link (see README "Security model").
  hostileDelayBudgetMs: 2000,
  idleCloseMs: 120000,      // close peer connections unused this long
  upload: true,             // serve other peers
  maxUploadBytesPerSecond: 0,  // 0: no limit, all peers together
  maxUploadBytesPerSecondPerPeer: 0,  // 0: no limit
  maxAttempts: 3,           // peers tried per resource before the origin
  // A request whose holder is still fetching it from the origin (a crowd: signaling says it
  // is coming) waits up to this long for that copy before going to the origin itself.
  crowdWaitMs: 3000,
  // A request no open link can serve waits for new links only when they are likely to
  // deliver it sooner than the origin (peer_speed.js); true: always wait for peers (offload
  // over page speed, e.g. where origin traffic is dear).
  preferPeers: false,
  // A transfer that has sent no byte this long (none yet, or a pause) gets a second holder
  // asked in parallel; the first verified body wins (peer_fetch.js).
  hedgeAfterMs: 500,
  // Next-page prefetch (prefetch.js): after load, fetch from peers what the linked pages
  // need: the likeliest page whole and at least this many bytes, more for a link pointed
  // at; 0 turns it off.
  prefetchBytes: 4 << 20,
  prefetchAfterMs: 300,
  // A file of the likeliest linked page (or one pointed at) that no peer holds or is
  // fetching: this page claims it and fetches it from the origin, once for the whole swarm
  // (a crowd opening the site together waits for this copy). false: prefetch from peers only.
  prefetchFromOrigin: true,
  // A first visit (no worker in control yet) starts p2pcdn (core, signaling) only once the
  // visitor has stayed this long after load, or when the worker needs the page sooner. 0:
  // once loaded, so the first page prefetches the next one's files from peers; e.g. 10000:
  // a visitor who leaves within 10 s downloads no core (half of a first visit's bytes).
  firstVisitStartMs: 0,
  // Test-only: makes this page a hostile peer for the end-to-end tests (hostile_test_peer.js,
  // uploads.js). Never set on a real site.
  test: null,
};

// A link's session: 64 random bits, so a peer cannot guess another link's (only its own
// links' messages reach a page anyway: the server stamps the sender).
function p2pcdnLinkSession() {
  const words = crypto.getRandomValues(new Uint32Array(2));
  return [...words].map((w) => w.toString(16).padStart(8, '0')).join('');
}

const P2PCDN_OFF_REASON = 'turned off for this visitor (p2pcdn.enable() turns it on)';
// A first visit's start waits at most this long for its page to be done starting.
const P2PCDN_SETTLE_MAX_MS = 3000;
// A later page's start waits at most this long for its first contentful paint and load.
const P2PCDN_LATER_START_MAX_MS = 3000;

class P2pcdnPage extends EventTarget {
  constructor(config) {
    super();
    // A misspelt key would be ignored without a word: said once, on the console.
    const unknown = Object.keys(config).filter((k) => !(k in P2PCDN_DEFAULTS) && k !== 'base');
    if (unknown.length) console.warn(`p2pcdn: unknown config keys ignored: ${unknown.join(', ')}`);
    this.config = {...P2PCDN_DEFAULTS, ...config};
    this.stats = new P2pcdnStats();
    this.links = new Map();     // peerId -> PeerLink
    this.entries = new Map();   // absolute URL -> manifest entry
    this.byResource = new Map();  // resource id -> manifest entry
    this.held = new HeldCopies(this);   // what this page can serve
    this.frames = new LinkFrames(this);  // what its links say, and what it says to them
    this.nextHandle = 0;
    this.pages = new Map();           // page path -> paths of the resources it asks for
    this.pieceHoldings = new PieceHoldings(this);  // parts of large files, ours and peers'
    this.frozenMs = 0;                // time this page did not run (see deadlineClock)
    this.piecedFetches = new Map();   // resource id -> PiecedFetch under way
    this.signaling = new PageSignaling(this);
    this.holders = new HolderSearch(this);
    this.peerSpeed = new PeerSpeed();  // weighed against the origin for each request
    this.claimed = new Set();  // resource ids signaling named us the fetcher of (a crowd waits for us)
    this.admission = new LinkAdmission(this);
    this.bridge = new WorkerBridge(this);
    this.browserCheck = new BrowserCacheCheck(this.stats, (m) => this.bridge.post(m));
    this.setupCheck = new P2pcdnSetupCheck(this);
    const lacks = P2pcdnSetupCheck.browserLacks();
    if (lacks) {
      // Told once loaded: in WebKit the first read of navigator.serviceWorker costs a page
      // 1-2 ms (WPE, bench/README.md), and a page no worker controls has nobody to tell yet.
      p2pcdnAfterLoad().then(() => P2pcdnVisitorSwitch.state(true));
      this.setupCheck.say('browser', lacks);
      this.ready = Promise.reject(Object.assign(new Error(lacks), {said: true}));
      return;
    }
    // The visitor's switch is in localStorage, whose first read in a page loads the whole
    // area synchronously: 8.6 ms of a first visit's main thread in a profile of the company
    // site, before its first frame. A page no worker controls does nothing before load, so it
    // reads the switch then, or when a worker takes control (switchedOff), whichever is first.
    if (!navigator.serviceWorker.controller && document.readyState !== 'complete') {
      addEventListener('load', () => this.switchedOff(), {once: true});
    } else if (this.switchedOff()) {
      return;
    }
    if (P2pcdnVisitorSwitch.saveData()) this.config.upload = false;
    // First of the page's pagehide work: transfers still open hand their starts on before
    // the prefetch is cancelled and the links close.
    // A page going for good then tells its worker, before its links close and fail what the
    // worker asked of it: the worker asks again through another page, never this one (in
    // Chromium a page left by a typed URL can live on for a second after the next page asks).
    addEventListener('pagehide', (event) => {
      if (this.requests) this.requests.handOnCutOff();
      if (!event.persisted) this.bridge.post({type: 'leaving'});
    });
    this.prefetch = new NextPagePrefetch(this);
    // Back from the back/forward cache, the page is here again: a failure after that is said.
    addEventListener('pagehide', () => { this.leaving = true; });
    addEventListener('pageshow', (event) => { if (event.persisted) this.leaving = false; });
    // Whether the start is put off is known before attaching: the worker is told at attach.
    this.ready = this._startable().then(() => {
      if (this.switchedOff()) throw new Error(P2PCDN_OFF_REASON);
      return this._start();
    }).catch((err) => {
      if (this.off) throw err;  // the visitor's choice: nothing to say
      // A reload or a link followed just after load cuts the start's fetches (Firefox says
      // NetworkError before pagehide): said only if the page is still here a moment later.
      setTimeout(() => this.leaving || this.setupCheck.say('start', `failed to start: ${err.message}`), 500);
      err.said = true;  // on the console soon, or not at all
      throw err;
    });
    // The worker may ask for resources before the core has loaded: attach to it first.
    this.bridge.connect();
    this.setupCheck.watchWorker();
  }

  // Whether the visitor turned p2pcdn off (p2pcdn.disable() on an earlier page), read once and
  // told to the worker (on: by the attach, worker_bridge.js, one message fewer as each page
  // loads). When off: nothing more is done on this page (`ready` rejects).
  switchedOff() {
    if (this._switchRead) return this.off === true;
    this._switchRead = true;
    if (!P2pcdnVisitorSwitch.isOff()) return false;
    P2pcdnVisitorSwitch.state(true);
    this.off = true;
    this.stats.noPeerReason = P2PCDN_OFF_REASON;
    this.stats.changed();
    if (!this.ready) this.ready = Promise.reject(new Error(P2PCDN_OFF_REASON));
    this.ready.catch(() => {});
    return true;
  }

  // Turns p2pcdn off for this visitor on this site, now and on later pages (remembered),
  // until enable(): no peers, no uploads, and the worker answers nothing itself.
  disable() {
    P2pcdnVisitorSwitch.set(true);
    this.off = true;
    if (this.prefetch) this.prefetch.stop.abort();  // nothing more fetched ahead for this visitor
    this.signaling.stop();
    for (const link of [...this.links.values()]) link.close('turned off by the visitor');
    this.stats.noPeerReason = P2PCDN_OFF_REASON;
    this.stats.changed();
  }

  // Turns p2pcdn on again for this visitor, from the next page on.
  enable() {
    P2pcdnVisitorSwitch.set(false);
  }

  // Registers the site's worker when a first visit's page speed allows (worker_registration.js).
  registerWorker(url, options) {
    return p2pcdnRegisterWorker(url, options);
  }

  // Whether signaling has welcomed this page (the 'joined' event fires when it does).
  get joined() {
    return this.signaling.joined;
  }

  // A page no worker controls yet (a first visit) has nothing to serve and nothing to fetch
  // from peers until one does: its start (the core, signaling) waits until the visitor has
  // stayed firstVisitStartMs after load (by default none), the page is done starting
  // (page_settled.js: its worker in control, its media playing; at most 3 s) and the main
  // thread is idle, or until the worker first asks it for something. So it never competes
  // with the page's own first paint, and with firstVisitStartMs a visitor who leaves soon
  // downloads p2pcdn.js and the worker part only, not the core (bench/README.md, "First visit
  // bytes"). A page a worker controls starts after its first contentful paint, or when the
  // worker first asks it (a file only peers can give, or preferPeers): no link of the page
  // being left is open any more, so a live peer transfer would not be sooner than the
  // origin for what the page paints first. Whether a worker controlled the navigation is
  // asked of Navigation Timing, or, where that cannot say (Firefox), of the worker at attach.
  _startable() {
    if (!navigator.serviceWorker) return Promise.resolve();
    this.startDeferred = true;  // said at attach, where the worker may overrule it
    const asked = new Promise((resolve) => {
      this.startNow = () => {
        this.startNow = () => {};
        resolve();
      };
    });
    const putOff = this.bridge.firstVisit.then((first) => {
      if (first) return P2pcdnPage._whenPageStarted(this.config.firstVisitStartMs, () => p2pcdnLoadCore(this.config).catch(() => {}));
      // Where the worker said so at attach, it was told 'if-claimed' and asks this page as
      // any started one; the paint and load are waited for all the same.
      if (this.bridge.navigated !== true) this.startDeferred = false;
      return p2pcdnLoadedAndPainted(P2PCDN_LATER_START_MAX_MS);
    });
    return Promise.race([asked, putOff]);
  }

  // Loaded and stayed `stayMs`, done starting (page_settled.js), and the main thread idle.
  // `early` (the core's load) runs before that on a page with no media, once it has loaded
  // and stayed, its largest paint is done (its worker's registration made) and the main
  // thread is idle: the core needs no worker, and the worker's install took 0.7-2.4 s after
  // load with five browsers on two cores, the core another 0.1-0.4 s after it, of the few
  // seconds a first page's prefetch has before the visitor's next page (bench/README.md,
  // "twenty-fourth session"). A page with media waits: a player may set its source only once
  // the worker controls the page, and a core compiled then put long tasks before a video's
  // first request.
  static _whenPageStarted(stayMs, early) {
    const idle = (then) => (self.requestIdleCallback ? requestIdleCallback(then, {timeout: 1000}) : setTimeout(then, 0));
    const stayed = new Promise((loaded) => {
      const wait = () => setTimeout(loaded, stayMs);
      if (document.readyState === 'complete') wait();
      else addEventListener('load', wait, {once: true});
    });
    if (early) {
      const painted = p2pcdnPendingRegistration || p2pcdnAfterLargestPaint(P2PCDN_REGISTER_AFTER_LOAD_MAX_MS);
      Promise.all([stayed, painted]).then(() => idle(() => {
        if (!document.querySelector('video, audio')) early();
      }));
    }
    return new Promise((resolve) => {
      Promise.all([stayed, p2pcdnPageSettled(P2PCDN_SETTLE_MAX_MS)]).then(() => idle(resolve));
    });
  }

  async _start() {
    const manifest = this._loadManifest();
    manifest.catch(() => {});  // handled below, once the core is in
    const core = await p2pcdnLoadCore(this.config);
    this.core = core;
    performance.mark('p2pcdn:core-ready');
    this.reputation = new PeerReputationStore(core, this.stats);
    this._indexManifest(await manifest);
    // Signaling only with a manifest: a socket closed again while it connects or loads is a
    // console error in Firefox. The manifest is nearly always in before the core is.
    this.signaling.connect();
    this.selector = new core.PeerSelector(Math.floor(Math.random() * 2 ** 32), 0.2);
    this.assembler = new core.ChunkAssembler({
      maxTotalBytes: 256 << 20, firstByteTimeoutMs: this.config.firstByteTimeoutMs,
      minBytesPerSecond: this.config.minPeerBytesPerSecond, rateWindowMs: 2000,
    });
    this.requests = new PeerRequests(this);
    this.uploads = new PeerUploads(this);
    if (this.config.test) this.hostile = new HostileTestPeer(this);
    // Requests need not wait for the scan: it only adds what this page can serve.
    this.held.scan().catch(() => {});
    this.prefetch.start();
    this._tick = setInterval(() => this._onTick(), 250);
    // A start put off until load: the worker sent everything to the origin meanwhile; from
    // now on it may ask this page again.
    if (this.startDeferred) this.bridge.post({type: 'started'});
    // Leaving: close links now, so peers fail over at once instead of waiting for a stall.
    addEventListener('pagehide', (event) => {
      // The old page's pagehide runs inside the next page's commit, before its first paint
      // (a trace: 19 ms on a busy 2-core machine): a page going for good (not into the
      // back/forward cache) does only what its worker and peers need (see _onLinkClose).
      this.unloading = !event.persisted;
      for (const link of [...this.links.values()]) link.close('page left');
      this.reputation.flush();  // after the links: what their closing taught is kept too
      if (event.persisted) this.signaling.suspend();  // into the back/forward cache
    });
    addEventListener('pageshow', (event) => {
      if (event.persisted) this.signaling.resume();
    });
    this._closeIdleOnNavigate();
  }

  // A link followed on this page (the Navigation API's `navigate`, which a navigation the
  // browser starts itself, such as a typed URL, does not fire): links that carry nothing now
  // close while the next document is requested, not in the pagehide inside its commit, where
  // each took 3-16 ms of the next page's main thread before its parse (bench/README.md).
  // Busy ones close at pagehide, as before. A navigation that ends as a download leaves this
  // page with fewer links: it dials again when it needs a peer, and peers dial it again.
  _closeIdleOnNavigate() {
    if (!self.navigation) return;
    navigation.addEventListener('navigate', (event) => {
      if (event.destination.sameDocument || event.downloadRequest !== null) return;
      const from = location.href;
      // After the event: another listener may still cancel it, or make it a same-document
      // one (a router's intercept(), which changes this document's URL at once).
      setTimeout(() => {
        if (event.defaultPrevented || location.href !== from || this.leaving) return;
        for (const link of [...this.links.values()]) {
          if (link.opened && !this.admission.busy(link) && !link.opening) link.close('page navigating');
        }
      }, 0);
    });
  }

  async _loadManifest() {
    // The worker holds the manifest and checks it on every navigation: asking it costs the
    // origin no request and the page no round trip.
    // A worker busy with a first page's files may answer late: the page fetches the manifest
    // itself after 1 s, and calls the worker silent only after 10 s.
    const asked = this.bridge.port ? this.bridge.ask({type: 'manifest', url: this.config.manifestUrl}, 10000) : null;
    if (asked) asked.then((a) => this.setupCheck.onWorkerAnswer(a, this.config.manifestUrl));
    const answer = asked ? await Promise.race([asked, new Promise((resolve) => setTimeout(resolve, 1000, null))]) : null;
    if (answer && answer.manifest) return answer.manifest;
    const url = new URL(this.config.manifestUrl, location.href).href;
    const res = await fetch(url, {cache: 'no-cache'});
    if (!res.ok) throw new Error(`the manifest ${url} answered ${res.status} (make it with p2pcdn-manifest at every deploy)`);
    return res.json();
  }

  _indexManifest(manifest) {
    for (const [path, resources] of Object.entries(manifest.pages || {})) {
      if (Array.isArray(resources)) this.pages.set(path, resources);
    }
    for (const [path, file] of Object.entries(manifest.files || {})) {
      const url = new URL(path, location.origin).href;
      const entry = {url, size: file.size, integrity: file.integrity, type: file.type,
                     resourceId: this.core.resourceId(url, file.integrity), hashHex: this.core.sriToHex(file.integrity),
                     pieces: piecesOf(file)};
      if (!entry.hashHex) continue;
      this.entries.set(url, entry);
      this.byResource.set(entry.resourceId, entry);
    }
  }

  // The worker served a request of this page: count it, and share what it now holds.
  onServed(m) {
    if (this.bridge.tookWarmNote(m.url)) return;
    if (m.browser === true) this.browserCheck.left(m.url, m.bytes);
    else if (m.source !== 'peer' || m.piece) this.stats.count(m.source, m.bytes, !!m.piece);
    if (m.source === 'origin' && Number.isSafeInteger(m.resumedStart) && m.resumedStart > 0) this.stats.resumedOnOrigin(m.resumedStart);
    const entry = this.entries.get(m.url);
    // What we claimed (a crowd waits for our copy) and did not keep: no longer coming.
    if (entry && !m.piece && this.claimed.delete(entry.resourceId) && !m.cached) this.signaling.withdraw([entry.resourceId]);
    if (entry && m.cached) this.held.add(entry);
  }

  // ---- large files, in pieces ----

  // The worker wants pieces of a large file; those no peer can give go back to it.
  async onPiecesWanted(m) {
    if (!Array.isArray(m.indices)) return;
    let indices = m.indices.filter(Number.isInteger);
    // A page no worker controlled at navigation, still loading its core: no link for a good
    // while yet (whether its start waits for load or not).
    const firstVisit = !!this.bridge.startedUncontrolled && !this.core;
    const size = Number.isInteger(m.pieceSize) && m.pieceSize > 0 ? m.pieceSize : 1 << 20;
    if (!this.core && m.originFailed !== true && indices.length && this.originSooner(P2PCDN_PIECES_NOT_WAITING * size, m.origin)) {
      // Still starting: no link can be open for a while. What a player needs first goes to
      // the origin now, and on a first visit all of it (the worker streams from the origin
      // for a while, then asks again); the rest waits for the start.
      const first = Math.min(...indices);
      const now = firstVisit ? indices : indices.filter((i) => i < first + P2PCDN_PIECES_NOT_WAITING);
      this.bridge.post({type: 'pieces-missing', id: m.id, indices: now, noHolders: firstVisit});
      indices = indices.filter((i) => !now.includes(i));
      if (!indices.length) return;  // a first visit's start stays put off: the origin streams
    }
    if (this.startNow) this.startNow();  // the worker waits on this page: start now
    const refuse = () => this.bridge.post({type: 'pieces-missing', id: m.id, indices});
    try {
      await this.ready;
    } catch (_) {
      return refuse();
    }
    const entry = this.entries.get(m.url);
    if (!entry || !entry.pieces) return refuse();
    PiecedFetch.of(this, entry).ask(m.id, indices, m.originFailed === true, m.origin || null);
  }

  // Whether `bytes` no open link can give are likely to come sooner from the origin (as the
  // worker measured it) than from new links; never with preferPeers.
  originSooner(bytes, origin) {
    return !this.config.preferPeers && !this.peerSpeed.newLinksFaster(bytes, origin || null);
  }


  onPiecesCancelled(m) {
    for (const fetch of this.piecedFetches.values()) fetch.cancel(m.id);
  }

  // ---- peer links ----

  // A link this page opens because it needs a holder; may evict the idlest link. Null when
  // every place holds a working link.
  dial(peerId) {
    if (this.links.has(peerId)) return this.links.get(peerId);
    if (this.links.size >= this.config.maxPeers && !this.admission.evictIdle({inbound: false})) return null;
    return this._newLink(peerId, true);
  }

  // `session`: the link's id in every relayed message (docs/protocol.md); a dial makes a new one.
  _newLink(peerId, initiator, session = p2pcdnLinkSession()) {
    const link = new PeerLink({
      peerId, initiator, session, handle: ++this.nextHandle, iceServers: this.config.iceServers,
      signal: (kind, payload) => this.signaling.send({type: 'relay', peer: peerId, kind, payload: `${session}:${payload}`}),
      onOpen: (l) => this._onLinkOpen(l),
      onMessage: (l, data) => this.frames.onMessage(l, data),
      onClose: (l, reason) => this._onLinkClose(l, reason),
    });
    link.lastUsed = performance.now();
    this.links.set(peerId, link);
    return link;
  }

  // A relayed message names the session of the link it belongs to: an answer or a candidate
  // left over from an earlier link to the same peer (closed, and dialled again) is dropped
  // instead of failing the new link, and an offer in a new session replaces the old link.
  onRelay(peerId, kind, relayed) {
    const session = /^[0-9a-f]{16}:/.test(relayed) ? relayed.slice(0, 16) : null;
    if (!session) return;  // not from p2pcdn's page part: nothing to apply it to
    const payload = relayed.slice(17);
    let link = this.links.get(peerId);
    if (kind === 'offer' && link && link.session !== session) {
      if (link.initiator && !link.opened) {
        // Both sides offered at once: the smaller peer id keeps its offer.
        if (this.peerId < peerId) return;
        link.onClose = () => {};
        link.close('offer collision');
        this.links.delete(peerId);
      } else {
        link.close('peer dialled again');
      }
      link = null;
    }
    if (link && link.session !== session) return;
    if (!link && kind === 'offer' && this.reputation && this.admission.admitOffer(peerId)) link = this._newLink(peerId, false, session);
    if (link) link.onSignal(kind, payload);
  }

  _onLinkOpen(link) {
    performance.mark('p2pcdn:link-open');
    link.lastUsed = performance.now();  // a link just up is about to be used, not the idlest
    this.frames.hello(link);
    this._linksChanged();
    this.stats.noPeerReason = '';
    if (this.hostile) this.hostile.onLinkOpen(link);
  }

  _linksChanged() {
    this.stats.peersConnected = [...this.links.values()].filter((l) => l.opened && !l.closed).length;
    this.stats.changed();
  }

  // Which peers hold what changed: waiting holder searches and piece fetches look again.
  holdersChanged() {
    this.holders.wake();
    for (const fetch of this.piecedFetches.values()) fetch.pump();
  }

  _onLinkClose(link, reason) {
    if (this.links.get(link.peerId) === link) this.links.delete(link.peerId);
    // Closed by the peer (or its network), not by this page: its open transfers were cut.
    link.closedByPeer = /^(channel closed|connection |peer said bye|send failed)/.test(reason || '');
    if (this.requests) this.requests.failLink(link, 'closed');
    // A holder we dialled that never came up: remembered, so it is not dialled again. One
    // still connecting when the page leaves, or closed to make room, counts only if it never
    // answered our offer (else a fake holder evicted by the next dial was dialled again).
    // (An offer collision's close never comes here: that link's onClose is taken off first.)
    const leaving = /page left|making room/.test(reason || '');
    if (link.initiator && !link.opened && this.reputation && (!leaving || this.admission.unanswered(link))) {
      this.reputation.offense(link.peerId, 'connect-failed', reason);
    }
    // The worker has heard of the link's requests (failLink) and the peer sees the channel
    // close: the rest is this page's own state, which dies with it.
    if (this.unloading) return;
    for (const fetch of this.piecedFetches.values()) fetch.forget(link);
    if (this.uploads) this.uploads.closeLink(link);
    link.uploads = [];
    if (this.selector) this.selector.forget(link.handle);
    this._linksChanged();
    this.holders.wake();
    if (reason && !reason.startsWith('offer collision')) console.debug(`p2pcdn: peer closed: ${reason}`);
  }

  // The prefetch has nothing left to fetch: links this page dialled that carry nothing now
  // (no request of ours open, no upload on them, no large file being fetched in pieces) are
  // closed while the page sits idle, not inside the next page's commit, where closing each
  // peer connection took 3-16 ms of the next page's main thread before its parse (a trace:
  // the old frame's detach 29.5 ms against 9.3 ms without p2pcdn; bench/README.md). Links
  // peers dialled are theirs to close; a page that needs a peer again dials again.
  closeLinksDone() {
    if (!this.requests || this.requests.open.size || this.piecedFetches.size || this.leaving) return;
    for (const link of [...this.links.values()]) {
      if (link.initiator && link.opened && !(link.uploads && link.uploads.length)) link.close('prefetch done');
    }
  }

  // What a peer did, judged: recorded for the visit; a banned peer loses its requests at once
  // (they go to another peer or the origin) and its link.
  punish(link, offense, detail) {
    if (!this.reputation.offense(link.peerId, offense, detail)) return;
    this.selector.ban(link.handle);
    this.requests.failLink(link, 'banned');
    link.close(`banned: ${offense}`);
  }

  // The clock the core's deadlines run on: performance.now() less the time this page did
  // not run (a tick 250 ms apart that came more than a second late: a busy CPU, a
  // background tab). A peer is not judged for a pause of ours.
  deadlineClock() {
    return performance.now() - this.frozenMs;
  }

  _onTick() {
    const now = performance.now();
    const gap = now - (this.lastTickAt || now);
    this.lastTickAt = now;
    if (gap > 1000) this.frozenMs += gap - 250;
    this.requests.expire(this.deadlineClock());
    this.pieceHoldings.flush();
    this.admission.sweep(now);
    this.holders.wake();  // dials that went unanswered make room for the next holder
    for (const link of [...this.links.values()]) {
      if (!this.admission.working(link) && now - link.lastUsed > this.config.idleCloseMs) link.close('idle');
      if (!link.opened && now - link.lastUsed > this.config.connectTimeoutMs * 2) link.close('connect timeout');
    }
  }

  // Test-only: makes this page a hostile peer from now on (tests arm it after it seeded).
  armTest(test) {
    this.config.test = test;
    this.hostile = new HostileTestPeer(this);
    return this.hostile;
  }

  // ---- fetching from peers ----

  // Fetches a manifest entry from peers: {body, headers}, or throws with the reason
  // (peer_fetch.js). An aborted signal cancels the transfers under way. A background fetch
  // (a prefetch) is left out of the held and failure figures and of the page's delay budget.
  async fetchFromPeers(entry, options = {}) {
    await this.ready;
    if (!entry.size) throw new Error('empty');
    return new PeerFetch(this, entry, options).run();
  }
}

// A manifest entry's pieces ({size, count, hashes: Uint8Array}), or null for a file fetched
// whole (or pieces the page cannot use).
function piecesOf(file) {
  const p = file.pieces;
  if (!p || !(p.size > 0) || typeof p.hashes !== 'string' || !(file.size > 0)) return null;
  const count = Math.ceil(file.size / p.size);
  try {
    const binary = atob(p.hashes);
    if (binary.length !== count * 32) return null;
    const hashes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) hashes[i] = binary.charCodeAt(i);
    return {size: p.size, count, hashes};
  } catch (_) {
    return null;
  }
}
