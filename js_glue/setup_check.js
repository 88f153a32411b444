// What keeps p2pcdn from working for this visitor, said once on the console and kept in
// stats.noPeerReason: a browser that cannot be a peer (no WebRTC, no service workers), no
// worker in control of the page, a worker that does not run p2pcdn's part, uses another
// manifest or shares nothing, signaling that refuses, a missing manifest. A site owner sees
// the first thing to fix; a visitor's stats say why nothing came from peers.
const P2PCDN_WORKER_GRACE_MS = 4000;  // a first visit's worker installs and claims within this

class P2pcdnSetupCheck {
  constructor(page) {
    this.page = page;
    this.said = new Set();
  }

  say(key, reason) {
    const stats = this.page.stats;
    stats.noPeerReason = reason;
    stats.changed();
    if (this.said.has(key)) return;
    this.said.add(key);
    console.warn(`p2pcdn: ${reason}`);
  }

  // Why this browser cannot be a peer at all, or null.
  static browserLacks() {
    if (typeof RTCPeerConnection === 'undefined') return 'this browser has no WebRTC (RTCPeerConnection): it loads everything from the origin';
    if (!('serviceWorker' in navigator)) return 'this browser gives the page no service worker: it loads everything from the origin';
    if (typeof WebAssembly === 'undefined') return 'this browser has no WebAssembly: it loads everything from the origin';
    return null;
  }

  // Once loaded, a page no worker controls after the grace (a first visit's install) says so.
  watchWorker() {
    const check = async () => {
      if (navigator.serviceWorker.controller || this.page.off) return;
      const registration = await navigator.serviceWorker.getRegistration().catch(() => null);
      this.say('no-worker', registration
          ? `the service worker at ${(registration.active || registration.waiting || registration.installing || {}).scriptURL || '?'} does not control this page (is the page inside its scope?)`
          : 'no service worker controls this page: register one that runs importScripts(\'…/p2pcdn-sw.js\')');
    };
    const later = () => setTimeout(check, P2PCDN_WORKER_GRACE_MS);
    if (document.readyState === 'complete') later();
    else addEventListener('load', later, {once: true});
  }

  // The worker's answer to this page's manifest question (null: it never answered).
  onWorkerAnswer(answer, manifestUrl) {
    if (!navigator.serviceWorker.controller) return;
    if (!answer) {
      this.say('worker-silent', 'the service worker in control does not run p2pcdn\'s part: add importScripts(\'…/p2pcdn-sw.js\') to it');
    } else if (answer.shareable === 0) {
      this.say('worker-unconfigured', 'the service worker shares nothing: call p2pcdn.configure({shareable: [...]}) in it');
    } else if (answer.url && answer.url !== new URL(manifestUrl, location.href).href) {
      this.say('manifest-differs', `the service worker uses the manifest ${answer.url}, this page ${new URL(manifestUrl, location.href).href}: give both the same (p2pcdn.configure({manifestUrl}) and data-manifest)`);
    }
  }
}
