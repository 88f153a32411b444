// Pieces verified and kept in memory until they are written to Cache Storage. Writing a piece
// takes more CPU than receiving it: a 20 MiB file from a peer took 6.2 s with each piece
// written as it came and 5.0 s with none written (bare data channel 3.7 s; Chromium, 2 cores,
// bench/README). On a busy device that CPU is taken from the transfer itself, so pieces are
// written once no piece has arrived, in the whole worker, for P2PCDN_WRITE_QUIET_MS, one at a
// time, stopping again as soon as pieces arrive. Memory is bounded: beyond
// P2PCDN_WRITE_BEHIND_BYTES the oldest are written at once. A piece not written yet is read
// from here (PieceSource.read) and is announced to the swarm only once written. Pieces from
// the origin do not wait: a crowd on the same file is waiting for them to be announced.
const P2PCDN_WRITE_QUIET_MS = 300;
const P2PCDN_WRITE_BEHIND_BYTES = 32 << 20;

class PieceWrites {
  // write(source, index, bytes): keeps one piece (PieceSource._keep); awaited.
  constructor(write) {
    this.write = write;
    this.queue = [];  // {source, index, bytes}, oldest first
    this.bytes = 0;
    this.lastArrival = -Infinity;
    this.timer = 0;
    this.draining = false;
  }

  // A verified piece to keep. Pieces arriving put every write off.
  add(source, index, bytes) {
    this.queue.push({source, index, bytes});
    this.bytes += bytes.length;
    this.arrived();
    while (this.bytes > P2PCDN_WRITE_BEHIND_BYTES) {
      const oldest = this._shift();
      if (!oldest.writing) this.write(oldest.source, oldest.index, oldest.bytes).catch(() => {});
    }
  }

  // A piece arrived (kept or not): the transfer is still under way.
  arrived() {
    this.lastArrival = performance.now();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this._drain(), P2PCDN_WRITE_QUIET_MS);
  }

  // The bytes of a piece still waiting, or undefined.
  get(source, index) {
    const w = this.queue.find((x) => x.source === source && x.index === index);
    return w && w.bytes;
  }

  pendingBytes() {
    return this.bytes;
  }

  _shift() {
    const w = this.queue.shift();
    this.bytes -= w.bytes.length;
    return w;
  }

  _quiet() {
    return performance.now() - this.lastArrival >= P2PCDN_WRITE_QUIET_MS;
  }

  async _drain() {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length && this._quiet()) {
        const w = this.queue[0];
        // Written before it leaves the queue: a reader meanwhile still finds it here.
        w.writing = true;
        await this.write(w.source, w.index, w.bytes).catch(() => {});
        if (this.queue[0] === w) this._shift();
      }
    } finally {
      this.draining = false;
    }
  }
}
