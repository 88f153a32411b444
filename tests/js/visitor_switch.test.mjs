// The worker's copy of the visitor's switch (sw/visitor_switch.js): every page says it as it
// attaches, and Cache Storage is written only when it changes.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import vm from 'node:vm';

const root = new URL('../../', import.meta.url);

function workerSwitch(storedOff) {
  const writes = [];
  const store = new Map(storedOff ? [['/p2pcdn-visitor-off', 'off']] : []);
  const cache = {
    match: async (key) => store.get(key),
    put: async (key, value) => { writes.push(['put', key]); store.set(key, value); },
    delete: async (key) => { writes.push(['delete', key]); return store.delete(key); },
  };
  const context = vm.createContext({caches: {open: async () => cache}, Response: class { constructor(b) { this.b = b; } }, P2PCDN_STATE: 'p2pcdn-state'});
  vm.runInContext(readFileSync(new URL('sw/visitor_switch.js', root), 'utf8'), context, {filename: 'sw/visitor_switch.js'});
  return {visitorSwitch: vm.runInContext('new VisitorSwitch()', context), writes};
}

test('pages saying the switch is on write nothing while it is on', async () => {
  const {visitorSwitch, writes} = workerSwitch(false);
  for (let i = 0; i < 5; i++) await visitorSwitch.set(false);
  assert.equal(visitorSwitch.off, false);
  assert.deepEqual(writes, []);
});

test('a change is written once, and read back by a restarted worker', async () => {
  const {visitorSwitch, writes} = workerSwitch(true);
  await visitorSwitch.loaded;
  assert.equal(visitorSwitch.off, true);
  await visitorSwitch.set(false);
  await visitorSwitch.set(false);
  assert.equal(visitorSwitch.off, false);
  assert.deepEqual(writes, [['delete', '/p2pcdn-visitor-off']]);
  await visitorSwitch.set(true);
  await visitorSwitch.set(true);
  assert.deepEqual(writes.map((w) => w[0]), ['delete', 'put']);
});
