// The processes of every Chromium and Firefox running on this machine, read from Linux /proc,
// for the benches that weigh a path by the CPU it costs (p2p_bench.mjs, path_costs.mjs).
import fs from 'node:fs';
import path from 'node:path';

// The browsers' processes now: pid -> {ppid, kind, main, ms} (Linux /proc; ms: CPU time used
// so far, 10 ms ticks; main: a browser's main process).
export function browserProcesses() {
  const procs = new Map();
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      // A zygote's child sets its title: its arguments joined by spaces, not NULs.
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
      const name = path.basename(cmd[0] || '');
      if (!/chrom|firefox/.test(name)) continue;
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const type = (cmd.find((a) => a.startsWith('--type=')) || '--type=browser').slice(7);
      const sub = cmd.find((a) => a.startsWith('--utility-sub-type='));
      const kind = /firefox/.test(name) ? (cmd.includes('-isForBrowser') ? 'content' : cmd.includes('-contentproc') ? 'child' : 'browser')
                                        : sub ? sub.split('=')[1].split('.').pop() : type;
      procs.set(Number(pid), {ppid: Number(fields[1]), kind, main: kind === 'browser' && /^(chromium|chrome|firefox(-esr)?)$/.test(name),
                              ms: (Number(fields[11]) + Number(fields[12])) * 10, faults: Number(fields[7]), threads: threadCpu(pid)});
    } catch (_) {
      // gone meanwhile
    }
  }
  return procs;
}

// CPU time (ms) used so far by each thread of a process, by thread name (a trace's durations
// are wall time, which on two oversubscribed cores includes the time a thread waited to run).
function threadCpu(pid) {
  const out = {};
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[0-9]+$/, '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out[name] = (out[name] || 0) + (Number(fields[11]) + Number(fields[12])) * 10;
  }
  return out;
}
