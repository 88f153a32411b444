// Loads the built Wasm core (dist/) in Node for tests and benchmarks.
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function loadCore() {
  const require = createRequire(import.meta.url);
  const createP2pcdnCore = require(path.join(root, 'dist/p2pcdn-core-node.js'));
  return createP2pcdnCore({locateFile: (file) => path.join(root, 'dist', file)});
}
