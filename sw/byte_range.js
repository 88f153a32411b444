// HTTP Range requests (RFC 9110 14): one range, `bytes=first-last`, `first-` or `-suffix`.
// Returns {first, last} (inclusive), 'unsatisfiable', or null when there is no usable range
// header (the whole body is answered).
function parseRange(header, size) {
  const m = header && /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (!m[1] && !m[2])) return null;
  const first = m[1] ? Number(m[1]) : Math.max(0, size - Number(m[2]));
  const last = m[1] && m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
  if (first >= size || last < first) return 'unsatisfiable';
  return {first, last};
}

// A 206's `Content-Range: bytes first-last/size` (size null for `*`), or null when malformed.
function parseContentRange(header) {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec((header || '').trim());
  return m ? {first: Number(m[1]), last: Number(m[2]), size: m[3] === '*' ? null : Number(m[3])} : null;
}

function unsatisfiable(headers, size) {
  headers.set('content-range', `bytes */${size}`);
  return new Response(null, {status: 416, headers});
}

// Answers a Range request from a whole body in hand.
async function withRange(request, response) {
  if (!request.headers.has('range')) return response;
  const body = await response.arrayBuffer();
  const size = body.byteLength;
  const range = parseRange(request.headers.get('range'), size);
  if (!range) return new Response(body, {status: response.status, headers: response.headers});
  const headers = new Headers(response.headers);
  if (range === 'unsatisfiable') return unsatisfiable(headers, size);
  headers.set('content-range', `bytes ${range.first}-${range.last}/${size}`);
  headers.set('content-length', String(range.last - range.first + 1));
  headers.set('accept-ranges', 'bytes');
  return new Response(body.slice(range.first, range.last + 1), {status: 206, headers});
}
