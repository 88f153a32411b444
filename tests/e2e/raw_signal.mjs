// A raw signaling client for attack tests: a WebSocket (npm `ws`) speaking the real
// signaling protocol through the Wasm core's codec, with whatever Origin the test chooses
// (none at all, too). No browser, no WebRTC: what a script run by an attacker can do.
import WebSocket from 'ws';

import {loadCore} from '../js/load_core.mjs';

export const core = await loadCore();

export class RawSignalClient {
  // origin: the Origin header to send, or null for none.
  constructor(url, {origin = null} = {}) {
    this.messages = [];
    this.closed = null;  // {code, reason} once closed
    this.peerId = null;
    this.ws = new WebSocket(url, origin ? {origin} : {});
    this.ws.binaryType = 'arraybuffer';
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
    });
    this.ws.on('error', () => {});
    this.ws.on('message', (data) => {
      const m = core.decodeSignal(new Uint8Array(data), 65536);
      if (m.type === 'welcome') this.peerId = m.peerId;
      this.messages.push(m);
    });
    this.ws.on('close', (code, reason) => {
      this.closed = {code, reason: String(reason)};
    });
  }

  send(message) {
    const bytes = core.encodeSignal(message);
    if (bytes.error) throw new Error(`encode ${message.type}: ${bytes.error}`);
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(bytes);
  }

  // Joins `site`; resolves the peer id, or null when refused (closed or an error).
  async join(site, swarmKey = '') {
    await this.opened;
    this.send({type: 'join', site, swarmKey, capabilities: 0});
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && !this.peerId && !this.closed && !this.messages.some((m) => m.type === 'error')) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.peerId;
  }

  // The peers the server names as holders of `resource` (at most 50), or null after 5 s.
  async lookup(resource) {
    const lookupId = (this.nextLookup = ((this.nextLookup || 0) + 1) >>> 0);
    this.send({type: 'lookup', lookupId, resource, maxPeers: 50});
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const m = this.messages.find((x) => x.type === 'peers' && x.lookupId === lookupId);
      if (m) return m.peers;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return null;
  }

  errors() {
    return this.messages.filter((m) => m.type === 'error');
  }

  close() {
    try {
      this.ws.terminate();
    } catch (_) {
      // already gone
    }
  }
}

// The resource ids of `paths` on a running demo server: each names a URL and its bytes as
// the server's manifest gives them (an attacker reads the public manifest too).
export async function resourceIds(serverUrl, paths) {
  const manifest = await (await fetch(`${serverUrl}/p2pcdn/manifest.json`)).json();
  return paths.map((p) => {
    const file = manifest.files[p];
    if (!file) throw new Error(`${p} is not in the manifest`);
    return core.resourceId(`${serverUrl}${p}`, file.integrity);
  });
}
