// Small bodies this page served lately, kept in memory so a popular small file (an icon, a
// script, a thumbnail every visitor asks for) is not looked up in Cache Storage at each
// request: a lookup and a read cost a few ms of the asker's wait, more than sending 12 KiB.
// Bounded in size per body and in all; least recently served go first. Only bytes read from
// this page's own verified copy go in, under the manifest's hash of the file.
const P2PCDN_HOT_BODY_MAX_BYTES = 64 << 10;
const P2PCDN_HOT_BODIES_MAX_BYTES = 2 << 20;

class HotBodies {
  constructor() {
    this.bodies = new Map();  // `${integrity} ${url}` -> {buffer, headers}, least recent first
    this.bytes = 0;
  }

  static fits(size) {
    return size > 0 && size <= P2PCDN_HOT_BODY_MAX_BYTES;
  }

  get(entry) {
    const key = `${entry.integrity} ${entry.url}`;
    const body = this.bodies.get(key);
    if (!body) return null;
    this.bodies.delete(key);
    this.bodies.set(key, body);
    return body;
  }

  put(entry, buffer, headers) {
    if (!HotBodies.fits(buffer.byteLength) || buffer.byteLength !== entry.size) return;
    this.drop(entry.url);
    this.bodies.set(`${entry.integrity} ${entry.url}`, {buffer, headers});
    this.bytes += buffer.byteLength;
    for (const [key, body] of this.bodies) {
      if (this.bytes <= P2PCDN_HOT_BODIES_MAX_BYTES) break;
      this.bodies.delete(key);
      this.bytes -= body.buffer.byteLength;
    }
  }

  // Every version of `url` (evicted, or replaced by a deploy).
  drop(url) {
    for (const [key, body] of this.bodies) {
      if (key.slice(key.indexOf(' ') + 1) !== url) continue;
      this.bodies.delete(key);
      this.bytes -= body.buffer.byteLength;
    }
  }
}
