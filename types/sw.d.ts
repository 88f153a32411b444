// Types of p2pcdn's service-worker part, for a worker written in TypeScript:
//   /// <reference types="p2pcdn/sw" />
//   importScripts('/p2pcdn/p2pcdn-sw.js');
//   p2pcdn.configure({shareable: ['/img/', /\.mp4$/]});

/** Options of the worker part; every key but `shareable` is optional. */
interface P2pcdnWorkerConfig {
  /** Which same-origin GET requests may be shared: path prefixes, or RegExps tested on the path. */
  shareable: (string | RegExp)[];
  /** The manifest (must be the page's). Default /p2pcdn/manifest.json. */
  manifestUrl?: string;
  /** A navigation re-checks the manifest at most this often, in ms. Default 5000. */
  manifestCheckMs?: number;
  /** How long a new page's first requests wait for its script to attach, in ms. Default 1000. */
  pageAttachMs?: number;
  /** A page must start delivering a file within this, in ms. Default 6000. */
  firstByteTimeoutMs?: number;
  /** And then keep making progress, in ms. Default 3000. */
  progressTimeoutMs?: number;
  /** Pieces of a large file fetched ahead of what a response has sent. Default 16. */
  pieceReadAhead?: number;
  /** Pieces asked of the origin in one Range request. Default 32. */
  originRunPieces?: number;
  /** After a page finds no peer for a file's pieces, origin only this long, in ms. Default 2000. */
  noPeersRetryMs?: number;
  /** Copies kept, at most, in bytes (and at most half the origin's free quota). Default 1 GiB. */
  maxStorageBytes?: number;
  /** A file used this recently is never evicted, in ms. Default 30000. */
  keepRecentMs?: number;
}

/** The worker part's one global, set by importScripts('…/p2pcdn-sw.js'). */
declare const p2pcdn: {
  configure(config: P2pcdnWorkerConfig): void;
  readonly config: Required<P2pcdnWorkerConfig>;
};
