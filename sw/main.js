// The worker's events, and its one global: self.p2pcdn.
self.addEventListener('install', (event) => {
  // An older version in control: its pages were under a worker from their start.
  state.updating = !!self.registration.active;
  event.waitUntil(self.skipWaiting());
  // Ready before the first request it would otherwise delay (a video's first bytes): the
  // manifest, and the cache of copies opened once (its first open is the slow one).
  loadManifest().catch(() => {});
  openCopies().catch(() => {});
});
self.addEventListener('activate', (event) => event.waitUntil(state.claimedPages.claim(state.updating)));

state.originSpeed = new OriginSpeed();
state.pieceWrites = new PieceWrites((source, index, bytes) => source._keep(index, bytes));
state.storage = new StorageBudget();
state.cutOff = new CutOffPrefetches();
state.taggedPages = new TaggedPages();
state.claimedPages = new ClaimedPages();
state.visitorSwitch = new VisitorSwitch();
state.httpFresh = new HttpFreshness();
state.httpFresh.load();

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'p2pcdn:origin' && Array.isArray(event.data.samples)) {
    // What a page loaded from the origin before this worker controlled it.
    for (const s of event.data.samples.slice(0, 50)) state.originSpeed.sample(Number(s.ttfbMs), Number(s.bytes), Number(s.bodyMs));
    return;
  }
  if (event.data && event.data.type === 'p2pcdn:switch') {
    event.waitUntil(state.visitorSwitch.set(event.data.off === true).catch(() => {}));
    return;
  }
  if (!event.data || event.data.type !== 'p2pcdn:page' || !event.ports[0] || !event.source) return;
  attachPage(event);
});

self.addEventListener('fetch', (event) => {
  if (event.request.mode === 'navigate') {
    reopenCopies();
    event.waitUntil(checkManifest());
    return;
  }
  // Turned off by the visitor, or fresh in the browser's HTTP cache: not answered here, so
  // the browser fetches it as without p2pcdn.
  if (!shareable(event.request) || state.visitorSwitch.off) return;
  // A film that began on the network before this worker claimed its page stays there.
  const clientId = event.clientId || event.resultingClientId;
  if (state.claimedPages.toNetwork(event.request, clientId, event.request.url.split('#')[0]) || leftToBrowser(event)) return;
  event.respondWith(handle(event));
});

self.p2pcdn = {configure, get config() { return state.config; }};
