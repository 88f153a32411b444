// The site's own script: registers the service worker (which includes p2pcdn's part).
if (navigator.serviceWorker) navigator.serviceWorker.register('/sw.js');
