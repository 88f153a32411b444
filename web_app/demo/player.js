// The video pages: the <video> gets its source once the service worker controls the page
// (as the demo's media do: on a first visit the worker is installed first), so every byte
// goes through p2pcdn. An .m3u8 source is played by hls.js, or natively where the browser
// plays HLS itself and has no MSE. For tests: window.demoVideo is the element;
// window.demoTimes holds performance.now() of the first 'loadedmetadata', 'loadeddata' (a
// first frame) and 'playing', and of every 'seeked'. With ?direct in the URL the source is
// set at once, without waiting for a worker: with service workers blocked, the page without
// p2pcdn (a benchmark's baseline).
(function () {
  const video = document.querySelector('video[data-src]');
  const times = {loadedmetadata: null, loadeddata: null, playing: null, seeked: []};
  window.demoVideo = video;
  window.demoTimes = times;
  for (const event of ['loadedmetadata', 'loadeddata', 'playing']) {
    video.addEventListener(event, () => {
      if (times[event] === null) times[event] = performance.now();
    });
  }
  video.addEventListener('seeked', () => times.seeked.push(performance.now()));

  function load() {
    const src = video.dataset.src;
    const engine = document.getElementById('engine');
    if (!/\.m3u8$/.test(src)) {
      video.src = src;
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

  // panel.js registers the worker; this script runs first, so it sees the controller arrive.
  const direct = new URLSearchParams(location.search).has('direct');
  if (direct || !navigator.serviceWorker || navigator.serviceWorker.controller) load();
  else navigator.serviceWorker.addEventListener('controllerchange', load, {once: true});
})();
