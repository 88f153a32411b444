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
// page and the worker file, and no registration line of its own (worker_registration.js).
if (typeof window !== 'undefined' && !window.p2pcdn) {
  const script = document.currentScript;
  if (script && script.dataset.sw) p2pcdnRegisterWorker(script.dataset.sw);
  window.p2pcdn = new P2pcdnPage(p2pcdnConfigFromPage());
  window.p2pcdn.ready.catch((err) => err.said || console.warn(`p2pcdn: disabled: ${err.message}`));
}
