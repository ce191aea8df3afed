// Rows of the losses and processes tables for one segment.

import fs from 'node:fs';
import { type CpuStats, parseCpuStats } from '../../kernel/cpu-stats.js';
import type { SinkEnd } from '../sink.js';
import type { DecodeGroup, Source, SourceStats } from './ingest.js';
import type { Cell } from './small-table.js';
import { readProcStatus, type TaskResolver } from './tasks.js';

export interface SegmentId {
  readonly host: string;
  readonly bootId: string;
  readonly run: string;
  readonly seq: number;
}

function parsed(text: string | null | undefined): CpuStats | null {
  if (text === null || text === undefined) return null;
  try {
    return parseCpuStats(text);
  } catch {
    return null;
  }
}

/**
 * The kernel's counters for a source at the end of a segment: the input's
 * end stats for the last segment (a complete input's recorded stats), a
 * fresh read of per_cpu/cpuN/stats for a live input's other segments (when
 * its files serve them), none otherwise.
 */
function endStats(src: Source, live: boolean, end: SinkEnd | null): CpuStats | null {
  const buffer = src.group.buffer;
  if (buffer === null) return null;
  if (end !== null) {
    const cpus = end.buffers.find((b) => b.name === buffer.name)?.cpus;
    const text = cpus?.find((c) => c.cpu === src.cpu)?.stats ?? (live ? null : buffer.startStats.get(src.cpu));
    return parsed(text);
  }
  return live ? parsed(buffer.files.readOptional(`per_cpu/cpu${src.cpu}/stats`)) : null;
}

/** The pipeline's and the reader's loss counts at the end (the reader's only for a live input: a file's reader counts none). */
function endCounters(src: Source, end: SinkEnd | null, live: boolean): { staging: number | null; reader: number | null } {
  if (end === null) return { staging: null, reader: null };
  const g: DecodeGroup = src.group;
  if (g.buffer === null) {
    const ring = end.rings.find((r) => `ring:${r.name}` === g.name);
    return { staging: ring === undefined ? null : 0, reader: ring?.lost ?? null };
  }
  const cpu = end.buffers.find((b) => b.name === g.buffer!.name)?.cpus.find((c) => c.cpu === src.cpu);
  return { staging: cpu?.stagingLost ?? null, reader: live ? (cpu?.counters.lost ?? null) : null };
}

/** One row per source (kernel CPU or ring) in LOSSES_COLUMNS order. */
export function lossRows(id: SegmentId, stats: ReadonlyMap<Source, SourceStats>, live: boolean, end: SinkEnd | null): Cell[][] {
  const rows: Cell[][] = [];
  for (const [src, s] of stats) {
    const k = endStats(src, live, end);
    const start = live && src.group.buffer !== null ? parsed(src.group.buffer.startStats.get(src.cpu)) : null;
    const { staging, reader } = endCounters(src, end, live);
    rows.push([
      id.host,
      id.bootId,
      id.run,
      id.seq,
      src.group.name,
      src.cpu,
      s.events,
      s.lostBefore,
      s.lostUnknown,
      staging,
      reader,
      s.tsMin,
      s.tsMax,
      k?.entries ?? null,
      k?.overrun ?? null,
      k?.commitOverrun ?? null,
      k?.bytes ?? null,
      k?.droppedEvents ?? null,
      k?.readEvents ?? null,
      start?.overrun ?? null,
      start?.droppedEvents ?? null,
    ]);
  }
  return rows;
}

/** Most processes listed from /proc per segment. */
const MAX_PROCESSES = 200_000;

function readCmdline(pid: number): string | null {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/cmdline`);
    if (raw.length === 0) return null;
    return raw.toString('utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
  } catch {
    return null;
  }
}

/** Rows in PROCESSES_COLUMNS order: the kernel's cache, and /proc for a live input. */
export function processRows(id: SegmentId, tasks: TaskResolver, live: boolean): Cell[][] {
  const rows: Cell[][] = [];
  for (const t of tasks.savedTasks()) rows.push([id.host, id.bootId, id.run, id.seq, t.pid, t.tgid, null, t.comm, null, 'saved_cmdlines']);
  if (!live) return rows;
  let names: string[] = [];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return rows;
  }
  let listed = 0;
  for (const name of names) {
    if (!/^\d+$/.test(name) || listed >= MAX_PROCESSES) continue;
    const pid = Number(name);
    const st = readProcStatus(pid);
    if (st === null) continue; // exited meanwhile
    listed++;
    rows.push([id.host, id.bootId, id.run, id.seq, pid, st.tgid, st.ppid >= 0 ? st.ppid : null, st.comm, readCmdline(pid), 'proc']);
  }
  return rows;
}
