// Entry point of the drop-in <script defer src="/p2pcdn/p2pcdn.js">, kept small: a browser
// that cannot be a peer (no WebRTC, service workers or WebAssembly) parses this and nothing
// more, and gets a stand-in window.p2pcdn that says why. Parsing and running the whole
// runtime there made a revisited page of WPE WebKit take 1.25x as long as without p2pcdn
// (10 against 8 ms; bench/README.md, "WPE WebKit"). Elsewhere it adds the runtime,
// p2pcdn-page.js from its own folder, with its own data- attributes: window.p2pcdn is the
// runtime's P2pcdnPage from then on, there before the page's load event (an added script
// holds that event until it has run).
class P2pcdnUnavailable extends EventTarget {
  constructor(config, reason) {
    super();
    this.config = config;
    this.stats = new P2pcdnStats();
    this.joined = false;
    new P2pcdnSetupCheck(this).say('browser', reason);
    // So a worker registered anyway answers this visitor's requests not at all.
    P2pcdnVisitorSwitch.state(true);
    this.ready = Promise.reject(Object.assign(new Error(reason), {said: true}));
    this.ready.catch(() => {});
  }

  disable() {
    P2pcdnVisitorSwitch.set(true);
    this.off = true;
  }

  enable() {
    P2pcdnVisitorSwitch.set(false);
  }
}

function p2pcdnLoadRuntime(tag) {
  const runtime = document.createElement('script');
  runtime.src = new URL('p2pcdn-page.js', p2pcdnConfigFromTag(tag).base).href;
  if (tag) {
    for (const [key, value] of Object.entries(tag.dataset)) runtime.dataset[key] = value;
    if (tag.nonce) runtime.nonce = tag.nonce;  // a site whose CSP names the tag's nonce
    if (tag.crossOrigin !== null) runtime.crossOrigin = tag.crossOrigin;
  }
  (document.head || document.documentElement).appendChild(runtime);
}

if (typeof window !== 'undefined' && !window.p2pcdn) {
  const tag = document.currentScript;
  const lacks = P2pcdnSetupCheck.browserLacks();
  if (lacks) window.p2pcdn = new P2pcdnUnavailable(p2pcdnConfigFromTag(tag), lacks);
  else p2pcdnLoadRuntime(tag);
}
