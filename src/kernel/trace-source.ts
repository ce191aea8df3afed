// All CPUs of one trace array at once: opens a reader per CPU that has a
// buffer, drains them, or streams them as data arrives.

import {
  ClosedError,
  CpuBufferMissingError,
  MmapUnsupportedError,
  WarningCode,
  type WarningHandler,
  emitProcessWarning,
} from '../errors.js';
import type { RecordBatch } from '../layout/record.js';
import { dataSize } from '../layout/subbuf.js';
import { POLL_READABLE, native, type NativePoller } from '../native.js';
import { type CpuReader, type CpuReaderCounters, type ReaderMode, addCounters, newCounters } from './cpu-reader.js';
import { MappedCpuReader } from './mapped-cpu-reader.js';
import { ReadCpuReader } from './read-cpu-reader.js';
import type { TraceArray } from './trace-array.js';
import { warnOtherConsumers } from './trace-pipe-raw.js';

/** Which reader to open: 'mmap', 'read', or 'auto' (mmap where the kernel has it). */
export type ModeChoice = 'auto' | ReaderMode;

/** Options of the per-CPU readers. */
export interface CpuReaderOptions {
  mode?: ModeChoice;
  onWarning?: WarningHandler;
  /** read mode: bytes per native read call. */
  readBytes?: number;
  /** read mode: sub-buffers per batch (default 1). */
  pagesPerBatch?: number;
  /** Losses up to this overrun value were accounted by an earlier reader of the buffer (a path switch). */
  lossBaseline?: number;
}

/**
 * Opens one CPU's reader. 'auto' maps when the kernel can (6.10+) and falls
 * back to read() with a warning when it cannot.
 */
export function openCpuReader(array: TraceArray, cpu: number, options: CpuReaderOptions = {}): CpuReader {
  const mode = options.mode ?? 'auto';
  const onWarning = options.onWarning ?? emitProcessWarning;
  const baseline = options.lossBaseline === undefined ? {} : { lossBaseline: options.lossBaseline };
  if (mode === 'read') return ReadCpuReader.open(array, cpu, { onWarning, ...baseline, ...readOptions(options) });
  try {
    return MappedCpuReader.open(array, cpu, { onWarning, ...baseline });
  } catch (error) {
    if (mode === 'mmap' || !(error instanceof MmapUnsupportedError)) throw error;
    onWarning({ code: WarningCode.mmapFallback, cpu, message: `${error.message}; reading with read() instead` });
    return ReadCpuReader.open(array, cpu, { onWarning, ...baseline, ...readOptions(options) });
  }
}

function readOptions(options: CpuReaderOptions): { readBytes?: number; pagesPerBatch?: number } {
  return {
    ...(options.readBytes === undefined ? {} : { readBytes: options.readBytes }),
    ...(options.pagesPerBatch === undefined ? {} : { pagesPerBatch: options.pagesPerBatch }),
  };
}

/** Options of TraceSource.open(). */
export interface TraceSourceOptions extends CpuReaderOptions {
  /** CPUs to read; default every CPU with a buffer. */
  cpus?: readonly number[];
  /** Look for other processes consuming these buffers and warn (default true). */
  checkConsumers?: boolean;
}

/** Receives each batch of records a reader delivers (views valid only during the call). */
export type BatchHandler = (batch: RecordBatch, reader: CpuReader) => void;

/**
 * A way to take pages out of a reader without making batches of them (the
 * capture thread's native staging), up to `maxPages`: returns what it took
 * and why it stopped.
 */
export type DirectPump = (reader: CpuReader, maxPages: number) => DirectPumpResult;

export interface DirectPumpResult {
  pages: number;
  bytes: number;
  /**
   * 'empty': the kernel had nothing more; 'writer': stopped at the page the
   * writer is on; 'more': took maxPages (or must be called again);
   * 'handoff': the reader's next batch is a page only the batch path may
   * take; 'unable': it cannot take pages of this reader now (batches for
   * the rest of the pump).
   */
  end: 'empty' | 'writer' | 'more' | 'handoff' | 'unable';
}

/** Pages one DirectPump call may take: a pump's bound is checked between calls. */
const DIRECT_PAGES = 64;

/** Options of TraceSource.stream(). */
export interface StreamOptions extends WatchTiming {
  onBatch: BatchHandler;
  /** Takes clean pages past onBatch where it can (see DirectPump). */
  direct?: DirectPump;
}

export interface WatchOptions extends WatchTiming {
  /** A CPU signalled readiness (reader), or the flush interval passed (null). */
  onReady: (reader: CpuReader | null) => void;
}

export interface WatchTiming {
  signal?: AbortSignal;
  /** Stop after this long (then drain what is left). */
  durationMs?: number;
  /** Pick up data below the kernel's wake-up watermark at least this often. Default 100 ms. */
  flushIntervalMs?: number;
  /**
   * After a wake-up that delivered less than half a sub-buffer, leave that
   * CPU unpolled for this long. A consumer whose own work generates events
   * (syscall tracing, buffer_percent 0) would otherwise wake itself for
   * every event it causes. Default 10 ms.
   */
  quietWakeDelayMs?: number;
}

/** What a TraceSource delivered: counters per CPU and in total. */
export interface SourceSummary {
  cpus: Array<{ cpu: number } & CpuReaderCounters>;
  total: CpuReaderCounters;
  /** Readiness wake-ups handled while streaming. */
  wakeups: number;
}

/**
 * Reads one CPU until it is empty or caught up; returns the data bytes
 * consumed. A writer that outruns the consumer (its own traced activity)
 * is cut off after a few buffers' worth of sub-buffers (`capacity`: the
 * buffer's size in batches). A `complete` pump (a drain: nothing may
 * follow) also hands over everything the reader already took from the
 * kernel, which counts it as read: left behind, it would be lost.
 * Sub-buffers fetched before it do not count against it.
 */
export function pumpReader(reader: CpuReader, onBatch: BatchHandler | undefined, capacity: number, complete = false, direct?: DirectPump): number {
  let bytes = 0;
  const limit = 4 * capacity + 8;
  let earlier = complete ? reader.buffered : 0;
  let useDirect = direct !== undefined;
  for (let n = 0; n < limit || (complete && reader.buffered > 0); ) {
    if (useDirect && reader.buffered === 0 && n < limit) {
      const taken = direct!(reader, Math.min(DIRECT_PAGES, limit - n));
      n += taken.pages;
      bytes += taken.bytes;
      if (taken.end === 'empty' || (taken.end === 'writer' && !complete)) break;
      if (taken.end === 'unable') useDirect = false;
      else if (taken.end !== 'handoff') continue;
      // A page only the batch path may take, or no direct path for the rest of this pump: a batch.
    }
    // "Caught up" after an earlier fetch is old news: read on.
    const fetchedEarlier = earlier > 0;
    if (fetchedEarlier) earlier--;
    else n++;
    const batch = reader.next();
    if (batch === null) break;
    bytes += batch.byteLength;
    onBatch?.(batch, reader);
    // A read() reader also stops at the writer's page: a complete pump reads on to the kernel's "nothing more".
    if (reader.caughtUp && !fetchedEarlier && !(complete && reader.mode === 'read')) break;
  }
  return bytes;
}

/** The buffer's size in batches of `reader` (mapped: its sub-buffers; read(): estimated from the stats). */
export function capacityInBatches(array: TraceArray, reader: CpuReader): number {
  if (reader instanceof MappedCpuReader) return reader.nrSubbufs;
  try {
    return Math.ceil(array.cpuStats(reader.cpu).bytes / dataSize(reader.layout)) + 1;
  } catch {
    return 1024;
  }
}

/** Every CPU's buffer of a trace array, read together (streamed on readiness, or drained). */
export class TraceSource {
  readonly array: TraceArray;
  readonly readers: readonly CpuReader[];
  /** CPUs listed in per_cpu that have no buffer (never online). */
  readonly missingCpus: readonly number[];
  readonly #onWarning: WarningHandler;
  #wakeups = 0;
  #closed = false;
  /** Ends the active stream() (closing the source while streaming ends it). */
  #endStream: (() => void) | null = null;

  private constructor(array: TraceArray, readers: CpuReader[], missing: number[], onWarning: WarningHandler) {
    this.array = array;
    this.readers = readers;
    this.missingCpus = missing;
    this.#onWarning = onWarning;
  }

  /** Opens a reader for every CPU of `array`. */
  static open(array: TraceArray, options: TraceSourceOptions = {}): TraceSource {
    const onWarning = options.onWarning ?? emitProcessWarning;
    const cpus = options.cpus ?? array.cpus();
    const readers: CpuReader[] = [];
    const missing: number[] = [];
    let mode = options.mode ?? 'auto';
    try {
      for (const cpu of cpus) {
        try {
          const reader = openCpuReader(array, cpu, { ...options, mode, onWarning });
          // One fallback decision for all CPUs: later CPUs go straight to it.
          mode = reader.mode;
          readers.push(reader);
        } catch (error) {
          if (error instanceof CpuBufferMissingError && options.cpus === undefined) missing.push(cpu);
          else throw error;
        }
      }
      if (options.checkConsumers !== false) warnOtherConsumers(array, readers.map((r) => r.cpu), onWarning);
    } catch (error) {
      for (const r of readers) r.close();
      throw error;
    }
    return new TraceSource(array, readers, missing, onWarning);
  }

  get mode(): ReaderMode | null {
    return this.readers[0]?.mode ?? null;
  }

  /**
   * Consumes what every CPU buffer holds now: each CPU until it is empty or
   * its reader has caught up with the writer. A consumer whose own activity
   * is traced never sees an empty buffer; a batch limit of a few buffer
   * capacities bounds it even if the writer outruns it.
   */
  drain(onBatch?: BatchHandler): void {
    this.#drain(onBatch);
  }

  #drain(onBatch?: BatchHandler, direct?: DirectPump): void {
    for (const reader of this.readers) this.#pump(reader, onBatch, true, direct);
  }

  #pump(reader: CpuReader, onBatch?: BatchHandler, complete = false, direct?: DirectPump): number {
    return pumpReader(reader, onBatch, capacityInBatches(this.array, reader), complete, direct);
  }

  /** Streams every CPU until `durationMs` passes or `signal` aborts, then drains what is left. */
  async stream(options: StreamOptions): Promise<void> {
    const { onBatch, direct } = options;
    const ended = await this.watch({
      ...options,
      onReady: (reader) => {
        if (reader !== null) this.#pump(reader, onBatch, false, direct);
        else for (const r of this.readers) this.#pump(r, onBatch, false, direct);
      },
    });
    if (ended === 'stopped') this.#drain(onBatch, direct);
  }

  /**
   * The event-loop side of streaming: calls `onReady(reader)` when a CPU's
   * buffer signals readiness (the kernel's buffer_percent watermark), and
   * `onReady(null)` every flush interval to pick up data below the
   * watermark. `onReady` consumes what it wants. Resolves with 'stopped'
   * when the duration passes or the signal aborts, 'closed' when the source
   * is closed meanwhile; rejects with what `onReady` throws.
   */
  watch(options: WatchOptions): Promise<'stopped' | 'closed'> {
    const flushMs = options.flushIntervalMs ?? 100;
    const quietMs = options.quietWakeDelayMs ?? 10;
    const { onReady, signal } = options;
    const usePoll = !this.#blockOptionSet();

    return new Promise((resolve, reject) => {
      const pollers: NativePoller[] = [];
      const timers = new Set<NodeJS.Timeout>();
      let done = false;

      const stop = () => {
        done = true;
        this.#endStream = null;
        for (const p of pollers) p.close();
        for (const t of timers) clearTimeout(t);
        clearInterval(flushTimer);
        signal?.removeEventListener('abort', onAbort);
      };
      const finish = (error?: unknown) => {
        if (done) return;
        stop();
        if (error !== undefined) reject(error);
        else resolve('stopped');
      };
      const guarded = (fn: () => void) => () => {
        if (done) return;
        try {
          fn();
        } catch (error) {
          finish(error);
        }
      };
      const onAbort = () => finish();
      if (this.#closed || this.#endStream !== null) {
        reject(new ClosedError(this.#closed ? 'the trace source is closed' : 'the trace source is already streaming'));
        return;
      }
      this.#endStream = () => {
        if (done) return;
        stop();
        resolve('closed');
      };

      const flushTimer = setInterval(
        guarded(() => onReady(null)),
        flushMs,
      );
      if (usePoll) {
        for (const reader of this.readers) {
          const poller: NativePoller = new native.Poller(reader.fd, (status) =>
            guarded(() => {
              if (status < 0) throw new Error(`poll on CPU ${reader.cpu} failed (${status})`);
              this.#wakeups++;
              const before = reader.counters.bytes;
              onReady(reader);
              // A wake-up that brought little is likely our own doing: hold off.
              if (reader.counters.bytes - before < reader.layout.subbufSize / 2) {
                poller.stop();
                const t = setTimeout(() => {
                  timers.delete(t);
                  if (!done) poller.start(POLL_READABLE);
                }, quietMs);
                timers.add(t);
              }
            })(),
          );
          pollers.push(poller);
          poller.start(POLL_READABLE);
        }
      }
      if (options.durationMs !== undefined) {
        const t = setTimeout(() => finish(), options.durationMs);
        timers.add(t);
      }
      if (signal) {
        if (signal.aborted) finish();
        else signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  // With the instance option `block` set, poll() always reports readable.
  #blockOptionSet(): boolean {
    try {
      if (!this.array.option('block')) return false;
    } catch {
      return false;
    }
    this.#onWarning({
      code: WarningCode.blockOption,
      message: `option "block" is set on the ${this.array.label}: readiness is always signalled, so streaming falls back to the flush timer`,
    });
    return true;
  }

  /** Settles every reader's accounting and returns the per-CPU and total figures. */
  finish(): SourceSummary {
    const cpus = this.readers.map((r) => {
      r.finish();
      return { cpu: r.cpu, ...r.counters };
    });
    const total = newCounters();
    for (const c of cpus) {
      addCounters(total, c);
    }
    return { cpus, total, wakeups: this.#wakeups };
  }

  get wakeups(): number {
    return this.#wakeups;
  }

  /** Closes every reader (unmaps, closes the files). */
  close(): void {
    if (this.#closed) return;
    this.#endStream?.();
    this.#closed = true;
    let first: unknown;
    for (const r of this.readers) {
      try {
        r.close();
      } catch (error) {
        first ??= error;
      }
    }
    if (first !== undefined) throw first;
  }

  /** close(), for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
