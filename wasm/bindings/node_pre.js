// Emscripten 3.1.6's loader tries fetch() for the .wasm when fetch exists, which under
// Node 20 fails on a file path ("Failed to parse URL"). Shadow fetch under Node only.
var fetch = (typeof process === 'object' && process.versions && process.versions.node)
    ? undefined
    : globalThis.fetch;
