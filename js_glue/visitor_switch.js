// The visitor's own switch: p2pcdn.disable() turns p2pcdn off for this visitor on this site,
// remembered in localStorage and told to the worker (which then answers nothing itself:
// every request goes to the network as without p2pcdn); p2pcdn.enable() turns it back on
// from the next page. A browser asking to save data (Save-Data) uploads nothing.
const P2PCDN_OFF_KEY = 'p2pcdn:disabled';

const P2pcdnVisitorSwitch = {
  isOff() {
    try {
      return localStorage.getItem(P2PCDN_OFF_KEY) === '1';
    } catch (_) {
      return false;  // no storage (sandboxed frame, blocked cookies): on, as configured
    }
  },

  set(off) {
    try {
      if (off) localStorage.setItem(P2PCDN_OFF_KEY, '1');
      else localStorage.removeItem(P2PCDN_OFF_KEY);
    } catch (_) {
      // not remembered beyond this page; the worker still hears it
    }
    this.tellWorker(off);
  },

  // To the worker in control, or, on a page none controls yet (a first visit), to the one
  // that becomes active: so the very next page is already answered as it should be.
  tellWorker(off) {
    const sw = navigator.serviceWorker;
    if (!sw) return;
    if (sw.controller) return sw.controller.postMessage({type: 'p2pcdn:switch', off});
    sw.ready.then((registration) => registration.active && registration.active.postMessage({type: 'p2pcdn:switch', off}), () => {});
  },

  // Said by every page as it loads, and to a worker that takes control later: off when the
  // visitor turned p2pcdn off or this browser cannot be a peer, so the worker answers such a
  // visitor's requests not at all (as without p2pcdn). On is said by the page's attach
  // (worker_bridge.js): a page attaches only while the switch is on.
  state(off) {
    this.tellWorker(off);
    if (navigator.serviceWorker) navigator.serviceWorker.addEventListener('controllerchange', () => this.tellWorker(off), {once: true});
  },

  saveData() {
    return !!(navigator.connection && navigator.connection.saveData);
  },
};
