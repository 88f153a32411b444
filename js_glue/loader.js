// p2pcdn's loader: instead of the tag, for a site whose first page must not spend a request on
// p2pcdn before it has loaded. Over HTTP/1.1 a browser opens six connections per host, and any
// script in the <head> takes one from the page's own files: at 20 Mbit/s the company site's
// largest paint came 1.1-1.2x later with the tag, whatever the script held (bench/README.md,
// "a first visit's LCP at 20 Mbit/s is one request in the head"). Inlined in each page's
// <head>, with the tag's data- attributes and the script's URL in data-p2pcdn:
//   <script data-p2pcdn="/p2pcdn/p2pcdn.js" data-sw="/sw.js">…the line below…</script>
// It adds p2pcdn.js, with the same data- attributes:
// - on a page a worker controls, in a browser that can be a peer, on a site whose pages wait
//   for peers (window.p2pcdnConfig.preferPeers): fetched at once (a preload: it comes from
//   the worker, not over the origin's connections) and run once the document is parsed, as
//   the tag's defer would, so the page can ask peers for what the worker lacks (run as soon
//   as it came, it ran inside the parse: in one run on the company site at full speed its
//   later pages' LCP was 1.2x, 1.0-1.1x with the tag);
// - otherwise in a task after the page's load event and its first contentful paint (at most
//   2 s after load; at once where the browser has no paint timing): a first visit; a later
//   page of a site that puts its start off anyway (the default: p2pcdn starts after load, the
//   worker sends what it lacks to the origin until then, sw/page_ports.js startsLater), where
//   running it before load added ~7 ms to the load event; a browser without WebRTC, which then
//   parses none of p2pcdn before its load event. A later page's files come from caches, so its
//   load event often comes before its paint (the hero still decoding: 0.1-0.3 s at full speed,
//   up to 1.2 s with five visitors on two cores), and p2pcdn's parse and start ran beside that
//   paint (bench/README, "a later page's start after its paint"). Or as soon as a worker takes control of a page
//   still loading (the worker may hold that page's requests for p2pcdn's part), or asks for
//   the page's part (`p2pcdn:attach`: it holds one of the page's requests for its attach,
//   e.g. the origin failed a file only peers can now give; the message comes once the
//   document is parsed). A browser
//   without WebRTC never reads navigator.serviceWorker here: WebKit sets a page's container
//   up on its first read, 1-2 ms of a revisited page of 10 ms in WPE.
// Both carry the loader's nonce, for a site whose Content Security Policy allows scripts by
// nonce. window.p2pcdn exists from then on. p2pcdn-manifest reads data-p2pcdn as it reads src.
(function(t,d,w){var n=w.RTCPeerConnection&&navigator.serviceWorker,c=w.p2pcdnConfig,o;function a(){if(o)return;o=1;var s=d.createElement('script'),k;s.nonce=t.nonce;for(k in t.dataset)s.dataset[k]=t.dataset[k];s.src=t.dataset.p2pcdn;d.head.appendChild(s)}function p(){var f=function(){setTimeout(a)},P=w.PerformanceObserver,m='first-contentful-paint';setTimeout(a,2e3);try{performance.getEntriesByName(m).length||!P.supportedEntryTypes.includes('paint')?f():new P(function(l){l.getEntriesByName(m).length&&f()}).observe({type:'paint'})}catch(e){f()}}if(n&&n.controller&&c&&c.preferPeers){var l=d.createElement('link');l.nonce=t.nonce;l.rel='preload';l.as='script';l.href=t.dataset.p2pcdn;d.head.appendChild(l);d.readyState=='loading'?d.addEventListener('DOMContentLoaded',a):a()}else if(d.readyState=='complete')a();else{w.addEventListener('load',p);n&&(n.addEventListener('controllerchange',a),n.addEventListener('message',function(e){e.data&&e.data.type=='p2pcdn:attach'&&a()}))}})(document.currentScript,document,window)
