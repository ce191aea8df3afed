// Consumer of one per-CPU buffer by read() of trace_pipe_raw: the path for
// kernels without tracefs mmap (< 6.10), and an alternative everywhere.
//
// Every read() returns one whole sub-buffer (kernel-abi.md §10.1): either
// the page itself swapped out of the ring, or a copy of the records the
// writer has committed so far. Pages are read in batches (one native call
// for many read()s) into a reusable buffer and decoded in place.

import fs from 'node:fs';
import { parseHeaderPage } from '../decode/format-file.js';
import { CpuBufferMissingError, WarningCode, type WarningHandler, emitProcessWarning, isSystemError } from '../errors.js';
import { PageStream } from '../layout/page-stream.js';
import type { RecordBatch } from '../layout/record.js';
import { type SubbufLayout, COMMIT_SIZE_MASK, commitWord, dataSize, hostSubbufLayout } from '../layout/subbuf.js';
import { STAGE_STATUS, type StageStatus, native } from '../native.js';
import { type CpuReader, type CpuReaderCounters, newCounters } from './cpu-reader.js';
import { LossLedger } from '../consumer/loss-ledger.js';
import type { TraceArray } from './trace-array.js';
import { openTracePipeRaw } from './trace-pipe-raw.js';

export interface ReadReaderOptions {
  onWarning?: WarningHandler;
  /** Bytes read per native call (rounded to whole sub-buffers); default 256 KiB. */
  readBytes?: number;
  /** Sub-buffers per batch (see PageStreamOptions.pagesPerBatch); default 1. */
  pagesPerBatch?: number;
  /** Losses up to this overrun value were accounted by a reader before this one (see MappedConsumerOptions.lossBaseline). */
  lossBaseline?: number;
}

/**
 * Sub-buffer size of the trace array's buffers: buffer_subbuf_size_kb
 * (since 6.8) and events/header_page (data offset + size), else one page.
 * The two come from the same kernel value; should they disagree, the
 * larger is used (and reported): a read() returns at most one sub-buffer,
 * so a larger buffer only gets a short read, a smaller one would split a
 * sub-buffer into pieces decoded as pages.
 */
export function arraySubbufSize(array: TraceArray, onWarning?: WarningHandler): number {
  const fromKb = array.exists('buffer_subbuf_size_kb') ? array.subbufSizeKb * 1024 : null;
  let fromHeader: number | null = null;
  try {
    fromHeader = parseHeaderPage(array.readText('events/header_page'), 'events/header_page').subbufSize;
  } catch {
    // unreadable or unexpected: buffer_subbuf_size_kb (or the page size) decides
  }
  if (fromKb === null || fromHeader === null || fromKb === fromHeader) return fromKb ?? fromHeader ?? native.pageSize;
  const size = Math.max(fromKb, fromHeader);
  onWarning?.({
    code: WarningCode.geometry,
    message: `${array.label}: buffer_subbuf_size_kb says ${fromKb} bytes, events/header_page ${fromHeader}: reading ${size}-byte sub-buffers`,
  });
  return size;
}

/** A staging ring a read() reader may fill itself, page by page in native code (ReadCpuReader.stageDirect). */
export interface DirectStagingTarget {
  /** The ring's whole shared memory. */
  readonly memory: Uint8Array;
  /** StagingRing.nativeDescriptor. */
  readonly descriptor: Int32Array;
  /** Byte offset of slot 0 in `memory`. */
  readonly dataOffset: number;
  /** This CPU's queue in the ring. */
  readonly queue: number;
  /** Pages with less data than this are handed off to the batch path (the coalescer joins them); 0 for none. */
  readonly minCommit: number;
}

/** What one ReadCpuReader.stageDirect() call did. */
export interface DirectStageResult {
  status: StageStatus;
  /** Pages staged and published. */
  pages: number;
  /** Their data bytes. */
  bytes: number;
  /** The output thread waits for what was published: wake it. */
  wake: boolean;
}

/** A CPU's kernel buffer read with read() of trace_pipe_raw (kernels without the mapping). */
export class ReadCpuReader implements CpuReader {
  readonly cpu: number;
  readonly mode = 'read' as const;
  readonly fd: number;
  readonly layout: SubbufLayout;
  readonly counters: CpuReaderCounters = newCounters();

  readonly #array: TraceArray;
  readonly #pages: PageStream;
  readonly #ledger: LossLedger;
  readonly #onWarning: WarningHandler;
  readonly #readBase: number;
  /**
   * A page with less data than this, read after another, is the one the
   * writer is on: the batch stops there (caughtUp) instead of chasing the
   * writer a few events per read(). Measured at 7 M events/s: a reader
   * that chased read 1.55 pages per page of data (2,680 of 4,080 bytes
   * each), each a syscall and, staged, a slot.
   */
  readonly #writerPageBytes: number;
  /** The last fill ended because the kernel had nothing more (not at the writer's page). */
  #foundEmpty = false;
  #fillView: DataView | null = null;
  #closed = false;
  /** A page stageDirect() handed off, for the next fill (the batch path takes it from there). */
  readonly #handoff: Uint8Array;
  #handoffPending = false;
  /** Sub-buffers staged by stageDirect(). */
  #directSubbufs = 0;
  /** The last read went through stageDirect(), and found the buffer empty or at the writer's page. */
  #directCaughtUp: boolean | null = null;
  /** The handed-off page is the writer's: the batch that delivers it ends the pump. */
  #handoffAtWriter = false;
  /** The last page stageDirect() read in this pump was small: a small one after it is the writer's. */
  #previousSmall = false;
  readonly #directOut = new Float64Array(7);
  readonly #directResult: DirectStageResult = { status: STAGE_STATUS.more, pages: 0, bytes: 0, wake: false };

  private constructor(array: TraceArray, cpu: number, fd: number, options: ReadReaderOptions) {
    this.#array = array;
    this.cpu = cpu;
    this.fd = fd;
    this.#onWarning = options.onWarning ?? emitProcessWarning;
    this.layout = hostSubbufLayout(arraySubbufSize(array, this.#onWarning));
    this.#writerPageBytes = Math.floor(dataSize(this.layout) / 2);
    this.#handoff = new Uint8Array(this.layout.subbufSize);
    const stats = array.cpuStats(cpu);
    this.#ledger = options.lossBaseline !== undefined ? LossLedger.from(options.lossBaseline) : new LossLedger(stats.overrun, stats.readEvents);
    this.#readBase = stats.readEvents;
    this.#pages = new PageStream(this.layout, cpu, (into, pageSize, max) => this.#fill(into, pageSize, max), {
      ...(options.readBytes === undefined ? {} : { readBytes: options.readBytes }),
      ...(options.pagesPerBatch === undefined ? {} : { pagesPerBatch: options.pagesPerBatch }),
      resolveLost: (reported) => {
        const n = this.#ledger.report(reported, () => this.#array.cpuStats(this.cpu).overrun);
        this.counters.lost = this.#ledger.total;
        return n;
      },
    });
  }

  /** Opens the reader of `cpu`. */
  static open(array: TraceArray, cpu: number, options: ReadReaderOptions = {}): ReadCpuReader {
    const fd = openTracePipeRaw(array, cpu);
    try {
      return new ReadCpuReader(array, cpu, fd, options);
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  }

  #fill(into: Uint8Array, pageSize: number, maxPages: number): number {
    this.#directCaughtUp = null;
    if (this.#handoffPending) return this.#fillAfterHandoff(into);
    this.#previousSmall = false;
    try {
      const pages = native.readPages(this.fd, into, pageSize, maxPages, this.#writerPageBytes, this.layout.longSize);
      this.#foundEmpty = pages < maxPages && (pages === 0 || this.#lastCommitBytes(into, (pages - 1) * pageSize) >= this.#writerPageBytes);
      return pages;
    } catch (error) {
      throw this.#readError(error);
    }
  }

  /**
   * The handed-off page, alone: after it the pump goes on with
   * stageDirect(), unless it is the writer's page, where the pump ends as
   * a batched read() ends there.
   */
  #fillAfterHandoff(into: Uint8Array): number {
    this.#handoffPending = false;
    into.set(this.#handoff);
    this.#foundEmpty = false;
    this.#directCaughtUp = this.#handoffAtWriter;
    if (this.#handoffAtWriter) this.#previousSmall = false;
    return 1;
  }

  #readError(error: unknown): unknown {
    if (isSystemError(error, 'ENODEV')) {
      return new CpuBufferMissingError(this.cpu, `CPU ${this.cpu} has no ring buffer (the CPU was never online)`, { cause: error });
    }
    return error;
  }

  /**
   * Stages up to `maxPages` sub-buffers into `target` without the batch
   * path: each is read() into a free slot and published there by native
   * code, its events counted the way walkRecords counts them. Stops at a
   * page the batch path must take (a loss report, an inconsistent page, a
   * page below `minCommit`: the next next() returns it), when the
   * ring has no free slot, or as read() does (nothing more, the writer's
   * page). Only when nothing is buffered: pages stay in order.
   */
  stageDirect(target: DirectStagingTarget, maxPages: number, minCommit = target.minCommit): DirectStageResult {
    const result = this.#directResult;
    result.pages = result.bytes = 0;
    result.wake = false;
    if (this.#closed || this.buffered > 0) {
      result.status = STAGE_STATUS.handoff;
      return result;
    }
    const out = this.#directOut;
    let status: StageStatus;
    try {
      status = native.stagePages(
        this.fd,
        target.memory,
        target.descriptor,
        target.queue,
        maxPages,
        this.#writerPageBytes,
        minCommit,
        this.layout.longSize,
        !this.#previousSmall,
        out,
      );
    } catch (error) {
      throw this.#readError(error);
    }
    const pages = out[0]!;
    result.status = status;
    result.pages = pages;
    result.bytes = out[2]!;
    result.wake = out[4] === 1;
    this.#directSubbufs += pages;
    this.counters.nativeStaged = this.#directSubbufs;
    this.counters.subbufs = this.#pages.subbufs + this.#directSubbufs;
    this.counters.events += out[1]!;
    this.counters.bytes += result.bytes;
    if (out[6]! >= 0) this.#previousSmall = out[6]! < this.#writerPageBytes;
    if (status === STAGE_STATUS.handoff) {
      const at = target.dataOffset + out[3]! * this.layout.subbufSize;
      this.#handoff.set(target.memory.subarray(at, at + this.layout.subbufSize));
      this.#handoffPending = true;
      this.#handoffAtWriter = out[5] === 1;
      this.#directCaughtUp = false;
    } else if (status === STAGE_STATUS.empty || status === STAGE_STATUS.writer || status === STAGE_STATUS.more) {
      this.#foundEmpty = status === STAGE_STATUS.empty;
      this.#directCaughtUp = status !== STAGE_STATUS.more;
      // The pump ends here: the next one starts with a page read in part, maybe.
      if (this.#directCaughtUp) this.#previousSmall = false;
    }
    return result;
  }

  /** Data bytes of the page at `offset` of the fill buffer (one view of it, not one per fill). */
  #lastCommitBytes(into: Uint8Array, offset: number): number {
    if (this.#fillView?.buffer !== into.buffer || this.#fillView.byteOffset !== into.byteOffset) this.#fillView = new DataView(into.buffer, into.byteOffset, into.byteLength);
    return commitWord(this.#fillView, offset, this.layout) & COMMIT_SIZE_MASK;
  }

  next(): RecordBatch | null {
    if (this.#closed) return null;
    const batch = this.#pages.next();
    if (batch === null) return null;
    this.counters.subbufs = this.#pages.subbufs + this.#directSubbufs;
    this.counters.events += batch.count;
    this.counters.bytes += batch.byteLength;
    if (batch.corrupt !== null) {
      this.counters.corrupt++;
      this.#onWarning({
        code: WarningCode.corruptSubbuf,
        cpu: this.cpu,
        message: `CPU ${this.cpu}: ${batch.corrupt.message}; dropped the rest of the page`,
      });
    }
    return batch;
  }

  /** The sub-buffers the last next() returned, exactly as read() delivered them (valid until the next call). */
  get lastPages(): Uint8Array {
    return this.#pages.lastPages;
  }

  /** The last batched read found the buffer empty before it was full, and all of it was delivered. */
  get caughtUp(): boolean {
    if (this.#handoffPending) return false;
    return this.#directCaughtUp ?? this.#pages.caughtUp;
  }

  get buffered(): number {
    return this.#pages.buffered + (this.#handoffPending ? 1 : 0);
  }

  /** The overrun counter value up to which this reader has accounted losses (for a reader taking over). */
  get lossAccountedTo(): number {
    return this.#ledger.accountedTo;
  }

  finish(): void {
    if (this.#closed) return;
    let stats;
    try {
      stats = this.#array.cpuStats(this.cpu);
    } catch {
      return;
    }
    this.#ledger.settle(stats.overrun);
    this.counters.lost = this.#ledger.total + this.#uncountedLoss(stats.entries);
    this.counters.dropped = stats.droppedEvents;
    const extra = stats.readEvents - this.#readBase - this.counters.events;
    if (extra > 0 && this.counters.corrupt === 0 && this.counters.resets === 0) {
      this.counters.consumedElsewhere = extra;
      this.#onWarning({
        code: WarningCode.concurrentReader,
        cpu: this.cpu,
        message: `CPU ${this.cpu} of the ${this.#array.label}: another consumer took ${extra} events from this buffer`,
      });
    }
  }

  /**
   * Events the kernel still counts in a buffer that is empty. Its `entries`
   * is written - overrun - read; after an overwriting run it can stay above
   * zero though the last read found nothing, with tracing off (seen on 6.18:
   * 25-41 events in 1 run of 4, at 7-8 M events/s with 2-4% overwritten):
   * the overrun counter missed events that were overwritten. They were
   * lost; counting them keeps delivered + lost = written. Only when that is
   * certain: the last read() found the buffer empty and nothing writes.
   */
  #uncountedLoss(entries: number): number {
    if (entries <= 0 || !this.#foundEmpty || !this.caughtUp || this.buffered > 0) return 0;
    try {
      if (this.#array.tracingOn) return 0;
    } catch {
      return 0;
    }
    this.#onWarning({
      code: WarningCode.uncountedLoss,
      cpu: this.cpu,
      message: `CPU ${this.cpu} of the ${this.#array.label}: the kernel counts ${entries} events in a buffer that holds none (overwritten without being counted as overrun); counted as lost`,
    });
    return entries;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    fs.closeSync(this.fd);
  }
}

