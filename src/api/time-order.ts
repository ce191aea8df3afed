// Puts the items of several CPUs into one timeline. Each CPU's items come
// in order, but not at the same pace: a busy CPU's pages arrive as they
// fill, a quiet CPU's partial page only at the next flush, so a round of
// pages can hold one CPU's newer events before another CPU's older ones.
// Items wait here until no CPU can still deliver something older: every
// CPU has a later item queued, or the time is past `complete` (the caller
// knows every item older than that has arrived). Timestamps are compared
// as exact (hi, lo) pairs; ties go to the lower CPU, as in the kernel's
// merge.

interface Lane<T> {
  items: T[];
  hi: number[];
  lo: number[];
  head: number;
}

/** Timestamp that means "everything has arrived" (the end). */
export const END_HI = Number.MAX_SAFE_INTEGER;

export class TimeOrder<T> {
  readonly #lanes: Lane<T>[] = [];
  readonly #cpuOf: number[] = [];
  #pending = 0;

  /** Items waiting for their turn. */
  get pending(): number {
    return this.#pending;
  }

  #lane(cpu: number): Lane<T> {
    let i = this.#cpuOf.indexOf(cpu);
    if (i < 0) {
      // Lanes stay sorted by CPU: scan order breaks ties.
      i = this.#cpuOf.findIndex((c) => c > cpu);
      if (i < 0) i = this.#cpuOf.length;
      this.#cpuOf.splice(i, 0, cpu);
      this.#lanes.splice(i, 0, { items: [], hi: [], lo: [], head: 0 });
    }
    return this.#lanes[i]!;
  }

  /** Declares a CPU before it has items (a quiet CPU holds the others back until `complete` passes). */
  addCpu(cpu: number): void {
    this.#lane(cpu);
  }

  /** Appends an item of `cpu` (in that CPU's order). */
  push(cpu: number, item: T, hi: number, lo: number): void {
    const lane = this.#lane(cpu);
    lane.items.push(item);
    lane.hi.push(hi);
    lane.lo.push(lo);
    this.#pending++;
  }

  /**
   * Moves into `out`, in time order, every item that can no longer be
   * preceded: older than any CPU's next item, or not later than
   * (completeHi, completeLo). Returns how many.
   */
  release(out: T[], completeHi: number, completeLo: number): number {
    const lanes = this.#lanes;
    const n = lanes.length;
    let moved = 0;
    for (;;) {
      // The lane with the oldest next item (ties: the lower CPU, scanned first) and the runner-up.
      let best = -1;
      let bestHi = 0;
      let bestLo = 0;
      let next = -1;
      let nextHi = END_HI;
      let nextLo = 0;
      let empty = false;
      for (let s = 0; s < n; s++) {
        const lane = lanes[s]!;
        if (lane.head >= lane.items.length) {
          empty = true;
          continue;
        }
        const hi = lane.hi[lane.head]!;
        const lo = lane.lo[lane.head]!;
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
      if (best < 0) break;
      if (next < 0) nextHi = END_HI;
      // A lane with nothing queued may still deliver anything later than `complete`.
      const bounded = empty && (completeHi < nextHi || (completeHi === nextHi && completeLo < nextLo));
      if (bounded && (bestHi > completeHi || (bestHi === completeHi && bestLo > completeLo))) break;
      const lane = lanes[best]!;
      const { items, hi, lo } = lane;
      const end = items.length;
      let h = lane.head;
      while (h < end) {
        const th = hi[h]!;
        const tl = lo[h]!;
        if (bounded) {
          if (th > completeHi || (th === completeHi && tl > completeLo)) break;
        } else if (th > nextHi || (th === nextHi && (tl > nextLo || (tl === nextLo && best > next)))) break;
        out.push(items[h]!);
        h++;
      }
      moved += h - lane.head;
      if (h === end) {
        lane.items.length = 0;
        lane.hi.length = 0;
        lane.lo.length = 0;
        lane.head = 0;
      } else if (h > 4096 && h > end >>> 1) {
        lane.items.splice(0, h);
        lane.hi.splice(0, h);
        lane.lo.splice(0, h);
        lane.head = 0;
      } else lane.head = h;
    }
    this.#pending -= moved;
    return moved;
  }
}
