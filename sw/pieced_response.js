// Answers a request for a large file as a stream of its pieces, as they arrive verified and
// in order: a Range request starts from the piece covering its first byte, without waiting
// for the rest (a seek fetches what it needs first). Pieces are fetched pieceReadAhead ahead
// of what has been sent; the stream pulls one piece at a time, so a slow reader holds one
// piece in memory, not the file. A piece that can be had from nowhere errors the stream: a
// response is never completed short.
async function piecedResponse(request, url, file, clientId) {
  const source = PieceSource.of(url, file);
  source.use(await pickPage(clientId), clientId);
  const size = file.size;
  const headers = new Headers({'content-type': file.type || 'application/octet-stream', 'accept-ranges': 'bytes',
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
  const body = new ReadableStream({
    async pull(controller) {
      readAhead();
      const piece = await source.read(next);
      const {offset} = source.range(next);
      const from = Math.max(first, offset) - offset;
      const to = Math.min(last + 1, offset + piece.bytes.length) - offset;
      controller.enqueue(piece.bytes.slice(from, to));
      if (piece.source === 'cache') notify(clientId, {type: 'served', url, source: 'cache', bytes: to - from, piece: true});
      state.storage.used(url);
      next++;
      if (next > lastPiece) controller.close();
    },
  }, {highWaterMark: 0});
  return new Response(body, {status: range ? 206 : 200, headers});
}
