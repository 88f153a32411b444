// Finding a connected peer that holds a resource: a link whose HAVE lists it, else a LOOKUP
// and new links to the holders it names, waited for up to the hold window. Holders are
// ranked by the visit's reputation (peers that delivered first, banned and unreachable ones
// never), so fake holders that announced first win nothing: a failed connect is remembered.
// A page also has a budget for time lost to peers that failed it (hostileDelayBudgetMs,
// wall-clock: requests failing together count once). Once spent, a request waits for no new
// link: it goes to an open link whose peer has no strike, or to the origin at once, so
// hostile peers cannot add delay request after request along a CSS -> font -> background
// chain.
class HolderSearch {
  constructor(page) {
    this.page = page;
    this.waiters = new Set();
    this.lostMs = 0;  // wall-clock time this page's requests spent on attempts that failed
    this.lostUntil = 0;
  }

  // A request spent [from, to] on a peer that failed it.
  lose(from, to) {
    this.lostMs += Math.max(0, to - Math.max(from, this.lostUntil));
    this.lostUntil = Math.max(this.lostUntil, to);
  }

  budgetSpent() {
    return this.lostMs >= this.page.config.hostileDelayBudgetMs;
  }

  // Open links that say they hold the resource, usable and not yet tried for this request.
  usable(resourceId, tried) {
    const {links, reputation} = this.page;
    const cleanOnly = this.budgetSpent();
    const clean = (id) => {
      const r = reputation.record(id);
      return !r || !r.strikes;
    };
    const holds = (l) => l.have.has(resourceId) || (l.pieces && l.pieces.has(resourceId));  // whole or in part
    return [...links.values()].filter((l) => l.opened && l.remoteHello && holds(l) &&
                                             !tried.has(l.peerId) && reputation.usable(l.peerId) &&
                                             (!cleanOnly || clean(l.peerId)));
  }

  wake() {
    for (const w of [...this.waiters]) {
      if ((this.usable(w.resourceId, w.tried).length && !w.awaitingFirst()) || w.pending() === 0) w.done();
    }
  }

  // A connected peer that has the resource: an existing link, or new ones found by lookup.
  // `claim`: if nobody holds it, this page becomes the one that fetches it from the origin
  // (tried.claimed is then set), and a crowd asking after it waits for its copy.
  // `patient`: a prefetch, which waits longer for holders to come up (see _waitForHolder).
  async find(entry, tried, background, claim = !background, patient = false) {
    const page = this.page;
    const pick = () => {
      const holders = this.usable(entry.resourceId, tried);
      if (!holders.length) return null;
      const first = this._testFirst(holders.map((l) => l.peerId));
      if (first) return holders.find((l) => l.peerId === first);
      const [handle] = page.selector.pick(holders.map((l) => l.handle), entry.size, 1);
      return holders.find((l) => l.handle === handle) || null;
    };
    const now = pick();
    if (now) return now;
    if (this.budgetSpent() && !background) {
      page.stats.fail('delayBudget');
      return null;
    }
    const heldFrom = performance.now();
    const holder = await this._waitForHolder(entry, tried, pick, background, claim, patient);
    if (holder !== undefined && !background) {
      tried.held = true;  // this request waited for a peer to come up
      page.stats.held.totalMs += performance.now() - heldFrom;
    }
    return holder || null;
  }

  // Links to holders of `entry` for the requests to come, when none is open or coming up:
  // one such search at a time, waiting for nothing.
  warmUp(entry) {
    const page = this.page;
    if (this.warming || [...page.links.values()].some((l) => !l.closed)) return;
    this.warming = true;
    this.find(entry, new Set(), true).finally(() => {
      this.warming = false;
    });
  }

  // Lookup, then connections to new holders; resolves a link, null, or undefined when
  // nobody holds the resource (nothing was held).
  async _waitForHolder(entry, tried, pick, background, claim, patient) {
    const page = this.page;
    const started = performance.now();
    const fail = (reason) => background || page.stats.fail(reason);
    // A prefetch waits longer for its holders: nobody waits on it, and a holder is often a
    // visitor busy loading its own page, whose answer took 0.6-1.4 s in a crowd of five on
    // two cores (bench/README). A dial given up as unanswered is not dialled again for the
    // next file (it is still coming up), so giving up early lost every file that peer held.
    const holdMs = patient ? 2 * page.config.connectTimeoutMs : page.config.connectTimeoutMs;
    let deadline = performance.now() + holdMs;
    // A page's own request (or a prefetch that may go to the origin) claims what nobody
    // holds: it fetches it from the origin, and the crowd asking after it waits for its copy
    // (bounded by crowdWaitMs) instead. Not a page that uploads nothing: nobody would get
    // that copy.
    const lookup = await page.signaling.lookup(entry.resourceId, page.config.connectTimeoutMs, page.config.lookupPeers * 4,
                                               claim && page.config.upload);
    if (lookup.claimed) {
      page.claimed.add(entry.resourceId);
      tried.claimed = true;
    }
    const crowd = lookup.coming;
    if (crowd) deadline = Math.max(deadline, started + page.config.crowdWaitMs);
    // A prefetch's dial, or one in a crowd, counts as unanswered only at the deadline: a crowd's
    // claimant is busy fetching the file for it (one that never answers costs what one that
    // never fetches does: the crowd wait, charged to the budget).
    const answerMs = patient || crowd ? deadline - started : page.config.answerTimeoutMs;
    const found = lookup.peers;
    // Best first; a holder that fails to come up is replaced by the next, so fake holders
    // cannot fill every place (and each costs one failed connect for the whole visit).
    const queue = page.reputation.rank(found.filter((p) => !tried.has(p) && p !== page.peerId));
    const first = this._testFirst(queue);
    if (first) queue.unshift(...queue.splice(queue.indexOf(first), 1));
    const connecting = [];
    // A dial still in play: up, answered, or young. A fake holder never answers our offer:
    // after answerMs the next candidate is dialled in its place.
    const live = (l) => !l.closed && (l.opened || l.answered || !l.initiator || performance.now() - l.createdAt < answerMs);
    // Up and saying what it has; in a crowd, a peer still fetching it is waited for too.
    const settled = (l) => l.haveSeen && !(crowd && !this.usable(entry.resourceId, tried).includes(l));
    const topUp = () => {
      while (queue.length && connecting.filter(live).length < page.config.lookupPeers) {
        // Judged since the lookup (a fake holder another search's dial found out): skipped.
        if (!page.reputation.usable(queue[0])) {
          queue.shift();
          continue;
        }
        const link = page.links.get(queue[0]) || page.dial(queue[0]);
        if (!link) break;  // every place taken by links coming up: this holder waits its turn
        queue.shift();
        connecting.push(link);
      }
    };
    topUp();
    await new Promise((resolve) => {
      const waiter = {
        resourceId: entry.resourceId, tried,
        // Test-only: the peer to try first is still coming up.
        awaitingFirst: () => connecting.some((l) => l.peerId === first && live(l) && !l.haveSeen),
        // Links still coming up, or up but not yet saying what they have.
        pending: () => {
          topUp();
          return connecting.filter((l) => live(l) && !settled(l)).length;
        },
        done: () => {
          this.waiters.delete(waiter);
          clearTimeout(waiter.timer);
          resolve();
        },
      };
      waiter.timer = setTimeout(waiter.done, Math.max(0, deadline - performance.now()));
      this.waiters.add(waiter);
      this.wake();
    });
    const holder = pick();
    // A crowd's copy that never came: time lost to a peer that claimed the file (a liar can
    // claim every file), charged to the budget like any failed attempt.
    if (crowd && !holder && !background) this.lose(started, performance.now());
    if (holder && connecting.includes(holder)) page.peerSpeed.linkUp(performance.now() - started);
    if (!holder && connecting.length) fail(connecting.some((l) => l.opened) ? 'notFound' : 'connectFailed');
    else if (!holder) fail('noPeers');  // the lookup named no holder we had not asked
    return holder;
  }

  // Test-only (config.test.tryFirst): the worst case for a hostile peer's victim, which asks
  // that peer first until it has a record of any offense. Null on a real site.
  _testFirst(peerIds) {
    const test = this.page.config.test;
    const id = test && test.tryFirst;
    if (!id || !peerIds.includes(id)) return null;
    const record = this.page.reputation.record(id);
    return record && (record.strikes || record.bannedFor || record.connectFailures) ? null : id;
  }
}
