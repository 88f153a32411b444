// What the Wasm core does today, run under Node: a body fetched from three simulated
// peers, one of which lies. The liar is caught by the hash and banned; an honest peer
// completes the body. (The browser demo replaces this with issue 4.)
import {dataFrames} from '../tests/js/data_frames.mjs';
import {loadCore} from '../tests/js/load_core.mjs';

const core = await loadCore();
const MiB = 1 << 20;
const body = new Uint8Array(5 * MiB).map((_, i) => (i * 2654435761) >>> 24);
const url = 'https://example.com/video/intro.mp4';
const integrity = core.sha256Sri(body);
console.log(`resource ${url}\n  id        ${core.resourceId(url, integrity)}\n  integrity ${integrity}`);

const peers = [
  {handle: 1, name: 'peer A (lies in its last frame)', lies: true, msPerMiB: 40},
  {handle: 2, name: 'peer B (slow)', lies: false, msPerMiB: 200},
  {handle: 3, name: 'peer C', lies: false, msPerMiB: 50},
];
const selector = new core.PeerSelector(2026, 0.2);
const assembler = new core.ChunkAssembler({maxTotalBytes: 64 * MiB});
const maxMessageSize = core.negotiatedMessageSize(256 * 1024, 1 << 30);

function framesFrom(peer, requestId) {
  const frames = dataFrames(core, requestId, body, maxMessageSize);
  if (peer.lies) frames[frames.length - 1][core.dataHeaderSize] ^= 0xff;
  return frames.reverse();  // out of order on purpose
}

// What earlier transfers taught the selector about each peer.
for (const p of peers) for (let i = 0; i < 5; i++) selector.onTransfer(p.handle, MiB, p.msPerMiB);

let requestId = 0;
for (let attempt = 1; attempt <= peers.length; attempt++) {
  const [handle] = selector.pick(peers.map((p) => p.handle), body.length, 1);
  if (handle === undefined) break;
  const peer = peers.find((p) => p.handle === handle);
  requestId++;
  assembler.begin(requestId, 1, 0, body.length, integrity, 0);
  let result;
  for (const frame of framesFrom(peer, requestId)) result = assembler.receive(frame, 0, maxMessageSize, 1);
  console.log(`attempt ${attempt}: ${peer.name}: ${result.outcome || result.error}`);
  if (result.error === 'hash-mismatch') {
    selector.ban(handle);
    continue;
  }
  selector.onTransfer(handle, body.length, peer.msPerMiB * 5);
  const verified = assembler.body(requestId);
  console.log(`verified ${verified.length} bytes in ${Math.ceil(body.length / core.payloadCapacity(maxMessageSize))} frames of ≤ ${maxMessageSize} bytes`);
  assembler.release(requestId);
  break;
}
for (const p of peers) console.log(`  ${p.name}: ${JSON.stringify(selector.stats(p.handle))}`);
