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
  /** The newest timestamp pushed (-1: none yet): the lane's later items are not older. */
  lastHi: number;
  lastLo: number;
  /** More items are about to be pushed (the caller is still reading this lane's pages). */
  open: boolean;
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
      this.#lanes.splice(i, 0, { items: [], hi: [], lo: [], head: 0, lastHi: -1, lastLo: 0, open: false });
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
    lane.lastHi = hi;
    lane.lastLo = lo;
    this.#pending++;
  }

  /**
   * Marks a CPU as being read (`open`: its next items are about to come,
   * so nothing later than its newest item may go out before them) or done
   * for now (then it holds the others back only until `complete`).
   */
  setOpen(cpu: number, open: boolean): void {
    this.#lane(cpu).open = open;
  }

  /**
   * Moves into `out`, in time order, every item that can no longer be
   * preceded: not later than any CPU's next item, nor than what a CPU
   * with nothing queued may still deliver (see setOpen; `complete`: every
   * item up to that time has arrived). Returns how many.
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
      // The earliest time a lane with nothing queued may still deliver: its newest item if it is
      // being read, else the later of that and `complete`.
      let empty = false;
      let boundHi = END_HI;
      let boundLo = 0;
      for (let s = 0; s < n; s++) {
        const lane = lanes[s]!;
        if (lane.head >= lane.items.length) {
          let bh = lane.lastHi;
          let bl = lane.lastLo;
          if (!lane.open && (completeHi > bh || (completeHi === bh && completeLo > bl))) {
            bh = completeHi;
            bl = completeLo;
          }
          if (!empty || bh < boundHi || (bh === boundHi && bl < boundLo)) {
            boundHi = bh;
            boundLo = bl;
          }
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
      const bounded = empty && (boundHi < nextHi || (boundHi === nextHi && boundLo < nextLo));
      if (bounded && (boundHi < 0 || bestHi > boundHi || (bestHi === boundHi && bestLo > boundLo))) break;
      const lane = lanes[best]!;
      const { items, hi, lo } = lane;
      const end = items.length;
      let h = lane.head;
      while (h < end) {
        const th = hi[h]!;
        const tl = lo[h]!;
        if (bounded) {
          if (th > boundHi || (th === boundHi && tl > boundLo)) break;
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
