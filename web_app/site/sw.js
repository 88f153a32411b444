// The company site's service worker: p2pcdn's line, and what may be shared.
importScripts('/p2pcdn/p2pcdn-sw.js');
p2pcdn.configure({shareable: ['/assets/']});
