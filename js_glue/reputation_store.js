// The page's memory of other peers for the length of a visit (the core's PeerReputation),
// kept in localStorage so the next page of the site, or another tab, starts from it: a liar
// or a dripper costs a visitor one failure, not one per page. Every verdict is told once on
// the console and listed in stats.hostile, naming the peer, what it did and what was done.
const P2PCDN_REPUTATION_KEY = 'p2pcdn:reputation';

class PeerReputationStore {
  constructor(core, stats) {
    this.core = core;
    this.stats = stats;
    this.rep = new core.PeerReputation();
    this._saveTimer = 0;
    try {
      const saved = localStorage.getItem(P2PCDN_REPUTATION_KEY);
      if (saved) this.rep.load(saved, Date.now());
    } catch (_) {
      // Storage blocked (a sandboxed frame, a privacy setting): remembered for this page only.
    }
  }

  delivered(peerId, bytes) {
    this.rep.onDelivered(peerId, bytes, Date.now());
    this._saveSoon();
  }

  // Records what a peer did; returns true when it is banned now. `detail` says what happened.
  offense(peerId, offense, detail) {
    const banned = this.rep.onOffense(peerId, offense, Date.now()) === true;
    const action = banned ? 'banned for this visit' : offense === 'connect-failed' ? 'noted' : 'struck';
    const hostile = this.stats.hostile;
    if (hostile.length < 100) hostile.push({peer: peerId, offense, detail: detail || '', action, at: Date.now()});
    if (offense !== 'connect-failed') console.info(`p2pcdn: peer ${peerId.slice(0, 8)}… ${offense}${detail ? ` (${detail})` : ''}: ${action}`);
    this.stats.changed();
    this._saveSoon();
    return banned;
  }

  banned(peerId) {
    return this.rep.banned(peerId);
  }

  usable(peerId) {
    return this.rep.usable(peerId);
  }

  // Holders best first: those that delivered, strangers, then struck ones; banned ones left out.
  rank(peerIds) {
    return this.rep.rank(peerIds);
  }

  record(peerId) {
    return this.rep.record(peerId);
  }

  _saveSoon() {
    if (this._saveTimer) return;
    this._saveTimer = setTimeout(() => this.save(), 500);
  }

  // What changed since the last save, now (a page leaving). Nothing changed: nothing written
  // (the pagehide of a page going runs inside the next page's commit).
  flush() {
    if (this._saveTimer) this.save();
  }

  save() {
    clearTimeout(this._saveTimer);
    this._saveTimer = 0;
    try {
      localStorage.setItem(P2PCDN_REPUTATION_KEY, this.rep.save());
    } catch (_) {
      // Quota or blocked storage: the record still holds for this page.
    }
  }
}
