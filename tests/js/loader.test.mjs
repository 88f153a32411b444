// p2pcdn's inline loader (js_glue/loader.js): when it adds p2pcdn.js, with which attributes,
// and that the README gives it as it is.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import vm from 'node:vm';

const root = new URL('../../', import.meta.url);
const LOADER = readFileSync(new URL('js_glue/loader.js', root), 'utf8').trim().split('\n').pop();

// Runs the loader in a page: `controlled` (a worker controls it), `webrtc` (RTCPeerConnection
// exists), `readyState`, `config` (window.p2pcdnConfig). Returns what it added to <head>, a way to fire window/worker events,
// and how often navigator.serviceWorker was read. load() fires the load event, then runs the
// tasks queued by then (setTimeout): `inLoad` is what was added inside the event itself.
function page({controlled = false, webrtc = true, readyState = 'loading', worker = true, config, paint} = {}) {
  const added = [];
  const listeners = {window: {}, worker: {}, document: {}};
  const on = (where) => (type, fn) => { (listeners[where][type] ||= []).push(fn); };
  const fire = (where, type, event) => { for (const fn of listeners[where][type] || []) fn(event); };
  const tag = {nonce: 'n0nce', dataset: {p2pcdn: '/p2pcdn/p2pcdn.js', sw: '/sw.js', manifest: '/m.json'}};
  const document = {
    currentScript: tag, readyState,
    createElement: (name) => ({name, dataset: {}}),
    head: {appendChild: (el) => added.push(el)},
    addEventListener: on('document'),
  };
  const container = {controller: controlled ? {} : null, addEventListener: on('worker')};
  const reads = {serviceWorker: 0};
  const navigator = {};
  if (worker) Object.defineProperty(navigator, 'serviceWorker', {get: () => (reads.serviceWorker++, container)});
  const window = {addEventListener: on('window')};
  if (config) window.p2pcdnConfig = config;
  if (webrtc) window.RTCPeerConnection = function RTCPeerConnection() {};
  const tasks = [];
  const timers = [];  // callbacks given a delay: run by result.later()
  const setTimeout = (fn, ms) => (ms ? timers.push(fn) : tasks.push(fn));
  const globals = {document, navigator, window, setTimeout};
  // `paint`: the browser's paint timing. 'painted': a first contentful paint before load;
  // 'later': none yet (result.paints() brings it); 'unsupported': no 'paint' entries.
  const observers = [];
  let painted = paint === 'painted';
  const entries = (name) => (painted && name === 'first-contentful-paint' ? [{name}] : []);
  if (paint) {
    globals.performance = {getEntriesByName: entries};
    window.PerformanceObserver = class {
      static supportedEntryTypes = paint === 'unsupported' ? ['resource'] : ['paint', 'resource'];
      constructor(fn) { this.fn = fn; }
      observe({type}) { assert.equal(type, 'paint'); observers.push(this); }
    };
  }
  vm.runInContext(LOADER, vm.createContext(globals));
  const scripts = () => added.filter((el) => el.name === 'script');
  const result = {added, scripts, reads, inLoad: null, parsed: () => fire('document', 'DOMContentLoaded'),
                  takeControl: () => fire('worker', 'controllerchange'),
                  message: (data) => fire('worker', 'message', {data})};
  const runTasks = () => {
    while (tasks.length) tasks.shift()();
  };
  result.load = () => {
    fire('window', 'load');
    result.inLoad = added.length;
    runTasks();
  };
  result.paints = () => {
    painted = true;
    for (const o of observers) o.fn({getEntriesByName: entries});
    runTasks();
  };
  result.later = () => {
    while (timers.length) timers.shift()();
    runTasks();
  };
  return result;
}

test('a page a worker controls on a site that prefers peers preloads p2pcdn.js at once and runs it once parsed, with the tag\'s data- attributes', () => {
  const {added, scripts, parsed, load} = page({controlled: true, config: {preferPeers: true}});
  assert.equal(added.length, 1);
  assert.deepEqual({name: added[0].name, rel: added[0].rel, as: added[0].as, href: added[0].href, nonce: added[0].nonce},
                   {name: 'link', rel: 'preload', as: 'script', href: '/p2pcdn/p2pcdn.js', nonce: 'n0nce'});
  assert.equal(scripts().length, 0, 'not before the document is parsed');
  parsed();
  assert.equal(scripts().length, 1);
  assert.equal(scripts()[0].src, '/p2pcdn/p2pcdn.js');
  assert.equal(scripts()[0].nonce, 'n0nce', 'the loader\'s nonce, for a Content Security Policy');
  assert.deepEqual({...scripts()[0].dataset}, {p2pcdn: '/p2pcdn/p2pcdn.js', sw: '/sw.js', manifest: '/m.json'});
  load();
  assert.equal(scripts().length, 1, 'added once');
});

test('a page a worker controls on a site that prefers peers, run after its parse, gets p2pcdn.js at once', () => {
  assert.equal(page({controlled: true, readyState: 'interactive', config: {preferPeers: true}}).scripts().length, 1);
});

test('a later page of a site that puts its start off (the default) gets p2pcdn.js after load only, with no preload', () => {
  for (const config of [undefined, {}, {preferPeers: false}]) {
    const later = page({controlled: true, config});
    later.parsed();
    assert.equal(later.added.length, 0, `nothing before load: ${JSON.stringify(config)}`);
    later.load();
    assert.equal(later.inLoad, 0, 'not inside the load event');
    assert.equal(later.scripts().length, 1);
    assert.equal(later.added.length, 1, 'no preload');
    assert.deepEqual({...later.scripts()[0].dataset}, {p2pcdn: '/p2pcdn/p2pcdn.js', sw: '/sw.js', manifest: '/m.json'});
  }
});

test('a page not painted by its load event gets p2pcdn.js after its first contentful paint, or 2 s after load', () => {
  for (const controlled of [false, true]) {
    const p = page({controlled, paint: 'later'});
    p.load();
    assert.equal(p.added.length, 0, 'its paint first: p2pcdn\'s parse and start do not compete with it');
    p.paints();
    assert.equal(p.scripts().length, 1);
    p.later();
    assert.equal(p.added.length, 1, 'added once');
  }
  const never = page({paint: 'later'});  // e.g. a tab in the background: no paint
  never.load();
  assert.equal(never.added.length, 0);
  never.later();
  assert.equal(never.scripts().length, 1, 'the 2 s bound');
});

test('a page painted before its load event, or a browser without paint timing, gets p2pcdn.js in a task after load', () => {
  for (const paint of ['painted', 'unsupported', undefined]) {
    const p = page({controlled: true, paint});
    p.load();
    assert.equal(p.inLoad, 0, `not inside the load event (${paint})`);
    assert.equal(p.scripts().length, 1, String(paint));
  }
});

test('a first visit gets p2pcdn.js once loaded, not before, and not inside the load event', () => {
  const first = page();
  assert.equal(first.added.length, 0);
  first.load();
  assert.equal(first.inLoad, 0, 'the page\'s load event does not wait for it');
  assert.equal(first.added.length, 1);
});

test('a later page whose worker asks for its part (the origin failed a file) gets p2pcdn.js then, once', () => {
  const later = page({controlled: true});
  later.message({type: 'something of the site\'s own'});
  later.message(null);
  assert.equal(later.added.length, 0, 'not for other messages');
  later.message({type: 'p2pcdn:attach'});
  assert.equal(later.scripts().length, 1);
  later.load();
  assert.equal(later.added.length, 1, 'added once');
});

test('a first page a worker takes control of while it loads gets p2pcdn.js then, once', () => {
  const {added, load, takeControl} = page();
  takeControl();
  assert.equal(added.length, 1);
  load();
  assert.equal(added.length, 1);
});

test('a browser without WebRTC gets p2pcdn.js only after load, even under a worker', () => {
  const under = page({controlled: true, webrtc: false});
  under.takeControl();
  assert.equal(under.added.length, 0);
  under.load();
  assert.equal(under.added.length, 1);
  const none = page({worker: false, webrtc: false});
  none.load();
  assert.equal(none.added.length, 1, 'p2pcdn.js then says why it cannot be a peer (stats.noPeerReason)');
});

test('a browser without WebRTC never reads navigator.serviceWorker (WebKit sets it up on a first read)', () => {
  const p = page({controlled: true, webrtc: false});
  p.load();
  assert.equal(p.reads.serviceWorker, 0);
  assert.ok(page({webrtc: true}).reads.serviceWorker > 0, 'a browser that can be a peer does');
});

test('a page run after its load (the loader added late) gets p2pcdn.js at once', () => {
  assert.equal(page({readyState: 'complete'}).added.length, 1);
});

test('the README and the company site give the loader as it is', () => {
  // No '<' in it: inline in HTML, and found in a page by tools that read up to the next tag
  // (tests/e2e/site_with_tag.mjs).
  assert.ok(!LOADER.includes('<'), 'the loader has no <');
  const line = `<script data-p2pcdn="/p2pcdn/p2pcdn.js" data-sw="/sw.js">${LOADER}</script>`;
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  assert.ok(readme.includes(line), 'README.md');
  // Its hash, for a Content Security Policy that allows scripts by hash.
  assert.ok(readme.includes(`'sha256-${createHash('sha256').update(LOADER).digest('base64')}'`), 'README.md gives its hash');
  for (const page of ['index.html', 'products.html', 'about.html']) {
    assert.ok(readFileSync(new URL(`web_app/site/${page}`, root), 'utf8').includes(line), page);
  }
});
