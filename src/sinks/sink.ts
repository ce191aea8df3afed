// The one interface every output format implements (kernel text, JSON
// Lines, trace.dat, a snapshot directory, Perfetto, Parquet) and that
// record, convert, report and stream share.
//
// A sink pulls. The pipeline opens it with a SinkInput: per-CPU cursors over
// whatever the data is (a live capture's staging ring, a trace.dat, a
// recording directory), the metadata as a virtual tracefs, and a shared
// decode context. Then it calls consume() whenever the cursors hold more
// (once, for a file), and close() when the input has ended. A sink reads
// decoded batches (cursor.next()) or whole kernel-format sub-buffers
// (cursor.nextPages()), never both from one cursor.
//
// Data a cursor returned stays valid until the consume() call that returned
// it has settled: a sink that needs it later copies it.

import type { CpuReaderCounters } from '../consumer/counters.js';
import type { FormatSource } from '../decode/registry.js';
import type { WarningHandler } from '../errors.js';
import type { BatchSource } from '../layout/batch-source.js';
import type { SubbufLayout } from '../layout/subbuf.js';
import type { DecodeContext } from '../output/decode-context.js';

/** Whole sub-buffers of one CPU, in the kernel's format. */
export interface PageRun {
  /** `pages` sub-buffers of `layout.subbufSize` bytes each. */
  readonly bytes: Uint8Array;
  readonly pages: number;
  /**
   * Events lost just before the first sub-buffer (0 none, n, -1 unknown):
   * the kernel's count (its header flags say so too) plus any the pipeline
   * itself dropped. A run never carries a loss past its first sub-buffer.
   */
  readonly lostBefore: number;
  /** Data records in the run. */
  readonly events: number;
}

/** One CPU's data (or one application ring's), as a sink reads it. */
export interface CpuCursor extends BatchSource {
  /** The CPU number (rings get numbers after the kernel's CPUs). */
  readonly cpu: number;
  readonly layout: SubbufLayout;
  /** The next whole sub-buffers, or null when there are none (now, or ever for a file). */
  nextPages(): PageRun | null;
}

/** One kernel trace buffer: the top level ('') or an instance. */
export interface BufferInput {
  /** '' for the top-level buffer, else the instance name. */
  readonly name: string;
  /** The trace clock its timestamps count in. */
  readonly clock: string;
  readonly layout: SubbufLayout;
  readonly cpus: readonly CpuCursor[];
  /** This buffer's files: events/<system>/<event>/format, trace_clock, options/. */
  readonly files: FormatSource;
  /** Each CPU's `stats` file text when the input started (null if unknown). */
  readonly startStats: ReadonlyMap<number, string>;
}

/** An application ring recorded beside the kernel's buffers. */
export interface RingInput {
  /** The ring's name (its file name without directory). */
  readonly name: string;
  readonly path: string;
  readonly cursor: CpuCursor;
  /** Its schemas, as kernel format files. */
  readonly formats: FormatSource;
  /** The writer's process and thread (0 when unknown). */
  readonly writerPid: number;
  readonly writerTid: number;
}

/** Facts about the machine the data comes from. */
export interface MachineInfo {
  /** uname: sysname, nodename, release, machine. */
  readonly sysname: string;
  readonly hostname: string;
  readonly release: string;
  readonly machine: string;
  /** /proc/sys/kernel/random/boot_id ('' when unknown). */
  readonly bootId: string;
  readonly onlineCpus: number;
  readonly littleEndian: boolean;
  /** The kernel's `long` size. */
  readonly longSize: 4 | 8;
}

/** A reading of the trace clock and of the system clocks at one instant (ns). */
export interface ClockPair {
  /** The trace clock's name. */
  readonly clock: string;
  readonly traceNs: bigint;
  readonly bootNs: bigint;
  readonly monoNs: bigint;
  readonly realtimeNs: bigint;
}

/** What a sink reads: per-CPU cursors, the metadata as a virtual tracefs, a shared decode context. */
export interface SinkInput {
  /** Data is still arriving (a capture), or the input is complete (a file). */
  readonly live: boolean;
  /** Where the data comes from, for messages. */
  readonly label: string;
  readonly buffers: readonly BufferInput[];
  readonly rings: readonly RingInput[];
  /**
   * Root-level files as a virtual tracefs: events/header_page,
   * events/header_event, saved_cmdlines, saved_tgids, printk_formats,
   * kernel_constants. For a live capture these are read when asked, so
   * saved_cmdlines asked at close() is as late as possible.
   */
  readonly files: FormatSource;
  /** /proc/kallsyms (or the recording's), gzip or text, if there is one. */
  kallsyms(): Uint8Array | null;
  /** The decode context of a buffer (default the first), with the rings' formats; loaded once, shared by sinks. */
  context(buffer?: BufferInput): DecodeContext;
  readonly machine: MachineInfo;
  /** Clock readings taken when the input started (and at the end: SinkEnd). */
  readonly clockPairs: readonly ClockPair[];
  readonly onWarning: WarningHandler;
}

/** Counters of one CPU at the end. */
export interface CpuEnd {
  readonly cpu: number;
  /** The CPU's `stats` file text at the end (null if unknown). */
  readonly stats: string | null;
  /** What the reader saw (events, lost = kernel overwrites, dropped...). */
  readonly counters: Readonly<CpuReaderCounters>;
  /** Events the pipeline itself dropped (the output was slower than the kernel for too long). */
  readonly stagingLost: number;
}

/** Why an input ended. */
export type EndReason = 'end-of-input' | 'duration' | 'signal' | 'command-exited' | 'drained' | 'error';

/** What a sink is told at the end: the reason and the final counters. */
export interface SinkEnd {
  readonly reason: EndReason;
  readonly buffers: ReadonlyArray<{ readonly name: string; readonly cpus: readonly CpuEnd[] }>;
  /** Application rings: events delivered and lost. */
  readonly rings: ReadonlyArray<{ readonly name: string; readonly events: number; readonly lost: number }>;
  readonly clockPairs: readonly ClockPair[];
}

/** What a sink wrote. */
export interface SinkReport {
  /** The sink's kind ('text', 'json', 'trace.dat', ...). */
  readonly kind: string;
  /** The file or directory written, or null (stdout). */
  readonly path: string | null;
  /** Bytes written. */
  readonly bytes: number;
  /** Events written. */
  readonly events: number;
  /** Things a person should know (a fallback taken, say). */
  readonly notes: readonly string[];
}

/** The interface every output format implements: open, consume what the cursors hold, close (or abort). */
export interface TraceSink {
  /** 'text', 'json', 'trace.dat', 'snapshot', 'perfetto', 'parquet'. */
  readonly kind: string;
  /** Bytes written so far, for progress displays (optional). */
  readonly bytesWritten?: number;
  /** Before any data. May reject (the output cannot be created). */
  open(input: SinkInput): void | Promise<void>;
  /**
   * Takes what the cursors hold now. The promise settles when the sink can
   * take more (a slow output holds the pipeline here: backpressure).
   */
  consume(): void | Promise<void>;
  /** The input has ended and everything was consumed: finish the output and make it visible. */
  close(end: SinkEnd): Promise<SinkReport>;
  /** Something failed, or the process must exit now: remove partial output. Idempotent. */
  abort(reason: unknown): void | Promise<void>;
}
