// Launches Debian's Firefox ESR through puppeteer-core over WebDriver BiDi (puppeteer-core
// never downloads a browser), with the prefs a test origin on http://10.99.0.1 needs
// (../shared/TOOLCHAIN.md): raw host candidates, a secure context for service workers and
// crypto.subtle, the page's own http:// images not dropped as mixed content.
import puppeteer from 'puppeteer-core';

export const FIREFOX_PATH = process.env.FIREFOX_PATH || '/usr/bin/firefox-esr';

export function firefoxPrefs(host) {
  return {
    'media.peerconnection.ice.obfuscate_host_addresses': false,
    'dom.securecontext.allowlist': host,
    // Cache Storage in the page (not only the worker) on that http:// origin: without it
    // window.caches throws "The operation is insecure" and the page cannot serve peers.
    'dom.caches.testing.enabled': true,
    'security.mixed_content.upgrade_display_content': false,
    'privacy.reduceTimerPrecision': false,
    'media.autoplay.default': 0,
    'media.autoplay.blocking_policy': 0,
    'network.proxy.type': 0,
    'app.update.enabled': false,
    'browser.shell.checkDefaultBrowser': false,
  };
}

// host: the test origin's host (no port), treated as a secure context. prefs: more prefs
// (e.g. contextPrefs' answer).
export function launchFirefox({host, prefs = {}}) {
  return puppeteer.launch({
    browser: 'firefox', protocol: 'webDriverBiDi', executablePath: FIREFOX_PATH, headless: true,
    extraPrefsFirefox: {...firefoxPrefs(host), ...prefs}, args: ['--no-remote'], timeout: 30000,
  });
}

// The Firefox prefs that stand for playwright-core's browser-context options; an option
// with no such pref throws, so a test never runs in Firefox without what it asked for.
export function contextPrefs(contextOptions = {}) {
  const prefs = {};
  for (const [key, value] of Object.entries(contextOptions)) {
    if (key === 'serviceWorkers' && value === 'block') prefs['dom.serviceWorkers.enabled'] = false;
    else if (key === 'serviceWorkers' && value === 'allow') continue;
    else throw new Error(`context option ${key}: ${JSON.stringify(value)} has no Firefox equivalent here`);
  }
  return prefs;
}

// playwright-core's console message types where puppeteer's BiDi ones differ.
const CONSOLE_TYPES = {warn: 'warning'};

// A puppeteer response whose fromServiceWorker() throws: WebDriver BiDi does not say
// whether a service worker answered (puppeteer-core's BiDi response always says false, and
// Firefox reports the worker's answers as fromCache, like its HTTP cache's), so a test must
// not read a false there as an answer.
function responseLike(r) {
  return new Proxy(r, {
    get(target, key) {
      if (key === 'fromServiceWorker') {
        return () => {
          throw new Error('fromServiceWorker(): not known over WebDriver BiDi (Firefox)');
        };
      }
      const value = target[key];
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

// Event listeners in playwright-core's shapes: console types renamed; 'websocket' for a
// WebSocket handshake request (BiDi reports it as a request to the ws:// URL); others as
// puppeteer gives them. BiDi reports the page's requests only, never a service worker's.
function listen(page, event, fn) {
  switch (event) {
    case 'console':
      return page.on('console', (m) => fn({type: () => CONSOLE_TYPES[m.type()] || m.type(), text: () => m.text(), raw: m}));
    case 'response':
      return page.on('response', (r) => fn(responseLike(r)));
    case 'websocket':
      return page.on('request', (r) => {
        if (/^wss?:/.test(r.url())) fn({url: () => r.url()});
      });
    case 'request':
    case 'requestfailed':
    case 'requestfinished':
    case 'framenavigated':
    case 'pageerror':
      return page.on(event, fn);
    default:
      throw new Error(`page event '${event}' is not mapped for Firefox (tests/browser/firefox.mjs)`);
  }
}

// The calls the end-to-end helpers make on a page, in playwright-core's argument order
// (waitForFunction(fn, arg, options)), over a puppeteer page.
export function playwrightLikePage(page) {
  return {
    goto: (url, options = {}) => page.goto(url, {timeout: options.timeout || 30000, waitUntil: options.waitUntil || 'load'}),
    reload: (options = {}) => page.reload({timeout: options.timeout || 30000, waitUntil: options.waitUntil || 'load'}),
    // 'commit': no wait at all (a page restored from the back/forward cache fires no load event,
    // which puppeteer's goBack would wait for); the caller polls for what it expects.
    goBack: (options = {}) => (options.waitUntil === 'commit'
      ? page.evaluate(() => { history.back(); })
      : page.goBack({timeout: options.timeout || 30000, waitUntil: options.waitUntil || 'load'})),
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    waitForFunction: (fn, arg, options = {}) =>
      page.waitForFunction(fn, {timeout: options.timeout || 30000, polling: options.polling || 100}, arg),
    // A Buffer, as playwright-core gives (puppeteer gives a Uint8Array).
    screenshot: async (options = {}) => Buffer.from(await page.screenshot(options)),
    hover: (selector) => page.hover(selector),
    click: (selector) => page.click(selector),
    waitForNavigation: (options = {}) => page.waitForNavigation({timeout: options.timeout || 30000, waitUntil: options.waitUntil || 'load'}),
    on: (event, fn) => listen(page, event, fn),
    raw: page,
  };
}

// What the end-to-end tests call on a playwright-core browser context, for a Firefox
// visitor's one page. Its events are the page's own (BiDi reports no service-worker
// requests); CDP does not exist here.
export function playwrightLikeContext(page) {
  return {
    on: (event, fn) => listen(page, event, fn),
    addInitScript: (fn, arg) => page.evaluateOnNewDocument(fn, arg),
    newCDPSession: () => {
      throw new Error('CDP sessions are Chromium only: a test using one must skip that part in Firefox');
    },
  };
}
