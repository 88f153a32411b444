// What a first visit's page loaded and left before it could ask the worker to adopt it (the
// worker did not control it yet): those files sit in the HTTP
// cache, but no later page would list them, so they were never shared. Kept in
// sessionStorage (this tab, this origin: same-origin navigations carry it) for the next page
// that attaches to the worker, which asks for their adoption.
const P2PCDN_UNADOPTED_KEY = 'p2pcdn:unadopted';
const P2PCDN_UNADOPTED_MAX = 500;

function p2pcdnReadUnadopted() {
  try {
    const urls = JSON.parse(sessionStorage.getItem(P2PCDN_UNADOPTED_KEY) || '[]');
    return Array.isArray(urls) ? urls.filter((u) => typeof u === 'string') : [];
  } catch (_) {
    return [];  // storage refused (an opaque origin, a sandbox) or not ours to read
  }
}

// Keeps this origin's files the page asked for before `before` (a performance.now() time).
function p2pcdnKeepUnadopted(before) {
  const prefix = `${location.origin}/`;
  const urls = performance.getEntriesByType('resource').filter((e) => e.startTime < before)
                   .map((e) => e.name.split('#')[0]).filter((u) => u.startsWith(prefix));
  if (!urls.length) return;
  try {
    const kept = [...new Set([...p2pcdnReadUnadopted(), ...urls])].slice(-P2PCDN_UNADOPTED_MAX);
    sessionStorage.setItem(P2PCDN_UNADOPTED_KEY, JSON.stringify(kept));
  } catch (_) {
    // full or refused: these files stay unshared, as before
  }
}

// The kept list, removed: one page asks for it.
function p2pcdnTakeUnadopted() {
  const urls = p2pcdnReadUnadopted();
  if (urls.length) {
    try {
      sessionStorage.removeItem(P2PCDN_UNADOPTED_KEY);
    } catch (_) {
      // nothing to take back
    }
  }
  return urls;
}
