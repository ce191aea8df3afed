// Processes and threads for Perfetto's ProcessTree: from the kernel's
// saved_cmdlines (pid → comm) and saved_tgids (pid → tgid), and, for a live
// capture, from /proc at the start (command lines, parents, every thread's
// name), so that the UI names threads and groups them under processes.

import fs from 'node:fs';
import { MalformedInputError } from '../../errors.js';
import { ProcessTree, ProcessTreeProcess, ProcessTreeThread, TracePacket } from './fields.js';
import type { ProtoWriter } from './proto-writer.js';

export interface ProcessInfo {
  pid: number;
  /** 0 when unknown. */
  ppid: number;
  /** argv, or [comm] when cmdlineIsComm. */
  cmdline: string[];
  cmdlineIsComm: boolean;
}

export interface ThreadInfo {
  tid: number;
  /** 0 when unknown. */
  tgid: number;
  name: string;
}

/** What is known about the tasks of a trace. Later facts win. */
export class TaskTable {
  readonly processes = new Map<number, ProcessInfo>();
  readonly threads = new Map<number, ThreadInfo>();

  thread(tid: number, tgid: number, name: string | null): void {
    const t = this.threads.get(tid);
    if (t === undefined) this.threads.set(tid, { tid, tgid, name: name ?? '' });
    else {
      if (tgid !== 0) t.tgid = tgid;
      if (name !== null && name !== '') t.name = name;
    }
  }

  process(pid: number, ppid: number, cmdline: string[] | null, comm: string | null): void {
    const p = this.processes.get(pid);
    const line = cmdline !== null && cmdline.length > 0 ? cmdline : null;
    if (p === undefined) {
      this.processes.set(pid, {
        pid,
        ppid,
        cmdline: line ?? (comm !== null && comm !== '' ? [comm] : []),
        cmdlineIsComm: line === null,
      });
      return;
    }
    if (ppid !== 0) p.ppid = ppid;
    if (line !== null) {
      p.cmdline = line;
      p.cmdlineIsComm = false;
    } else if (p.cmdlineIsComm && comm !== null && comm !== '') p.cmdline = [comm];
  }

  /** The tgid of a thread, if known. */
  tgidOf(tid: number): number {
    return this.threads.get(tid)?.tgid ?? (this.processes.has(tid) ? tid : 0);
  }

  /** A process's name: its comm or argv[0]'s base name. */
  processName(pid: number): string {
    const p = this.processes.get(pid);
    const first = p?.cmdline[0];
    if (first === undefined) return this.threads.get(pid)?.name ?? '';
    return p!.cmdlineIsComm ? first : (first.split('/').pop() ?? first);
  }
}

/** Calls `each(pid, rest)` for every "PID REST" line (one pass, no per-line arrays: saved_tgids has a line per pid ever traced). */
function eachPidLine(text: string, what: string, each: (pid: number, rest: string) => void): void {
  let at = 0;
  while (at < text.length) {
    let nl = text.indexOf('\n', at);
    if (nl < 0) nl = text.length;
    if (nl > at) {
      let pid = 0;
      let i = at;
      for (; i < nl; i++) {
        const c = text.charCodeAt(i) - 48;
        if (c < 0 || c > 9) break;
        pid = pid * 10 + c;
      }
      if (i === at || i >= nl || text.charCodeAt(i) !== 32 || pid > 0x7fffffff) {
        throw new MalformedInputError(`${what}: bad line ${JSON.stringify(text.slice(at, Math.min(nl, at + 80)))}`);
      }
      each(pid, text.slice(i + 1, nl));
    }
    at = nl + 1;
  }
}

/** Adds the kernel's saved_cmdlines and saved_tgids (either may be null). */
export function addSavedTasks(table: TaskTable, savedCmdlines: string | null, savedTgids: string | null): void {
  const tgids = new Map<number, number>();
  if (savedTgids !== null) {
    eachPidLine(savedTgids, 'saved_tgids', (pid, v) => {
      const tgid = Number(v);
      if (!Number.isInteger(tgid) || tgid < 0) throw new MalformedInputError(`saved_tgids: bad tgid for pid ${pid}`);
      if (pid !== 0 && tgid !== 0) tgids.set(pid, tgid);
    });
  }
  const comms = new Map<number, string>();
  if (savedCmdlines !== null) eachPidLine(savedCmdlines, 'saved_cmdlines', (pid, comm) => pid !== 0 && comms.set(pid, comm));
  for (const [pid, comm] of comms) table.thread(pid, tgids.get(pid) ?? 0, comm);
  for (const [pid, tgid] of tgids) {
    table.thread(pid, tgid, null);
    table.process(tgid, 0, null, comms.get(tgid) ?? null);
  }
}

/** Most tasks read from /proc (a bound on the cost at open()). */
const PROC_TASK_LIMIT = 32768;

function readSmall(path: string): string | null {
  try {
    return fs.readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

/** Processes and threads running now, from /proc: stat (comm, ppid), cmdline, task/TID/comm. */
export function addProcTasks(table: TaskTable, proc = '/proc'): void {
  let names: string[];
  try {
    names = fs.readdirSync(proc);
  } catch {
    return;
  }
  let budget = PROC_TASK_LIMIT;
  for (const name of names) {
    if (budget <= 0) break;
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = readSmall(`${proc}/${pid}/stat`);
    if (stat === null) continue; // exited meanwhile
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    if (open < 0 || close < open) continue;
    const comm = Buffer.from(stat.slice(open + 1, close), 'latin1').toString('utf8');
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    const raw = readSmall(`${proc}/${pid}/cmdline`);
    const argv = raw === null || raw === '' ? null : Buffer.from(raw, 'latin1').toString('utf8').replace(/\0$/, '').split('\0');
    table.process(pid, Number.isInteger(ppid) ? ppid : 0, argv, comm);
    table.thread(pid, pid, comm);
    budget--;
    let tids: string[] = [];
    try {
      tids = fs.readdirSync(`${proc}/${pid}/task`);
    } catch {
      continue;
    }
    for (const t of tids) {
      const tid = Number(t);
      if (!Number.isInteger(tid) || tid === pid || budget <= 0) continue;
      const tcomm = readSmall(`${proc}/${pid}/task/${tid}/comm`);
      if (tcomm === null) continue;
      table.thread(tid, pid, Buffer.from(tcomm.replace(/\n$/, ''), 'latin1').toString('utf8'));
      budget--;
    }
  }
}

/** A ProcessTree packet of everything in `table`. */
export function writeProcessTree(w: ProtoWriter, table: TaskTable, sequenceId: number): void {
  const packet = w.begin(1);
  const tree = w.begin(TracePacket.processTree);
  for (const p of table.processes.values()) {
    const m = w.beginShort(ProcessTree.processes);
    w.int(ProcessTreeProcess.pid, p.pid);
    if (p.ppid !== 0) w.int(ProcessTreeProcess.ppid, p.ppid);
    for (const arg of p.cmdline) w.string(ProcessTreeProcess.cmdline, arg);
    if (p.cmdlineIsComm && p.cmdline.length > 0) w.bool(ProcessTreeProcess.cmdlineIsComm, true);
    w.endShort(m);
  }
  for (const t of table.threads.values()) {
    const m = w.beginShort(ProcessTree.threads);
    w.int(ProcessTreeThread.tid, t.tid);
    if (t.name !== '') w.string(ProcessTreeThread.name, t.name);
    if (t.tgid !== 0) w.int(ProcessTreeThread.tgid, t.tgid);
    w.endShort(m);
  }
  w.end(tree);
  w.int(TracePacket.trustedPacketSequenceId, sequenceId);
  w.end(packet);
}
