// The output thread takes staged pages in rounds: every CPU's queued slots
// (up to a bound) at once, handed to each sink through its own cursors, then
// released together. A round settles each slot's loss report: the kernel's
// count plus the events the capture side dropped just before it, written
// into the page header as well (RB_MISSED_EVENTS and, where it fits, the
// count), so every sink sees staging losses the way it sees the kernel's.

import { writeSyntheticHeader } from '../consumer/mapped-consumer.js';
import { type SubbufLayout, newSubbufHeader, readSubbufHeader } from '../layout/subbuf.js';
import { NO_SLOT, type StagingRing } from './staging-ring.js';

export class CpuRound {
  /** Slots of this round, oldest first. */
  readonly slots: Int32Array;
  /** Exact events lost before each slot's page (0, n; -1 when the kernel could not say). */
  readonly lostBefore: Float64Array;
  count = 0;

  constructor(capacity: number) {
    this.slots = new Int32Array(capacity);
    this.lostBefore = new Float64Array(capacity);
  }
}

export class RoundTaker {
  readonly staging: StagingRing;
  readonly layout: SubbufLayout;
  readonly cpus: readonly CpuRound[];
  /** Per queue: events accounted for so far (delivered, or reported lost). */
  readonly #accounted: Float64Array;
  /** Per queue: staging losses reported in rounds so far. */
  readonly stagingLostSeen: Float64Array;
  readonly #maxPerCpu: number;
  readonly #header = newSubbufHeader();
  /** Per queue: the header timestamp of the last page taken (hi, lo), for a closing loss page. */
  readonly #lastTs: Uint32Array;

  constructor(staging: StagingRing, layout: SubbufLayout, maxPerCpu = 256) {
    this.staging = staging;
    this.layout = layout;
    this.#maxPerCpu = Math.max(1, Math.min(maxPerCpu, staging.geometry.slots));
    this.cpus = Array.from({ length: staging.geometry.cpus }, () => new CpuRound(this.#maxPerCpu));
    this.#accounted = new Float64Array(staging.geometry.cpus);
    this.stagingLostSeen = new Float64Array(staging.geometry.cpus);
    this.#lastTs = new Uint32Array(2 * staging.geometry.cpus);
  }

  /** Claims the next round; returns the number of pages in it. */
  take(): number {
    let total = 0;
    const staging = this.staging;
    for (let q = 0; q < this.cpus.length; q++) {
      const round = this.cpus[q]!;
      round.count = staging.claim(q, this.#maxPerCpu, round.slots);
      total += round.count;
      for (let i = 0; i < round.count; i++) {
        const slot = round.slots[i]!;
        const gap = staging.eventsBefore(slot) - this.#accounted[q]!;
        const kernel = staging.kernelLostBefore(slot);
        this.#accounted[q] = staging.eventsBefore(slot) + staging.eventsIn(slot);
        let lost = kernel;
        if (gap > 0) {
          this.stagingLostSeen[q]! += gap;
          lost = kernel < 0 ? -1 : kernel + gap;
          this.#markLoss(slot, lost);
        }
        round.lostBefore[i] = lost;
      }
      if (round.count > 0) {
        const h = readSubbufHeader(this.#slotView(round.slots[round.count - 1]!), 0, this.layout, this.#header);
        this.#lastTs[2 * q] = h.tsHi;
        this.#lastTs[2 * q + 1] = h.tsLo;
      }
    }
    return total;
  }

  /**
   * Once the capture has finished and every page was taken: a round of one
   * empty page per CPU whose last events were dropped after its last staged
   * page. Losses ride on the page after them, and these have none; the
   * empty page carries them (RB_MISSED_EVENTS with the count) so that every
   * sink shows them as it shows any other loss. Returns the pages in it.
   */
  takeTrailingLosses(): number {
    let total = 0;
    for (let q = 0; q < this.cpus.length; q++) {
      const round = this.cpus[q]!;
      round.count = 0;
      const produced = this.staging.produced(q);
      const trailing = produced - this.#accounted[q]!;
      if (trailing <= 0) continue;
      const slot = this.staging.lossSlot();
      if (slot === NO_SLOT) continue; // every slot is free once the capture is done; this cannot happen
      writeSyntheticHeader(this.#slotView(slot), this.layout, this.#lastTs[2 * q]!, this.#lastTs[2 * q + 1]!, 0, trailing);
      this.#accounted[q] = produced;
      this.stagingLostSeen[q]! += trailing;
      round.slots[0] = slot;
      round.lostBefore[0] = trailing;
      round.count = 1;
      total++;
    }
    return total;
  }

  /** Gives this round's slots back to the pool. */
  release(): void {
    for (let q = 0; q < this.cpus.length; q++) {
      const round = this.cpus[q]!;
      this.staging.release(round.slots, round.count);
      round.count = 0;
    }
  }

  /** The page in `slot`, as a view starting at its header. */
  #slotView(slot: number): DataView {
    return new DataView(this.staging.memory, this.staging.view.byteOffset + this.staging.slotOffset(slot), this.layout.subbufSize);
  }

  #markLoss(slot: number, lost: number): void {
    const view = this.#slotView(slot);
    const h = readSubbufHeader(view, 0, this.layout, this.#header);
    writeSyntheticHeader(view, this.layout, h.tsHi, h.tsLo, h.commitSize, lost);
  }
}
