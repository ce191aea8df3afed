// Which sink writes a given output: by the path's extension (or an
// explicit format). record, convert and report share this table; each
// format registers itself here.

import fs from 'node:fs';
import { extname } from 'node:path';
import { TraceringError } from '../errors.js';
import type { TraceSink } from './sink.js';
import { SnapshotSink } from './snapshot-sink.js';

/** The output formats sinks write. */
export type OutputKind = 'trace.dat' | 'snapshot' | 'perfetto' | 'parquet' | 'text' | 'json';

/** Options the sink factories take. */
export interface SinkOptions {
  /** trace.dat version (default 7). */
  fileVersion?: 6 | 7;
  /** trace.dat compression (default: zstd where this Node has it, else none). */
  compression?: 'zstd' | 'none';
  /** Store kallsyms in the output (default true). */
  kallsyms?: boolean;
  /** Parquet: rotate segments at this size / age. */
  segmentMb?: number;
  segmentS?: number;
  /** Parquet: the host name the rows carry (default the machine's). */
  host?: string;
  /** Things to tell a person (a fallback taken). */
  onNote?: (note: string) => void;
}

/** Makes the sink of an output kind. */
export type SinkFactory = (path: string, options: SinkOptions) => TraceSink | Promise<TraceSink>;

const factories = new Map<OutputKind, SinkFactory>([['snapshot', (path, o) => new SnapshotSink(path, o.kallsyms === false ? { kallsyms: false } : {})]]);

/** Registers the factory of an output kind (formats plug in here). */
export function registerSink(kind: OutputKind, factory: SinkFactory): void {
  factories.set(kind, factory);
}

/** The output kind a path names: its extension, or a directory. */
export function outputKindOf(path: string, format?: string): OutputKind {
  if (format !== undefined) {
    const f = format.toLowerCase();
    if (f === 'dat' || f === 'trace.dat' || f === 'tracedat') return 'trace.dat';
    if (f === 'perfetto' || f === 'pftrace' || f === 'perfetto-trace') return 'perfetto';
    if (f === 'parquet') return 'parquet';
    if (f === 'snapshot' || f === 'dir' || f === 'directory') return 'snapshot';
    if (f === 'text' || f === 'txt') return 'text';
    if (f === 'json' || f === 'jsonl') return 'json';
    throw new TraceringError('ERR_INVALID_ARG_VALUE', `unknown output format ${JSON.stringify(format)} (dat, perfetto, parquet, snapshot, text, json)`);
  }
  const ext = extname(path).toLowerCase();
  if (ext === '.dat') return 'trace.dat';
  if (ext === '.perfetto-trace' || ext === '.pftrace') return 'perfetto';
  if (ext === '.parquet') return 'parquet';
  if (ext === '.txt') return 'text';
  if (ext === '.json' || ext === '.jsonl' || ext === '.ndjson') return 'json';
  let isDir = false;
  try {
    isDir = fs.statSync(path).isDirectory();
  } catch {
    // a new path
  }
  if (isDir || path.endsWith('/') || ext === '') return 'snapshot';
  throw new TraceringError(
    'ERR_INVALID_ARG_VALUE',
    `cannot tell the output format of ${path}: use .dat (trace.dat), .perfetto-trace/.pftrace, a directory, .txt or .json, or --format`,
  );
}

/** The sink for output `kind` at `path`. */
export async function createSink(kind: OutputKind, path: string, options: SinkOptions = {}): Promise<TraceSink> {
  const factory = factories.get(kind);
  if (factory === undefined) throw new TraceringError('ERR_UNSUPPORTED', `writing ${kind} output is not available in this build`);
  return factory(path, options);
}
