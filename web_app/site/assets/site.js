// The site's own script. p2pcdn's loader in each page's <head> registers the service worker
// (data-sw), so nothing here knows about p2pcdn: the nav link of the page shown is marked.
for (const a of document.querySelectorAll('nav a')) {
  if (a.pathname === location.pathname) a.setAttribute('aria-current', 'page');
}
