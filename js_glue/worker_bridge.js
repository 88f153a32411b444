// The page's end of the service worker bridge: a MessageChannel port handed to the worker
// once (bytes travel over it transferred, ~100x faster than the worker's own postMessage),
// the worker's fetch requests answered from peers, its notes on what it served, and
// questions this page asks it (the manifest, which prefetch candidates it lacks).
// Protocol: docs/protocol.md, "Page <-> worker".

// Tells the worker how fast the origin was for what this page loaded before the worker
// controlled it (from `since` on, requests go through the worker), and returns `ask`, which
// asks the worker to adopt those files. A request begun before that but still loading is
// listed only when it ends, so later entries are told as they arrive, for a bounded time.
function adoptLoadedBefore(worker, port, since) {
  const urls = new Set();
  let asked = false;
  const flush = () => {
    // Over the port: the worker answers this page's later questions (what it holds) after it.
    if (urls.size) port.postMessage({type: 'adopt', urls: [...urls]});
    urls.clear();
  };
  const note = (entries) => {
    const before = entries.filter((e) => e.startTime < since);
    for (const e of before) urls.add(e.name.split('#')[0]);
    if (asked) flush();
    // How fast the origin was for them: the worker weighs peers against it.
    const samples = before.filter((e) => e.transferSize > 0 && e.responseStart > 0 && new URL(e.name).origin === location.origin)
                        .map((e) => ({ttfbMs: e.responseStart - e.requestStart, bytes: e.encodedBodySize, bodyMs: e.responseEnd - e.responseStart}));
    if (samples.length) worker.postMessage({type: 'p2pcdn:origin', samples});
  };
  note(performance.getEntriesByType('resource'));
  try {
    const observer = new PerformanceObserver((list) => note(list.getEntries()));
    observer.observe({type: 'resource'});
    setTimeout(() => observer.disconnect(), 60000);
  } catch (_) {
    // No PerformanceObserver: what was still loading stays unshared on this first page.
  }
  return () => {
    if (asked) return;
    asked = true;
    flush();
  };
}

// Tells the worker, once the page has loaded, every file it used, including those the
// renderer's memory cache gave it without asking the worker: its eviction order is by use.
function reportUsed(port) {
  const send = () => {
    const urls = performance.getEntriesByType('resource').map((e) => e.name.split('#')[0])
                     .filter((u) => u.startsWith(location.origin));
    if (urls.length) port.postMessage({type: 'used', urls: [...new Set(urls)].slice(0, 1000)});
  };
  if (document.readyState === 'complete') send();
  else addEventListener('load', () => setTimeout(send, 0), {once: true});
}

// How long after a first visit's files are loaded again the worker's notes on them may come.
const P2PCDN_WARM_NOTE_MS = 10000;

// How long a page waits for the worker's answer to whether it was a first visit.
const P2PCDN_ATTACH_ANSWER_MS = 1000;

class WorkerBridge {
  constructor(page) {
    this.page = page;
    this.port = null;
    this.requests = new Map();  // worker request id -> AbortController
    this.idleWaiters = [];
    this.replies = new Map();   // id -> resolve, for questions this page asks the worker
    this.nextQuestion = 0;
    this.askedOnce = false;
    this.attachWaiters = [];
    // Taken when p2pcdn.js runs: a worker may claim the page later.
    this.navigated = WorkerBridge.navigationControlled();
    this.onAttachAnswer = null;
    this.firstVisit = this._firstVisitAnswer();
    this.startedUncontrolled = this.navigated === false;  // until the worker says
    this.firstVisit.then((first) => { this.startedUncontrolled = first; });
  }

  // Resolves true once a worker's port is attached, false after ms.
  whenAttached(ms) {
    if (this.port) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.attachWaiters.push(resolve);
      setTimeout(() => resolve(false), ms);
    });
  }

  // Whether a worker controlled this page's navigation: false (no controller when this script
  // ran: a first visit), true (Navigation Timing says a worker started for it), or null when
  // only the worker can say: a controller now, and no worker time (Firefox reports a
  // workerStart of 0 for every navigation; a page claimed before this script ran has 0 too).
  static navigationControlled() {
    if (P2pcdnSetupCheck.browserLacks() || !navigator.serviceWorker.controller) return false;  // not read where it cannot be a peer
    const navigation = performance.getEntriesByType('navigation')[0];
    return navigation && navigation.workerStart > 0 ? true : null;
  }

  // Resolves whether this page is a first visit (its navigation under no worker). Where only
  // the worker knows, its answer to the attach; a worker that never answers (an older
  // version still in control) leaves it a first visit after P2PCDN_ATTACH_ANSWER_MS.
  _firstVisitAnswer() {
    if (this.navigated !== null) return Promise.resolve(!this.navigated);
    return new Promise((resolve) => {
      this.onAttachAnswer = resolve;
      setTimeout(() => resolve(true), P2PCDN_ATTACH_ANSWER_MS);
    });
  }

  connect() {
    if (!navigator.serviceWorker) return;
    this._keepUnadoptedOnLeaving();
    // A page the worker controlled from the start loaded everything through it. On a slow
    // link (or with a deferred tag) the worker may claim the page before this script runs.
    const attach = () => {
      const worker = navigator.serviceWorker.controller;
      if (!worker || this.attached === worker || this.page.switchedOff()) return;
      this.attached = worker;
      const since = performance.now();
      const channel = new MessageChannel();
      this.port = channel.port1;
      this.port.onmessage = (e) => this._onMessage(e.data || {});
      // `starting`: a start put off (P2pcdnPage._startable: a first visit's until load, a
      // later page's until its first paint): until it says 'started', the worker sends what
      // it does not hold to the origin without asking.
      // Not with preferPeers: such a page starts at once when asked, and waits for peers.
      // 'if-claimed': whether this is a first visit is the worker's to say.
      const deferring = !!this.page.startDeferred && !this.page.core && !this.page.config.preferPeers;
      const starting = deferring && this.navigated === null ? 'if-claimed' : deferring;
      // `off: false`: the visitor's switch, as every page says it (visitor_switch.js).
      // `preferPeers`: whether the site's pages wait for peers (the worker's next pages too).
      worker.postMessage({type: 'p2pcdn:page', starting, off: false, preferPeers: !!this.page.config.preferPeers}, [channel.port2]);
      performance.mark('p2pcdn:worker-attached');
      this.attachWaiters.splice(0).forEach((resolve) => resolve(true));
      this.attachedAt = since;
      // First pages of this tab left before they could ask the worker to adopt their files
      // (unadopted_files.js) are asked for once this page is done starting.
      const port = this.port;
      P2pcdnPage._whenPageStarted(0).then(() => {
        const left = p2pcdnTakeUnadopted();
        if (left.length) port.postMessage({type: 'adopt', urls: left});
      });
      this.firstVisit.then((first) => {
        if (!first) return reportUsed(port);
        // What this page loaded before the worker controlled it is shared too. Adopting it
        // (the worker reads, hashes and stores each file) while the page still makes its
        // first frames made that paint later (1.26x against 1.12x without p2pcdn, one run at
        // full speed): it is asked once the page is done starting, or as it leaves, whichever
        // comes first. The next page's requests for those files wait for their adoption.
        this.adoptionAsked = true;  // never left to the next page (unadopted_files.js)
        const askAdoption = adoptLoadedBefore(worker, port, since);
        addEventListener('pagehide', askAdoption, {once: true});
        P2pcdnPage._whenPageStarted(0).then(() => {
          askAdoption();
          // The warm loads only what the worker holds: after the adoption is asked.
          if (P2PCDN_MEMORY_CACHE_SPLIT) this.page.ready.then(() => this._warm(since), () => {});
        });
      });
    };
    attach();
    navigator.serviceWorker.addEventListener('controllerchange', attach);
  }

  // A page that may be a first visit, left before it asked the worker to adopt its files (no
  // worker in control yet), keeps them for the next page. Kept once loaded too, not only as
  // it leaves: in Firefox the list written at pagehide alone was missing on the next page in
  // 2 of 6 runs of adoption.test (the write never seen there; not understood further). A list
  // kept for files the page then asks adopted itself costs the worker a lookup each.
  _keepUnadoptedOnLeaving() {
    if (this.navigated === true) return;
    let first = null;
    this.firstVisit.then((answer) => { first = answer; });
    const keep = () => {
      if (first !== false && !this.adoptionAsked && !this.page.off) p2pcdnKeepUnadopted(this.attachedAt ?? Infinity);
    };
    const loaded = () => setTimeout(keep, 0);  // the load's last resource entries come a task later
    if (document.readyState === 'complete') loaded();
    else addEventListener('load', loaded, {once: true});
    addEventListener('pagehide', keep, {once: true});
  }

  // A first visit's page, once started: its images, stylesheets and fonts loaded again under
  // the worker (memory_cache_warm.js), those the worker holds (it lacks the ones `wanted` names).
  async _warm(since) {
    // Every file of the first page loaded and listed for adoption (the observer's last
    // entries come a task after load): the worker answers once it has kept them.
    await p2pcdnLoaded();
    await new Promise((resolve) => setTimeout(resolve, 0));
    const candidates = p2pcdnWarmCandidates(this.page.entries, since);
    const answer = candidates.length ? await this.ask({type: 'wanted', urls: candidates.map((c) => c.url)}) : null;
    if (!answer || !Array.isArray(answer.urls)) return;
    const lacking = new Set(answer.urls);
    const warm = candidates.filter((c) => !lacking.has(c.url));
    // The worker's note on each of these loads is not the page's: not counted, not checked
    // against the HTTP cache (the file's first load, from the network, is in Resource Timing).
    this.warming = new Set(warm.map((c) => c.url));
    setTimeout(() => this.warming.clear(), P2PCDN_WARM_NOTE_MS);
    this.warmed = p2pcdnWarm(warm);
  }

  // Whether the worker's note on `url` is the one on this page's load again (taken once).
  tookWarmNote(url) {
    return !!this.warming && this.warming.delete(url);
  }

  _onMessage(m) {
    const page = this.page;
    if (m.type === 'attached') {
      if (this.onAttachAnswer) this.onAttachAnswer(m.claimed === true);
      this.onAttachAnswer = null;
    } else if (m.type === 'fetch') {
      if (!this.askedOnce) performance.mark('p2pcdn:first-worker-request');
      this.askedOnce = true;
      this._answer(m);
    } else if (m.type === 'cancel') {
      // The worker gave up waiting for bytes: for this page's figures, the peer stalled.
      const controller = this.requests.get(m.id);
      if (controller) controller.abort(m.reason === 'stalled' ? 'stalled' : undefined);
    } else if (m.type === 'wanted' || m.type === 'manifest' || m.type === 'prefetch-pieces' || m.type === 'prefetch-origin' || m.type === 'take-cut-off') {
      const resolve = this.replies.get(m.id);
      this.replies.delete(m.id);
      if (resolve) resolve(m);
    } else if (m.type === 'served') {
      page.onServed(m);
    } else if (m.type === 'pieces') {
      page.onPiecesWanted(m);
    } else if (m.type === 'cancel-pieces') {
      page.onPiecesCancelled(m);
    } else if (m.type === 'evicted' && Array.isArray(m.urls)) {
      page.held.evicted(m.urls);
    } else if (m.type === 'piece-stored' && page.core) {
      page.held.pieceStored(page.entries.get(m.url), m.index);
    }
  }

  // Asks the worker a question over the port; resolves its answer, or null after ms.
  ask(message, ms = 5000) {
    if (!this.port) return Promise.resolve(null);
    const id = `q${++this.nextQuestion}`;
    return new Promise((resolve) => {
      this.replies.set(id, resolve);
      this.port.postMessage({...message, id});
      setTimeout(() => {
        if (this.replies.delete(id)) resolve(null);
      }, ms);
    });
  }

  post(message, transfer) {
    if (this.port) this.port.postMessage(message, transfer || []);
  }

  // Resolves once no request of the worker is open.
  whenIdle() {
    if (this.requests.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  // start: what a navigation cut off of this file, kept by the worker; peers send the rest.
  async _answer({id, url, origin, start}) {
    const page = this.page;
    const port = this.port;
    const reply = (message, transfer) => port.postMessage({id, ...message}, transfer || []);
    if (page.startNow) page.startNow();  // a start put off until load: the worker needs it now
    try {
      await page.ready;
    } catch (err) {
      return reply({type: 'result', ok: false, reason: 'disabled'});
    }
    const entry = page.entries.get(url);
    if (!entry) return reply({type: 'result', ok: false, reason: 'notInManifest'});
    const controller = new AbortController();
    this.requests.set(id, controller);
    let lastProgress = 0;
    const onProgress = (received) => {
      const now = performance.now();
      if (now - lastProgress > 200) {
        lastProgress = now;
        reply({type: 'progress', received});
      }
    };
    try {
      const {body, headers} = await page.fetchFromPeers(entry, {onProgress, signal: controller.signal, origin, start: start instanceof ArrayBuffer ? start : null});
      page.stats.count('peer', body.byteLength);
      reply({type: 'result', ok: true, body, headers}, [body]);
    } catch (err) {
      reply({type: 'result', ok: false, reason: err.message});
    } finally {
      this.requests.delete(id);
      if (this.requests.size === 0) this.idleWaiters.splice(0).forEach((resolve) => resolve());
    }
  }
}
