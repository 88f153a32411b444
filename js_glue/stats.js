// Visible state: bytes by source, peers, failures by reason. An object and an EventTarget:
// 'stats' events carry a snapshot, at most every 250 ms.
class P2pcdnStats extends EventTarget {
  constructor() {
    super();
    this.bytesFromPeers = 0;
    this.bytesFromOrigin = 0;
    this.bytesFromCache = 0;
    // DATA bytes this page sent to peers. Bytes still in a link's send buffer when it closed
    // (the asker navigated or left) never went out: they are taken off again and counted in
    // bytesToPeersUnsent (a seeder keeps up to 4 MiB queued per link).
    this.bytesToPeers = 0;
    this.bytesToPeersUnsent = 0;
    this.peerBytesReceived = 0;  // DATA bytes accepted, finished transfers or not
    this.lastPeerTransfer = null;  // {bytes, ms}: REQUEST sent to body verified
    this.firstPeerByteMs = null;   // ms after page start (performance.now) of the first DATA byte
    // Requests the worker held while this page's peers came up: how many, how long in all,
    // and how they ended.
    this.held = {count: 0, totalMs: 0, fromPeer: 0, toOrigin: 0};
    // Next-page resources fetched from peers while this page sat idle (see prefetch.js);
    // originCount, originBytes: those this page fetched from the origin for a crowd.
    this.prefetch = {count: 0, bytes: 0, originCount: 0, originBytes: 0};
    this.requestsFromPeers = 0;
    this.requestsFromOrigin = 0;
    this.requestsFromCache = 0;
    // Of those from cache: requests the worker left to the browser's HTTP cache, which held
    // the manifest's bytes fresh (counted in bytesFromCache).
    this.requestsFromBrowserCache = 0;
    // Pieces of large files, by source; originFailed: pieces the origin failed, asked of peers.
    this.pieces = {fromPeers: 0, fromOrigin: 0, fromCache: 0, originFailed: 0};
    this.peersConnected = 0;
    // Why a request did not come from a peer, or why a peer failed.
    // stalled: no first byte in time (or the worker gave up); tooSlow: below the minimum
    // rate (a drip); banned: the peer was banned mid-transfer; resumeMismatch: a body resumed
    // from a cut-off start failed its hash (the start was not this file's; fetched whole);
    // delayBudget: this page had lost its budget of time to failing peers, so only proven
    // peers were asked.
    this.failures = {
      integrity: 0, stalled: 0, tooSlow: 0, closed: 0, notFound: 0, noPeers: 0, connectFailed: 0,
      busy: 0, banned: 0, delayBudget: 0, resumeMismatch: 0,
    };
    // What hostile or broken peers did and what was done: {peer, offense, detail, action, at}.
    this.hostile = [];
    this.offersRefused = 0;  // incoming offers refused by link admission
    this.refusedOffers = [];  // {peer, count, why} of the last 32 peers refused
    // Transfers resumed from the start a navigation cut off: how many, and the bytes not asked again.
    this.resumedFrom = {count: 0, bytes: 0};
    // Starts of peer transfers a navigation cut off, completed from the origin (a Range request
    // for the rest): a peer's bytes used, not sent in vain.
    this.resumedOnOriginFrom = {count: 0, bytes: 0};
    this.hedged = 0;  // requests that asked a second peer because the first went quiet
    this.originFaster = 0;  // requests sent to the origin because new links would be slower
    this.bytesByPeer = {};  // peer id -> verified bytes of large files' pieces it delivered
    // Why this visitor has no peers, in words (e.g. "signaling unreachable").
    this.noPeerReason = 'starting';
    this.history = [];  // {t, peers, origin, cache} samples for the chart
    this._timer = 0;
  }

  // Bytes served to this page by source; a request answered whole counts one request, a
  // large file's pieces (piece: true) count their bytes and pieces.
  count(source, bytes, piece = false, browser = false) {
    const key = {peer: 'Peers', origin: 'Origin', cache: 'Cache'}[source];
    if (!key) return;
    if (browser && key === 'Cache') this.requestsFromBrowserCache++;
    this[`bytesFrom${key}`] += bytes;
    if (piece) this.pieces[`from${key}`]++;
    else this[`requestsFrom${key}`]++;
    this.changed();
  }

  prefetched(bytes) {
    this.prefetch.count++;
    this.prefetch.bytes += bytes;
    this.changed();
  }

  prefetchedFromOrigin(bytes) {
    this.prefetch.originCount++;
    this.prefetch.originBytes += bytes;
    this.changed();
  }

  resumed(bytes) {
    this.resumedFrom.count++;
    this.resumedFrom.bytes += bytes;
    this.changed();
  }

  resumedOnOrigin(bytes) {
    this.resumedOnOriginFrom.count++;
    this.resumedOnOriginFrom.bytes += bytes;
    this.changed();
  }

  fromPeer(peerId, bytes) {
    this.bytesByPeer[peerId] = (this.bytesByPeer[peerId] || 0) + bytes;
  }

  fail(reason) {
    this.failures[reason] = (this.failures[reason] || 0) + 1;
    this.changed();
  }

  snapshot() {
    return {
      bytesFromPeers: this.bytesFromPeers, bytesFromOrigin: this.bytesFromOrigin,
      bytesFromCache: this.bytesFromCache, bytesToPeers: this.bytesToPeers,
      bytesToPeersUnsent: this.bytesToPeersUnsent,
      peerBytesReceived: this.peerBytesReceived, lastPeerTransfer: this.lastPeerTransfer,
      firstPeerByteMs: this.firstPeerByteMs, held: {...this.held}, prefetch: {...this.prefetch},
      requestsFromPeers: this.requestsFromPeers, requestsFromOrigin: this.requestsFromOrigin,
      requestsFromCache: this.requestsFromCache, requestsFromBrowserCache: this.requestsFromBrowserCache, pieces: {...this.pieces}, peersConnected: this.peersConnected,
      failures: {...this.failures}, noPeerReason: this.noPeerReason,
      hostile: this.hostile.map((h) => ({...h})), offersRefused: this.offersRefused, hedged: this.hedged, resumedFrom: {...this.resumedFrom},
      resumedOnOriginFrom: {...this.resumedOnOriginFrom},
      originFaster: this.originFaster,
      refusedOffers: this.refusedOffers.map((r) => ({...r})), bytesByPeer: {...this.bytesByPeer},
    };
  }

  // The failures key of a request's failure reason.
  static failureKey(reason) {
    return {'no-first-byte': 'stalled', 'too-slow': 'tooSlow', 'resume-mismatch': 'resumeMismatch'}[reason] || reason;
  }

  changed() {
    if (this._timer) return;
    this._timer = setTimeout(() => {
      this._timer = 0;
      this.history.push({t: Date.now(), peers: this.bytesFromPeers, origin: this.bytesFromOrigin,
                         cache: this.bytesFromCache});
      if (this.history.length > 600) this.history.shift();
      this.dispatchEvent(new CustomEvent('stats', {detail: this.snapshot()}));
    }, 250);
  }
}
