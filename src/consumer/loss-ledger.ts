// Lost-event accounting for one per-CPU buffer.
//
// The kernel reports overwritten events per sub-buffer: a MISSED flag on the
// first sub-buffer read after a loss, usually with the count stored after the
// data (kernel-abi.md §5.2). When there is no room for the count, only the
// kernel's `overrun` counter tells how many. The ledger takes counts from the
// pages when they are there, fills the gaps from the counter, and at the end
// settles against the counter so the total is exact: every event the kernel
// overwrote before we read it.

/** Exact lost-event accounting for one per-CPU buffer: counts from the pages where the kernel stored them, the `overrun` counter for the rest. */
export class LossLedger {
  /** Lost events attributed during this session. */
  total = 0;
  /** Overrun already reported to an earlier consumer when the session began. */
  #baseline: number;
  /** Lost events attributed since the session began or the buffer was last reset. */
  #sinceBaseline = 0;
  /** Some count was estimated from the counter (and may have taken later losses). */
  #estimated = false;

  /**
   * `overrun` and `read` are the kernel's counters at the start. If nothing
   * was ever consumed, nobody was told about earlier overwrites, so they
   * are ours to report (the first sub-buffer's stored count includes them).
   */
  constructor(overrun: number, read: number) {
    this.#baseline = read === 0 ? 0 : overrun;
  }

  /** A ledger whose losses start after overrun counter value `baseline` (a reader taking over from another). */
  static from(baseline: number): LossLedger {
    const ledger = new LossLedger(0, 0);
    ledger.#baseline = baseline;
    return ledger;
  }

  /** The overrun counter value this ledger has accounted up to (its baseline plus what it attributed). */
  get accountedTo(): number {
    return this.#baseline + this.#sinceBaseline;
  }

  /**
   * Records a sub-buffer's loss report: a count, or -1 when the flag came
   * without one, resolved from the kernel's current overrun counter.
   * Returns the count attributed to this sub-buffer (-1 if still unknown).
   */
  report(count: number, currentOverrun: () => number): number {
    let n = count;
    const pending = currentOverrun() - this.#baseline - this.#sinceBaseline;
    if (n < 0) {
      if (pending <= 0) return -1;
      n = pending;
      this.#estimated = true;
    } else if (this.#estimated && n > pending) {
      // An earlier estimate (a page without a stored count) took events this
      // count includes: the total never exceeds the overrun counter.
      n = Math.max(0, pending);
    }
    this.total += n;
    this.#sinceBaseline += n;
    return n;
  }

  /** Adds overwrites the counter shows but no sub-buffer reported (the session is ending). */
  settle(overrun: number): number {
    const pending = overrun - this.#baseline - this.#sinceBaseline;
    if (pending <= 0) return 0;
    this.total += pending;
    this.#sinceBaseline += pending;
    return pending;
  }

  /** The buffer was reset: its counters restarted from zero. */
  rebase(): void {
    this.#baseline = 0;
    this.#sinceBaseline = 0;
    this.#estimated = false;
  }
}
