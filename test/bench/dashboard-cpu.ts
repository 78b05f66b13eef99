import { readFileSync, readdirSync } from 'node:fs';

/**
 * CPU time from /proc, to say where a 2-core machine's time went while the page was measured: all of Chromium
 * (browser, renderer, GPU and utility processes, which the page's own metrics do not see) and the machine as a
 * whole. Linux only; elsewhere every reading is NaN.
 */
export interface CpuSnapshot {
  at: number;
  /** utime + stime of every Chromium process below this one, in seconds. */
  chromiumS: number;
  /** This process and everything below it (Chromium, detector, API, publisher), in seconds. */
  ownS: number;
  /** Busy and total time of all cores since boot, in seconds (from /proc/stat). */
  machineBusyS: number;
  machineTotalS: number;
}

/** USER_HZ: 100 on every Linux this runs on (x86-64 and arm64). */
const TICKS_PER_S = 100;

interface ProcStat { pid: number; ppid: number; comm: string; cpuS: number }

function procStat(pid: string): ProcStat | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: the fields after it start after the last ')'.
    const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { pid: Number(pid), ppid: Number(rest[1]), comm, cpuS: (Number(rest[11]) + Number(rest[12])) / TICKS_PER_S };
  } catch {
    return undefined; // gone between the listing and the read
  }
}

export function cpuSnapshot(): CpuSnapshot {
  const at = Date.now();
  try {
    const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(procStat).filter((p): p is ProcStat => p !== undefined);
    const children = new Map<number, ProcStat[]>();
    for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
    let chromiumS = 0;
    let ownS = all.find((p) => p.pid === process.pid)?.cpuS ?? 0;
    // Breadth-first below this process, bounded by the process count.
    const queue = [...(children.get(process.pid) ?? [])];
    for (let i = 0; i < queue.length && i < all.length; i++) {
      const p = queue[i] as ProcStat;
      if (p.comm.startsWith('chrom')) chromiumS += p.cpuS;
      ownS += p.cpuS;
      queue.push(...(children.get(p.pid) ?? []));
    }
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    // user nice system idle iowait irq softirq steal: idle and iowait are the idle part.
    const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    return { at, chromiumS, ownS, machineBusyS: (total - idle) / TICKS_PER_S, machineTotalS: total / TICKS_PER_S };
  } catch {
    return { at, chromiumS: Number.NaN, ownS: Number.NaN, machineBusyS: Number.NaN, machineTotalS: Number.NaN };
  }
}

export interface CpuUse {
  chromiumPctOfOneCore: number;
  machineBusyPct: number;
  /**
   * Busy time of every process that is not this bench or below it, in % of one core: Mosquitto (a few %), and
   * anything else running on the machine, which the page then competed with.
   */
  othersPctOfOneCore: number;
}

/** Between two snapshots: Chromium and the rest of the machine in % of one core, the machine's busy share of all cores. */
export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): CpuUse {
  const wall = (b.at - a.at) / 1000;
  const pct = (s: number) => Math.round((s / wall) * 100);
  return {
    chromiumPctOfOneCore: pct(b.chromiumS - a.chromiumS),
    machineBusyPct: Math.round(((b.machineBusyS - a.machineBusyS) / (b.machineTotalS - a.machineTotalS)) * 100),
    othersPctOfOneCore: pct(b.machineBusyS - a.machineBusyS - (b.ownS - a.ownS)),
  };
}
