// When a first visit's page is done starting, so that p2pcdn's own start (the core's compile,
// signaling) does not compete with it on the main thread: the page has loaded, a worker
// registered has taken control (a player may wait for that to set its source: the
// demo's does), and no media element is still on its way to its first frames. Measured: a
// core started at the first idle moment after load put 50-95 ms of long tasks between a
// video's source and its request (bench/README.md, "Video start"). Bounded by maxMs.
const P2PCDN_SETTLE_REGISTER_MS = 1000;

// The page's load event (at once if it has come).
function p2pcdnLoaded() {
  if (document.readyState === 'complete') return Promise.resolve();
  return new Promise((resolve) => addEventListener('load', resolve, {once: true}));
}

function p2pcdnPageSettled(maxMs) {
  const deadline = performance.now() + maxMs;
  const left = () => Math.max(0, deadline - performance.now());
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function controlIfInstalling() {
    const sw = navigator.serviceWorker;
    if (!sw || sw.controller) return;
    // A registration through p2pcdn (data-sw, registerWorker) waits for the page's largest
    // paint: then it is made (worker_registration.js).
    if (p2pcdnPendingRegistration) await Promise.race([p2pcdnPendingRegistration, pause(left())]);
    const registration = await sw.getRegistration().catch(() => null);
    // p2pcdn's worker claims the pages it finds (its claim may be done before this page hears
    // of it): any worker here means control is on its way. Firefox may not list a worker the
    // page registered a moment ago: then up to P2PCDN_SETTLE_REGISTER_MS for one to be active.
    const any = registration && (registration.installing || registration.waiting || registration.active);
    if (!any && !(await Promise.race([sw.ready.then(() => true), pause(Math.min(P2PCDN_SETTLE_REGISTER_MS, left())).then(() => false)]))) return;
    if (sw.controller) return;
    await Promise.race([new Promise((resolve) => sw.addEventListener('controllerchange', resolve, {once: true})), pause(left())]);
    await pause(0);  // the page's own controllerchange handlers set their sources first
  }

  // Set to play (autoplay, or play() called) and not yet able to: a paused element with
  // preload="metadata" waits for a click, not for us. MSE players (hls.js) count too.
  const starting = (media) => !media.error && !!(media.src || media.currentSrc || media.srcObject || media.querySelector('source')) && (media.autoplay || !media.paused) &&
                              media.readyState < HTMLMediaElement.HAVE_FUTURE_DATA;
  async function mediaStarted() {
    while (left() > 0 && [...document.querySelectorAll('video, audio')].some(starting)) await pause(Math.min(50, left()));
  }

  return Promise.race([pause(maxMs), (async () => {
    await p2pcdnLoaded();
    await controlIfInstalling();
    await mediaStarted();
  })().catch(() => {})]);
}

// A controlled page's first contentful paint and the frame after it, at most maxMs (a tab
// opened in the background paints nothing until shown). Until then p2pcdn's start (the
// core's compile and instantiation, signaling, the next page's prefetch) would take the
// main thread and the worker from the page's own first paint: measured, later pages painted
// 1.2-1.3x later than without p2pcdn with a start at once (bench/README.md, "Where later
// pages' first paint goes").
function p2pcdnFirstPaint(maxMs) {
  return new Promise((resolve) => {
    const painted = () => performance.getEntriesByName('first-contentful-paint').length > 0;
    const after = () => requestAnimationFrame(() => setTimeout(resolve, 0));
    setTimeout(resolve, maxMs);
    if (painted()) return after();
    try {
      const observer = new PerformanceObserver(() => {
        if (!painted()) return;
        observer.disconnect();
        after();
      });
      observer.observe({type: 'paint'});
    } catch (_) {
      resolve();  // no paint timing in this browser: no reason to wait
    }
  });
}

// A controlled page's load event (after its first paint), then a task, at most maxMs: the
// start's work (the core, signaling, the scan of held copies) between the first paint and
// load took the main thread and the worker from the page's remaining images (served by the
// worker from Cache Storage), and so delayed its load event.
function p2pcdnLoadedAndPainted(maxMs) {
  const task = () => new Promise((resolve) => setTimeout(resolve, 0));
  return Promise.race([Promise.all([p2pcdnFirstPaint(maxMs), p2pcdnLoaded()]).then(task), new Promise((resolve) => setTimeout(resolve, maxMs))]);
}

// Once a first visit's page has painted its largest element, so that installing a worker then
// (fetching its scripts, and Chromium compiling them whole for its code cache) does not compete
// with that paint: measured, p2pcdn's worker installed during the company site's first page
// made its LCP 1.10x that of the same page without it, p2pcdn.js alone 0.96x (bench/README.md,
// "where a first visit's LCP goes"). After load: the first largest-contentful-paint entry
// painted after load (a hero decoded after load), then a frame; or maxMs after load if none
// comes, or at once where there is no LCP timing. A largest paint a second or more before
// load that nothing outgrew while the rest of the page loaded (a slow origin: the hero in,
// the photos below it still coming) waits only P2PCDN_LATE_PAINT_WAIT_MS more, for what
// load's last images paint in the frames after it: five visitors on a 20 Mbit/s origin
// registered 1 s after load that way, of the 2-3 s before their next page (bench/README.md,
// "twenty-fourth session").
const P2PCDN_PAINTED_LONG_BEFORE_LOAD_MS = 1000;
const P2PCDN_LATE_PAINT_WAIT_MS = 150;
function p2pcdnAfterLargestPaint(maxMs) {
  return new Promise((resolve) => {
    const afterLoad = () => {
      const loadedAt = performance.now();
      let observer = null;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        if (observer) observer.disconnect();
        // A frame, or a moment where none comes (a tab in the background draws no frames).
        requestAnimationFrame(() => setTimeout(resolve, 0));
        setTimeout(resolve, 100);
      };
      setTimeout(finish, maxMs);
      try {
        let shortened = false;
        observer = new PerformanceObserver((list) => {
          const entries = list.getEntries();
          if (entries.some((e) => e.startTime >= loadedAt)) return finish();
          const last = entries[entries.length - 1];
          if (!shortened && last && last.startTime < loadedAt - P2PCDN_PAINTED_LONG_BEFORE_LOAD_MS) {
            shortened = true;
            setTimeout(finish, P2PCDN_LATE_PAINT_WAIT_MS);
          }
        });
        observer.observe({type: 'largest-contentful-paint', buffered: true});
      } catch (_) {
        finish();
      }
    };
    if (document.readyState === 'complete') afterLoad();
    else addEventListener('load', afterLoad, {once: true});
  });
}
