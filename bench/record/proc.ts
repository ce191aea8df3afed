// /proc readings for the recording benchmark: CPU time of a process tree,
// who holds a file open, and how busy the machine is.

import fs from 'node:fs';

const TICK_NS = 1e9 / 100; // USER_HZ: /proc/PID/stat's cutime/cstime unit

interface ProcEntry {
  pid: number;
  ppid: number;
  /** Waited-for children's CPU (cutime + cstime), ns. */
  childrenNs: number;
}

function readProc(pid: number): ProcEntry | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(f[1]), childrenNs: (Number(f[13]) + Number(f[14])) * TICK_NS };
  } catch {
    return null;
  }
}

function allPids(): number[] {
  return fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
}

/** `root` and every live descendant. */
export function descendants(root: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const pid of allPids()) {
    const e = readProc(pid);
    if (e === null) continue;
    const list = byParent.get(e.ppid) ?? [];
    list.push(pid);
    byParent.set(e.ppid, list);
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    out.push(pid);
    todo.push(...(byParent.get(pid) ?? []));
  }
  return out;
}

/** On-CPU time of one process so far: its live threads' schedstat (ns) plus its waited-for children. */
function processCpuNs(pid: number): number {
  const e = readProc(pid);
  if (e === null) return 0;
  let ns = e.childrenNs;
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread ended
      }
    }
  } catch {
    // the process ended
  }
  return ns;
}

/** CPU time used so far by the descendants of `root` (excluding root itself), ns. */
export function treeCpuNs(root: number): number {
  return descendants(root)
    .filter((p) => p !== root)
    .reduce((sum, pid) => sum + processCpuNs(pid), 0);
}

/** Processes with an open fd on `path`. */
export function fdHolders(path: string, among: readonly number[] = allPids()): number[] {
  const out: number[] = [];
  for (const pid of among) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === path) {
          out.push(pid);
          break;
        }
      } catch {
        // closed meanwhile
      }
    }
  }
  return out;
}

export interface CpuSample {
  busy: number;
  total: number;
}

/** /proc/stat's all-CPU line: busy and total ticks. */
export function machineSample(): CpuSample {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
}

/** Busy share of all CPUs between two samples, 0..1. */
export function busyBetween(a: CpuSample, b: CpuSample): number {
  return b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
}

/** The load average over the last minute. */
export function loadAverage(): number {
  return Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
