// Cuts the bytes of a large file, as a body streams them, into its pieces: each whole piece
// handed on as it completes, the piece being filled reported as it grows (a reader streams
// it before it is whole). A cutter outlives one body: a file read in several answers (an
// origin's short Range answer, a dropped connection) goes on inside the piece it stopped in.
class PieceCutter {
  constructor(source, index) {
    this.source = source;
    this.index = index;  // the piece being filled
    this.filled = 0;
    this.piece = new Uint8Array(source.range(index).length);
  }

  // The byte of the file the next one read is.
  at() {
    return this.source.range(this.index).offset + this.filled;
  }

  // Cuts a body that starts `skip` bytes before at() into whole pieces up to `last`, handing
  // each to `onPiece` as it completes (awaited: a slow consumer slows the reading), and
  // telling `onFill` how far the piece being filled is. Only one piece is in memory at a
  // time. A body that goes on past `last`, or fails, is cancelled.
  async cut(reader, last, skip, onPiece, onFill = null) {
    let ended = false;
    let rest = 0;  // bytes of the last chunk past `last`
    try {
      while (this.index <= last) {
        const {value, done} = await reader.read();
        if (done) {
          ended = true;
          break;
        }
        let chunk = value;
        if (skip) {
          const dropped = Math.min(skip, chunk.length);
          skip -= dropped;
          chunk = chunk.subarray(dropped);
        }
        while (chunk.length && this.index <= last) {
          chunk = this._fill(chunk, onFill);
          if (this.filled === this.piece.length) await this._completed(last, onPiece);
        }
        rest = chunk.length;
      }
      // A Range answer of exactly these bytes ends with the next read: seen, the request is
      // complete, where a cancel would list it as aborted in the browser's network log.
      if (!ended && !rest) ended = (await reader.read()).done;
    } finally {
      if (!ended) reader.cancel().catch(() => {});
    }
  }

  // Puts what fits of `chunk` into the piece being filled; returns the rest.
  _fill(chunk, onFill) {
    const n = Math.min(chunk.length, this.piece.length - this.filled);
    this.piece.set(chunk.subarray(0, n), this.filled);
    this.filled += n;
    if (onFill) onFill(this.index, this.piece, this.filled);
    return chunk.subarray(n);
  }

  // The piece being filled is whole: handed on, and the next one begun.
  async _completed(last, onPiece) {
    await onPiece(this.index, this.piece);
    this.index++;
    this.filled = 0;
    if (this.index <= last) this.piece = new Uint8Array(this.source.range(this.index).length);
  }
}
