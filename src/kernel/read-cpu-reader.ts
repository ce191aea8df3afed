// Consumer of one per-CPU buffer by read() of trace_pipe_raw: the path for
// kernels without tracefs mmap (< 6.10), and an alternative everywhere.
//
// Every read() returns one whole sub-buffer (kernel-abi.md §10.1): either
// the page itself swapped out of the ring, or a copy of the records the
// writer has committed so far. Pages are read in batches (one native call
// for many read()s) into a reusable buffer and decoded in place.

import fs from 'node:fs';
import { CpuBufferMissingError, WarningCode, type WarningHandler, emitProcessWarning, isSystemError } from '../errors.js';
import { RecordBatch, WalkState, maxRecords, walkRecords } from '../layout/record.js';
import {
  type SubbufLayout,
  dataSize,
  hostSubbufLayout,
  newSubbufHeader,
  readSubbufHeader,
} from '../layout/subbuf.js';
import { CorruptSubbufError } from '../errors.js';
import { native } from '../native.js';
import { type CpuReader, type CpuReaderCounters, newCounters } from './cpu-reader.js';
import { LossLedger } from './loss-ledger.js';
import type { TraceArray } from './trace-array.js';
import { openTracePipeRaw } from './trace-pipe-raw.js';

export interface ReadReaderOptions {
  onWarning?: WarningHandler;
  /** Bytes read per native call (rounded to whole sub-buffers); default 256 KiB. */
  readBytes?: number;
}

/** Sub-buffer size of the trace array's buffers: the file since 6.8, else one page. */
export function arraySubbufSize(array: TraceArray): number {
  return array.exists('buffer_subbuf_size_kb') ? array.subbufSizeKb * 1024 : native.pageSize;
}

export class ReadCpuReader implements CpuReader {
  readonly cpu: number;
  readonly mode = 'read' as const;
  readonly fd: number;
  readonly layout: SubbufLayout;
  readonly counters: CpuReaderCounters = newCounters();

  readonly #array: TraceArray;
  readonly #pages: Uint8Array;
  readonly #view: DataView;
  readonly #batch: RecordBatch;
  readonly #walk = new WalkState();
  readonly #header = newSubbufHeader();
  readonly #ledger: LossLedger;
  readonly #onWarning: WarningHandler;
  readonly #readBase: number;
  #pagesRead = 0;
  #pageIndex = 0;
  /** The last batched read stopped at EAGAIN before filling the buffer. */
  #fillShort = false;
  #closed = false;

  private constructor(array: TraceArray, cpu: number, fd: number, options: ReadReaderOptions) {
    this.#array = array;
    this.cpu = cpu;
    this.fd = fd;
    this.layout = hostSubbufLayout(arraySubbufSize(array));
    const perRead = Math.max(1, Math.floor((options.readBytes ?? 256 * 1024) / this.layout.subbufSize));
    this.#pages = new Uint8Array(perRead * this.layout.subbufSize);
    this.#view = new DataView(this.#pages.buffer);
    this.#batch = new RecordBatch(maxRecords(dataSize(this.layout)));
    this.#onWarning = options.onWarning ?? emitProcessWarning;
    const stats = array.cpuStats(cpu);
    this.#ledger = new LossLedger(stats.overrun, stats.readEvents);
    this.#readBase = stats.readEvents;
  }

  static open(array: TraceArray, cpu: number, options: ReadReaderOptions = {}): ReadCpuReader {
    const fd = openTracePipeRaw(array, cpu);
    try {
      return new ReadCpuReader(array, cpu, fd, options);
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  }

  #fill(): number {
    try {
      return native.readPages(this.fd, this.#pages, this.layout.subbufSize, this.#pages.byteLength / this.layout.subbufSize);
    } catch (error) {
      if (isSystemError(error, 'ENODEV')) {
        throw new CpuBufferMissingError(this.cpu, `CPU ${this.cpu} has no ring buffer (the CPU was never online)`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  next(): RecordBatch | null {
    if (this.#closed) return null;
    if (this.#pageIndex >= this.#pagesRead) {
      this.#pagesRead = this.#fill();
      this.#pageIndex = 0;
      this.#fillShort = this.#pagesRead < this.#pages.byteLength / this.layout.subbufSize;
      if (this.#pagesRead === 0) return null;
    }
    const page = this.#pageIndex++;
    const start = page * this.layout.subbufSize;
    const batch = this.#batch;
    batch.reset(this.#pages, this.#view, this.cpu, this.counters.subbufs);
    this.counters.subbufs++;
    let commit: number;
    try {
      const h = readSubbufHeader(this.#view, start, this.layout, this.#header);
      commit = h.commitSize;
      this.#walk.begin(h.tsHi, h.tsLo);
      if (h.missedEvents) {
        batch.lostBefore = this.#ledger.report(h.lost, () => this.#array.cpuStats(this.cpu).overrun);
        this.counters.lost = this.#ledger.total;
      }
    } catch (error) {
      batch.corrupt = new CorruptSubbufError(`corrupt sub-buffer header: ${(error as Error).message}`, -1);
      this.#onCorrupt(batch);
      return batch;
    }
    walkRecords(this.layout, start + this.layout.dataOffset, commit, 0, this.#walk, batch);
    this.counters.events += batch.count;
    this.counters.bytes += batch.byteLength;
    if (batch.corrupt !== null) this.#onCorrupt(batch);
    return batch;
  }

  /** The last batched read found the buffer empty before it was full, and all of it was delivered. */
  get caughtUp(): boolean {
    return this.#fillShort && this.#pageIndex >= this.#pagesRead;
  }

  #onCorrupt(batch: RecordBatch): void {
    this.counters.corrupt++;
    this.#onWarning({
      code: WarningCode.corruptSubbuf,
      cpu: this.cpu,
      message: `CPU ${this.cpu}: ${batch.corrupt?.message ?? 'corrupt sub-buffer'}; dropped the rest of the page`,
    });
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
    this.counters.lost = this.#ledger.total;
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

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    fs.closeSync(this.fd);
  }
}
