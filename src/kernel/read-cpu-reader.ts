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
import { native } from '../native.js';
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

  private constructor(array: TraceArray, cpu: number, fd: number, options: ReadReaderOptions) {
    this.#array = array;
    this.cpu = cpu;
    this.fd = fd;
    this.#onWarning = options.onWarning ?? emitProcessWarning;
    this.layout = hostSubbufLayout(arraySubbufSize(array, this.#onWarning));
    this.#writerPageBytes = Math.floor(dataSize(this.layout) / 2);
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
    try {
      const pages = native.readPages(this.fd, into, pageSize, maxPages, this.#writerPageBytes, this.layout.longSize);
      this.#foundEmpty = pages < maxPages && (pages === 0 || this.#lastCommitBytes(into, (pages - 1) * pageSize) >= this.#writerPageBytes);
      return pages;
    } catch (error) {
      if (isSystemError(error, 'ENODEV')) {
        throw new CpuBufferMissingError(this.cpu, `CPU ${this.cpu} has no ring buffer (the CPU was never online)`, {
          cause: error,
        });
      }
      throw error;
    }
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
    this.counters.subbufs = this.#pages.subbufs;
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
    return this.#pages.caughtUp;
  }

  get buffered(): number {
    return this.#pages.buffered;
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

