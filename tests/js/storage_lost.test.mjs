// A copy the worker's record says it keeps, found missing (deleted behind its back), is
// forgotten at once and withdrawn from the swarm a second later, in one message, unless it
// was stored again meanwhile (sw/storage_budget.js, lost).
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import vm from 'node:vm';

const root = new URL('../../', import.meta.url);

function workerScope() {
  const timers = [];
  const told = [];
  const context = vm.createContext({
    console, Date, self: {location: {origin: 'https://site.test'}},
    setTimeout: (fn, ms) => timers.push({fn, ms}) && timers.length, clearTimeout: () => {},
    notifyAll: (m) => told.push(m),
  });
  for (const file of ['sw/config.js', 'sw/storage_budget.js']) {
    vm.runInContext(readFileSync(new URL(file, root), 'utf8'), context, {filename: file});
  }
  const budget = vm.runInContext('new StorageBudget()', context);
  // Runs the timers due: the second's notice (and the index save, a no-op here).
  const fire = () => timers.splice(0).forEach((t) => { try { t.fn(); } catch (_) { /* no caches here */ } });
  return {budget, told, fire};
}

test('a copy found missing is forgotten and withdrawn once, a second later', () => {
  const {budget, told, fire} = workerScope();
  budget.files.set('https://site.test/a.png', {bytes: 100, usedAt: 0});
  budget.files.set('https://site.test/b.png', {bytes: 50, usedAt: 0});
  budget.total = 150;
  budget.lost('https://site.test/a.png');
  budget.lost('https://site.test/b.png');
  budget.lost('https://site.test/never-held.png');
  assert.equal(budget.mayHold('https://site.test/a.png'), false);
  assert.equal(budget.total, 0);
  assert.deepEqual(told, []);  // not before the request that found it missing
  fire();
  assert.deepEqual(JSON.parse(JSON.stringify(told)), [{type: 'evicted', urls: ['https://site.test/a.png', 'https://site.test/b.png']}]);
});

test('a copy stored again within the second is not withdrawn', () => {
  const {budget, told, fire} = workerScope();
  budget.files.set('https://site.test/a.png', {bytes: 100, usedAt: 0});
  budget.total = 100;
  budget.lost('https://site.test/a.png');
  budget.files.set('https://site.test/a.png', {bytes: 100, usedAt: 1});
  fire();
  assert.deepEqual(told.filter((m) => m.type === 'evicted'), []);
});
