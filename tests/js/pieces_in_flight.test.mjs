// How many pieces a page keeps in flight per peer (js_glue/piece_fetch.js): six of the
// default 256 KiB, fewer of larger pieces so each peer's share stays near 1.5 MiB of bodies
// held until verified, and never fewer than two.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import vm from 'node:vm';

const read = (file) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
const KiB = 1 << 10;
const MiB = 1 << 20;

const context = vm.createContext({});
vm.runInContext(`${read('js_glue/requests.js')}\n${read('js_glue/piece_fetch.js')}\nthis.inFlight = p2pcdnPiecesInFlight;`, context);

test('six pieces of 256 KiB, fewer of larger ones, two at least', () => {
  assert.equal(context.inFlight(256 * KiB), 6);
  assert.equal(context.inFlight(64 * KiB), 6, 'never more than a seeder lets one peer open');
  assert.equal(context.inFlight(512 * KiB), 3);
  assert.equal(context.inFlight(MiB), 2);
  assert.equal(context.inFlight(16 * MiB), 2);
  assert.equal(context.inFlight(64 * MiB), 2);
});
