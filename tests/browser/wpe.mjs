// Drives Debian's WPE WebKit (headless; no WebRTC in Debian's build: a browser that cannot
// be a peer) through WPEWebDriver, WebDriver classic over plain HTTP. One session per driver
// process, which this module starts and ends (by PID).
import {spawn} from 'node:child_process';
import net from 'node:net';

const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/wpe-webkit-1.1/MiniBrowser';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function launchWpe() {
  const port = await freePort();
  const driver = spawn('WPEWebDriver', [`--port=${port}`, '--host=127.0.0.1'], {stdio: 'ignore'});
  const base = `http://127.0.0.1:${port}`;
  const call = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {method, headers: {'content-type': 'application/json'},
                                               body: body === undefined ? undefined : JSON.stringify(body),
                                               signal: AbortSignal.timeout(60000)});
    const json = await res.json();
    if (!res.ok || (json.value && json.value.error)) throw new Error(`WebDriver ${path}: ${JSON.stringify(json.value)}`);
    return json.value;
  };
  let session = null;
  for (let i = 0; i < 50 && !session; i++) {
    try {
      session = await call('POST', '/session', {capabilities: {alwaysMatch: {'wpe:browserOptions': {binary: MINIBROWSER, args: ['--automation', '--headless']}}}});
    } catch (err) {
      if (i === 49) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const id = session.sessionId;
  return {
    goto: (url) => call('POST', `/session/${id}/url`, {url}),
    // fn's body runs in the page; `args` are passed as arguments.
    evaluate: (fn, ...args) => call('POST', `/session/${id}/execute/sync`, {script: `return (${fn}).apply(null, arguments)`, args}),
    evaluateAsync: (fn, ...args) => call('POST', `/session/${id}/execute/async`, {
      script: `const done = arguments[arguments.length - 1]; Promise.resolve((${fn}).apply(null, [].slice.call(arguments, 0, -1))).then(done, (e) => done({error: String(e)}));`,
      args,
    }),
    screenshot: async () => Buffer.from(await call('GET', `/session/${id}/screenshot`), 'base64'),
    setWindowRect: (rect) => call('POST', `/session/${id}/window/rect`, rect),
    async close() {
      await call('DELETE', `/session/${id}`).catch(() => {});
      driver.kill('SIGTERM');
    },
  };
}
