// A large file's pieces from the origin: contiguous runs of at most originRunPieces, one run
// at a time per file (parallel ones would share the visitor's link and delay the first bytes
// a player waits for), a run a reader already waits on first. A run takes as many Range
// requests as the origin needs: it may answer with less than was asked (p2pcdn-server sends
// at most 8 MiB per 206, and a piece can be larger), and a connection can drop; each answer
// starts where the last one stopped, inside a piece if need be. An answer that brings nothing
// new ends the run, and so do answers of less than 64 KiB on average (a bound on requests).
// What the origin gives is served as it is; what it fails goes back to the source (peers).
const P2PCDN_ORIGIN_ANSWER_AT_LEAST = 64 << 10;

class OriginRuns {
  constructor(source) {
    this.source = source;
    this.queue = [];  // [first, last] runs not started
    this.busy = false;
  }

  ask(indices) {
    indices.sort((a, b) => a - b);
    let runStart = 0;
    for (let k = 1; k <= indices.length; k++) {
      const breaks = k === indices.length || indices[k] !== indices[k - 1] + 1 ||
                     k - runStart >= state.config.originRunPieces;
      if (breaks) {
        this._queue(indices[runStart], indices[k - 1]);
        runStart = k;
      }
    }
  }

  _queue(first, last) {
    const {source} = this;
    for (let i = first; i <= last; i++) source.asked.set(i, 'origin');
    if (source.waiters.has(first)) this.queue.unshift([first, last]);
    else this.queue.push([first, last]);
    this._next();
  }

  async _next() {
    if (this.busy || !this.queue.length) return;
    this.busy = true;
    const [first, last] = this.queue.shift();
    try {
      await this.run(first, last);
    } finally {
      this.busy = false;
      this._next();
    }
  }

  // Pieces first..last, each handed to the source as it completes.
  async run(first, last) {
    const {source} = this;
    const end = source.range(last).offset + source.range(last).length;  // exclusive
    const cutter = new PieceCutter(source, first);
    let requests = Math.ceil((end - cutter.at()) / P2PCDN_ORIGIN_ANSWER_AT_LEAST) + 2;
    try {
      while (cutter.index <= last) {
        if (requests-- === 0) throw new Error('origin answered too little per range request');
        const at = cutter.at();
        const started = performance.now();
        const res = await fetch(source.url, {headers: {range: `bytes=${at}-${end - 1}`}, credentials: 'same-origin'});
        const headersAt = performance.now();
        const skip = this._bodySkip(res, at);
        const keepable = cacheable(res);
        await cutter.cut(res.body.getReader(), last, skip, (i, piece) => {
          source.onOriginPiece(i, piece, keepable);
        }, (i, piece, filled) => source.onOriginFill(i, piece, filled));
        if (cutter.at() === at) throw new Error('origin body ended early');
        noteOrigin(source.url, started, headersAt, cutter.at() - at);
      }
    } catch (err) {
      source.onOriginFillFailed();
      source.onOriginFailed(cutter.index, last, err);
    }
  }

  // How many bytes of the origin's answer come before byte `at` of the file: all of them up
  // to `at` for a whole body (an origin without ranges), the gap for a 206 that starts
  // earlier. A 206 that starts later, or is of another size of file, is not this file's.
  _bodySkip(res, at) {
    if (res.status === 200) return at;
    if (res.status !== 206) throw new Error(`origin answered ${res.status}`);
    const range = parseContentRange(res.headers.get('content-range'));
    if (!range || range.first > at || range.last < at || (range.size !== null && range.size !== this.source.file.size)) {
      if (res.body) res.body.cancel().catch(() => {});
      throw new Error(`origin answered the range ${res.headers.get('content-range') || '(none)'} for bytes from ${at}`);
    }
    return at - range.first;
  }
}
