// The site's own script: registers the service worker (which includes p2pcdn's part), only
// where the browser can be a peer, as p2pcdn's README advises a site that registers its own.
if (navigator.serviceWorker && 'RTCPeerConnection' in window) navigator.serviceWorker.register('/sw.js');
