// The starts of whole-file prefetches a navigation cut off, kept in the worker's memory for
// the next page: its prefetch (or its own request, through peers) asks only for the rest,
// and the page's core checks the whole body against the manifest's hash as always. So a
// visitor who follows a link while a file is on its way does not make a peer send the
// same bytes twice. Unverified bytes: never served, never stored, only handed to a page
// that asks for the rest of exactly this content. Bounded: a few files, a few MiB; a
// worker that stops forgets them (the next fetch starts over, as before).
const P2PCDN_CUT_OFF_MAX_FILES = 8;
const P2PCDN_CUT_OFF_MAX_BYTES = 8 << 20;

class CutOffPrefetches {
  constructor() {
    this.starts = new Map();  // url -> {integrity, body: ArrayBuffer}, oldest first
    this.bytes = 0;
  }

  // A page leaving hands on what it had of `url`; kept if the manifest names it whole with
  // that hash, and the bytes are a start of it.
  keep(url, integrity, body, file) {
    if (!file || file.pieces || file.integrity !== integrity || !(body instanceof ArrayBuffer)) return;
    if (body.byteLength === 0 || body.byteLength >= file.size || body.byteLength > P2PCDN_CUT_OFF_MAX_BYTES) return;
    this.forget(url);
    this.starts.set(url, {integrity, body});
    this.bytes += body.byteLength;
    while (this.starts.size > P2PCDN_CUT_OFF_MAX_FILES || this.bytes > P2PCDN_CUT_OFF_MAX_BYTES) {
      this.forget(this.starts.keys().next().value);
    }
  }

  // The URLs of these files that have a start kept for the same content.
  heldOf(urls, manifest) {
    return urls.filter((url) => !!this.startOf(url, manifest.files.get(url)));
  }

  // The start kept for `url` if it is of `file`'s current bytes, or null; still kept.
  startOf(url, file) {
    const start = this.starts.get(url);
    return start && file && start.integrity === file.integrity ? start.body : null;
  }

  // The same, no longer kept: one page resumes it.
  take(url, file) {
    const body = this.startOf(url, file);
    this.forget(url);
    return body;
  }

  // Once the file is held whole, or its start turned out useless.
  forget(url) {
    const start = this.starts.get(url);
    if (!start) return;
    this.bytes -= start.body.byteLength;
    this.starts.delete(url);
  }
}
