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
  /**
   * Sub-buffers one batch may cover (default 1). More amortise per-batch
   * work (typed decoding groups records by event per batch); a batch still
   * never crosses a refill, and ends before a sub-buffer that reports lost
   * events, so `lostBefore` keeps its meaning.
   */
  pagesPerBatch?: number;
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
  readonly #pagesPerBatch: number;
  /** Index of the first sub-buffer of the last batch, for lastPages. */
  #batchStart = 0;
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
    this.#pagesPerBatch = Math.max(1, Math.min(this.#perFill, Math.floor(options.pagesPerBatch ?? 1)));
    this.#batch = new RecordBatch(this.#pagesPerBatch * maxRecords(dataSize(layout)));
    this.#resolveLost = options.resolveLost ?? ((n) => n);
  }

  /**
   * The records of the next sub-buffer (or several: pagesPerBatch), or null
   * when the source has none now. A sub-buffer whose header is inconsistent
   * comes back alone and empty with `corrupt` set; inconsistent records end
   * the batch early, also with `corrupt`.
   */
  next(): RecordBatch | null {
    if (this.#index >= this.#filled) {
      this.#filled = this.#fill(this.#pages, this.layout.subbufSize, this.#perFill);
      this.#index = 0;
      this.#fillShort = this.#filled < this.#perFill;
      if (this.#filled === 0) return null;
    }
    const batch = this.#batch;
    batch.reset(this.#pages, this.#view, this.#cpu, this.subbufs);
    this.#batchStart = this.#index;
    const size = this.layout.subbufSize;
    for (let taken = 0; taken < this.#pagesPerBatch && this.#index < this.#filled; taken++) {
      const start = this.#index * size;
      let header;
      try {
        header = readSubbufHeader(this.#view, start, this.layout, this.#header);
      } catch (error) {
        if (taken > 0) break; // it gets a batch of its own
        this.#index++;
        this.subbufs++;
        batch.corrupt = new CorruptSubbufError(`corrupt sub-buffer header: ${(error as Error).message}`, -1);
        return batch;
      }
      if (header.missedEvents) {
        if (taken > 0) break; // its loss report must come first in a batch
        batch.lostBefore = this.#resolveLost(header.lost);
      }
      this.#index++;
      this.subbufs++;
      this.#walk.begin(header.tsHi, header.tsLo);
      walkRecords(this.layout, start + this.layout.dataOffset, header.commitSize, 0, this.#walk, batch);
      if (batch.corrupt !== null) break;
    }
    return batch;
  }

  /** The raw bytes of the sub-buffers the last next() returned (a view, valid until the next call). */
  get lastPages(): Uint8Array {
    return this.#pages.subarray(this.#batchStart * this.layout.subbufSize, this.#index * this.layout.subbufSize);
  }

  /** Sub-buffers fetched by the last fill and not yet returned by next(). */
  get buffered(): number {
    return this.#filled - this.#index;
  }

  /** The last fill ended before the buffer was full (the source ran dry), and all of it was delivered. */
  get caughtUp(): boolean {
    return this.#fillShort && this.#index >= this.#filled;
  }
}
