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

  // Said on every page load while off: a worker installed later (or restarted) hears it too.
  tellWorker(off) {
    const worker = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (worker) worker.postMessage({type: 'p2pcdn:switch', off});
  },

  saveData() {
    return !!(navigator.connection && navigator.connection.saveData);
  },
};
