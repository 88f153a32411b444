// What a first visit downloads of p2pcdn, as p2pcdn-server serves it: each file asked with
// Accept-Encoding gzip, then br, then none, its body counted as it came over the wire
// (compressed, as stored in the ".gz"/".br" sibling) and its response headers apart.
// The files: /p2pcdn/p2pcdn.js (the page's script tag), /p2pcdn/p2pcdn-core.wasm (loaded by it
// from beside itself), /p2pcdn/p2pcdn-sw.js (the site's /sw.js imports it) and
// /p2pcdn/manifest.json (fetched once, by the worker as it installs; the page asks the worker
// for it, and a page the worker does not control yet revalidates it with `no-cache`).
// Usage: node bench/first_visit_bytes.mjs (after scripts/build.sh native and
// scripts/build-site.sh demo). Env: SITE (default build/site/demo), SERVER (default
// build/native/server/p2pcdn-server). Prints a Markdown table, writes
// bench/results/first_visit_bytes.json. Exits 1 if a request failed, came back with another
// Content-Encoding than asked, or decoded to other bytes than the file; missing the target
// is only reported. KB here is 1000 bytes.
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import zlib from 'node:zlib';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SITE = path.resolve(process.env.SITE || path.join(ROOT, 'build/site/demo'));
const SERVER = path.resolve(process.env.SERVER || path.join(ROOT, 'build/native/server/p2pcdn-server'));
const RESULTS = path.join(ROOT, 'bench/results/first_visit_bytes.json');
const KB = 1000;
const TARGET_BYTES = 45 * KB;          // issue 17: everything a first visit downloads, compressed
const WEBTORRENT_GZIP_BYTES = 63.6 * KB;  // WebTorrent's browser bundle, gzip, as given in issue 17
const START_MS = 5000, REQUEST_MS = 10000, STOP_MS = 5000;

const FILES = [
  {path: '/p2pcdn/p2pcdn.js', by: 'page (script tag)'},
  {path: '/p2pcdn/p2pcdn-core.wasm', by: 'page (p2pcdn.js loads it)'},
  {path: '/p2pcdn/p2pcdn-sw.js', by: 'worker (importScripts from /sw.js)'},
  {path: '/p2pcdn/manifest.json', by: 'worker (at install)'},
];
// Asked in this order; `coding` is the Content-Encoding the answer must carry.
const ENCODINGS = [
  {name: 'gzip', accept: 'gzip', coding: 'gzip', decode: zlib.gunzipSync},
  {name: 'br', accept: 'br', coding: 'br', decode: zlib.brotliDecompressSync},
  {name: 'identity', accept: null, coding: undefined, decode: (b) => b},
];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const withTimeout = (promise, ms, what) =>
  Promise.race([promise, sleep(ms).then(() => {
    throw new Error(`${what}: no answer in ${ms} ms`);
  })]);

// The server on a port the kernel picks (--port 0), read back from its "listening" log line.
async function startServer() {
  if (!fs.existsSync(SERVER)) throw new Error(`${SERVER} missing: run scripts/build.sh native`);
  if (!fs.existsSync(path.join(SITE, 'p2pcdn'))) {
    throw new Error(`${SITE}/p2pcdn missing: run scripts/build-site.sh demo`);
  }
  const args = ['--bind', '127.0.0.1', '--port', '0', '--root', SITE, '--log-level', 'info',
                '--shutdown-grace-ms', '500'];
  const child = spawn(SERVER, args, {stdio: ['ignore', 'ignore', 'pipe']});
  let log = '';
  const port = new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      log += d;
      const m = /event=listening .*port=(\d+)/.exec(log);
      if (m) resolve(Number(m[1]));
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`p2pcdn-server exited ${code}: ${log}`)));
  });
  try {
    return {child, port: await withTimeout(port, START_MS, 'p2pcdn-server start')};
  } catch (err) {
    await stopServer(child);
    throw err;
  }
}

// Only the server this script started, by its PID: SIGTERM, then SIGKILL if it lingers.
async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid, 'SIGTERM');
  await Promise.race([exited, sleep(STOP_MS)]);
  if (child.exitCode === null && child.signalCode === null) {
    process.kill(child.pid, 'SIGKILL');
    await Promise.race([exited, sleep(STOP_MS)]);
  }
}

// One GET on a fresh connection, nothing decoded: body and header bytes as they came in.
function get(port, target, accept) {
  return new Promise((resolve, reject) => {
    const headers = accept ? {'accept-encoding': accept} : {};
    const req = http.get({host: '127.0.0.1', port, path: target, headers, agent: false}, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        // Everything the socket read was the status line, headers and this body.
        resolve({status: res.statusCode, headers: res.headers, body,
                 headerBytes: req.socket.bytesRead - body.length});
      });
    });
    req.setTimeout(REQUEST_MS, () => req.destroy(new Error(`${target}: timed out`)));
    req.on('error', reject);
  });
}

// Why an answer is wrong, or null.
function fault(file, enc, res, identity) {
  if (res.status !== 200) return `${file.path} (${enc.name}): status ${res.status}`;
  if (res.headers['content-encoding'] !== enc.coding) {
    return `${file.path} (${enc.name}): Content-Encoding ${res.headers['content-encoding'] || 'none'}`;
  }
  if (Number(res.headers['content-length']) !== res.body.length) {
    return `${file.path} (${enc.name}): ${res.body.length} bytes, Content-Length ${res.headers['content-length']}`;
  }
  if (!identity) return null;  // reported already
  try {
    if (!enc.decode(res.body).equals(identity)) return `${file.path} (${enc.name}): decodes to other bytes than the file`;
  } catch (err) {
    return `${file.path} (${enc.name}): does not decode: ${err.message}`;
  }
  return null;
}

async function measure(port) {
  const errors = [];
  const rows = FILES.map((f) => ({...f}));
  for (const file of rows) {
    try {
      file.identityBytes = fs.readFileSync(path.join(SITE, file.path));
    } catch (err) {
      errors.push(`${file.path}: not in the site folder (${err.code})`);
    }
  }
  for (const enc of ENCODINGS) {
    for (const file of rows) {
      try {
        const res = await withTimeout(get(port, file.path, enc.accept), REQUEST_MS + 1000, file.path);
        file[enc.name] = {body: res.body.length, headers: res.headerBytes,
                          contentEncoding: res.headers['content-encoding'] || null};
        const wrong = fault(file, enc, res, file.identityBytes);
        if (wrong) {
          file[enc.name].fault = wrong;
          errors.push(wrong);
        }
      } catch (err) {
        file[enc.name] = null;
        errors.push(`${file.path} (${enc.name}): ${err.message}`);
      }
    }
  }
  for (const file of rows) delete file.identityBytes;
  return {rows, errors};
}

function totals(rows) {
  const sum = {};
  for (const enc of ENCODINGS) {
    const got = rows.map((r) => r[enc.name]);
    sum[enc.name] = got.some((g) => !g || g.fault) ? null
        : {body: got.reduce((n, g) => n + g.body, 0), headers: got.reduce((n, g) => n + g.headers, 0)};
  }
  return sum;
}

const kb = (bytes) => (bytes === null || bytes === undefined ? '–' : `${(bytes / KB).toFixed(1)} KB`);
const cell = (g) => (g && !g.fault ? `${kb(g.body)} (${g.body.toLocaleString('en')} B)` : 'failed');
const against = (bytes, ref) => {
  if (bytes === null) return '–';
  const over = bytes > ref ? `, over by ${kb(bytes - ref)}` : `, under by ${kb(ref - bytes)}`;
  return `${kb(bytes)}, ${(bytes / ref).toFixed(2)}x${over}`;
};

function report(rows, sum) {
  console.log('| file | fetched by | identity | gzip | brotli |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| \`${r.path}\` | ${r.by} | ${cell(r.identity)} | ${cell(r.gzip)} | ${cell(r.br)} |`);
  }
  // The manifest grows with the site (a line and a hash per file, piece hashes for large
  // ones); the code does not.
  const code = totals(rows.filter((r) => !r.path.endsWith('/manifest.json')));
  console.log(`| total without the manifest | | ${cell(code.identity)} | ${cell(code.gzip)} | ${cell(code.br)} |`);
  console.log(`| **total** | | **${cell(sum.identity)}** | **${cell(sum.gzip)}** | **${cell(sum.br)}** |`);
  const headers = (e) => (sum[e] ? `${sum[e].headers} B` : '–');
  console.log(`\nBodies as served (KB = 1000 bytes). Response headers, counted apart: ` +
              `${headers('identity')} identity, ${headers('gzip')} gzip, ${headers('br')} brotli ` +
              `for the ${rows.length} answers.`);
  const br = sum.br ? sum.br.body : null, gz = sum.gzip ? sum.gzip.body : null;
  console.log(`Against the ${kb(TARGET_BYTES)} target (issue 17): brotli ${against(br, TARGET_BYTES)}; ` +
              `gzip ${against(gz, TARGET_BYTES)}.`);
  console.log(`Against WebTorrent's browser bundle, ${kb(WEBTORRENT_GZIP_BYTES)} gzip (the figure given ` +
              `in issue 17): brotli ${against(br, WEBTORRENT_GZIP_BYTES)}; gzip ${against(gz, WEBTORRENT_GZIP_BYTES)}.`);
  // With firstVisitStartMs (e.g. 10000), a visitor who leaves before it never fetches the core.
  const early = totals(rows.filter((r) => !r.path.endsWith('.wasm')));
  const eb = early.br ? early.br.body : null, eg = early.gzip ? early.gzip.body : null;
  console.log(`A first visit that leaves before firstVisitStartMs (no core): brotli ${against(eb, TARGET_BYTES)} of the target; ` +
              `gzip ${against(eg, TARGET_BYTES)}.`);
}

function save(result) {
  try {
    fs.mkdirSync(path.dirname(RESULTS), {recursive: true});
    fs.writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
  } catch (err) {
    console.error(`first_visit_bytes: results not written: ${err.message}`);
  }
}

async function main() {
  const server = await startServer();
  // An interrupted run still takes its server down.
  const interrupted = () => stopServer(server.child).finally(() => process.exit(130));
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  let measured;
  try {
    measured = await measure(server.port);
  } finally {
    await stopServer(server.child);
  }
  const sum = totals(measured.rows);
  report(measured.rows, sum);
  save({
    date: new Date().toISOString(), site: SITE, node: process.version, unit: 'bytes (KB = 1000 bytes)',
    target_bytes: TARGET_BYTES, webtorrent_gzip_bytes: WEBTORRENT_GZIP_BYTES,
    files: measured.rows, totals: sum, errors: measured.errors,
  });
  for (const e of measured.errors) console.error(`first_visit_bytes: ${e}`);
  return measured.errors.length ? 1 : 0;
}

main().then((code) => process.exit(code), (err) => {
  console.error(`first_visit_bytes: ${err.message}`);
  process.exit(1);
});
