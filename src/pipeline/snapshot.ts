// writeSnapshot(): drain a trace array into a recording directory laid out
// like tracefs (what `tracering snapshot` does), through the pipeline: read()
// keeps the pages exactly as the kernel formats them, the recording-
// directory sink writes DIR.tmp and renames it when complete.

import type { WarningHandler } from '../errors.js';
import type { TraceArray } from '../kernel/trace-array.js';
import { SnapshotSink } from '../sinks/snapshot-sink.js';
import { record } from './record.js';

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
  /** Event formats stored. */
  formats: number;
}

/** Consumes every CPU buffer of `array` into `dir` (new, or empty). Settings are left alone. */
export async function writeSnapshot(array: TraceArray, dir: string, options: SnapshotOptions): Promise<SnapshotSummary> {
  const sink = new SnapshotSink(dir, options.kallsyms === false ? { kallsyms: false } : {});
  const summary = await record({
    tracefs: options.tracefsRoot,
    ...(array.name === null ? { topLevel: true } : { instance: array.name }),
    drain: true,
    mode: 'read',
    sinks: [sink],
    staging: { policy: 'block' },
    ...(options.onWarning !== undefined ? { onWarning: options.onWarning } : {}),
  });
  return {
    dir: sink.path,
    cpus: summary.cpus.map((c) => ({ cpu: c.cpu, events: c.events, subbufs: c.subbufs, lost: c.lost })),
    formats: sink.formats,
  };
}
