// Who may open a link to this page. A stranger's offer costs an RTCPeerConnection, ICE and
// DTLS work, and a place among maxPeers: offers are admitted at a bounded rate, page-wide and
// per peer, and an incoming offer never evicts a link that is working. Links this page dials
// itself (it needs a holder) may evict the idlest link.
class TokenBucket {
  constructor(perSecond, burst) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.tokens = burst;
    this.at = performance.now();
  }

  take() {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

const P2PCDN_ADMISSION = {
  offersPerSecond: 0.5,   // new incoming links, page-wide: a visitor gains a few peers a minute
  offerBurst: 8,
  offersPerPeer: 3,       // offers one peer id may send in offerPeerWindowMs
  offerPeerWindowMs: 60000,
  unusedInboundMs: 15000, // an incoming link that has asked for nothing this long is closed
  floodStrikes: 20,       // refused offers from one peer before it counts as flooding
};

class LinkAdmission {
  constructor(page) {
    this.page = page;
    this.bucket = new TokenBucket(P2PCDN_ADMISSION.offersPerSecond, P2PCDN_ADMISSION.offerBurst);
    this.offersByPeer = new Map();  // peerId -> [times]; bounded by pruning below
    this.refused = 0;
  }

  // May an offer from this peer, with no link yet, create one? Logs nothing per offer: a
  // flood must not flood the console either.
  admitOffer(peerId) {
    const page = this.page;
    if (page.reputation && !page.reputation.usable(peerId)) return this._refuse(peerId, 'banned');
    if (!this._peerWithinRate(peerId)) return this._refuse(peerId, 'offers too often');
    if (!this.bucket.take()) return this._refuse(peerId, 'offer rate');
    if (page.links.size >= page.config.maxPeers && !this.evictIdle({inbound: true})) {
      return this._refuse(peerId, 'no free place');
    }
    return true;
  }

  _peerWithinRate(peerId) {
    const now = performance.now();
    if (this.offersByPeer.size > 256) {
      for (const [id, times] of this.offersByPeer) {
        if (now - times[times.length - 1] > P2PCDN_ADMISSION.offerPeerWindowMs) this.offersByPeer.delete(id);
      }
      // Many fresh identities within one window: forget the oldest, so the table stays bounded.
      for (const id of this.offersByPeer.keys()) {
        if (this.offersByPeer.size <= 256) break;
        this.offersByPeer.delete(id);
      }
    }
    const times = (this.offersByPeer.get(peerId) || []).filter((t) => now - t < P2PCDN_ADMISSION.offerPeerWindowMs);
    times.push(now);
    this.offersByPeer.set(peerId, times.slice(-P2PCDN_ADMISSION.floodStrikes));
    if (times.length >= P2PCDN_ADMISSION.floodStrikes && this.page.reputation) {
      this.page.reputation.offense(peerId, 'flooded', `${times.length} offers in a minute`);
    }
    return times.length <= P2PCDN_ADMISSION.offersPerPeer;
  }

  // Counted, and named in stats.refusedOffers (the last 32 peers: who, how many, why).
  _refuse(peerId, why) {
    this.refused++;
    const stats = this.page.stats;
    stats.offersRefused = this.refused;
    const named = stats.refusedOffers;
    const i = named.findIndex((r) => r.peer === peerId);
    const entry = i >= 0 ? named.splice(i, 1)[0] : {peer: peerId, count: 0, why};
    entry.count++;
    entry.why = why;
    named.push(entry);
    if (named.length > 32) named.shift();
    stats.changed();
    return false;
  }

  // Whether a link carries a transfer now: an upload, or a request of this page's own.
  busy(link) {
    return !!(link.uploads && link.uploads.length) || this.page.requests.openOn(link) > 0;
  }

  // Whether a link does work now or did lately: such a link is never evicted for a stranger.
  working(link) {
    return this.busy(link) || (link.delivered && performance.now() - link.lastUsed < 30000);
  }

  // Closes a link to make room; false if there is none to close. First a dial of ours that
  // went unanswered past answerTimeoutMs (a holder that never answers: a fake one, or gone),
  // then the idlest link that is not working. A dial of ours still coming up (answered, or
  // young) is never closed: evicting it for the next dial let a crowd of fake holders churn
  // every place while an honest holder was still connecting. An incoming offer may evict only
  // links that never carried a transfer.
  evictIdle({inbound}) {
    const idlest = this._unanswered() || this._idlest(inbound);
    if (!idlest) return false;
    idlest.close('making room');
    return true;
  }

  unanswered(link) {
    return link.initiator && !link.opened && !link.answered &&
           performance.now() - link.createdAt > this.page.config.answerTimeoutMs;
  }

  _comingUp(link) {
    return link.initiator && !link.opened && !this.unanswered(link);
  }

  _unanswered() {
    let oldest = null;
    for (const l of this.page.links.values()) {
      if (this.unanswered(l) && (!oldest || l.createdAt < oldest.createdAt)) oldest = l;
    }
    return oldest;
  }

  _idlest(inbound) {
    let idlest = null;
    for (const l of this.page.links.values()) {
      if (this.working(l) || this._comingUp(l) || (inbound && (l.delivered || l.served))) continue;
      if (!idlest || l.lastUsed < idlest.lastUsed) idlest = l;
    }
    return idlest;
  }

  // Called on every tick: an incoming link that never asked for anything is a place wasted.
  sweep(now) {
    for (const link of [...this.page.links.values()]) {
      if (!link.initiator && link.opened && !link.served && !link.delivered &&
          now - link.openedAt > P2PCDN_ADMISSION.unusedInboundMs && !this.working(link)) {
        link.close('unused');
      }
    }
  }
}
