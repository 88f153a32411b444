// A first visit's page loaded its images, stylesheets and fonts before the worker controlled
// it. Chromium keeps a renderer's memory cache apart per controlling worker, so the visitor's
// next page, which the worker controls, does not find them there: without p2pcdn that page
// reuses them at once (the LCP hero, the render-blocking stylesheet); with it they came
// through the worker from the HTTP cache, 15-60 ms later (bench/README.md, swarm bench). So
// once this page has started, it loads them again under the worker's control, answered
// locally (only files the worker holds: its copies, or the HTTP cache it leaves them to), and
// keeps them referenced while it lives, so that they stay in the memory cache for the next
// page. Manifest files only.
const P2PCDN_WARM_MAX_BYTES = 16 << 20;  // encoded bytes held twice, in all
// Chromium's engine (told by its navigator.userAgentData, there in secure contexts, the only
// ones with workers). Not in Firefox: whether it keeps its caches apart so was not measured,
// and it logs a font load that the next navigation cuts as a console error (seen in CI).
const P2PCDN_MEMORY_CACHE_SPLIT = typeof navigator !== 'undefined' && 'userAgentData' in navigator;

function p2pcdnWarmKind(url, entry) {
  const type = entry.type || '';
  const path = new URL(url).pathname.toLowerCase();
  if (/^image\//.test(type) || /\.(jpe?g|png|gif|webp|avif|svg)$/.test(path)) return 'image';
  if (/^text\/css/.test(type) || /\.css$/.test(path)) return 'style';
  if (/^font\//.test(type) || /\.(woff2?|ttf|otf)$/.test(path)) return 'font';
  return null;
}

// The files worth loading again: images, stylesheets and fonts of the manifest this page
// loaded before `since` (when the worker took control), within P2PCDN_WARM_MAX_BYTES.
function p2pcdnWarmCandidates(entries, since) {
  const loaded = performance.getEntriesByType('resource').filter((e) => e.startTime < since).map((e) => e.name.split('#')[0]);
  const out = [];
  let bytes = 0;
  for (const url of new Set(loaded)) {
    const entry = entries.get(url);
    const kind = entry && p2pcdnWarmKind(url, entry);
    if (!kind || bytes + entry.size > P2PCDN_WARM_MAX_BYTES) continue;
    bytes += entry.size;
    out.push({url, kind});
  }
  return out;
}

// Starts the loads; returns what must stay referenced (images, link elements, font faces).
function p2pcdnWarm(candidates) {
  return candidates.map(({url, kind}, n) => p2pcdnWarmOne(kind, url, n));
}

function p2pcdnWarmOne(kind, url, n) {
  if (kind === 'image') {
    const image = new Image();
    image.src = url;
    return image;
  }
  if (kind === 'style') {
    // Fetched and parsed as a stylesheet, applied to no medium.
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.media = 'not all';
    link.href = url;
    link.dataset.p2pcdnWarm = '';
    document.head.appendChild(link);
    return link;
  }
  const face = new FontFace(`p2pcdn-warm-${n}`, `url(${JSON.stringify(url)})`);
  face.load().catch(() => {});
  return face;
}
