// bittorrent-tracker's Server with only its WebSocket tracker (what WebTorrent browsers use),
// on 127.0.0.1, as the baseline for bench/signal_load.sh. Usage: node tracker_server.mjs PORT
// Prints "listening PORT" once ready; stops on SIGTERM or SIGINT.
import {Server} from 'bittorrent-tracker';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('usage: node bench/tracker_server.mjs PORT');
  process.exit(2);
}

const server = new Server({
  http: false,
  udp: false,
  ws: true,
  stats: false,
  // Each swarm keeps at most 1000 peers by default and silently evicts the least recently
  // used: with 10k connections in one swarm most relays would go to evicted peers. Raised so
  // the tracker holds every connection, as p2pcdn-server does.
  peersCacheLength: 1_000_000,
});

// A bad message or an answer to an unknown peer is only a warning for the tracker; count
// them by message instead of printing one line per relay under load.
const warnings = new Map();
server.on('warning', (err) => warnings.set(err.message, (warnings.get(err.message) ?? 0) + 1));
server.on('error', (err) => {
  console.error(`tracker error: ${err.message}`);
  process.exit(1);
});

server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));

const stop = () => {
  for (const [message, n] of warnings) console.error(`tracker warning ×${n}: ${message}`);
  server.close(() => process.exit(0));
  // Open WebSockets keep the HTTP server from closing; do not wait on them for long.
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
