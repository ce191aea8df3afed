// Pages staged in this thread's own memory: what an application ring's
// reader delivered in a round (rings live in user space already, so they
// are read on the output thread and copied once, to fan out to sinks).

import type { SubbufLayout } from '../layout/subbuf.js';
import type { PagedReader } from '../pipeline/cursor.js';
import { CpuRound } from './rounds.js';
import type { PageStore } from './staged-cursor.js';

export class LocalPages implements PageStore {
  data: Uint8Array;
  view: DataView;
  readonly round: CpuRound;
  readonly #events: number[] = [];
  readonly #size: number;
  readonly #maxPages: number;

  constructor(layout: SubbufLayout, maxPages = 256) {
    this.#size = layout.subbufSize;
    this.#maxPages = maxPages;
    this.data = new Uint8Array(this.#size * 16);
    this.view = new DataView(this.data.buffer);
    this.round = new CpuRound(maxPages);
  }

  slotOffset(slot: number): number {
    return slot * this.#size;
  }

  eventsIn(slot: number): number {
    return this.#events[slot] ?? 0;
  }

  /** Reads what `reader` holds now (up to the round's capacity) into a new round. */
  fill(reader: PagedReader): number {
    const round = this.round;
    round.count = 0;
    this.#events.length = 0;
    while (round.count < this.#maxPages) {
      const batch = reader.next();
      if (batch === null) break;
      const page = reader.lastPages;
      if (page.byteLength === 0) continue;
      const at = round.count * this.#size;
      if (at + this.#size > this.data.byteLength) this.#grow();
      this.data.set(page.subarray(0, this.#size), at);
      round.slots[round.count] = round.count;
      round.lostBefore[round.count] = batch.lostBefore;
      this.#events.push(batch.count);
      round.count++;
      if (reader.caughtUp) break;
    }
    return round.count;
  }

  #grow(): void {
    const bigger = new Uint8Array(Math.min(this.data.byteLength * 2, this.#size * this.#maxPages));
    bigger.set(this.data);
    this.data = bigger;
    this.view = new DataView(bigger.buffer);
  }
}
