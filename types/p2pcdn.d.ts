// Types of p2pcdn's page part: the drop-in script (window.p2pcdn) and the ES module
// (`import {start} from 'p2pcdn'`). The worker part's are in sw.d.ts.

/** Options of the page part; every key is optional. */
export interface P2pcdnConfig {
  /** Signaling WebSocket URL. Default: ws(s)://<this origin>/signal. */
  signalUrl?: string | null;
  /** The manifest the worker trusts. Default: manifest.json beside the script (script tag) or /p2pcdn/manifest.json (module). */
  manifestUrl?: string | null;
  /** The core's .wasm. Default: p2pcdn-core.wasm beside the script, or beside the bundle that imports the module. */
  wasmUrl?: string | null;
  /** Peers meet only peers with the same key (and the same site). */
  swarmKey?: string;
  /** STUN/TURN servers for visitors behind NATs, as in RTCConfiguration. */
  iceServers?: RTCIceServer[];
  /** Open peer connections at once. Default 8. */
  maxPeers?: number;
  /** Peers connected to at once per lookup. Default 3. */
  lookupPeers?: number;
  /** Longest wait for a holder's link to come up before the origin, in ms. Default 1500. */
  connectTimeoutMs?: number;
  /** A holder that has not answered an offer in this long is passed over, in ms. Default 500. */
  answerTimeoutMs?: number;
  /** A peer must send a first byte within this, in ms. Default 2000. */
  firstByteTimeoutMs?: number;
  /** And then at least this rate, bytes/s. Default 256 KiB/s. */
  minPeerBytesPerSecond?: number;
  /** Time a page may lose to failing peers, all requests together, in ms. Default 2000. */
  hostileDelayBudgetMs?: number;
  /** Peer connections unused this long are closed, in ms. Default 120000. */
  idleCloseMs?: number;
  /** Serve other peers. Default true; false when the browser asks to save data (Save-Data). */
  upload?: boolean;
  /** Upload limit, all peers together, bytes/s; 0: none. */
  maxUploadBytesPerSecond?: number;
  /** Upload limit per peer, bytes/s; 0: none. */
  maxUploadBytesPerSecondPerPeer?: number;
  /** Peers tried per resource before the origin. Default 3. */
  maxAttempts?: number;
  /** How long a request waits for a holder that is itself fetching the file, in ms. Default 3000. */
  crowdWaitMs?: number;
  /** Always wait for peers, even when the origin is likely faster (offload over page speed). Default false. */
  preferPeers?: boolean;
  /** A transfer silent this long gets a second holder asked in parallel, in ms. Default 500. */
  hedgeAfterMs?: number;
  /** Bytes of linked pages' resources fetched from peers after load; 0 turns prefetch off. Default 4 MiB. */
  prefetchBytes?: number;
  /** Delay after load before prefetching, in ms. Default 300. */
  prefetchAfterMs?: number;
  /**
   * A file of the likeliest linked page (or one pointed at) that no peer holds or is fetching
   * is claimed and fetched from the origin, once for the swarm: visitors opening the site
   * together then share one origin fetch. false: prefetch from peers only. Default true.
   */
  prefetchFromOrigin?: boolean;
  /** A first visit starts p2pcdn's core and signaling once the visitor has stayed this long after load (or when the worker needs the page sooner), in ms. Default 0; e.g. 10000 spares a visitor who leaves within 10 s the core's download. */
  firstVisitStartMs?: number;
}

/** Failures by reason: why a request did not come from a peer, or why a peer failed. */
export interface P2pcdnFailures {
  integrity: number;
  stalled: number;
  tooSlow: number;
  closed: number;
  notFound: number;
  noPeers: number;
  connectFailed: number;
  busy: number;
  banned: number;
  delayBudget: number;
  /** A body resumed from a start a navigation cut off failed its hash: fetched whole instead (nobody blamed). */
  resumeMismatch: number;
  [reason: string]: number;
}

/** What a hostile or broken peer did, and what was done about it. */
export interface P2pcdnHostileEvent {
  peer: string;
  offense: string;
  detail: string;
  action: string;
  at: number;
}

/** A snapshot of the stats, as carried by the 'stats' event. */
export interface P2pcdnStatsSnapshot {
  bytesFromPeers: number;
  bytesFromOrigin: number;
  bytesFromCache: number;
  /** DATA bytes sent to peers; bytes still queued on a link when it closed are not counted. */
  bytesToPeers: number;
  /** Bytes queued for a peer and dropped unsent when the link closed (the asker left). */
  bytesToPeersUnsent: number;
  peerBytesReceived: number;
  lastPeerTransfer: {bytes: number; ms: number} | null;
  firstPeerByteMs: number | null;
  held: {count: number; totalMs: number; fromPeer: number; toOrigin: number};
  /** Next-page prefetch: from peers (count, bytes) and from the origin for a crowd (originCount, originBytes). */
  prefetch: {count: number; bytes: number; originCount: number; originBytes: number};
  requestsFromPeers: number;
  requestsFromOrigin: number;
  requestsFromCache: number;
  /** Of requestsFromCache: left by the worker to the browser's HTTP cache, which held the manifest's bytes fresh. */
  requestsFromBrowserCache: number;
  pieces: {fromPeers: number; fromOrigin: number; fromCache: number; originFailed: number};
  peersConnected: number;
  failures: P2pcdnFailures;
  /** Why this visitor has no peers, in words; '' once a peer is connected. */
  noPeerReason: string;
  hostile: P2pcdnHostileEvent[];
  offersRefused: number;
  hedged: number;
  /** Transfers resumed from the start a navigation cut off, and the bytes not asked again. */
  resumedFrom: {count: number; bytes: number};
  /** Files whose start a navigation cut off completed from the origin (a Range request for the rest), and the start's bytes (a peer's, used). */
  resumedOnOriginFrom: {count: number; bytes: number};
  originFaster: number;
  refusedOffers: {peer: string; count: number; why: string}[];
  bytesByPeer: Record<string, number>;
}

export interface P2pcdnStatsEventMap {
  stats: CustomEvent<P2pcdnStatsSnapshot>;
}

/** Live stats: the snapshot's fields, kept current, and a 'stats' event at most every 250 ms. */
export interface P2pcdnStats extends EventTarget, P2pcdnStatsSnapshot {
  snapshot(): P2pcdnStatsSnapshot;
  addEventListener<K extends keyof P2pcdnStatsEventMap>(type: K, listener: (event: P2pcdnStatsEventMap[K]) => void,
                                                         options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null,
                   options?: boolean | AddEventListenerOptions): void;
}

export interface P2pcdnEventMap {
  /** Signaling has welcomed this page: it can find peers and be found. */
  joined: Event;
}

/** The page's one p2pcdn (window.p2pcdn). */
export declare class P2pcdnPage extends EventTarget {
  constructor(config: P2pcdnConfig & {base?: string});
  /** The configuration in force: defaults and what was given. */
  readonly config: Required<P2pcdnConfig>;
  readonly stats: P2pcdnStats;
  /** Resolves once the core, signaling and the manifest are up; rejects if p2pcdn cannot start (the page works on, without peers). */
  readonly ready: Promise<void>;
  /** Whether signaling has welcomed this page (the 'joined' event fires when it does). */
  readonly joined: boolean;
  /** True when the visitor turned p2pcdn off (disable()). */
  readonly off?: boolean;
  /** Turns p2pcdn off for this visitor on this site, now and on later pages (remembered in localStorage), until enable(). */
  disable(): void;
  /** Turns it on again, from the next page on. */
  enable(): void;
  /**
   * Registers the site's service worker as the tag's data-sw does: right after load on a page a worker
   * controls, after the page's largest paint on a first visit (so that installing it does not
   * delay that paint), not at all in a browser without WebRTC. Resolves to the registration,
   * or null where none was made.
   */
  registerWorker(scriptURL: string | URL, options?: RegistrationOptions): Promise<ServiceWorkerRegistration | null>;
  addEventListener<K extends keyof P2pcdnEventMap>(type: K, listener: (event: P2pcdnEventMap[K]) => void,
                                                   options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null,
                   options?: boolean | AddEventListenerOptions): void;
}

/** Starts p2pcdn in this page, once: later calls (or a drop-in script tag's) return the same. */
export declare function start(config?: P2pcdnConfig): P2pcdnPage;

declare global {
  interface Window {
    /** Set by the drop-in script, or by start(). */
    p2pcdn?: P2pcdnPage;
    /** Options the drop-in script reads, besides its data- attributes. */
    p2pcdnConfig?: P2pcdnConfig;
  }
}
