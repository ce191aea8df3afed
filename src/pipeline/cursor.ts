// A CpuCursor over any per-CPU reader that can give its last batch as
// whole sub-buffers (kernel readers, recorded files, application rings).

import type { BatchSource } from '../layout/batch-source.js';
import type { RecordBatch } from '../layout/record.js';
import type { SubbufLayout } from '../layout/subbuf.js';
import type { CpuCursor, PageRun } from '../sinks/sink.js';

export interface PagedReader extends BatchSource {
  readonly layout: SubbufLayout;
  /** The sub-buffers of the last batch, whole and self-contained. */
  readonly lastPages: Uint8Array;
}

export class ReaderCursor implements CpuCursor {
  /** Data records delivered through this cursor. */
  events = 0;
  readonly #reader: PagedReader;
  readonly #run: { bytes: Uint8Array; pages: number; lostBefore: number; events: number } = { bytes: new Uint8Array(0), pages: 0, lostBefore: 0, events: 0 };

  constructor(reader: PagedReader) {
    this.#reader = reader;
  }

  get cpu(): number {
    return this.#reader.cpu;
  }

  get layout(): SubbufLayout {
    return this.#reader.layout;
  }

  get caughtUp(): boolean {
    return this.#reader.caughtUp;
  }

  next(): RecordBatch | null {
    const batch = this.#reader.next();
    if (batch !== null) this.events += batch.count;
    return batch;
  }

  nextPages(): PageRun | null {
    const batch = this.next();
    if (batch === null) return null;
    const run = this.#run;
    run.bytes = this.#reader.lastPages;
    run.pages = run.bytes.byteLength / this.#reader.layout.subbufSize;
    run.lostBefore = batch.lostBefore;
    run.events = batch.count;
    return run;
  }
}
