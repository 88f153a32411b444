// The demo's live panel, and media that load once the service worker controls the page
// (on a first visit the worker is installed first; its claim makes this page controlled).
// <script src="/panel.js" data-register="load">: a page whose film starts at once (video.html)
// registers the worker only at load, so a first visit's install (the worker's scripts and the
// manifest) does not share the link with the film's first bytes.
(function () {
  const registerAtLoad = document.currentScript && document.currentScript.dataset.register === 'load';
  const rows = [
    ['From peers', (s) => bytes(s.bytesFromPeers)],
    ['From origin', (s) => bytes(s.bytesFromOrigin)],
    ['From cache', (s) => bytes(s.bytesFromCache)],
    ['Sent to peers', (s) => bytes(s.bytesToPeers)],
    ['Peers connected', (s) => String(s.peersConnected)],
    ['Failures', (s) => Object.entries(s.failures).filter(([, n]) => n).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'],
    // What hostile or broken peers did, and what was done (the last three).
    ['Peers judged', (s) => s.hostile.slice(-3).map((h) => `${h.peer.slice(0, 8)}: ${h.offense}, ${h.action}`).join('; ') || 'none'],
  ];
  const colors = {peers: '#2a9d8f', origin: '#e76f51', cache: '#8d99ae'};

  function bytes(n) {
    if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
    if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
    return `${n} B`;
  }

  function render(s) {
    // Text only, never markup: some of it (peer ids) comes from other peers.
    document.getElementById('stats').replaceChildren(...rows.map(([label, f]) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      const td = document.createElement('td');
      th.textContent = label;
      td.textContent = f(s);
      tr.append(th, td);
      return tr;
    }));
    document.getElementById('reason').textContent = s.noPeerReason ? `No peers: ${s.noPeerReason}` : '';
    draw(window.p2pcdn.stats.history);
  }

  function draw(history) {
    const canvas = document.getElementById('chart');
    const g = canvas.getContext('2d');
    g.clearRect(0, 0, canvas.width, canvas.height);
    if (history.length < 2) return;
    const max = Math.max(1, ...history.map((h) => Math.max(h.peers, h.origin, h.cache)));
    const t0 = history[0].t, t1 = history[history.length - 1].t || t0 + 1;
    for (const key of ['origin', 'cache', 'peers']) {
      g.strokeStyle = colors[key];
      g.lineWidth = 2;
      g.beginPath();
      history.forEach((h, i) => {
        const x = ((h.t - t0) / Math.max(1, t1 - t0)) * (canvas.width - 4) + 2;
        const y = canvas.height - 2 - (h[key] / max) * (canvas.height - 4);
        if (i === 0) g.moveTo(x, y);
        else g.lineTo(x, y);
      });
      g.stroke();
      g.fillStyle = colors[key];
      g.fillText(key, 6 + ['peers', 'origin', 'cache'].indexOf(key) * 60, 12);
    }
  }

  function loadMedia() {
    for (const slot of document.querySelectorAll('.slot')) {
      const el = document.createElement(slot.dataset.kind);
      if (slot.dataset.kind === 'video') {
        el.controls = true;
        el.muted = true;
        el.loop = true;
        el.autoplay = true;
      }
      el.src = slot.dataset.src;
      slot.replaceWith(el);
    }
  }

  // p2pcdn.js is async: it may run after this script.
  function attachPanel() {
    window.p2pcdn.stats.addEventListener('stats', (e) => render(e.detail));
    render(window.p2pcdn.stats.snapshot());
  }
  if (window.p2pcdn) attachPanel();
  else document.querySelector('script[src$="/p2pcdn.js"]').addEventListener('load', attachPanel);
  if (!navigator.serviceWorker) {
    loadMedia();
    return;
  }
  const register = () => navigator.serviceWorker.register('/sw.js').catch((err) => console.warn('service worker:', err));
  if (registerAtLoad && document.readyState !== 'complete') addEventListener('load', register, {once: true});
  else register();
  if (navigator.serviceWorker.controller) loadMedia();
  else navigator.serviceWorker.addEventListener('controllerchange', loadMedia, {once: true});
})();
