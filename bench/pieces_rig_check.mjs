// Proves the rig of bench/netns_bridge.sh before the pieces benchmark relies on it. With b1's
// upload limited to RATE (default 10mbit) by tc tbf on b1's link:
//  - TCP between two browser namespaces (Node HTTP, MIB MiB): b1 -> b2 runs at the shaped
//    rate; b2 -> b1, and b1 -> b2 once unshaped, do not;
//  - two Chromiums, in b1 and b2, open an RTCDataChannel to each other with no STUN server
//    (host candidates on the bridge addresses) and move MIB MiB: b1 -> b2 on a new link and
//    again on the same link, the other way, b1 -> b2 unshaped, and on a new link over a deep
//    queue (where Chromium's SCTP stalls for seconds: bench/README.md).
// Usage: node bench/pieces_rig_check.mjs (makes its own rig of 2 browser namespaces).
// Env: RATE (10mbit), MIB (8), DEADLINE_S (150: then everything it started is killed), and the
// rig's NETNS_SHAPE_AT, TBF_BURST, TBF_LATENCY. Prints a JSON object (also
// bench/results/pieces_rig_check.json) and a Markdown table; exits 1 if a rate is not where it
// should be. Internal role: --serve HOST PORT (a small HTTP server inside a namespace).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {addr, BRIDGE_ADDR, newVisitorIn, qdiscStats, rerunInRig, shape, spawnIn}
  from './netns_bridge.mjs';

const MiB = 1 << 20;

// ---- role: a tiny HTTP server (in a namespace): a blank page, N bytes out, a sink in ----
if (process.argv[2] === '--serve') {
  const [host, port] = [process.argv[3], Number(process.argv[4])];
  const block = Buffer.alloc(64 * 1024, 0x5a);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (req.method === 'GET' && url.pathname === '/bytes') {
      let left = Number(url.searchParams.get('n'));
      res.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': left});
      const more = () => {
        while (left > 0) {
          const n = Math.min(left, block.length);
          left -= n;
          if (!res.write(n === block.length ? block : block.subarray(0, n))) {
            return res.once('drain', more);
          }
        }
        res.end();
      };
      return more();
    }
    if (req.method === 'POST' && url.pathname === '/sink') {
      let got = 0;
      req.on('data', (d) => (got += d.length));
      return req.on('end', () => res.end(JSON.stringify({bytes: got})));
    }
    res.writeHead(200, {'content-type': 'text/html'});
    res.end('<!doctype html><title>rig</title>');
  });
  server.listen(port, host, () => console.log('listening'));
  await new Promise(() => {});
}

rerunInRig(
    import.meta.url,
    {env: {NETNS_BROWSERS: '2'}, timeoutMs: (Number(process.env.DEADLINE_S || 150) + 30) * 1000});

const RATE = process.env.RATE || '10mbit';
const RATE_MBIT = parseFloat(RATE) *
    ({kbit: 1e-3, mbit: 1, gbit: 1e3}[/[a-z]+$/i.exec(RATE)?.[0]?.toLowerCase()] || NaN);
if (!Number.isFinite(RATE_MBIT)) throw new Error(`RATE must be like 10mbit, not ${RATE}`);
const BYTES = Number(process.env.MIB || 8) * MiB;
const SCRIPT = fileURLToPath(import.meta.url);
const children = [];  // every process started here, ended by its PID
const visitors = [];
const mbit = (bytes, ms) => (bytes * 8) / (ms * 1000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function cleanup() {
  for (const v of visitors) await Promise.race([v.close(), sleep(5000)]);
  for (const c of children)
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
const deadline = setTimeout(async () => {
  console.error(`pieces_rig_check: not done after ${process.env.DEADLINE_S || 150} s`);
  await cleanup();
  process.exit(1);
}, Number(process.env.DEADLINE_S || 150) * 1000);

async function serveIn(ns, port) {
  const child = spawnIn(
      ns, [process.execPath, SCRIPT, '--serve', addr(ns), String(port)],
      {stdio: ['ignore', 'pipe', 'inherit']});
  children.push(child);
  await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve);
    child.once('exit', (code) => reject(new Error(`server in ${ns} exited ${code}`)));
  });
  return `http://${addr(ns)}:${port}`;
}

// One HTTP transfer run from namespace `from` (a Node child there), timed there.
function transferFrom(from, url, method) {
  const code = `
    const t = performance.now();
    const post = ${JSON.stringify(method)} === 'POST';
    const init = post ? {method: 'POST', body: Buffer.alloc(${BYTES}, 1)} : {};
    const res = await fetch(${JSON.stringify(url)}, init);
    const body = Buffer.from(await res.arrayBuffer());
    const bytes = post ? JSON.parse(body).bytes : body.length;
    console.log(JSON.stringify({bytes, ms: performance.now() - t}));`;
  const child = spawnIn(
      from, [process.execPath, '--input-type=module', '-e', code],
      {stdio: ['ignore', 'pipe', 'inherit']});
  children.push(child);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => child.once('exit', (c) => {
    if (c === 0) resolve(JSON.parse(out));
    else reject(new Error(`transfer exited ${c}`));
  }));
}

// An RTCDataChannel between two pages, signaled by this driver (whole SDPs, no STUN).
async function channel(a, b) {
  const setup = () => {
    if (window.pc) window.pc.close();
    window.pc = new RTCPeerConnection();
    window.dc = window.pc.createDataChannel('rig', {negotiated: true, id: 3});
    window.dc.binaryType = 'arraybuffer';
    window.gathered = () => new Promise((r) => {
      const done = () => window.pc.iceGatheringState === 'complete' && r();
      if (!done()) window.pc.addEventListener('icegatheringstatechange', done);
    });
    // Receiving: count bytes, acknowledge with one byte when `total` have arrived; returns
    // the bytes received in each second from the first message (how the rate ramps up).
    window.receive = (total) => new Promise((resolve) => {
      let got = 0, first = 0;
      const perSecond = [];
      window.dc.onmessage = (e) => {
        const now = performance.now();
        if (!got) first = now;
        got += e.data.byteLength;
        const s = Math.floor((now - first) / 1000);
        while (perSecond.length <= s) perSecond.push(0);
        perSecond[s] += e.data.byteLength;
        if (got >= total) {
          window.dc.onmessage = null;
          window.dc.send(new Uint8Array(1));
          resolve(perSecond);
        }
      };
    });
    // Sending: 256 KiB messages, at most 4 MiB buffered; timed to the receiver's acknowledgement.
    window.sendTimed = async (n) => {
      const ch = window.dc;
      ch.bufferedAmountLowThreshold = 1 << 20;
      const data = new Uint8Array(n);
      const done = new Promise((r) => (ch.onmessage = () => r()));
      const t = performance.now();
      for (let at = 0; at < n; at += 262144) {
        if (ch.bufferedAmount > 4 << 20) await new Promise((r) => (ch.onbufferedamountlow = r));
        ch.send(data.subarray(at, Math.min(n, at + 262144)));
      }
      await done;
      ch.onmessage = null;
      return performance.now() - t;
    };
  };
  await a.page.evaluate(setup);
  await b.page.evaluate(setup);
  const t = Date.now();
  const offer = await a.page.evaluate(async () => {
    await window.pc.setLocalDescription(await window.pc.createOffer());
    await window.gathered();
    return window.pc.localDescription.sdp;
  });
  const answer = await b.page.evaluate(async (sdp) => {
    await window.pc.setRemoteDescription({type: 'offer', sdp});
    await window.pc.setLocalDescription(await window.pc.createAnswer());
    await window.gathered();
    return window.pc.localDescription.sdp;
  }, offer);
  await a.page.evaluate((sdp) => window.pc.setRemoteDescription({type: 'answer', sdp}), answer);
  await a.page.waitForFunction(() => window.dc.readyState === 'open', null, {timeout: 15000});
  const openMs = Date.now() - t;
  // The pair ICE selected, from b1's side (the transport names it once it is chosen).
  const pair = await a.page.evaluate(async () => {
    for (let i = 0; i < 40; i++) {
      const stats = [...(await window.pc.getStats()).values()];
      const transport = stats.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
      const p = transport && stats.find((s) => s.id === transport.selectedCandidatePairId);
      const c = (id) => stats.find((s) => s.id === id);
      if (p) {
        return {
          local: `${c(p.localCandidateId).address} ${c(p.localCandidateId).candidateType}`,
          remote: `${c(p.remoteCandidateId).address} ${c(p.remoteCandidateId).candidateType}`
        };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return null;
  });
  const send = async (from, to, bytes) => {
    const received = to.page.evaluate((n) => window.receive(n), bytes);
    received.catch(() => {});  // awaited below; not unhandled if the sender fails first
    const ms = await from.page.evaluate((n) => window.sendTimed(n), bytes);
    // Whole seconds only: the last one is partial.
    const perSecond = (await received).slice(0, -1).map((n) => Number(((n * 8) / 1e6).toFixed(1)));
    return {bytes, ms, perSecond};
  };
  return {openMs, pair, send};
}

const rows = [];
const checks = [];
// A transfer, with what b1's shaper counted meanwhile (when b1 is shaped).
async function measured(transfer) {
  const before = qdiscStats('b1');
  const r = await transfer();
  const after = qdiscStats('b1');
  if (before && after) {
    r.shaper = {
      packets: after.packets - before.packets,
      dropped: after.dropped - before.dropped,
      wire_mbit_s: Number(mbit(after.sentBytes - before.sentBytes, r.ms).toFixed(2))
    };
  }
  return r;
}
function row(what, r, [low, high]) {
  const rate = mbit(r.bytes, r.ms);
  const ok = rate >= low * RATE_MBIT && rate <= high * RATE_MBIT;
  rows.push({
    what,
    mbit_s: Number(rate.toFixed(2)),
    ms: Math.round(r.ms),
    expected_mbit_s: [low * RATE_MBIT, high * RATE_MBIT],
    ok,
    ...(r.shaper ? {b1_shaper: r.shaper} : {}),
    ...(r.perSecond ? {received_mbit_per_second: r.perSecond} : {})
  });
  checks.push(ok);
}
// Payload rates as a share of RATE. Shaped TCP fills the link; a data channel on a new link
// a little less (SCTP's start); one over a deep queue stalls for seconds, never exceeding it.
const SHAPED_TCP = [0.85, 1.02];
const SHAPED_CHANNEL = [0.7, 1.02];
const DEEP_QUEUE = [0.3, 1.02];
const UNSHAPED = [3, Infinity];
const DEEP = {burst: '64kb', latency: '200ms'};  // tests/e2e/netns.sh's origin link

try {
  shape('b1', RATE);
  shape('b2', 'off');
  // TCP: client in b2, server in b1.
  const b1Server = await serveIn('b1', 9100);
  row(`TCP b1 -> b2, b1's upload at ${RATE}`,
      await measured(() => transferFrom('b2', `${b1Server}/bytes?n=${BYTES}`, 'GET')), SHAPED_TCP);
  row('TCP b2 -> b1, unshaped', await transferFrom('b2', `${b1Server}/sink`, 'POST'), UNSHAPED);
  shape('b1', 'off');
  row('TCP b1 -> b2, unshaped', await transferFrom('b2', `${b1Server}/bytes?n=${BYTES}`, 'GET'),
      UNSHAPED);

  // WebRTC: pages from a server in the origin namespace, browsers in b1 and b2.
  const origin = await serveIn('origin', 9200);
  const a = await newVisitorIn('b1', origin);
  visitors.push(a);
  const b = await newVisitorIn('b2', origin);
  visitors.push(b);
  await a.page.goto(`${origin}/`);
  await b.page.goto(`${origin}/`);
  shape('b1', RATE);
  const ch = await channel(a, b);
  const pairText = ch.pair ? `${ch.pair.local} <-> ${ch.pair.remote}` : 'none';
  console.error(`data channel open in ${ch.openMs} ms; ICE pair (b1's side): ${pairText}`);
  const hostPair = !!ch.pair && ch.pair.local === `${addr('b1')} host` &&
      ch.pair.remote === `${addr('b2')} host`;
  checks.push(hostPair);
  await ch.send(b, a, MiB);  // the association is up; b1 has sent nothing yet
  row(`RTCDataChannel b1 -> b2, b1's upload at ${RATE}, new link`,
      await measured(() => ch.send(a, b, BYTES)), SHAPED_CHANNEL);
  row(`RTCDataChannel b1 -> b2, b1's upload at ${RATE}, same link again`,
      await measured(() => ch.send(a, b, BYTES)), SHAPED_CHANNEL);
  row('RTCDataChannel b2 -> b1, unshaped', await ch.send(b, a, BYTES), UNSHAPED);
  shape('b1', 'off');
  row('RTCDataChannel b1 -> b2, unshaped', await ch.send(a, b, BYTES), UNSHAPED);
  // A new link again, over a deep queue (~200 ms at RATE).
  shape('b1', RATE, DEEP);
  const deep = await channel(a, b);
  await deep.send(b, a, MiB);
  const deepQueue = `tbf burst ${DEEP.burst}, latency ${DEEP.latency}`;
  row(`RTCDataChannel b1 -> b2, b1's upload at ${RATE} with a deep queue (${deepQueue}), new link`,
      await measured(() => deep.send(a, b, BYTES)), DEEP_QUEUE);

  const result = {
    rate: RATE,
    bytes: BYTES,
    shape_at: process.env.NETNS_SHAPE_AT || 'bridge',
    bridge: BRIDGE_ADDR,
    b1: addr('b1'),
    b2: addr('b2'),
    channel_open_ms: ch.openMs,
    candidate_pair: ch.pair,
    host_candidates: hostPair,
    rows,
    ok: checks.every(Boolean)
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(`\n| ${BYTES / MiB} MiB | payload Mbit/s | ms | b1's shaper: wire Mbit/s, drops |` +
              ' received Mbit/s, each whole second | as expected |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    const shaper = r.b1_shaper ? `${r.b1_shaper.wire_mbit_s}, ${r.b1_shaper.dropped}` : '';
    const perSecond = (r.received_mbit_per_second || []).join(' ');
    const ok = r.ok ? 'yes' : 'NO';
    console.log(`| ${r.what} | ${r.mbit_s} | ${r.ms} | ${shaper} | ${perSecond} | ${ok} |`);
  }
  console.log(`\nICE pair (b1's side): ${pairText}; channel open ${ch.openMs} ms after the offer`);
  const results = path.join(path.dirname(SCRIPT), 'results');
  try {
    fs.mkdirSync(results, {recursive: true});
    fs.writeFileSync(
        path.join(results, 'pieces_rig_check.json'), `${JSON.stringify(result, null, 2)}\n`);
  } catch (err) {
    console.error(`pieces_rig_check: results not written: ${err.message}`);
  }
  const passed = checks.filter(Boolean).length;
  console.log(`pieces_rig_check: ${passed} passed, ${checks.length - passed} failed`);
  process.exitCode = result.ok ? 0 : 1;
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  clearTimeout(deadline);
  await cleanup();
}
