// The consumer side of the ring-buffer mapping protocol, shared by kernel
// per-CPU buffers and application rings (kernel-abi.md §4.5):
//
//   GET_READER, then read the reader sub-buffer's data area from our own
//   cursor to reader.read. The same id with a growing `read` means the
//   writer is still on the reader page; a new id starts at 0 and may carry
//   MISSED flags; `read` going backwards for the same id (or counters
//   dropping) is a reset.
//
// A channel supplies the memory and the GET_READER operation: an ioctl on
// trace_pipe_raw for the kernel, a lock-free swap in shared memory for an
// application ring.

import { MalformedInputError, UnsupportedError, WarningCode, type WarningHandler, emitProcessWarning } from '../errors.js';
import type { BatchSource } from '../layout/batch-source.js';
import { MIN_PADDING_LENGTH } from '../layout/encode.js';
import { MetaPage, checkMetaGeometry } from '../layout/meta-page.js';
import { RecordBatch, WalkState, maxRecords, walkRecords } from '../layout/record.js';
import {
  RB_MISSED_EVENTS,
  RB_MISSED_STORED,
  type SubbufLayout,
  dataSize,
  hostSubbufLayout,
  newSubbufHeader,
  readSubbufHeader,
} from '../layout/subbuf.js';
import { type CpuReaderCounters, newCounters } from './counters.js';
import { LossLedger } from './loss-ledger.js';

/**
 * Header of a rebuilt sub-buffer (little-endian host layout): time_stamp,
 * commit = data bytes | RB_MISSED_EVENTS when events were lost before it,
 * and RB_MISSED_STORED with the count when the count fits after the data.
 */
export function writeSyntheticHeader(view: DataView, layout: SubbufLayout, tsHi: number, tsLo: number, length: number, lost: number): void {
  const le = layout.littleEndian;
  view.setUint32(le ? 0 : 4, tsLo, le);
  view.setUint32(le ? 4 : 0, tsHi, le);
  let commit = length;
  if (lost !== 0) {
    commit |= RB_MISSED_EVENTS;
    if (lost > 0 && length + layout.longSize <= dataSize(layout)) {
      commit |= RB_MISSED_STORED;
      const at = layout.dataOffset + length;
      if (layout.longSize === 4) view.setUint32(at, lost >>> 0, le);
      else {
        view.setUint32(at + (le ? 0 : 4), lost >>> 0, le);
        view.setUint32(at + (le ? 4 : 0), Math.floor(lost / 4294967296), le);
      }
    }
  }
  const commitAt = 8 + (le || layout.longSize === 4 ? 0 : 4);
  view.setUint32(commitAt, commit >>> 0, le);
  if (layout.longSize === 8) view.setUint32(le ? 12 : 8, 0, le);
}

/** RecordBatch keeps byte offsets in an Int32Array. */
const MAX_MAPPING = 0x7fffffff;

/** What MappedConsumer drives: a kernel mapping (ioctl GET_READER) or an application ring in shared memory. */
export interface MappedChannel {
  /** Meta region followed by the sub-buffers. */
  readonly memory: ArrayBuffer | SharedArrayBuffer;
  /** Where the buffer is, for messages ("CPU 0 of instance x"). */
  readonly label: string;
  /** Swaps in the next reader sub-buffer (if any) and republishes the meta page. */
  getReader(): void;
  /** Events a full non-overwrite buffer refused, or null if the channel cannot tell. */
  dropped(): number | null;
  /**
   * The consumer indexed `events` data records of the reader page: a channel
   * that keeps the `read` counter itself (an application ring) counts them
   * here instead of walking the page a second time.
   */
  delivered?(events: number): void;
}

/** Options of MappedConsumer. */
export interface MappedConsumerOptions {
  onWarning?: WarningHandler;
  /** Smallest sub-buffer the geometry check accepts (the system page size). */
  pageSize?: number;
  /**
   * The overrun counter value up to which losses were already accounted
   * (a reader of the same buffer that came before, on another path): losses
   * after it are this reader's to report.
   */
  lossBaseline?: number;
}

/** The consumer side of the mapping protocol (meta page, reader sub-buffer swaps, loss accounting), shared by kernel buffers and application rings. */
export class MappedConsumer implements BatchSource {
  readonly cpu: number;
  readonly layout: SubbufLayout;
  readonly counters: CpuReaderCounters = newCounters();
  /** Live view of the meta page. */
  readonly meta: MetaPage;
  readonly metaPageSize: number;
  readonly nrSubbufs: number;

  readonly #channel: MappedChannel;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #batch: RecordBatch;
  readonly #walk = new WalkState();
  readonly #header = newSubbufHeader();
  readonly #ledger: LossLedger;
  readonly #onWarning: WarningHandler;
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
  /** The `read` counter at our baseline, to spot other consumers. */
  #readBase: number;
  #eventsAtBase = 0;
  #lastEntries: number;
  #lastRead: number;
  #warnedConcurrent = false;
  /** What the last batch covered, to rebuild it as a self-contained sub-buffer (lastPages). */
  readonly #last = { id: -1, from: 0, to: 0, tsHi: 0, tsLo: 0, lost: 0, built: false };
  #page: Uint8Array | null = null;

  constructor(channel: MappedChannel, cpu: number, options: MappedConsumerOptions = {}) {
    this.#channel = channel;
    this.cpu = cpu;
    this.#bytes = new Uint8Array(channel.memory);
    this.#view = new DataView(channel.memory);
    this.meta = new MetaPage(this.#view);
    checkMetaGeometry(this.meta, options.pageSize ?? 4096);
    this.metaPageSize = this.meta.metaPageSize;
    this.nrSubbufs = this.meta.nrSubbufs;
    if (this.metaPageSize + this.nrSubbufs * this.meta.subbufSize > channel.memory.byteLength) {
      throw new MalformedInputError(`${channel.label}: the meta page describes more memory than is mapped`);
    }
    if (channel.memory.byteLength > MAX_MAPPING) {
      throw new UnsupportedError(`${channel.label}: mappings of 2 GiB or more are not supported (record offsets are int32)`);
    }
    this.layout = hostSubbufLayout(this.meta.subbufSize);
    this.#batch = new RecordBatch(maxRecords(dataSize(this.layout)));
    this.#onWarning = options.onWarning ?? emitProcessWarning;
    this.#id = this.meta.readerId;
    this.#pos = this.meta.readerRead;
    this.#skipTo = this.#pos;
    this.#readBase = this.meta.read;
    this.#lastEntries = this.meta.entries;
    this.#lastRead = this.meta.read;
    this.#ledger = options.lossBaseline !== undefined ? LossLedger.from(options.lossBaseline) : new LossLedger(this.meta.overrun, this.meta.read);
  }

  #subbufStart(id: number): number {
    return this.metaPageSize + id * this.layout.subbufSize;
  }

  /**
   * Starts walking sub-buffer `id`; returns its loss report (0, n or -1).
   * A count the header could not carry may be in the meta page's
   * reader.lost_events (application rings put it there; the kernel leaves
   * it 0 after GET_READER).
   */
  #beginSubbuf(id: number): number {
    const start = this.#subbufStart(id);
    const h = readSubbufHeader(this.#view, start, this.layout, this.#header);
    this.#walk.begin(h.tsHi, h.tsLo);
    this.#begun = true;
    this.#pageMissed = h.missedEvents;
    const reported = h.missedEvents ? h.lost : 0;
    const metaLost = this.meta.readerLostEvents;
    return metaLost > 0 && reported <= 0 ? metaLost : reported;
  }

  /**
   * The next stretch of records, or null if there is none now. The batch
   * views the mapping and stays valid until the next call.
   */
  next(): RecordBatch | null {
    this.#channel.getReader();
    const meta = this.meta;
    const id = meta.readerId;
    const end = meta.readerRead;
    const entries = meta.entries;
    const read = meta.read;
    if (id >= this.nrSubbufs || end > dataSize(this.layout)) {
      throw new MalformedInputError(`${this.#channel.label}: meta page names reader ${id} / read ${end} outside the mapping`);
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
      // The reader page found at map time: a loss flag on it was already
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
    const last = this.#last;
    last.built = false;
    last.lost = batch.lostBefore;
    last.id = id;
    if (end <= this.#pos) {
      last.from = last.to = this.#walk.pos;
      return lost !== 0 ? batch : null;
    }

    const dataStart = this.#subbufStart(id) + this.layout.dataOffset;
    // Records before our start (taken by a reader before we mapped) only move the clock.
    if (this.#skipTo > this.#walk.pos) walkRecords(this.layout, dataStart, Math.min(this.#skipTo, end), this.#skipTo, this.#walk, batch);
    last.from = this.#walk.pos;
    last.tsHi = this.#walk.tsHi;
    last.tsLo = this.#walk.tsLo;
    walkRecords(this.layout, dataStart, end, this.#skipTo, this.#walk, batch);
    last.to = this.#walk.pos;
    this.#pos = end;
    this.#channel.delivered?.(batch.count);
    this.counters.events += batch.count;
    this.counters.bytes += batch.byteLength;
    if (batch.corrupt !== null) this.#onCorrupt(batch);
    this.#checkConsumedElsewhere();
    return batch;
  }

  /**
   * The records of the last batch as one self-contained sub-buffer, the
   * form read() of trace_pipe_raw gives for a partly read page: its
   * time_stamp is the clock just before the first record (so the deltas
   * stay valid), commit is the bytes copied, and a loss before the batch
   * sets RB_MISSED_EVENTS, with the count after the data when it fits.
   * A copy, valid until the next call of next().
   */
  get lastPages(): Uint8Array {
    const last = this.#last;
    const page = (this.#page ??= new Uint8Array(this.layout.subbufSize));
    if (last.built || last.id < 0) return last.id < 0 ? page.subarray(0, 0) : page;
    const { dataOffset } = this.layout;
    const length = Math.max(0, last.to - last.from);
    const source = this.#subbufStart(last.id) + dataOffset + last.from;
    page.set(this.#bytes.subarray(source, source + length), dataOffset);
    page.fill(0, dataOffset + length);
    writeSyntheticHeader(new DataView(page.buffer, page.byteOffset, page.byteLength), this.layout, last.tsHi, last.tsLo, length, last.lost);
    last.built = true;
    return page;
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
      message: `${this.#channel.label} was reset while mapped; unread events were discarded`,
    });
  }

  #onCorrupt(batch: RecordBatch): void {
    this.counters.corrupt++;
    // GET_READER still counts the dropped records as read.
    this.#readBase = this.meta.read;
    this.#eventsAtBase = this.counters.events;
    this.#onWarning({
      code: WarningCode.corruptSubbuf,
      cpu: this.cpu,
      message: `${this.#channel.label}: ${batch.corrupt?.message ?? 'corrupt sub-buffer'}; dropped the rest of sub-buffer ${batch.subbufId}`,
    });
  }

  // The `read` counter counts exactly the events GET_READER marked consumed,
  // which are the events we delivered. More means another consumer.
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
        message: `${this.#channel.label}: another consumer took ${extra} events from this buffer`,
      });
    }
  }

  /** The overrun counter value up to which this reader has accounted losses (for a reader taking over). */
  get lossAccountedTo(): number {
    return this.#ledger.accountedTo;
  }

  /** Settles lost events against the overrun counter and fills `dropped`. */
  finish(): void {
    this.#ledger.settle(this.meta.overrun);
    this.counters.lost = this.#ledger.total;
    const dropped = this.#channel.dropped();
    if (dropped !== null) this.counters.dropped = dropped;
  }
}
