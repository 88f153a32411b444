// A navigation's manifest check (sw/manifest_store.js): the same deploy as the one in hand
// costs the round trip only (no sweep of the copies, no new index, piece state kept); a
// changed one is swept before any request is answered under it; an unreachable origin keeps
// the one in hand.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import vm from 'node:vm';

const root = new URL('../../', import.meta.url);

function workerScope(bodies) {
  const calls = {fetch: 0, sweep: 0, load: 0};
  const context = vm.createContext({
    console, Date, URL, Map, JSON, self: {location: {origin: 'https://site.test'}},
    fetch: async () => {
      calls.fetch++;
      const body = bodies.shift();
      if (body === undefined) throw new TypeError('Failed to fetch');
      return {ok: true, status: 200, text: async () => body, json: async () => JSON.parse(body)};
    },
    sweepCopies: async () => { calls.sweep++; return false; },
  });
  for (const file of ['sw/config.js', 'sw/manifest_store.js']) {
    vm.runInContext(readFileSync(new URL(file, root), 'utf8'), context, {filename: file});
  }
  const state = vm.runInContext('state', context);
  state.config.manifestUrl = '/manifest.json';
  state.config.manifestCheckMs = 0;
  state.storage = {load: async () => { calls.load++; }};
  return {state, calls, check: () => vm.runInContext('checkManifest()', context), load: () => vm.runInContext('loadManifest()', context)};
}

const manifest = (hash) => JSON.stringify({version: 1, contentHash: hash, files: {'/a.png': {size: 3, integrity: hash}}});

test('a check that finds the same deploy sweeps nothing and keeps the piece state', async () => {
  const {state, calls, check, load} = workerScope([manifest('sha256-A'), manifest('sha256-A')]);
  const first = await load();
  assert.equal(calls.sweep, 1);
  state.pieceSources.set('k', {});
  await check();
  assert.equal(calls.fetch, 2);
  assert.equal(calls.sweep, 1);
  assert.equal(calls.load, 1);
  assert.equal(state.pieceSources.size, 1);
  assert.equal(await load(), first);
  assert.equal(state.manifestNow, first);
});

test('a check that finds a new deploy sweeps before answering under it', async () => {
  const {state, calls, check, load} = workerScope([manifest('sha256-A'), manifest('sha256-B')]);
  await load();
  state.pieceSources.set('k', {});
  await check();
  assert.equal(calls.sweep, 2);
  assert.equal(state.pieceSources.size, 0);
  assert.equal((await load()).raw.contentHash, 'sha256-B');
  assert.equal(state.manifestNow.files.get('https://site.test/a.png').integrity, 'sha256-B');
});

test('an unreachable origin keeps the manifest in hand', async () => {
  const {state, calls, check, load} = workerScope([manifest('sha256-A')]);
  const first = await load();
  await check();
  assert.equal(calls.fetch, 2);
  assert.equal(await load(), first);
  assert.equal(state.manifestNow, first);
});
