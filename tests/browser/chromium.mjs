// Launches Debian's Chromium through playwright-core (which never downloads a browser).
import {chromium} from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/lib/chromium/chromium';

// Chromium keeps only the last --disable-features switch, so playwright-core's own list is
// repeated here with WebRtcHideLocalIpsWithMdns added (raw host candidates, no mDNS names:
// a test namespace has no mDNS).
const PLAYWRIGHT_DISABLED_FEATURES = [
  'AvoidUnnecessaryBeforeUnloadCheckSync', 'DestroyProfileOnBrowserClose', 'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable', 'LensOverlay', 'MediaRouter', 'PaintHolding',
  'ThirdPartyStoragePartitioning', 'AvoidCorsURLLoaderRestartOnRedirect', 'TcpPortRandomizationWin',
  'OptimizationHints', 'NetworkTimeServiceQuerying', 'AimEnabled', 'PreconnectToSearch',
];

// A headless browser has no toolbar, yet Chromium 156 loads its omnibox popup's WebUI in a
// renderer of its own as it starts: a trace of the swarm bench showed that renderer's main
// thread busy 780-890 ms (and ~0.6 s of background parsing) during a fresh visitor's first
// page, on a machine of two cores. A visitor's own browser did that long before it came to
// the site, so it is turned off here.
const BROWSER_STARTUP_FEATURES = ['PreloadTopChromeWebUI', 'WebUIOmniboxPopup', 'WebUIOmniboxFullPopup', 'WebUIOmniboxAimPopup'];

// Background networking off: this machine's closed network refuses those connections.
const BASE_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
  `--disable-features=${[...PLAYWRIGHT_DISABLED_FEATURES, ...BROWSER_STARTUP_FEATURES, 'WebRtcHideLocalIpsWithMdns'].join(',')}`,
];

// origin: an http:// origin to treat as secure (service workers, crypto.subtle).
// backForwardCache: keep it on, as in a visitor's Chromium (playwright-core turns it off).
export async function launchChromium({origin, extraArgs = [], backForwardCache = false} = {}) {
  const args = [...BASE_ARGS, ...extraArgs];
  if (origin) args.push(`--unsafely-treat-insecure-origin-as-secure=${origin}`);
  const ignoreDefaultArgs = backForwardCache ? ['--disable-back-forward-cache'] : [];
  return chromium.launch({executablePath: CHROMIUM_PATH, headless: true, args, ignoreDefaultArgs});
}
