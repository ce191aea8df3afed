// A CpuCursor over whole sub-buffers handed over from another thread: the
// pages of each run are walked with a PageStream; the run's loss count
// goes with its first batch (the pages' own flags cannot carry losses the
// pipeline added).

import { PageStream } from '../../../layout/page-stream.js';
import type { RecordBatch } from '../../../layout/record.js';
import type { SubbufLayout } from '../../../layout/subbuf.js';
import type { CpuCursor, PageRun } from '../../sink.js';

interface QueuedRun {
  readonly bytes: Uint8Array;
  readonly pages: number;
  readonly lostBefore: number;
  /** Pages of it given to the stream so far. */
  taken: number;
}

export class QueuedPageCursor implements CpuCursor {
  readonly cpu: number;
  readonly layout: SubbufLayout;
  readonly #queue: QueuedRun[] = [];
  /** Loss counts by the index of a run's first page (until its batch is taken). */
  readonly #lossAt = new Map<number, number>();
  readonly #stream: PageStream;
  /** Pages queued so far (all runs). */
  #pages = 0;

  constructor(cpu: number, layout: SubbufLayout) {
    this.cpu = cpu;
    this.layout = layout;
    this.#stream = new PageStream(
      layout,
      cpu,
      (into, size, max) => {
        // One run per fill: a batch never crosses a refill, so never two runs.
        const run = this.#queue[0];
        if (run === undefined) return 0;
        const n = Math.min(max, run.pages - run.taken);
        into.set(run.bytes.subarray(run.taken * size, (run.taken + n) * size));
        run.taken += n;
        if (run.taken === run.pages) this.#queue.shift();
        return n;
      },
      { pagesPerBatch: 16 },
    );
  }

  push(bytes: Uint8Array, pages: number, lostBefore: number): void {
    if (pages <= 0) return;
    this.#queue.push({ bytes, pages, lostBefore, taken: 0 });
    this.#lossAt.set(this.#pages, lostBefore);
    this.#pages += pages;
  }

  next(): RecordBatch | null {
    const batch = this.#stream.next();
    if (batch === null) return null;
    // The stream numbers its batches by page index: a run's first page carries the run's loss, other pages none.
    const lost = this.#lossAt.get(batch.subbufId);
    if (lost !== undefined) {
      batch.lostBefore = lost;
      this.#lossAt.delete(batch.subbufId);
    } else batch.lostBefore = 0;
    return batch;
  }

  get caughtUp(): boolean {
    return this.#queue.length === 0 && this.#stream.buffered === 0;
  }

  nextPages(): PageRun | null {
    throw new Error('a worker-side cursor gives batches only');
  }
}
