// Zero-copy consumer of one per-CPU buffer through the tracefs mapping
// (Linux 6.10+), following kernel-abi.md §4.5:
//
//   map the meta page, learn meta_page_size / subbuf_size / nr_subbufs,
//   map everything, then repeatedly GET_READER and read the reader
//   sub-buffer's data area [our offset, reader.read).
//
// The reader keeps its own cursor per reader id: the same id with a growing
// `read` means the writer is still on the reader page; a new id starts at 0;
// `read` going backwards for the same id (or counters dropping) is a reset.

import fs from 'node:fs';
import { release } from 'node:os';
import {
  CpuBufferMissingError,
  MalformedInputError,
  MmapUnsupportedError,
  TracefsBusyError,
  TracefsPermissionError,
  WarningCode,
  type WarningHandler,
  emitProcessWarning,
  isSystemError,
} from '../errors.js';
import { MetaPage, type MetaSnapshot, TRACE_IOCTL_WAKE_WAITERS, TRACE_MMAP_IOCTL_GET_READER, checkMetaGeometry } from '../layout/meta-page.js';
import { MIN_PADDING_LENGTH } from '../layout/encode.js';
import { RecordBatch, WalkState, maxRecords, walkRecords } from '../layout/record.js';
import {
  type SubbufLayout,
  dataSize,
  hostSubbufLayout,
  newSubbufHeader,
  readSubbufHeader,
} from '../layout/subbuf.js';
import { native } from '../native.js';
import { type CpuReader, type CpuReaderCounters, newCounters } from './cpu-reader.js';
import { LossLedger } from './loss-ledger.js';
import { rethrowFs } from './fs-errors.js';
import type { TraceArray } from './trace-array.js';
import { openTracePipeRaw } from './trace-pipe-raw.js';

export interface MappedReaderOptions {
  onWarning?: WarningHandler;
}

/** Maps `length` bytes of the buffer, translating the kernel's refusals. */
function mapBuffer(fd: number, length: number, array: TraceArray, cpu: number): ArrayBuffer {
  try {
    return native.mmap(fd, length, 0);
  } catch (error) {
    if (!isSystemError(error)) throw error;
    const where = `CPU ${cpu} of the ${array.label}`;
    switch (error.code) {
      case 'ENODEV':
        throw new MmapUnsupportedError(
          `${where} cannot be memory-mapped: Linux ${release()} lacks tracefs mmap (6.10+) ` +
            'or the buffer is a persistent one; use read mode',
          { cause: error },
        );
      case 'EINVAL':
        throw new CpuBufferMissingError(cpu, `${where} has no ring buffer (the CPU was never online)`, { cause: error });
      case 'EBUSY':
        throw new TracefsBusyError(`${where} cannot be mapped while a snapshot buffer is armed`, { cause: error });
      case 'EPERM':
      case 'EACCES':
        throw new TracefsPermissionError(`mapping ${where}: ${error.code}`, { cause: error });
      default:
        throw error;
    }
  }
}

/**
 * The meta page of CPU `cpu`, read through a short-lived mapping without
 * consuming anything or taking the reader lock. If no one else maps the
 * buffer, mapping it makes the kernel publish fresh figures; otherwise they
 * are as of the other mapper's last GET_READER.
 */
export function peekMetaPage(array: TraceArray, cpu: number): MetaSnapshot {
  const path = array.cpuFile(cpu, 'trace_pipe_raw');
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    rethrowFs(error, path, 'open');
  }
  try {
    const head = mapBuffer(fd, native.pageSize, array, cpu);
    try {
      const meta = new MetaPage(new DataView(head));
      checkMetaGeometry(meta, native.pageSize);
      return meta.snapshot();
    } finally {
      native.munmap(head);
    }
  } finally {
    fs.closeSync(fd);
  }
}

export class MappedCpuReader implements CpuReader {
  readonly cpu: number;
  readonly mode = 'mmap' as const;
  readonly fd: number;
  readonly layout: SubbufLayout;
  readonly counters: CpuReaderCounters = newCounters();
  /** Live view of the kernel's meta page. */
  readonly meta: MetaPage;
  readonly metaPageSize: number;
  readonly nrSubbufs: number;

  readonly #mapping: ArrayBuffer;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #batch: RecordBatch;
  readonly #walk = new WalkState();
  readonly #header = newSubbufHeader();
  readonly #ledger: LossLedger;
  readonly #onWarning: WarningHandler;
  readonly #array: TraceArray;
  /** Reader sub-buffer we are on, and the data offset we delivered up to. */
  #id: number;
  #pos: number;
  /** Bytes of the initial reader page consumed before we mapped (never delivered). */
  #skipTo: number;
  #begun = false;
  /** The reader page is the one the writer is filling (see caughtUp). */
  #onWriterPage = false;
  /** The current reader page came with a MISSED flag. */
  #pageMissed = false;
  /** Kernel `read` counter at our baseline, to spot other consumers. */
  #readBase: number;
  #eventsAtBase = 0;
  #lastEntries: number;
  #lastRead: number;
  #warnedConcurrent = false;
  #closed = false;

  private constructor(array: TraceArray, cpu: number, fd: number, mapping: ArrayBuffer, onWarning: WarningHandler) {
    this.#array = array;
    this.cpu = cpu;
    this.fd = fd;
    this.#mapping = mapping;
    this.#bytes = new Uint8Array(mapping);
    this.#view = new DataView(mapping);
    this.meta = new MetaPage(this.#view);
    this.metaPageSize = this.meta.metaPageSize;
    this.nrSubbufs = this.meta.nrSubbufs;
    this.layout = hostSubbufLayout(this.meta.subbufSize);
    this.#batch = new RecordBatch(maxRecords(dataSize(this.layout)));
    this.#onWarning = onWarning;
    this.#id = this.meta.readerId;
    this.#pos = this.meta.readerRead;
    this.#skipTo = this.#pos;
    this.#readBase = this.meta.read;
    this.#lastEntries = this.meta.entries;
    this.#lastRead = this.meta.read;
    this.#ledger = new LossLedger(this.meta.overrun, this.meta.read);
  }

  /** Opens and maps CPU `cpu` of `array`. */
  static open(array: TraceArray, cpu: number, options: MappedReaderOptions = {}): MappedCpuReader {
    const fd = openTracePipeRaw(array, cpu);
    try {
      // Map the first page to learn the geometry, then everything while the
      // first mapping pins it (sizes and ids cannot change in between).
      const head = mapBuffer(fd, native.pageSize, array, cpu);
      let full: ArrayBuffer;
      try {
        const probe = new MetaPage(new DataView(head));
        checkMetaGeometry(probe, native.pageSize);
        full = mapBuffer(fd, probe.metaPageSize + probe.nrSubbufs * probe.subbufSize, array, cpu);
      } finally {
        native.munmap(head);
      }
      try {
        const reader = new MappedCpuReader(array, cpu, fd, full, options.onWarning ?? emitProcessWarning);
        checkMetaGeometry(reader.meta, native.pageSize);
        return reader;
      } catch (error) {
        native.munmap(full);
        throw error;
      }
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  }

  #subbufStart(id: number): number {
    return this.metaPageSize + id * this.layout.subbufSize;
  }

  /** Starts walking sub-buffer `id`; returns its loss report (0, n or -1). */
  #beginSubbuf(id: number): number {
    const start = this.#subbufStart(id);
    const h = readSubbufHeader(this.#view, start, this.layout, this.#header);
    this.#walk.begin(h.tsHi, h.tsLo);
    this.#begun = true;
    this.#pageMissed = h.missedEvents;
    return h.missedEvents ? h.lost : 0;
  }

  #getReader(): void {
    try {
      native.ioctl(this.fd, TRACE_MMAP_IOCTL_GET_READER);
    } catch (error) {
      if (isSystemError(error, 'ENODEV')) {
        throw new CpuBufferMissingError(this.cpu, `CPU ${this.cpu}: GET_READER found no mapping`, { cause: error });
      }
      throw error;
    }
  }

  next(): RecordBatch | null {
    if (this.#closed) return null;
    this.#getReader();
    const meta = this.meta;
    const id = meta.readerId;
    const end = meta.readerRead;
    const entries = meta.entries;
    const read = meta.read;
    if (id >= this.nrSubbufs || end > dataSize(this.layout)) {
      throw new MalformedInputError(`CPU ${this.cpu}: meta page names reader ${id} / read ${end} outside the mapping`);
    }

    // A reset empties every sub-buffer and zeroes the counters; the reader
    // keeps its id with read = 0.
    if (entries < this.#lastEntries || read < this.#lastRead || (id === this.#id && end < this.#pos)) this.#onReset();
    this.#lastEntries = entries;
    this.#lastRead = read;

    const batch = this.#batch;
    batch.reset(this.#bytes, this.#view, this.cpu, id);
    let lost = 0;
    if (id !== this.#id) {
      this.#id = id;
      this.#pos = 0;
      this.#skipTo = 0;
      lost = this.#beginSubbuf(id);
      this.counters.subbufs++;
    } else if (!this.#begun) {
      // The reader page we found at map time: a loss flag on it was already
      // reported to whoever consumed its start.
      const flagged = this.#beginSubbuf(id);
      if (this.#skipTo === 0) lost = flagged;
      if (end > 0) this.counters.subbufs++;
    }
    if (lost !== 0) {
      batch.lostBefore = this.#ledger.report(lost, () => this.meta.overrun);
      this.counters.lost = this.#ledger.total;
    }
    this.#onWriterPage = !this.#pageMissed && end + MIN_PADDING_LENGTH <= dataSize(this.layout);
    if (end <= this.#pos) return lost !== 0 ? batch : null;

    walkRecords(this.layout, this.#subbufStart(id) + this.layout.dataOffset, end, this.#skipTo, this.#walk, batch);
    this.#pos = end;
    this.counters.events += batch.count;
    this.counters.bytes += batch.byteLength;
    if (batch.corrupt !== null) this.#onCorrupt(batch);
    this.#checkConsumedElsewhere();
    return batch;
  }

  /**
   * The writer leaves a sub-buffer only when it is complete: padded to the
   * end, or with less than a minimal record (8 bytes) left. A reader page
   * with more room than that is the page the writer is on, so everything
   * written before the last GET_READER has been delivered. (A page that
   * follows a loss has its padding trimmed, so it does not count.)
   */
  get caughtUp(): boolean {
    return this.#onWriterPage;
  }

  #onReset(): void {
    this.counters.resets++;
    this.#ledger.rebase();
    this.#pos = 0;
    this.#skipTo = 0;
    this.#begun = false;
    this.#readBase = 0;
    this.#eventsAtBase = this.counters.events;
    this.#onWarning({
      code: WarningCode.bufferReset,
      cpu: this.cpu,
      message: `CPU ${this.cpu} of the ${this.#array.label} was reset while mapped; unread events were discarded`,
    });
  }

  #onCorrupt(batch: RecordBatch): void {
    this.counters.corrupt++;
    // The kernel still counts the dropped records as read.
    this.#readBase = this.meta.read;
    this.#eventsAtBase = this.counters.events;
    this.#onWarning({
      code: WarningCode.corruptSubbuf,
      cpu: this.cpu,
      message: `CPU ${this.cpu}: ${batch.corrupt?.message ?? 'corrupt sub-buffer'}; dropped the rest of sub-buffer ${batch.subbufId}`,
    });
  }

  // The kernel's `read` counter counts exactly the events GET_READER marked
  // consumed, which are the events we delivered. More means another consumer.
  #checkConsumedElsewhere(): void {
    const extra = this.meta.read - this.#readBase - (this.counters.events - this.#eventsAtBase);
    if (extra <= 0) return;
    this.counters.consumedElsewhere += extra;
    this.#readBase += extra;
    if (!this.#warnedConcurrent) {
      this.#warnedConcurrent = true;
      this.#onWarning({
        code: WarningCode.concurrentReader,
        cpu: this.cpu,
        message: `CPU ${this.cpu} of the ${this.#array.label}: another consumer took ${extra} events from this buffer`,
      });
    }
  }

  finish(): void {
    if (this.#closed) return;
    this.#ledger.settle(this.meta.overrun);
    this.counters.lost = this.#ledger.total;
    try {
      this.counters.dropped = this.#array.cpuStats(this.cpu).droppedEvents;
    } catch {
      // stats unreadable (instance going away): keep the last figure
    }
  }

  /** Wakes anything blocked on this CPU buffer (blocking GET_READER, poll). */
  wakeWaiters(): void {
    native.ioctl(this.fd, TRACE_IOCTL_WAKE_WAITERS);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      native.munmap(this.#mapping);
    } finally {
      fs.closeSync(this.fd);
    }
  }
}
