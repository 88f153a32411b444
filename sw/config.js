// p2pcdn, service-worker part. In the site's service worker:
//   importScripts('/p2pcdn/p2pcdn-sw.js');
//   p2pcdn.configure({shareable: ['/img/', /\.mp4$/]});
// A shareable GET is answered from Cache Storage, else by a controlled page that fetches it
// from peers (verified against the manifest's hash), else by the origin. No WebRTC here:
// a worker has none. Large files (the manifest gives them pieces) stream piece by piece
// (pieced_response.js). The files of sw/ are bundled, in order, into one p2pcdn-sw.js.
const DEFAULTS = {
  shareable: [],                        // path prefixes (strings) or RegExps on the path
  manifestUrl: '/p2pcdn/manifest.json',
  manifestCheckMs: 5000,                // a navigation re-checks the manifest at most this often
  pageAttachMs: 1000,                   // a new page's port may arrive just after its first requests
  firstByteTimeoutMs: 6000,             // page must start delivering within this
  progressTimeoutMs: 3000,              // and then keep making progress
  pieceReadAhead: 16,                   // pieces fetched ahead of what a response has sent
  originRunPieces: 32,                  // pieces asked of the origin in one Range request
  noPeersRetryMs: 2000,                 // after a page finds no peer for a file's pieces, origin only this long
  maxStorageBytes: 1 << 30,             // copies kept, at most (and at most half the origin's free quota)
  keepRecentMs: 30000,                  // a file used this recently is never evicted
};
const state = {config: {...DEFAULTS}, manifest: null, manifestNow: null, manifestCheckedAt: 0, pages: new Map(), nextId: 0, pending: new Map(),
               attachWaiters: new Map(), unsent: new Map(), pieceSources: new Map(), pieceAsks: new Map(),
               aheadSources: new Set(), aheadBytes: 0,  // PieceSource._keepAhead: in memory, in all
               pieceWrites: null,       // PieceWrites (piece_writes.js): pieces not written yet
               startingPages: new WeakSet(),  // ports of pages whose p2pcdn has not started yet
               changedUrls: new Set(),  // files whose copies a deploy dropped (copies.js)
               originSpeed: null,       // OriginSpeed (origin_speed.js)
               taggedPages: null,       // TaggedPages (tagged_pages.js)
               claimedPages: null,      // ClaimedPages (claimed_pages.js)
               updating: false,         // installed over an older version in control
               visitorSwitch: null,     // VisitorSwitch (visitor_switch.js)
               storage: null,           // StorageBudget (storage_budget.js)
               cutOff: null,            // CutOffPrefetches (cut_off_prefetches.js)
               httpFresh: null};        // HttpFreshness (http_freshness.js)

function configure(config) {
  // A misspelt key would be ignored without a word: said once, on the worker's console.
  const unknown = Object.keys(config || {}).filter((k) => !(k in DEFAULTS));
  if (unknown.length) console.warn(`p2pcdn: unknown configure() keys ignored: ${unknown.join(', ')}`);
  state.config = {...DEFAULTS, ...config};
}

function shareable(request) {
  // Like a shared HTTP cache (RFC 9111 3.5): a request carrying Authorization is personal.
  if (request.method !== 'GET' || request.mode === 'navigate' || request.headers.has('authorization')) return false;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return false;
  return state.config.shareable.some((p) => (p instanceof RegExp ? p.test(url.pathname) : url.pathname.startsWith(p)));
}
