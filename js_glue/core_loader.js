// One memoized load of the Wasm core. Its .wasm is config.wasmUrl, by default beside the
// script that holds this code (the drop-in script's folder, or the bundle's own URL).
let p2pcdnCorePromise = null;

function p2pcdnLoadCore(config) {
  if (!p2pcdnCorePromise) {
    const wasm = new URL(config.wasmUrl || 'p2pcdn-core.wasm', config.base || location.href).href;
    p2pcdnCorePromise = createP2pcdnCore({locateFile: (file) => (file.endsWith('.wasm') ? wasm : new URL(file, wasm).href)});
  }
  return p2pcdnCorePromise;
}
