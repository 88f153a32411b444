// The video pages: the <video> gets its source once the service worker controls the page
// (as the demo's media do: on a first visit the worker is installed first), so every byte
// goes through p2pcdn. An .m3u8 source is played by hls.js, or natively where the browser
// plays HLS itself and has no MSE. For tests: window.demoVideo is the element;
// window.demoTimes holds performance.now() of the first 'loadedmetadata', 'loadeddata' (a
// first frame) and 'playing', and of every 'seeked'. With ?direct in the URL the source is
// set at once, without waiting for a worker: with service workers blocked, the page without
// p2pcdn (a benchmark's baseline).
// A first visit (no worker in control yet) starts a progressive film at once from the origin,
// as without p2pcdn: waiting for the worker's control cost ~100 ms of first frame
// (bench/README.md, "Video start"). The element's later Range requests stay on the network
// (sw/claimed_pages.js), so that film comes from peers from the visitor's next page on.
// Should the origin fail it before a first frame, its source is set again once the worker
// controls the page (window.demoRetrying meanwhile), and the worker asks peers. HLS waits
// for the worker: hls.js gives up on a playlist the origin refuses.
(function () {
  const video = document.querySelector('video[data-src]');
  const times = {loadedmetadata: null, loadeddata: null, playing: null, seeked: []};
  window.demoVideo = video;
  window.demoTimes = times;
  const direct = new URLSearchParams(location.search).has('direct');
  const progressive = !/\.m3u8$/.test(video.dataset.src);
  for (const event of ['loadedmetadata', 'loadeddata', 'playing']) {
    video.addEventListener(event, () => {
      if (times[event] === null) times[event] = performance.now();
    });
  }
  video.addEventListener('seeked', () => times.seeked.push(performance.now()));

  function load() {
    const src = video.dataset.src;
    const engine = document.getElementById('engine');
    if (progressive) {
      video.src = src;
      if (!direct && navigator.serviceWorker && !navigator.serviceWorker.controller) video.addEventListener('error', retryUnderWorker, {once: true});
      return;
    }
    if (window.Hls && window.Hls.isSupported()) {
      const hls = new window.Hls();
      window.demoHls = hls;
      hls.on(window.Hls.Events.ERROR, (_, data) => {
        if (data.fatal) console.error('hls.js:', data.type, data.details);
      });
      hls.loadSource(src);
      hls.attachMedia(video);
      window.demoPlayer = 'hls.js';
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = src;
      window.demoPlayer = 'native';
    } else {
      window.demoPlayer = 'none';
      console.error('this browser plays no HLS');
    }
    const name = window.demoPlayer === 'hls.js' ? `hls.js ${window.Hls.version}` : window.demoPlayer;
    if (engine) engine.textContent = name;
  }

  function retryUnderWorker() {
    if (times.loadeddata !== null) return;
    window.demoRetrying = true;
    const again = () => {
      window.demoRetrying = false;
      video.src = video.dataset.src;
    };
    if (navigator.serviceWorker.controller) again();
    else navigator.serviceWorker.addEventListener('controllerchange', again, {once: true});
  }

  // panel.js registers the worker; this script runs first, so it sees the controller arrive.
  if (direct || progressive || !navigator.serviceWorker || navigator.serviceWorker.controller) load();
  else navigator.serviceWorker.addEventListener('controllerchange', load, {once: true});
})();
