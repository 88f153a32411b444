// Entry point of the npm package's ES module: `import {start} from 'p2pcdn'`. Nothing runs
// on import; start() makes the page's one p2pcdn (window.p2pcdn, shared with a drop-in
// script tag if the page has one too). The .wasm defaults to beside this module's URL (for
// a bundle: beside the bundle), the manifest to /p2pcdn/manifest.json, the worker's default.
const p2pcdnModuleUrl = (import.meta && import.meta.url) || (typeof location !== 'undefined' ? location.href : '');

export function start(config = {}) {
  if (typeof window === 'undefined') throw new Error('p2pcdn: start() runs in a page, not in a worker');
  if (window.p2pcdn) return window.p2pcdn;
  const defaults = {base: new URL('.', p2pcdnModuleUrl).href, manifestUrl: new URL('/p2pcdn/manifest.json', location.href).href};
  window.p2pcdn = new P2pcdnPage({...defaults, ...config});
  window.p2pcdn.ready.catch((err) => err.said || console.warn(`p2pcdn: disabled: ${err.message}`));
  return window.p2pcdn;
}

export {P2pcdnPage};
