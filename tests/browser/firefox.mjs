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

// host: the test origin's host (no port), treated as a secure context.
export function launchFirefox({host}) {
  return puppeteer.launch({
    browser: 'firefox', protocol: 'webDriverBiDi', executablePath: FIREFOX_PATH, headless: true,
    extraPrefsFirefox: firefoxPrefs(host), args: ['--no-remote'], timeout: 30000,
  });
}

// The calls the end-to-end helpers make on a page, in playwright-core's argument order
// (waitForFunction(fn, arg, options)), over a puppeteer page.
export function playwrightLikePage(page) {
  return {
    goto: (url, options = {}) => page.goto(url, {timeout: options.timeout || 30000, waitUntil: options.waitUntil || 'load'}),
    reload: (options = {}) => page.reload({timeout: options.timeout || 30000}),
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    waitForFunction: (fn, arg, options = {}) =>
      page.waitForFunction(fn, {timeout: options.timeout || 30000, polling: options.polling || 100}, arg),
    screenshot: (options = {}) => page.screenshot(options),
    on: (event, fn) => page.on(event, fn),
    raw: page,
  };
}
