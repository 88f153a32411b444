// Pieces of large files: which this page holds (a bitfield per file it holds only in part)
// and which each linked peer says it holds (HAVE_PIECES). A file held whole is announced
// with HAVE like any other; a part of one with HAVE_PIECES, a full bitfield each time,
// coalesced to one frame per file per tick, to peers whose HELLO says they read it. Only files of this manifest, with its piece
// count, are kept from a peer: anything else costs nothing and counts towards flooding.

// The Cache Storage key of a piece (the worker's PieceSource keeps pieces under it).
function p2pcdnPieceKey(url, index) {
  return `${url}${url.includes('?') ? '&' : '?'}p2pcdn-piece=${index}`;
}

class PieceHoldings {
  constructor(page) {
    this.page = page;
    this.partial = new Map();  // resource id -> {entry, bits: Uint8Array, count}
    this.dirty = new Set();    // resource ids whose bitfield changed since the last flush
  }

  // A piece of `entry` is now in Cache Storage. Returns true when that completed the file.
  add(entry, index) {
    const {page} = this;
    if (!entry.pieces || index < 0 || index >= entry.pieces.count || page.held.has(entry)) return false;
    let held = this.partial.get(entry.resourceId);
    if (!held) {
      held = {entry, bits: new Uint8Array(Math.ceil(entry.pieces.count / 8)), count: 0};
      this.partial.set(entry.resourceId, held);
      page.signaling.announce([entry.resourceId]);  // a lookup finds holders of parts too
    }
    const mask = 0x80 >> (index % 8);
    if (held.bits[index >> 3] & mask) return false;
    held.bits[index >> 3] |= mask;
    held.count++;
    if (held.count < entry.pieces.count) {
      this.dirty.add(entry.resourceId);
      return false;
    }
    this.partial.delete(entry.resourceId);
    this.dirty.delete(entry.resourceId);
    return true;
  }

  // `entry` is no longer held at all: peers that heard of parts of it hear of none.
  drop(entry) {
    const held = this.partial.get(entry.resourceId);
    if (!held) return;
    this.partial.delete(entry.resourceId);
    this.dirty.delete(entry.resourceId);
    held.bits.fill(0);
    for (const link of this.page.links.values()) if (link.sentHave && this._reads(link)) this._send(link, entry.resourceId, held);
  }

  has(entry, index) {
    if (this.page.held.has(entry)) return true;
    const held = this.partial.get(entry.resourceId);
    return !!held && !!(held.bits[index >> 3] & (0x80 >> (index % 8)));
  }

  // A peer hears what we hold in part once its HELLO says it reads HAVE_PIECES (an older
  // peer would take the frame as malformed and ban us).
  sendAll(link) {
    if (!this._reads(link)) return;
    for (const [id, held] of this.partial) this._send(link, id, held);
  }

  _reads(link) {
    return !!link.remoteHello && (link.remoteHello.capabilities & this.page.core.capPieces) !== 0;
  }

  flush() {
    if (!this.dirty.size) return;
    for (const id of this.dirty) {
      const held = this.partial.get(id);
      if (!held) continue;
      for (const link of this.page.links.values()) if (link.sentHave && this._reads(link)) this._send(link, id, held);
    }
    this.dirty.clear();
  }

  _send(link, resourceId, held) {
    if (!this.page.config.upload) return;
    link.send(this.page.core.encodeFrame({type: 'have-pieces', resource: resourceId, pieceCount: held.entry.pieces.count, bitfield: held.bits}));
  }

  // A peer's HAVE_PIECES. Returns the number of ids it named that this page does not know.
  onHavePieces(link, f) {
    const entry = this.page.byResource.get(f.resource);
    if (!entry || !entry.pieces || entry.pieces.count !== f.pieceCount) return 1;
    link.pieces = link.pieces || new Map();
    link.pieces.set(f.resource, f.bitfield);
    link.piecesVersion = (link.piecesVersion || 0) + 1;
    return 0;
  }
}
