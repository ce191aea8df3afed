// One sink's cursor over one CPU's pages of the current round: records are
// walked in place in the staging memory (no copy), several pages per batch;
// raw pages go out one slot at a time.

import type { BatchSource } from '../layout/batch-source.js';
import { RecordBatch, WalkState, maxRecords, walkRecords } from '../layout/record.js';
import { CorruptSubbufError } from '../errors.js';
import { type SubbufLayout, dataSize, newSubbufHeader, readSubbufHeader } from '../layout/subbuf.js';
import type { CpuCursor, PageRun } from '../sinks/sink.js';
import type { CpuRound } from './rounds.js';

/** Where staged pages live: the staging ring, or a local copy (application rings). */
export interface PageStore {
  readonly data: Uint8Array;
  readonly view: DataView;
  slotOffset(slot: number): number;
  eventsIn(slot: number): number;
}

const PAGES_PER_BATCH = 16;

export class StagedCursor implements CpuCursor, BatchSource {
  readonly cpu: number;
  readonly layout: SubbufLayout;
  /** Data records delivered through this cursor. */
  events = 0;
  readonly #staging: PageStore;
  readonly #round: CpuRound;
  readonly #batch: RecordBatch;
  readonly #walk = new WalkState();
  readonly #header = newSubbufHeader();
  readonly #run: { bytes: Uint8Array; pages: number; lostBefore: number; events: number } = {
    bytes: new Uint8Array(0),
    pages: 1,
    lostBefore: 0,
    events: 0,
  };
  #index = 0;

  constructor(staging: PageStore, round: CpuRound, cpu: number, layout: SubbufLayout) {
    this.#staging = staging;
    this.#round = round;
    this.cpu = cpu;
    this.layout = layout;
    this.#batch = new RecordBatch(PAGES_PER_BATCH * maxRecords(dataSize(layout)));
  }

  /** Starts over on a new round. */
  rewind(): void {
    this.#index = 0;
  }

  get caughtUp(): boolean {
    return this.#index >= this.#round.count;
  }

  next(): RecordBatch | null {
    const round = this.#round;
    if (this.#index >= round.count) return null;
    const staging = this.#staging;
    const batch = this.#batch;
    const layout = this.layout;
    batch.reset(staging.data, staging.view, this.cpu, round.slots[this.#index]!);
    for (let taken = 0; taken < PAGES_PER_BATCH && this.#index < round.count; taken++) {
      const lost = round.lostBefore[this.#index]!;
      if (lost !== 0 && taken > 0) break; // a loss report opens a batch
      const start = staging.slotOffset(round.slots[this.#index]!);
      let header;
      try {
        header = readSubbufHeader(staging.view, start, layout, this.#header);
      } catch (error) {
        if (taken > 0) break;
        this.#index++;
        batch.corrupt = new CorruptSubbufError(`corrupt sub-buffer header: ${(error as Error).message}`, -1);
        return batch;
      }
      if (taken === 0) batch.lostBefore = lost;
      this.#index++;
      this.#walk.begin(header.tsHi, header.tsLo);
      walkRecords(layout, start + layout.dataOffset, header.commitSize, 0, this.#walk, batch);
      if (batch.corrupt !== null) break;
    }
    this.events += batch.count;
    return batch;
  }

  nextPages(): PageRun | null {
    const round = this.#round;
    if (this.#index >= round.count) return null;
    const staging = this.#staging;
    const slot = round.slots[this.#index]!;
    const run = this.#run;
    const at = staging.slotOffset(slot);
    run.bytes = staging.data.subarray(at, at + this.layout.subbufSize);
    run.lostBefore = round.lostBefore[this.#index]!;
    run.events = staging.eventsIn(slot);
    this.#index++;
    this.events += run.events;
    return run;
  }
}
