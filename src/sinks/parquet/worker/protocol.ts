// Messages between the sink's host side (the thread that owns the input's
// cursors) and its worker. Everything is structured-cloneable; page bytes
// travel as transferred ArrayBuffers.

import type { SubbufLayout } from '../../../layout/subbuf.js';
import type { ClockPair, MachineInfo, SinkEnd, SinkReport } from '../../sink.js';
import type { ParquetWriterOptions } from '../parquet-sink.js';
import type { SourceSnapshot } from './memory-source.js';

export interface WorkerInput {
  readonly dir: string;
  readonly options: ParquetWriterOptions;
  readonly live: boolean;
  readonly label: string;
  readonly machine: MachineInfo;
  readonly clockPairs: readonly ClockPair[];
  readonly root: SourceSnapshot;
  readonly buffers: ReadonlyArray<{
    readonly name: string;
    readonly clock: string;
    readonly layout: SubbufLayout;
    readonly cpus: readonly number[];
    readonly startStats: ReadonlyArray<readonly [number, string]>;
    readonly files: SourceSnapshot;
  }>;
  readonly rings: ReadonlyArray<{
    readonly name: string;
    readonly path: string;
    readonly cpu: number;
    readonly layout: SubbufLayout;
    readonly writerPid: number;
    readonly writerTid: number;
    readonly formats: SourceSnapshot;
  }>;
}

/** Whole sub-buffers of one source (index: buffers' CPUs in order, then rings). */
export interface WireRun {
  readonly source: number;
  readonly bytes: ArrayBuffer;
  readonly pages: number;
  readonly lostBefore: number;
}

/** Fresher copies of files that change while a live input runs. */
export interface FileUpdates {
  readonly root?: Record<string, string | null>;
  /** Per buffer (by index). */
  readonly buffers?: ReadonlyArray<Record<string, string | null>>;
  /** New format snapshots of rings that defined events (by index). */
  readonly rings?: ReadonlyArray<SourceSnapshot | null>;
}

export type ToWorker =
  | { readonly type: 'data'; readonly runs: readonly WireRun[]; readonly files: FileUpdates | null; readonly bytes: number }
  | { readonly type: 'close'; readonly end: SinkEnd; readonly files: FileUpdates | null }
  | { readonly type: 'abort'; readonly reason: string };

export interface WireError {
  readonly name: string;
  readonly code: string | null;
  readonly message: string;
}

export type FromWorker =
  | { readonly type: 'opened'; readonly run: string }
  /** `written`: the writer's bytesWritten after taking these pages. */
  | { readonly type: 'consumed'; readonly bytes: number; readonly written: number }
  | { readonly type: 'closed'; readonly report: SinkReport }
  | { readonly type: 'aborted' }
  | { readonly type: 'warning'; readonly code: string; readonly message: string; readonly cpu?: number }
  | { readonly type: 'error'; readonly error: WireError };

export function toWire(error: unknown): WireError {
  const e = error instanceof Error ? error : new Error(String(error));
  const code = (e as { code?: unknown }).code;
  return { name: e.name, code: typeof code === 'string' ? code : null, message: e.message };
}
