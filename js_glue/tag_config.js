// The drop-in tag's options: its data- attributes and window.p2pcdnConfig, its own folder as
// the default home of the manifest, the core and the runtime. Read by the small first script
// (p2pcdn.js, loader.js) and again by the runtime it adds (p2pcdn-page.js, main.js), whose tag
// carries the same attributes.
function p2pcdnConfigFromTag(script) {
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
