// The demo site's service worker: p2pcdn's part is one line plus what may be shared.
importScripts('/p2pcdn/p2pcdn-sw.js');
p2pcdn.configure({shareable: ['/media/']});
