// A static file server over TLS for bench/h2_first_visit.mjs: HTTP/2 (ALPN h2, HTTP/1.1
// for clients without it) or HTTP/1.1 only, so one site can be measured over both with the
// same server. Serves ROOT's files with a .gz sibling when the client takes gzip, as
// p2pcdn-server does. Usage: node static_tls_server.mjs ROOT PORT CERT KEY h2|h1
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import path from 'node:path';

const [root, port, cert, key, proto] = process.argv.slice(2);
const TYPES = {'.html': 'text/html; charset=utf-8', '.css': 'text/css', '.js': 'text/javascript', '.json': 'application/json',
               '.jpg': 'image/jpeg', '.png': 'image/png', '.ttf': 'font/ttf', '.wasm': 'application/wasm'};

function answer(req, res) {
  let file = decodeURIComponent(new URL(req.url, 'https://x').pathname);
  if (file.endsWith('/')) file += 'index.html';
  const full = path.join(root, path.normalize(file));
  if (!full.startsWith(root) || !fs.existsSync(full) || !fs.statSync(full).isFile()) {
    res.writeHead(404);
    res.end();
    return;
  }
  const headers = {'content-type': TYPES[path.extname(full)] || 'application/octet-stream', 'cache-control': 'no-cache'};
  let body = full;
  if (/\bgzip\b/.test(req.headers['accept-encoding'] || '') && fs.existsSync(`${full}.gz`)) {
    body = `${full}.gz`;
    headers['content-encoding'] = 'gzip';
  }
  headers['content-length'] = fs.statSync(body).size;
  res.writeHead(200, headers);
  fs.createReadStream(body).pipe(res);
}

const options = {cert: fs.readFileSync(cert), key: fs.readFileSync(key)};
const server = proto === 'h2' ? http2.createSecureServer({...options, allowHTTP1: true}, answer)
                              : https.createServer({...options, ALPNProtocols: ['http/1.1']}, answer);
server.listen(Number(port), '0.0.0.0', () => console.log(`listening ${proto} ${port}`));
