// The manifest names the deploy; copies of files it changed are deleted. Loaded once, then
// checked again when a page navigates (at most every manifestCheckMs), so the next page
// sees a deploy even while this worker stays alive. Pages ask the worker for it instead of
// each fetching it from the origin.
function loadManifest() {
  if (!state.manifest) {
    state.manifest = fetchManifest().catch((err) => {
      state.manifest = null;  // try again on the next request
      throw err;
    });
  }
  return state.manifest;
}

async function fetchManifest(held) {
  state.manifestCheckedAt = Date.now();
  const res = await fetch(state.config.manifestUrl, {cache: 'no-cache'});
  if (!res.ok) throw new Error(`manifest ${res.status}`);
  const text = await res.text();
  // The same deploy as the one in hand (nearly every check): nothing to sweep or index again,
  // so the new page's requests wait for the round trip only, not for Cache Storage reads.
  if (held && held.text === text) {
    state.manifestNow = held;
    return held;
  }
  const raw = JSON.parse(text);
  const files = new Map();
  for (const [path, file] of Object.entries(raw.files || {})) files.set(new URL(path, self.location.origin).href, file);
  // Before any copy is read or announced under this manifest: only current bytes remain.
  const swept = await sweepCopies(String(raw.contentHash), files);
  await state.storage.load(files, swept);
  state.pieceSources.clear();
  state.manifestNow = {raw, files, text};  // for the fetch event's synchronous choice (leftToBrowser)
  return state.manifestNow;
}

function checkManifest() {
  // A worker started by a navigation: the manifest is read now, before the page's requests.
  if (!state.manifest) return loadManifest().catch(() => {});
  if (Date.now() - state.manifestCheckedAt < state.config.manifestCheckMs) return Promise.resolve();
  // The page's requests wait for this answer (it left with the navigation's own request, so
  // it is usually back first): after a deploy, not one is answered under the old manifest.
  const previous = state.manifest;
  const previousNow = state.manifestNow;
  state.manifestNow = null;  // nothing is left to the browser meanwhile
  state.manifest = fetchManifest(previousNow).catch(() => {
    state.manifestNow = previousNow;  // unreachable for now: keep the one we have
    return previous;
  });
  return state.manifest.then(() => {}, () => {});
}

// A page asks for the manifest this worker holds (if it names the same URL).
async function answerManifest(m, port) {
  const own = new URL(state.config.manifestUrl, self.location.origin).href;
  const same = typeof m.url === 'string' && new URL(m.url, self.location.origin).href === own;
  const manifest = same ? (await loadManifest()).raw : null;
  // What this worker uses and shares, so that a page can say what is misconfigured.
  port.postMessage({type: 'manifest', id: m.id, manifest, url: own, shareable: state.config.shareable.length});
}
