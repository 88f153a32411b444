// A minimal static file server on loopback for browser tests and benchmarks that do not
// need p2pcdn-server. GET only, no '..', a small MIME table.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css',
};

export function serveStatic(root, host = '127.0.0.1') {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const file = path.join(root, path.normalize(decodeURIComponent(url.pathname)));
    if (req.method !== 'GET' || !file.startsWith(root + path.sep)) {
      res.writeHead(req.method !== 'GET' ? 405 : 403).end();
      return;
    }
    fs.readFile(file, (err, data) => {
      if (err) return res.writeHead(404).end();
      res.writeHead(200, {'content-type': TYPES[path.extname(file)] || 'application/octet-stream'});
      res.end(data);
    });
  });
  return new Promise((resolve) => server.listen(0, host, () => resolve({
    url: `http://${host}:${server.address().port}`,
    close: () => new Promise((r) => server.close(r)),
  })));
}
