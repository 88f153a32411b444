// Answers a request for a large file as a stream of its pieces, as they arrive verified and
// in order: a Range request starts from the piece covering its first byte, without waiting
// for the rest (a seek fetches what it needs first). Pieces are fetched pieceReadAhead ahead
// of what has been sent; the stream pulls one piece at a time, so a slow reader holds a
// piece and what came ahead of it (PieceSource.ahead, at most 8 MiB) in memory, not the file. A piece that can be had from nowhere errors the stream: a
// response is never completed short.
async function piecedResponse(request, url, file, clientId) {
  const source = PieceSource.of(url, file);
  source.use(await pickPage(clientId), clientId);
  const size = file.size;
  const headers = new Headers({'content-type': contentTypeFor(file, request.destination) || 'application/octet-stream', 'accept-ranges': 'bytes',
                               'x-p2pcdn-source': 'pieces'});
  const range = parseRange(request.headers.get('range'), size);
  if (range === 'unsatisfiable') return unsatisfiable(headers, size);
  const first = range ? range.first : 0;
  const last = range ? range.last : size - 1;
  headers.set('content-length', String(last - first + 1));
  if (range) headers.set('content-range', `bytes ${first}-${last}/${size}`);
  const lastPiece = Math.floor(last / source.pieceSize);
  let next = Math.floor(first / source.pieceSize);
  const readAhead = () => {
    const upto = Math.min(lastPiece, next + state.config.pieceReadAhead);
    const indices = [];
    for (let i = next; i <= upto; i++) indices.push(i);
    source.want(indices);
  };
  let chunks = null;  // of piece `next`
  let at = 0;        // bytes of piece `next` had so far
  const body = new ReadableStream({
    // Enqueues at least one chunk, or closes: a pull that does neither is not called again.
    async pull(controller) {
      for (;;) {
        readAhead();
        if (!chunks) chunks = source.chunks(next);
        const {value, done} = await chunks.next();
        if (done) {
          chunks = null;
          at = 0;
          if (++next > lastPiece) return controller.close();
          continue;
        }
        // The part of this chunk inside the range asked for.
        const base = source.range(next).offset + at;
        at += value.bytes.length;
        const from = Math.max(first, base) - base;
        const to = Math.min(last + 1, base + value.bytes.length) - base;
        if (value.source === 'cache') notify(clientId, {type: 'served', url, source: 'cache', bytes: Math.max(0, to - from), piece: true});
        state.storage.used(url);
        // A view, not a copy: each chunk's bytes are its own (a piece read, or a slice of one filling).
        if (to > from) return controller.enqueue(value.bytes.subarray(from, to));
      }
    },
    cancel() {
      if (chunks) chunks.return();
    },
  }, {highWaterMark: 0});
  return new Response(body, {status: range ? 206 : 200, headers});
}
