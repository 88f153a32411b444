// Entry point of the drop-in <script src="/p2pcdn/p2pcdn.js">: finds its own folder, reads
// options from data- attributes or window.p2pcdnConfig, and starts: at once on a page a
// worker controls (a deferred tag runs as parsing ends, before the page's images are in),
// after load on a first visit (see P2pcdnPage._startable).
function p2pcdnConfigFromPage() {
  const script = document.currentScript;
  const base = script ? new URL('.', script.src).href : new URL('/p2pcdn/', location.href).href;
  const data = script ? script.dataset : {};
  const config = {base, manifestUrl: new URL('manifest.json', base).href, ...(self.p2pcdnConfig || {})};
  if (data.signal) config.signalUrl = data.signal;
  if (data.manifest) config.manifestUrl = new URL(data.manifest, location.href).href;
  if (data.wasm) config.wasmUrl = new URL(data.wasm, location.href).href;
  if (data.swarmKey) config.swarmKey = data.swarmKey;
  if (data.upload === 'off') config.upload = false;
  if (data.prefetch === 'off') config.prefetchBytes = 0;
  return config;
}

// data-sw="/sw.js": the tag registers the site's worker itself, so a site adds one tag per
// page and the worker file, and no registration line of its own. On a first visit (no worker
// controls the page) only once the page has painted its largest element (page_settled.js):
// installing fetches the worker's scripts and the manifest, and compiles the scripts, which
// would share the visitor's link and CPU with the page's own first paint; p2pcdn starts after
// load on such a page anyway.
const P2PCDN_REGISTER_AFTER_LOAD_MAX_MS = 1000;

function p2pcdnRegisterWorker() {
  const script = document.currentScript;
  const url = script && script.dataset.sw;
  // A browser that cannot be a peer (no WebRTC: WPE WebKit, some embedded views) gets no
  // worker from us: its pages load exactly as without p2pcdn, with nothing in their path.
  if (!url || !navigator.serviceWorker || P2pcdnSetupCheck.browserLacks()) return;
  const register = () => navigator.serviceWorker.register(new URL(url, location.href).href).catch((err) => {
    console.warn(`p2pcdn: the service worker ${url} could not be registered: ${err.message}`);
  });
  if (navigator.serviceWorker.controller) register();
  else p2pcdnTagRegistration = p2pcdnAfterLargestPaint(P2PCDN_REGISTER_AFTER_LOAD_MAX_MS).then(register);
}

if (typeof window !== 'undefined' && !window.p2pcdn) {
  p2pcdnRegisterWorker();
  window.p2pcdn = new P2pcdnPage(p2pcdnConfigFromPage());
  window.p2pcdn.ready.catch((err) => err.said || console.warn(`p2pcdn: disabled: ${err.message}`));
}
