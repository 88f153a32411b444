// A body cut into DATA frames with the core's header writer, as a sending peer does:
// shared by the binding tests, the benchmarks (Node and browser) and the core demo.
// `base`: the absolute offset of body's first byte (a range, or the rest of a cut-off body).
export function dataFrames(core, requestId, body, maxMessageSize, base = 0) {
  const capacity = core.payloadCapacity(maxMessageSize);
  const frames = [];
  for (let at = 0; at < body.length; at += capacity) {
    const n = Math.min(capacity, body.length - at);
    const frame = new Uint8Array(core.dataHeaderSize + n);
    frame.set(core.dataHeader(requestId, base + at, n));
    frame.set(body.subarray(at, at + n), core.dataHeaderSize);
    frames.push(frame);
  }
  return frames;
}
