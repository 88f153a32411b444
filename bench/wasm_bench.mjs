// Runs js_core_bench.mjs under Node and prints its figures as JSON.
import {webcrypto} from 'node:crypto';
import {performance} from 'node:perf_hooks';

import {loadCore} from '../tests/js/load_core.mjs';
import {measure} from './js_core_bench.mjs';

const core = await loadCore();
const figures = await measure({
  core,
  subtle: webcrypto.subtle,
  now: () => performance.now(),
  runs: Number(process.env.RUNS || 7),
});
console.log(JSON.stringify({environment: `Node ${process.version}`, ...figures}, null, 2));
