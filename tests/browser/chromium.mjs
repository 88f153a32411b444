// Launches Debian's Chromium through playwright-core (which never downloads a browser).
import {chromium} from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/lib/chromium/chromium';

// Background networking off: this machine's closed network refuses those connections.
const BASE_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export async function launchChromium(extraArgs = []) {
  return chromium.launch({executablePath: CHROMIUM_PATH, headless: true, args: [...BASE_ARGS, ...extraArgs]});
}
