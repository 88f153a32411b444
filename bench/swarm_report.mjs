// Figures and Markdown tables of the swarm benchmark (bench/swarm_bench.sh) from the raw
// runs bench/swarm_bench.mjs wrote, one file per origin speed:
//   node bench/swarm_report.mjs bench/results/swarm-full.json bench/results/swarm-20mbit.json
// Writes bench/results/swarm_bench.json (and a copy named by the date) with the figures and
// the raw runs, prints the tables, and exits 1 if any run saw an error (a missing input
// counts as one). Figures (per origin speed and scenario; medians over rounds unless said):
//   offload     on each visitor's pages after its first: bytes from peers and from Cache
//               Storage over the asset bytes the page asked its worker for (peers + Cache
//               Storage + origin, the page's p2pcdn stats). Assets the browser answers from
//               its memory cache (files this visitor loaded on an earlier page) never reach
//               the worker and count on neither side. What the visitor's earlier pages
//               prefetched from the origin (a crowd's claimant: stats.prefetch.originBytes)
//               is served from Cache Storage but counts as origin bytes, outside the ceiling
//               too (nobody else held it when it was claimed);
//   ceiling     the share of those bytes the swarm held when the page was opened (what any
//               visitor still there had loaded, or kept in Cache Storage); "against the
//               ceiling" = offload bytes / ceiling bytes (target >= 0.95);
//   upload      bytes all visitors sent to peers (stats.bytesToPeers: since the twenty-third
//               session without bytes queued on a link that closed before they went out,
//               stats.bytesToPeersUnsent, kept as `unsent`) over the verified bytes
//               they received from peers (stats.bytesFromPeers + stats.prefetch.bytes, and
//               since the twenty-fourth session the starts of transfers a navigation cut off
//               that the next page completed from the origin, stats.resumedOnOriginFrom),
//               which is what they needed (target <= 1.1x);
//   origin fetches per file: the origin's bytes of each asset (/metrics) / its size, max and
//               mean over the site's assets, and over those no first page uses (a first page
//               loads before the worker controls it: from the origin, for every visitor);
//   LCP, page-complete: per page, the median over rounds and visitors with p2pcdn over the
//               same without p2pcdn (target <= 1.0x at 20 Mbit/s, <= 1.1x at full speed);
//               "paired" is the median of the ratios of the same round's same visitor.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const RESULTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sum = (xs) => xs.reduce((n, x) => n + (x || 0), 0);
const ms = (x) => (x === null || x === undefined ? '–' : `${Math.round(x)} ms`);
const x2 = (x) => (x === null || x === undefined ? '–' : `${x.toFixed(2)}x`);
const f2 = (x) => (x === null || x === undefined ? '–' : x.toFixed(2));
const kib = (x) => (x === null || x === undefined ? '–' : `${Math.round(x / 1024)} KiB`);
const mark = (ok) => (ok === null ? 'n/a' : ok ? 'met' : '**not met**');

// A visitor's per-page stats, the last page's as it stood when the visitor left (it kept
// serving the visitors after it).
function pageStats(visitor) {
  const list = visitor.pages.map((p) => p.stats);
  if (visitor.final && list.length) list[list.length - 1] = visitor.final;
  return list.filter(Boolean);
}

function runFigures(run, sizes, firstPage) {
  let num = 0;
  let den = 0;
  let ceil = 0;
  const perVisitor = [];
  for (const v of run.visitors) {
    let vn = 0;
    let vd = 0;
    let vc = 0;
    let fromOriginEarlier = 0;  // prefetched from the origin on earlier pages, not yet served
    v.pages.forEach((p, i) => {
      const s = p.stats || {};
      if (i > 0) {
        // What the page asked its worker for; the rest of its assets the browser answered from
        // its memory cache (files this visitor loaded before, so held: inside the ceiling).
        const got = (s.bytesFromPeers || 0) + (s.bytesFromCache || 0);
        const asked = got + (s.bytesFromOrigin || 0);
        const memory = Math.max(0, p.assetBytes - asked);
        const ownOrigin = Math.min(fromOriginEarlier, s.bytesFromCache || 0);
        fromOriginEarlier -= ownOrigin;
        vn += got - ownOrigin;
        vd += asked;
        vc += Math.max(0, (p.ceilingBytes || 0) - memory - ownOrigin);
      }
      fromOriginEarlier += (s.prefetch && s.prefetch.originBytes) || 0;
    });
    num += vn;
    den += vd;
    ceil += vc;
    perVisitor.push({k: v.k, offload: vd ? vn / vd : null, ceiling: vd ? vc / vd : null, againstCeiling: vc ? vn / vc : null});
  }
  const stats = run.visitors.flatMap(pageStats);
  const upload = sum(stats.map((s) => s.bytesToPeers));
  const unsent = sum(stats.map((s) => s.bytesToPeersUnsent || 0));
  const needed = sum(stats.map((s) => (s.bytesFromPeers || 0) + ((s.prefetch && s.prefetch.bytes) || 0) +
                                      ((s.resumedOnOriginFrom && s.resumedOnOriginFrom.bytes) || 0)));
  const received = sum(stats.map((s) => s.peerBytesReceived));
  const perFile = Object.entries(sizes).filter(([, size]) => size > 0).map(([p, size]) => (run.originBytes[p] || 0) / size);
  // Files no visitor's first page uses: p2pcdn can spare the origin every fetch but one.
  const later = Object.entries(sizes).filter(([p, size]) => size > 0 && !firstPage.includes(p))
    .map(([p, size]) => (run.originBytes[p] || 0) / size);
  const originBy = (re) => sum(Object.entries(run.originBytes).filter(([p]) => re.test(p)).map(([, b]) => b));
  return {
    offload: den ? num / den : null, ceiling: den ? ceil / den : null, againstCeiling: ceil ? num / ceil : null,
    offloadBytes: num, assetBytesLater: den, ceilingBytes: ceil, perVisitor,
    upload, unsent, needed, received, uploadRatio: needed ? upload / needed : null,
    fetchesMax: perFile.length ? Math.max(...perFile) : null, fetchesMean: perFile.length ? sum(perFile) / perFile.length : null,
    laterMax: later.length ? Math.max(...later) : null, laterMean: later.length ? sum(later) / later.length : null,
    originAssets: originBy(/^\/assets\//), originP2pcdn: originBy(/^\/p2pcdn\//), originAll: originBy(/./),
  };
}

function scenarioFigures(d, scenario) {
  const limit = d.origin_rate === 'full speed' ? 1.1 : 1.0;
  const runs = (variant) => d.runs.filter((r) => r.scenario === scenario && r.variant === variant);
  const withP = runs('p2pcdn');
  const without = runs('without');
  const firstPage = d.page_assets[d.pages[0]];
  const fp = withP.map((r) => runFigures(r, d.sizes, firstPage));
  const fw = without.map((r) => runFigures(r, d.sizes, firstPage));
  const med = (list, key) => median(list.map((f) => f[key]));
  const perVisitor = [];
  for (let k = 0; k < d.visitors; k++) {
    const of = (key) => median(fp.map((f) => (f.perVisitor.find((v) => v.k === k) || {})[key]));
    perVisitor.push({k, offload: of('offload'), ceiling: of('ceiling'), againstCeiling: of('againstCeiling')});
  }
  const pages = d.pages.map((page, index) => {
    const sample = (list, key) => {
      const out = new Map();
      for (const r of list) {
        for (const v of r.visitors) {
          const p = v.pages[index];
          if (p && Number.isFinite(p[key])) out.set(`${r.round}/${v.k}`, p[key]);
        }
      }
      return out;
    };
    const fig = (key) => {
      const a = sample(withP, key);
      const b = sample(without, key);
      const mp = median([...a.values()]);
      const mw = median([...b.values()]);
      const pairs = [...a.keys()].filter((k) => b.has(k));
      const ratio = mp !== null && mw ? mp / mw : null;
      return {p2pcdn: mp, without: mw, ratio, paired: median(pairs.map((k) => a.get(k) / b.get(k))),
              faster: pairs.filter((k) => a.get(k) < b.get(k)).length, pairs: pairs.length,
              met: ratio === null ? null : ratio <= limit};
    };
    // Where the p2pcdn pages' bytes and time went (means over rounds and visitors).
    const ps = withP.flatMap((r) => r.visitors.map((v) => v.pages[index]).filter((p) => p && p.stats));
    const mean = (f) => (ps.length ? sum(ps.map(f)) / ps.length : null);
    const lcpElements = {};
    for (const p of withP.flatMap((r) => r.visitors.map((v) => v.pages[index])).filter((p) => p && p.lcp)) {
      const name = p.lcp.url || p.lcp.element;
      lcpElements[name] = (lcpElements[name] || 0) + 1;
    }
    return {
      page, lcp: fig('lcpMs'), complete: fig('completeMs'),
      sources: {peers: mean((p) => p.stats.bytesFromPeers), cache: mean((p) => p.stats.bytesFromCache),
                origin: mean((p) => p.stats.bytesFromOrigin), held: mean((p) => p.stats.held.count),
                heldMs: mean((p) => (p.stats.held.count ? p.stats.held.totalMs / p.stats.held.count : 0)),
                originFaster: mean((p) => p.stats.originFaster), hedged: mean((p) => p.stats.hedged),
                controlled: mean((p) => (p.controlled ? 1 : 0)), lcpElements},
    };
  });
  const offloadMet = med(fp, 'againstCeiling');
  const uploadRatio = med(fp, 'uploadRatio');
  return {
    scenario, limit, rounds: withP.length,
    offload: med(fp, 'offload'), ceiling: med(fp, 'ceiling'), againstCeiling: offloadMet,
    offloadMet: offloadMet === null ? null : offloadMet >= 0.95,
    upload: med(fp, 'upload'), unsent: med(fp, 'unsent'), needed: med(fp, 'needed'), received: med(fp, 'received'), uploadRatio,
    uploadMet: uploadRatio === null ? null : uploadRatio <= 1.1,
    fetchesMax: med(fp, 'fetchesMax'), fetchesMean: med(fp, 'fetchesMean'),
    fetchesMaxWithout: med(fw, 'fetchesMax'), fetchesMeanWithout: med(fw, 'fetchesMean'),
    laterMax: med(fp, 'laterMax'), laterMean: med(fp, 'laterMean'),
    originAssets: med(fp, 'originAssets'), originAssetsWithout: med(fw, 'originAssets'), originP2pcdn: med(fp, 'originP2pcdn'),
    claims: median(withP.map((r) => r.claims)),
    perVisitor, pages, perRound: fp,
  };
}

export function figures(d) {
  return {origin_rate: d.origin_rate, scenarios: d.scenarios.map((s) => scenarioFigures(d, s))};
}

export function tables(all) {
  const out = [];
  out.push('| origin | scenario | offload, pages 2–3 | ceiling | against the ceiling (≥ 0.95) | upload / needed (≤ 1.1x) | origin fetches per file, max / mean (without p2pcdn) | same, files not on the first page | origin asset bytes (without) |');
  out.push('|---|---|---|---|---|---|---|---|---|');
  for (const f of all) {
    for (const s of f.scenarios) {
      out.push(`| ${f.origin_rate} | ${s.scenario} | ${f2(s.offload)} | ${f2(s.ceiling)} | ${f2(s.againstCeiling)}: ${mark(s.offloadMet)} | ` +
               `${x2(s.uploadRatio)} (${kib(s.upload)} / ${kib(s.needed)}): ${mark(s.uploadMet)} | ` +
               `${f2(s.fetchesMax)} / ${f2(s.fetchesMean)} (${f2(s.fetchesMaxWithout)} / ${f2(s.fetchesMeanWithout)}) | ` +
               `${f2(s.laterMax)} / ${f2(s.laterMean)} | ` +
               `${kib(s.originAssets)} (${kib(s.originAssetsWithout)}) |`);
    }
  }
  out.push('');
  out.push('| origin | scenario | page | LCP p2pcdn | without | ratio (paired) | | complete p2pcdn | without | ratio (paired) | | p2pcdn faster (LCP / complete) |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const f of all) {
    for (const s of f.scenarios) {
      for (const p of s.pages) {
        out.push(`| ${f.origin_rate} | ${s.scenario} | ${p.page} | ${ms(p.lcp.p2pcdn)} | ${ms(p.lcp.without)} | ${x2(p.lcp.ratio)} (${x2(p.lcp.paired)}) | ` +
                 `${mark(p.lcp.met)} | ${ms(p.complete.p2pcdn)} | ${ms(p.complete.without)} | ${x2(p.complete.ratio)} (${x2(p.complete.paired)}) | ` +
                 `${mark(p.complete.met)} | ${p.lcp.faster} / ${p.complete.faster} of ${p.complete.pairs} |`);
      }
    }
  }
  out.push('');
  out.push('| origin | scenario | offload / ceiling of visitor 1, 2, 3, … (pages 2–3) |');
  out.push('|---|---|---|');
  for (const f of all) {
    for (const s of f.scenarios) {
      out.push(`| ${f.origin_rate} | ${s.scenario} | ${s.perVisitor.map((v) => `${f2(v.offload)} / ${f2(v.ceiling)}`).join(', ')} |`);
    }
  }
  out.push('');
  out.push('| origin | scenario | page | p2pcdn page: from peers / Cache Storage / origin (mean) | held requests, mean wait | origin sooner | LCP element (p2pcdn) |');
  out.push('|---|---|---|---|---|---|---|');
  for (const f of all) {
    for (const s of f.scenarios) {
      for (const p of s.pages) {
        const src = p.sources;
        const el = Object.entries(src.lcpElements).sort((a, b) => b[1] - a[1]).map(([n, c]) => `${n} ×${c}`).join(', ');
        out.push(`| ${f.origin_rate} | ${s.scenario} | ${p.page} | ${kib(src.peers)} / ${kib(src.cache)} / ${kib(src.origin)} | ` +
                 `${f2(src.held)}, ${ms(src.heldMs)} | ${f2(src.originFaster)} | ${el} |`);
      }
    }
  }
  return out.join('\n');
}

const main = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (main) {
  const inputs = process.argv.slice(2);
  const errors = [];
  const data = [];
  for (const file of inputs) {
    try {
      data.push(JSON.parse(fs.readFileSync(file, 'utf8')));
    } catch (err) {
      errors.push(`${file}: ${err.message}`);
    }
  }
  for (const d of data) errors.push(...d.errors);
  const all = data.map(figures);
  let dirty = null;
  try {
    dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {encoding: 'utf8'}).trim().split('\n').filter(Boolean);
  } catch (_) {
    // not a checkout
  }
  const date = new Date().toISOString();
  const result = {date, commit: data[0] ? data[0].commit : null, modified_files: dirty, machine: data[0] ? data[0].machine : null,
                  browser: data[0] ? data[0].browser : null, figures: all, errors, raw: data};
  const text = `${JSON.stringify(result, null, 1)}\n`;
  fs.mkdirSync(RESULTS, {recursive: true});
  fs.writeFileSync(path.join(RESULTS, 'swarm_bench.json'), text);
  fs.writeFileSync(path.join(RESULTS, `swarm_bench-${date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}.json`), text);
  const m = result.machine || {};
  console.log(`Swarm benchmark, ${date}, commit ${result.commit}${dirty && dirty.length ? ` (+ ${dirty.length} modified file(s))` : ''}; ` +
              `${m.cpus} × ${m.model}; Chromium ${result.browser}; ` +
              `${data.map((d) => `${d.origin_rate}: ${d.rounds} round(s), ${d.visitors} visitors, dwell ${d.dwell_ms} ms, ${d.nav === 'click' ? 'links clicked, ' : ''}${d.duration_s} s`).join('; ')}\n`);
  console.log(tables(all));
  if (errors.length) {
    console.log(`\nswarm_bench: ${errors.length} error(s):\n${errors.map((e) => `- ${e}`).join('\n')}`);
  }
  process.exit(errors.length ? 1 : 0);
}
