// Shared by the Parquet tests: real recordings from private instances, the
// counts and values our own decoder finds in them, conversions, and DuckDB.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { BatchDecoder } from '../../src/decode/batch-decoder.js';
import { EventDecoder } from '../../src/decode/field-decoder.js';
import { DirectorySource, EventRegistry } from '../../src/decode/registry.js';
import { type CpuStats, parseCpuStats } from '../../src/kernel/cpu-stats.js';
import type { Tracefs } from '../../src/kernel/tracefs.js';
import { RecordingInput } from '../../src/pipeline/recording-input.js';
import { runFileSinks } from '../../src/pipeline/run-file.js';
import { Recording } from '../../src/recording/recording.js';
import { writeSnapshot } from '../../src/pipeline/snapshot.js';
import { type ParquetSinkOptions, createParquetSink } from '../../src/sinks/parquet/index.js';
import type { SinkReport } from '../../src/sinks/sink.js';
import { testInstance, writeMarkers } from '../helpers/kernel.js';

export const SCHED_EVENTS = [
  'sched:sched_switch',
  'sched:sched_waking',
  'sched:sched_wakeup',
  'sched:sched_process_fork',
  'sched:sched_process_exec',
  'sched:sched_process_exit',
];

export interface RecordOptions {
  /** trace_marker writes per CPU (bounded). */
  markers: number;
  /** A small overwriting buffer (KiB per CPU), so that events are lost; default: a large non-overwriting one. */
  overwriteKb?: number;
  /** Short-lived processes started while tracing (fork, exec, exit, wakeups). */
  processes?: number;
}

/** Records sched events and trace_marker writes in a private instance into `dir` (tracering snapshot). */
export async function record(tracefs: Tracefs, dir: string, options: RecordOptions): Promise<void> {
  using inst = testInstance(tracefs);
  inst.tracingOn = false;
  if (options.overwriteKb !== undefined) {
    inst.setOption('overwrite', true);
    inst.setBufferSizeKb(options.overwriteKb);
  } else {
    inst.setOption('overwrite', false);
    inst.setBufferSizeKb(8192);
  }
  inst.enableEvents(SCHED_EVENTS);
  inst.clear();
  inst.tracingOn = true;
  try {
    for (const cpu of inst.cpus()) writeMarkers(inst, cpu, options.markers, (i) => `parquet test ${cpu}:${i} ${'x'.repeat(i % 40)}`);
    for (let i = 0; i < (options.processes ?? 0); i++) spawnSync('/bin/true', [], { timeout: 2000 });
  } finally {
    inst.tracingOn = false;
  }
  await writeSnapshot(inst, dir, { tracefsRoot: tracefs.root });
}

export interface Expected {
  /** Events per `cpu/system/event`. */
  counts: Map<string, number>;
  /** Per CPU: events, sum of known losses, losses of unknown size. */
  cpus: Map<number, { events: number; lost: number; lostUnknown: number }>;
  stats: Map<number, CpuStats>;
  /** saved_cmdlines lines. */
  savedTasks: number;
}

/** What our own reader and decoder find in a recording. */
export function expected(dir: string): Expected {
  const rec = Recording.open(dir);
  const registry = new EventRegistry(new DirectorySource(dir));
  const decoder = new BatchDecoder(registry, { littleEndian: rec.layout.littleEndian });
  const counts = new Map<string, number>();
  const cpus = new Map<number, { events: number; lost: number; lostUnknown: number }>();
  for (const reader of rec.openReaders()) {
    const c = { events: 0, lost: 0, lostUnknown: 0 };
    cpus.set(reader.cpu, c);
    try {
      for (let b = reader.next(); b !== null; b = reader.next()) {
        if (b.lostBefore < 0) c.lostUnknown++;
        else c.lost += b.lostBefore;
        c.events += b.count;
        decoder.decode(b);
        let decoded = 0;
        for (const t of decoder.tables()) {
          const key = `${reader.cpu}/${t.format.system}/${t.format.name}`;
          counts.set(key, (counts.get(key) ?? 0) + t.length);
          decoded += t.length;
        }
        if (decoded !== b.count) throw new Error(`the decoder left ${b.count - decoded} records unknown`);
      }
    } finally {
      reader.close();
    }
  }
  const stats = new Map<number, CpuStats>();
  for (const cpu of rec.cpus) {
    const text = rec.readText(`per_cpu/cpu${cpu}/stats`);
    if (text !== null) stats.set(cpu, parseCpuStats(text));
  }
  const saved = rec.readText('saved_cmdlines') ?? '';
  return { counts, cpus, stats, savedTasks: saved.split('\n').filter((l) => l.length > 0).length };
}

/** Every record of one event as decoded objects, with its CPU and timestamp. */
export function decodedEvents(dir: string, system: string, event: string): Array<{ cpu: number; ts: bigint; fields: Record<string, unknown> }> {
  const rec = Recording.open(dir);
  const registry = new EventRegistry(new DirectorySource(dir));
  const format = registry.find(system, event);
  if (format === undefined) throw new Error(`${system}/${event} not in ${dir}`);
  const dec = new EventDecoder(format, { littleEndian: rec.layout.littleEndian });
  const out: Array<{ cpu: number; ts: bigint; fields: Record<string, unknown> }> = [];
  for (const reader of rec.openReaders()) {
    try {
      for (let b = reader.next(); b !== null; b = reader.next()) {
        for (let i = 0; i < b.count; i++) {
          const off = b.offset(i);
          if (b.view.getUint16(off, rec.layout.littleEndian) !== format.id) continue;
          out.push({ cpu: reader.cpu, ts: b.timestampBigInt(i), fields: dec.toObject(b.view, b.bytes, off, b.length(i), false) });
        }
      }
    } finally {
      reader.close();
    }
  }
  return out;
}

export async function convert(recording: string, out: string, options: ParquetSinkOptions): Promise<SinkReport> {
  const [report] = await runFileSinks(new RecordingInput(recording, { kallsyms: null }), [createParquetSink(out, { fsync: false, ...options })]);
  return report!;
}

export interface Duck {
  rows(sql: string): Promise<Array<Record<string, unknown>>>;
  close(): void;
}

/** An in-memory DuckDB; rows as JSON-friendly values (64-bit integers as decimal strings). */
export async function duck(): Promise<Duck> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  return {
    async rows(sql) {
      return (await connection.runAndReadAll(sql)).getRowObjectsJson() as Array<Record<string, unknown>>;
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** Files under `dir` whose names match. */
export function filesUnder(dir: string, match: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (match.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}
