// A stream of whole sub-buffers (what read() of trace_pipe_raw returns, and
// what recordings store) turned into one RecordBatch per sub-buffer. The
// source of the pages is a fill function: the kernel, a file, memory.

import { CorruptSubbufError } from '../errors.js';
import { RecordBatch, WalkState, maxRecords, walkRecords } from './record.js';
import { type SubbufLayout, dataSize, newSubbufHeader, readSubbufHeader } from './subbuf.js';

/** Copies up to `maxPages` whole sub-buffers into `into`; returns how many (0: none now, or the end). */
export type PageFill = (into: Uint8Array, pageSize: number, maxPages: number) => number;

export interface PageStreamOptions {
  /** Bytes fetched per fill (rounded to whole sub-buffers); default 256 KiB. */
  readBytes?: number;
  /** Turns a sub-buffer's loss report (n, or -1 for unknown) into the count to attach. */
  resolveLost?: (reported: number) => number;
}

export class PageStream {
  readonly layout: SubbufLayout;
  /** Sub-buffers delivered so far. */
  subbufs = 0;
  readonly #fill: PageFill;
  readonly #pages: Uint8Array;
  readonly #view: DataView;
  readonly #perFill: number;
  readonly #batch: RecordBatch;
  readonly #walk = new WalkState();
  readonly #header = newSubbufHeader();
  readonly #resolveLost: (reported: number) => number;
  #cpu: number;
  #filled = 0;
  #index = 0;
  #fillShort = false;

  constructor(layout: SubbufLayout, cpu: number, fill: PageFill, options: PageStreamOptions = {}) {
    this.layout = layout;
    this.#cpu = cpu;
    this.#fill = fill;
    this.#perFill = Math.max(1, Math.floor((options.readBytes ?? 256 * 1024) / layout.subbufSize));
    this.#pages = new Uint8Array(this.#perFill * layout.subbufSize);
    this.#view = new DataView(this.#pages.buffer);
    this.#batch = new RecordBatch(maxRecords(dataSize(layout)));
    this.#resolveLost = options.resolveLost ?? ((n) => n);
  }

  /**
   * The next sub-buffer's records, or null when the source has none now.
   * A sub-buffer whose header is inconsistent comes back empty with
   * `corrupt` set; inconsistent records end it early, also with `corrupt`.
   */
  next(): RecordBatch | null {
    if (this.#index >= this.#filled) {
      this.#filled = this.#fill(this.#pages, this.layout.subbufSize, this.#perFill);
      this.#index = 0;
      this.#fillShort = this.#filled < this.#perFill;
      if (this.#filled === 0) return null;
    }
    const start = this.#index++ * this.layout.subbufSize;
    const batch = this.#batch;
    batch.reset(this.#pages, this.#view, this.#cpu, this.subbufs++);
    let header;
    try {
      header = readSubbufHeader(this.#view, start, this.layout, this.#header);
    } catch (error) {
      batch.corrupt = new CorruptSubbufError(`corrupt sub-buffer header: ${(error as Error).message}`, -1);
      return batch;
    }
    this.#walk.begin(header.tsHi, header.tsLo);
    if (header.missedEvents) batch.lostBefore = this.#resolveLost(header.lost);
    walkRecords(this.layout, start + this.layout.dataOffset, header.commitSize, 0, this.#walk, batch);
    return batch;
  }

  /** The raw bytes of the sub-buffer the last next() returned (a view, valid until the next call). */
  get lastPage(): Uint8Array {
    const start = (this.#index - 1) * this.layout.subbufSize;
    return this.#pages.subarray(start, start + this.layout.subbufSize);
  }

  /** The last fill ended before the buffer was full (the source ran dry), and all of it was delivered. */
  get caughtUp(): boolean {
    return this.#fillShort && this.#index >= this.#filled;
  }
}
