// Per-CPU streams merged into one timeline the way the kernel's `trace` and
// `trace_pipe` merge them: the smallest timestamp next, ties to the lower
// CPU. Loss reports surface just before the first event read after them.

import type { BatchSource } from '../layout/batch-source.js';
import type { RecordBatch } from '../layout/record.js';

/** Receives the merged timeline. */
export interface MergeVisitor {
  /** Event `index` of `batch` is next on the timeline. */
  event(batch: RecordBatch, index: number): void;
  /** `count` events (-1: an unknown number) were lost on `cpu` before its next event. */
  lost?(cpu: number, count: number): void;
}

/** Per-CPU sources merged into one timeline as the kernel's `trace` merges them. */
export class CpuMerger {
  readonly #sources: BatchSource[];
  readonly #batch: Array<RecordBatch | null>;
  readonly #index: Int32Array;
  /** A source returned null (or caught up) in this round. */
  readonly #dry: Uint8Array;

  constructor(sources: readonly BatchSource[]) {
    // Scan order decides ties: lower CPU first.
    this.#sources = [...sources].sort((a, b) => a.cpu - b.cpu);
    this.#batch = this.#sources.map(() => null);
    this.#index = new Int32Array(this.#sources.length);
    this.#dry = new Uint8Array(this.#sources.length);
  }

  /** Refills source s if its batch is used up; false when it has nothing more now. */
  #fill(s: number, visitor: MergeVisitor): boolean {
    for (;;) {
      const b = this.#batch[s];
      if (b !== null && b !== undefined && this.#index[s]! < b.count) return true;
      if (this.#dry[s]) return false;
      const source = this.#sources[s]!;
      // Once a live source has caught up, what it returns next is newer than
      // this round; leave it for the next one.
      if (b !== null && b !== undefined && source.caughtUp) {
        this.#dry[s] = 1;
        this.#batch[s] = null;
        return false;
      }
      const next = source.next();
      this.#index[s] = 0;
      this.#batch[s] = next;
      if (next === null) {
        this.#dry[s] = 1;
        return false;
      }
      if (next.lostBefore !== 0) visitor.lost?.(source.cpu, next.lostBefore);
    }
  }

  /**
   * Visits, in timeline order, every event the sources hold now (for files:
   * all of them). Returns the number of events visited. Call again later to
   * continue a live stream.
   */
  run(visitor: MergeVisitor): number {
    const n = this.#sources.length;
    this.#dry.fill(0);
    let visited = 0;
    for (;;) {
      // The source whose next event is oldest, and the runner-up.
      let best = -1;
      let bestHi = 0;
      let bestLo = 0;
      let next = -1;
      let nextHi = 0;
      let nextLo = 0;
      for (let s = 0; s < n; s++) {
        if (!this.#fill(s, visitor)) continue;
        const b = this.#batch[s] as RecordBatch;
        const i = this.#index[s]!;
        const hi = b.tsHi(i);
        const lo = b.tsLo(i);
        if (best < 0 || hi < bestHi || (hi === bestHi && lo < bestLo)) {
          next = best;
          nextHi = bestHi;
          nextLo = bestLo;
          best = s;
          bestHi = hi;
          bestLo = lo;
        } else if (next < 0 || hi < nextHi || (hi === nextHi && lo < nextLo)) {
          next = s;
          nextHi = hi;
          nextLo = lo;
        }
      }
      if (best < 0) return visited;
      // Events come in runs per CPU: stay on the best source while it is
      // ahead of the runner-up instead of rescanning every source per event.
      let b = this.#batch[best] as RecordBatch;
      let i = this.#index[best]!;
      for (;;) {
        visitor.event(b, i++);
        visited++;
        if (i >= b.count) {
          this.#index[best] = i;
          if (!this.#fill(best, visitor)) {
            i = this.#index[best]!;
            break;
          }
          b = this.#batch[best] as RecordBatch;
          i = this.#index[best]!;
        }
        if (next < 0) continue;
        const hi = b.tsHi(i);
        if (hi > nextHi) break;
        if (hi === nextHi) {
          const lo = b.tsLo(i);
          if (lo > nextLo || (lo === nextLo && best > next)) break;
        }
      }
      this.#index[best] = i;
    }
  }
}
