// When the site's service worker is registered: on a page a worker already controls, once it
// has loaded (an update check, nothing to install: 1.2 ms of the main thread, which the load
// event need not wait for); on a first visit once the page has painted its largest element
// (page_settled.js), because installing fetches the worker's scripts and the manifest and
// compiles the scripts, sharing the visitor's link and CPU with the page's first paint
// (installed during it, p2pcdn's worker made the company site's first LCP 1.10x;
// bench/README.md, "where a first visit's LCP goes"); never in a browser that cannot be a
// peer (no WebRTC: WPE WebKit, some embedded views), whose pages then load exactly as
// without p2pcdn. For the tag's data-sw, and for a site that registers its worker itself
// (p2pcdn.registerWorker('/sw.js')). p2pcdn starts after load on a first visit anyway.
const P2PCDN_REGISTER_AFTER_LOAD_MAX_MS = 1000;
// A registration put off until the largest paint: a first visit's start waits for it
// (page_settled.js). Resolves once register() was called.
let p2pcdnPendingRegistration = null;

// Resolves to the registration, or null where none was made (no worker support, no WebRTC,
// or register() failed: said on the console).
function p2pcdnRegisterWorker(url, options) {
  // The check first: WebKit sets up a page's service worker container when it is first read
  // (~1-2 ms of a page under 10 ms in WPE, bench/README.md), for nothing where it cannot be a peer.
  if (typeof navigator === 'undefined' || P2pcdnSetupCheck.browserLacks() || !navigator.serviceWorker) return Promise.resolve(null);
  // A malformed URL is said like a refused registration, never thrown at the site's script.
  const register = () => Promise.resolve().then(() => navigator.serviceWorker.register(new URL(url, location.href).href, options)).catch((err) => {
    console.warn(`p2pcdn: the service worker ${url} could not be registered: ${err.message}`);
    return null;
  });
  if (navigator.serviceWorker.controller) return p2pcdnAfterLoad().then(register);
  const registration = p2pcdnAfterLargestPaint(P2PCDN_REGISTER_AFTER_LOAD_MAX_MS).then(register);
  p2pcdnPendingRegistration = registration;
  return registration;
}

// In a task of its own after the load event, so that it does not count in the page's load.
function p2pcdnAfterLoad() {
  return new Promise((resolve) => {
    if (document.readyState === 'complete') return resolve();
    addEventListener('load', () => setTimeout(resolve, 0), {once: true});
  });
}
