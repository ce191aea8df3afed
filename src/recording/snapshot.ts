// `tracering snapshot`: consume a trace array's buffers into a directory laid
// out like tracefs, so the capture decodes on another machine:
//
//   events/header_page, events/header_event, events/<sys>/<event>/format
//   saved_cmdlines, saved_tgids, printk_formats, trace_clock, options/*,
//   buffer_subbuf_size_kb, per_cpu/cpuN/{trace_pipe_raw,stats},
//   kallsyms.gz (symbols for %ps / ip fields), kernel_constants (enum values,
//   jiffies and HZ the print fmts need), tracering.json (machine facts)
//
// Pages are consumed with read(), so they are stored exactly as the kernel
// formats them (including copy-path pages and loss flags).

import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CONSTANTS_FILE, constantsUsedBy, formatKernelConstants, readLiveKernelConstants } from '../decode/kernel-constants.js';
import { CpuBufferMissingError, InvalidArgumentError, type WarningHandler, emitProcessWarning } from '../errors.js';
import { HOST_LITTLE_ENDIAN } from '../layout/subbuf.js';
import { ReadCpuReader } from '../kernel/read-cpu-reader.js';
import type { TraceArray } from '../kernel/trace-array.js';
import { META_FILE, type RecordingMeta } from './recording.js';

/** Options of writeSnapshot(). */
export interface SnapshotOptions {
  /** The tracefs root, for the global files (saved_cmdlines, printk_formats). */
  tracefsRoot: string;
  /** Store /proc/kallsyms (gzipped) with the capture; default true. */
  kallsyms?: boolean;
  onWarning?: WarningHandler;
}

/** What writeSnapshot() wrote. */
export interface SnapshotSummary {
  dir: string;
  cpus: Array<{ cpu: number; events: number; subbufs: number; lost: number }>;
  formats: number;
}

const NAME = /^[A-Za-z0-9_.+-]+$/;

function writeFile(dir: string, relative: string, data: string | Uint8Array): void {
  const path = join(dir, relative);
  fs.mkdirSync(join(path, '..'), { recursive: true });
  fs.writeFileSync(path, data);
}

function readIfPresent(path: string): string | null {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Event systems with an enabled event in the array (from set_event). */
function enabledSystems(array: TraceArray): Set<string> {
  const systems = new Set<string>();
  const text = readIfPresent(array.file('set_event')) ?? '';
  for (const line of text.split('\n')) {
    const system = line.split(':')[0]?.trim();
    if (system && NAME.test(system)) systems.add(system);
  }
  return systems;
}

/** Maps event ids to their format file paths (relative), reading every format's ID line. */
function indexEventIds(eventsDir: string): Map<number, string> {
  const byId = new Map<number, string>();
  for (const system of fs.readdirSync(eventsDir)) {
    if (!NAME.test(system)) continue;
    let events: string[];
    try {
      events = fs.readdirSync(join(eventsDir, system));
    } catch {
      continue;
    }
    for (const event of events) {
      const rel = `${system}/${event}/format`;
      const text = readIfPresent(join(eventsDir, rel));
      const id = text === null ? null : /^ID: (\d+)$/m.exec(text)?.[1];
      if (id) byId.set(Number(id), rel);
    }
  }
  return byId;
}

/** Consumes a trace array into a tracefs-like directory. */
export function writeSnapshot(array: TraceArray, dir: string, options: SnapshotOptions): SnapshotSummary {
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
    throw new InvalidArgumentError(`${dir} exists and is not empty; snapshots go to a new directory`);
  }
  fs.mkdirSync(dir, { recursive: true });
  const onWarning = options.onWarning ?? emitProcessWarning;
  // Read before the (long) consuming: `jiffies` as close as possible to
  // when the events were recorded.
  const constants = readLiveKernelConstants();
  const seenIds = new Set<number>();
  const cpus: SnapshotSummary['cpus'] = [];
  let subbufSize = 0;

  for (const cpu of array.cpus()) {
    let reader: ReadCpuReader;
    const statsText = readIfPresent(array.cpuFile(cpu, 'stats'));
    try {
      reader = ReadCpuReader.open(array, cpu, { onWarning });
    } catch (error) {
      if (error instanceof CpuBufferMissingError) continue;
      throw error;
    }
    try {
      subbufSize = reader.layout.subbufSize;
      if (statsText !== null) writeFile(dir, `per_cpu/cpu${cpu}/stats`, statsText);
      const fd = fs.openSync(join(dir, `per_cpu/cpu${cpu}/trace_pipe_raw`), 'w');
      try {
        for (let batch = reader.next(); batch !== null; batch = reader.next()) {
          fs.writeSync(fd, reader.lastPages);
          const v = batch.view;
          for (let i = 0; i < batch.count; i++) seenIds.add(v.getUint16(batch.offset(i), HOST_LITTLE_ENDIAN));
          if (reader.caughtUp) break;
        }
      } finally {
        fs.closeSync(fd);
      }
      reader.finish();
      cpus.push({ cpu, events: reader.counters.events, subbufs: reader.counters.subbufs, lost: reader.counters.lost });
    } finally {
      reader.close();
    }
  }

  // Formats: the enabled systems, ftrace's own events, and any id in the data.
  const eventsDir = array.file('events');
  writeFile(dir, 'events/header_page', fs.readFileSync(join(eventsDir, 'header_page')));
  writeFile(dir, 'events/header_event', fs.readFileSync(join(eventsDir, 'header_event')));
  const copied = new Set<string>();
  const copy = (rel: string) => {
    if (copied.has(rel)) return;
    const text = readIfPresent(join(eventsDir, rel));
    if (text === null) return;
    writeFile(dir, `events/${rel}`, text);
    copied.add(rel);
  };
  for (const system of new Set(['ftrace', ...enabledSystems(array)])) {
    let events: string[] = [];
    try {
      events = fs.readdirSync(join(eventsDir, system));
    } catch {
      continue;
    }
    for (const event of events) if (NAME.test(event)) copy(`${system}/${event}/format`);
  }
  const copiedIds = new Set<number>();
  for (const rel of copied) {
    const id = /^ID: (\d+)$/m.exec(fs.readFileSync(join(dir, 'events', rel), 'utf8'))?.[1];
    if (id) copiedIds.add(Number(id));
  }
  const missing = [...seenIds].filter((id) => !copiedIds.has(id));
  if (missing.length > 0) {
    const index = indexEventIds(eventsDir);
    for (const id of missing) {
      const rel = index.get(id);
      if (rel) copy(rel);
    }
  }

  // Only the constants these formats name.
  const formatTexts = [...copied].map((rel) => fs.readFileSync(join(dir, 'events', rel), 'utf8'));
  writeFile(dir, CONSTANTS_FILE, formatKernelConstants(constantsUsedBy(formatTexts, constants)));

  // Names last: saved_cmdlines holds the latest comm per pid, as `trace` shows it.
  for (const file of ['saved_cmdlines', 'saved_tgids', 'printk_formats']) {
    const text = readIfPresent(join(options.tracefsRoot, file));
    if (text !== null) writeFile(dir, file, text);
  }
  for (const file of ['trace_clock', 'buffer_subbuf_size_kb']) {
    const text = readIfPresent(array.file(file));
    if (text !== null) writeFile(dir, file, text);
  }
  // Trace options change the text (irq-info, record-tgid, sym-offset...).
  let optionNames: string[] = [];
  try {
    optionNames = fs.readdirSync(array.file('options'));
  } catch {
    // no options directory: the defaults apply
  }
  for (const name of optionNames) {
    const text = NAME.test(name) ? readIfPresent(array.file(`options/${name}`)) : null;
    if (text !== null) writeFile(dir, `options/${name}`, text);
  }
  if (options.kallsyms !== false) {
    const symbols = readIfPresent('/proc/kallsyms');
    if (symbols !== null) writeFile(dir, 'kallsyms.gz', gzipSync(symbols));
  }
  const clockText = readIfPresent(array.file('trace_clock')) ?? '[local]';
  const meta: RecordingMeta = {
    format: 'tracering-snapshot',
    version: 1,
    kernel: os.release(),
    littleEndian: HOST_LITTLE_ENDIAN,
    longSize: 8,
    pageSize: subbufSize === 0 ? 4096 : Math.min(subbufSize, 4096),
    subbufSize,
    clock: /\[([^\]]+)\]/.exec(clockText)?.[1] ?? 'local',
    cpus: cpus.map((c) => c.cpu),
    onlineCpus: os.availableParallelism(),
    createdAt: new Date().toISOString(),
  };
  writeFile(dir, META_FILE, `${JSON.stringify(meta, null, 2)}\n`);
  return { dir, cpus, formats: copied.size };
}
