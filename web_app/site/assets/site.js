// The site's own script: registers the service worker (which includes p2pcdn's part) through
// p2pcdn, as p2pcdn's README advises a site that registers its own: on a first visit after
// the page's largest paint, and only where the browser can be a peer.
if (window.p2pcdn && window.p2pcdn.registerWorker) window.p2pcdn.registerWorker('/sw.js');
else if ('RTCPeerConnection' in window && navigator.serviceWorker) navigator.serviceWorker.register('/sw.js');
