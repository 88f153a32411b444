// For scripts run inside the rig of bench/netns_bridge.sh (namespaces origin, b1..bN joined
// by a bridge): addresses, running a process or a Chromium inside a namespace, and each
// namespace's upload limit. Every process is started here as a child, so it can be ended by
// its own PID; everything left is ended with the rig.
import {execFileSync, spawn, spawnSync} from 'node:child_process';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const RIG = path.join(HERE, 'netns_bridge.sh');
export const BRIDGE_ADDR = '10.77.0.254';  // the rig's own namespace, where the driver runs

export function inRig() {
  return !!process.env.NETNS_BRIDGE;
}

// The address of a namespace: origin 10.77.0.1, bk 10.77.0.(10+k).
export function addr(ns) {
  if (ns === 'origin') return '10.77.0.1';
  const m = /^b(\d+)$/.exec(ns);
  if (!m) throw new Error(`no namespace ${ns}`);
  return `10.77.0.${10 + Number(m[1])}`;
}

export function browserNamespaces() {
  return Array.from({length: Number(process.env.NETNS_BROWSERS || 0)}, (_, i) => `b${i + 1}`);
}

// A command prefix that runs argv in namespace ns, e.g. for tests/e2e/harness.mjs:
// startServer({wrap: wrap('origin')}). nsenter executes the command: its PID is the command's.
export function wrap(ns) {
  return ['nsenter', `--net=/run/netns/${ns}`];
}

export function spawnIn(ns, argv, options = {}) {
  const [cmd, ...args] = [...wrap(ns), ...argv];
  return spawn(cmd, args, options);
}

// The namespace's upload limited to `rate` (e.g. '10mbit') by tc tbf, with the rig's default
// bucket and queue or {burst, latency}; 'off' removes it.
export function shape(ns, rate, {burst, latency} = {}) {
  const extra = burst ? [burst, ...(latency ? [latency] : [])] : [];
  execFileSync(RIG, ['shape', ns, rate, ...extra], {stdio: ['ignore', 'ignore', 'inherit']});
}

// What the namespace's upload shaper counted: {kind, sentBytes, packets, dropped, overlimits},
// or null when unshaped. Bytes are as on the wire (Ethernet frames).
export function qdiscStats(ns) {
  const read = (argv) => {
    try {
      return execFileSync(
          argv[0], argv.slice(1), {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']});
    } catch (_) {
      return '';
    }
  };
  const text = read(['tc', '-s', 'qdisc', 'show', 'dev', `i-${ns}`]) ||
      read([...wrap(ns), 'tc', '-s', 'qdisc', 'show', 'dev', 'eth0']);
  const m =
      /^qdisc (tbf)[\s\S]*?Sent (\d+) bytes (\d+) pkt \(dropped (\d+), overlimits (\d+)/.exec(text);
  return m && {
    kind: m[1],
    sentBytes: Number(m[2]),
    packets: Number(m[3]),
    dropped: Number(m[4]),
    overlimits: Number(m[5])
  };
}

// Debian's Chromium inside namespace ns, with the flags of tests/browser/chromium.mjs (the
// rig points CHROMIUM_PATH at bench/netns_chromium.sh, which enters the namespace).
export async function launchChromiumIn(ns, {origin, extraArgs = []} = {}) {
  if (!/netns_chromium\.sh$/.test(process.env.CHROMIUM_PATH || '')) {
    throw new Error(
        'launchChromiumIn: run inside bench/netns_bridge.sh (CHROMIUM_PATH is not its wrapper)');
  }
  const {launchChromium} = await import('../tests/browser/chromium.mjs');
  return launchChromium({origin, extraArgs: [...extraArgs, `--p2pcdn-netns=${ns}`]});
}

// As tests/e2e/harness.mjs newVisitor, in namespace ns.
export async function newVisitorIn(ns, origin, {config, contextOptions} = {}) {
  const browser = await launchChromiumIn(ns, {origin});
  const context = await browser.newContext(contextOptions);
  if (config) await context.addInitScript((c) => { window.p2pcdnConfig = c; }, config);
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return {ns, browser, context, page, errors, close: () => browser.close().catch(() => {})};
}

// Outside a rig, runs this same script inside a new one (env: extra variables for the rig,
// e.g. {NETNS_BROWSERS: '3'}) and exits with its status; the rig is killed by its PID after
// timeoutMs. Inside a rig, returns.
export function rerunInRig(scriptUrl, {env = {}, timeoutMs = 600000} = {}) {
  if (inRig()) return;
  const script = fileURLToPath(scriptUrl);
  const r = spawnSync(
      RIG, [process.execPath, script, ...process.argv.slice(2)],
      {stdio: 'inherit', env: {...process.env, ...env}, timeout: timeoutMs, killSignal: 'SIGKILL'});
  if (r.error) console.error(`${path.basename(script)}: ${r.error.message}`);
  process.exit(r.status === null ? 1 : r.status);
}
