// One remote peer: an RTCPeerConnection with one negotiated, binary data channel.
// Offers, answers and ICE candidates go out through `signal(kind, payload)` (relayed by
// the signaling server); candidates trickle as they are found.
const P2PCDN_CHANNEL_ID = 0;
// Pace sends: stop above HIGH, resume when the channel drains below LOW.
const P2PCDN_BUFFER_HIGH = 4 << 20;
const P2PCDN_BUFFER_LOW = 1 << 20;

class PeerLink {
  constructor({peerId, handle, initiator, session, iceServers, signal, onOpen, onMessage, onClose}) {
    this.peerId = peerId;
    this.session = session;
    this.handle = handle;
    this.initiator = initiator;
    this.signal = signal;
    this.onOpen = onOpen;
    this.onMessage = onMessage;
    this.onClose = onClose;
    this.closed = false;
    this.opened = false;
    this.remoteHello = null;
    this.maxMessageSize = 16384;  // until HELLO says more
    this.have = new Set();        // resource ids (hex) the peer can serve
    this.openedAt = 0;
    this.createdAt = performance.now();
    this.answered = false;  // our offer was answered (initiator only)
    this._drainWaiters = [];
    this._pendingCandidates = [];
    this.pc = new RTCPeerConnection({iceServers: iceServers || []});
    this.channel = this.pc.createDataChannel('p2pcdn', {negotiated: true, id: P2PCDN_CHANNEL_ID});
    this.channel.binaryType = 'arraybuffer';
    this.channel.bufferedAmountLowThreshold = P2PCDN_BUFFER_LOW;
    this.channel.onopen = () => {
      if (this.closed) return;
      this.opened = true;
      this.openedAt = performance.now();
      this.onOpen(this);
    };
    this.channel.onmessage = (e) => {
      if (!this.closed) this.onMessage(this, e.data);
    };
    this.channel.onclose = () => this.close('channel closed');
    this.channel.onbufferedamountlow = () => this._drained();
    this.pc.onicecandidate = (e) => {
      if (!this.closed && e.candidate) this.signal('candidate', JSON.stringify(e.candidate));
    };
    this.pc.onconnectionstatechange = () => {
      const state = this.pc.connectionState;
      if (state === 'failed' || state === 'closed') this.close(`connection ${state}`);
    };
    if (initiator) this._offer();
  }

  // The channel's own limit where the browser tells it (Chromium 256 KiB; Firefox to Firefox ~1 GiB).
  localMaxMessageSize() {
    const sctp = this.pc.sctp;
    const size = sctp && sctp.maxMessageSize ? sctp.maxMessageSize : 262144;
    return Math.max(16384, Math.min(size, 1073741823));
  }

  async _offer() {
    try {
      await this.pc.setLocalDescription(await this.pc.createOffer());
      this.signal('offer', this.pc.localDescription.sdp);
    } catch (err) {
      this.close(`offer failed: ${err.message}`);
    }
  }

  // A relayed message from this peer: an offer, an answer, a candidate or bye.
  async onSignal(kind, payload) {
    if (this.closed) return;
    try {
      if (kind === 'offer') {
        // One offer per link, the dialler's: no renegotiation.
        if (this.initiator || this.pc.remoteDescription) return;
        await this.pc.setRemoteDescription({type: 'offer', sdp: payload});
        await this._flushCandidates();
        await this.pc.setLocalDescription(await this.pc.createAnswer());
        this.signal('answer', this.pc.localDescription.sdp);
      } else if (kind === 'answer') {
        // Only the answer to our offer, once (a repeated one is not a reason to fail the link).
        if (!this.initiator || this.pc.signalingState !== 'have-local-offer') return;
        await this.pc.setRemoteDescription({type: 'answer', sdp: payload});
        this.answered = true;
        await this._flushCandidates();
      } else if (kind === 'candidate') {
        const candidate = JSON.parse(payload);
        if (this.pc.remoteDescription) await this.pc.addIceCandidate(candidate);
        else this._pendingCandidates.push(candidate);
      } else if (kind === 'bye') {
        this.close('peer said bye');
      }
    } catch (err) {
      this.close(`signaling failed (${kind}): ${err.message}`);
    }
  }

  async _flushCandidates() {
    const pending = this._pendingCandidates;
    this._pendingCandidates = [];
    for (const c of pending) await this.pc.addIceCandidate(c);
  }

  // Sends one frame; false if the channel is gone. Callers pace with canSend()/drained().
  send(bytes) {
    if (this.closed || this.channel.readyState !== 'open') return false;
    try {
      this.channel.send(bytes);
      return true;
    } catch (err) {
      this.close(`send failed: ${err.message}`);
      return false;
    }
  }

  canSend() {
    return !this.closed && this.channel.bufferedAmount < P2PCDN_BUFFER_HIGH;
  }

  // Resolves when the channel has drained below the low mark (or closed).
  drained() {
    if (this.canSend()) return Promise.resolve();
    return new Promise((resolve) => this._drainWaiters.push(resolve));
  }

  _drained() {
    const waiters = this._drainWaiters;
    this._drainWaiters = [];
    for (const w of waiters) w();
  }

  close(reason) {
    if (this.closed) return;
    this.closed = true;
    // What was queued and never went out (a channel keeps its count once closed).
    this.unsentBytes = this.channel.bufferedAmount || 0;
    this._drained();
    try {
      // The connection's close ends its channel too, and the peer's channel fires close
      // within ms (measured, Chromium and Firefox); a channel.close() first is one more
      // blocking hop in Chromium (4 ms in a pagehide on a busy machine).
      this.pc.close();
    } catch (_) {
      // already closed
    }
    this.onClose(this, reason);
  }
}
