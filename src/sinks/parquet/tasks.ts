// comm and tgid of the pid in each record. Sources, in order: the kernel's
// saved_cmdlines / saved_tgids (the input's files), and for a live input
// /proc of this machine (threads that never appeared in the kernel's cache,
// application ring writers). Lookups are cached per segment; a new segment
// asks again (names change with exec).

import fs from 'node:fs';
import type { FormatSource } from '../../decode/registry.js';
import { TaskNames } from '../../output/task-names.js';

export interface TaskEntry {
  /** Index into the comm strings, -1 when unknown. */
  readonly comm: number;
  /** -1 when unknown. */
  readonly tgid: number;
}

const UNKNOWN_COMM = '<...>';
const encoder = new TextEncoder();

/** What /proc/PID/status says (null: no such process). */
export interface ProcStatus {
  readonly comm: string;
  readonly tgid: number;
  readonly ppid: number;
}

export function readProcStatus(pid: number): ProcStatus | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text)?.[1] ?? null;
  const tgid = Number(field('Tgid'));
  const ppid = Number(field('PPid'));
  const comm = field('Name');
  if (comm === null || !Number.isInteger(tgid)) return null;
  return { comm, tgid, ppid: Number.isInteger(ppid) ? ppid : -1 };
}

export class TaskResolver {
  readonly #files: FormatSource;
  readonly #live: boolean;
  #names: TaskNames;
  readonly #cache = new Map<number, TaskEntry>();
  readonly #commIds = new Map<string, number>();
  readonly #comms: Uint8Array[] = [];
  readonly #commStrings: string[] = [];
  /** Pids looked up in /proc during this segment (bounded: /proc reads cost microseconds). */
  #procLookups = 0;
  #lastPid = -1;
  #last: TaskEntry = { comm: -1, tgid: -1 };

  constructor(files: FormatSource, live: boolean) {
    this.#files = files;
    this.#live = live;
    this.#names = this.#load();
  }

  #load(): TaskNames {
    try {
      return TaskNames.parse(this.#files.readOptional('saved_cmdlines') ?? '', this.#files.readOptional('saved_tgids') ?? '');
    } catch {
      return new TaskNames();
    }
  }

  get commCount(): number {
    return this.#comms.length;
  }

  commBytes(id: number): Uint8Array {
    return this.#comms[id]!;
  }

  commString(id: number): string {
    return this.#commStrings[id]!;
  }

  #commId(name: string): number {
    let id = this.#commIds.get(name);
    if (id === undefined) {
      id = this.#comms.length;
      this.#comms.push(encoder.encode(name));
      this.#commStrings.push(name);
      this.#commIds.set(name, id);
    }
    return id;
  }

  lookup(pid: number): TaskEntry {
    if (pid === this.#lastPid) return this.#last;
    let e = this.#cache.get(pid);
    if (e === undefined) {
      e = this.#resolve(pid);
      this.#cache.set(pid, e);
    }
    this.#lastPid = pid;
    this.#last = e;
    return e;
  }

  #resolve(pid: number): TaskEntry {
    const name = this.#names.comm(pid);
    const tgid = this.#names.tgid(pid);
    if (name !== UNKNOWN_COMM) return { comm: this.#commId(name), tgid: tgid ?? (pid === 0 ? 0 : -1) };
    if (this.#live && pid > 0 && this.#procLookups < 4096) {
      this.#procLookups++;
      const st = readProcStatus(pid);
      if (st !== null) return { comm: this.#commId(st.comm), tgid: tgid ?? st.tgid };
    }
    return { comm: -1, tgid: tgid ?? -1 };
  }

  /** A new segment: forget cached lookups, and for a live input re-read the kernel's cache. */
  refresh(): void {
    this.#cache.clear();
    this.#lastPid = -1;
    this.#procLookups = 0;
    if (this.#live) this.#names = this.#load();
  }

  /** The kernel's cache as rows for the processes table. */
  savedTasks(): Array<{ pid: number; comm: string; tgid: number | null }> {
    const cmdlines = this.#files.readOptional('saved_cmdlines') ?? '';
    const names = this.#live ? this.#load() : this.#names;
    const out: Array<{ pid: number; comm: string; tgid: number | null }> = [];
    for (const line of cmdlines.split('\n')) {
      const space = line.indexOf(' ');
      const pid = Number(line.slice(0, space));
      if (space <= 0 || !Number.isInteger(pid)) continue;
      out.push({ pid, comm: line.slice(space + 1), tgid: names.tgid(pid) ?? null });
    }
    return out;
  }
}
