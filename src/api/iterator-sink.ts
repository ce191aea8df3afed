// The sink behind events() and batches(): each round of pages is decoded
// into objects, put into one timeline across CPUs and rings (time-order.ts)
// and handed to the iterator (handoff.ts); consume() settles once the
// consumer has taken it, so a slow loop holds the pipeline (the staging
// ring absorbs bursts and its policy decides what is dropped, and every
// drop reaches the loop as a loss record).
//
// Ordering needs a bound on lateness: a CPU with nothing queued may still
// deliver events older than the newest ones seen, until every event up to
// some time has arrived. The capture picks up partly filled pages at least
// every flush interval, so anything older than the trace clock's "now"
// minus a reorder window (default 250 ms) is taken to have arrived.

import { CLOCK_IDS, native } from '../native.js';
import type { BatchSource } from '../layout/batch-source.js';
import type { RecordBatch } from '../layout/record.js';
import { clockInNs } from '../output/line-prefix.js';
import type { SinkEnd, SinkInput, SinkReport, TraceSink } from '../sinks/sink.js';
import { EventBuilder, lostRecord } from './event-builder.js';
import type { LostRecord, TraceEvent, UnknownRecord } from './event-types.js';
import { Handoff } from './handoff.js';
import { END_HI, TimeOrder } from './time-order.js';

export type StreamRecord = TraceEvent | LostRecord | UnknownRecord;

export interface IteratorSinkOptions {
  /** How late (ms of trace time) a CPU's events may arrive and still be put in order; 0: order within each round only. */
  reorderWindowMs?: number;
  /** Items decoded before a chunk is handed over (default 2048). */
  chunk?: number;
}

const TWO32 = 4294967296;

export class IteratorSink implements TraceSink {
  readonly kind = 'iterator';
  readonly handoff = new Handoff<StreamRecord>();
  readonly #windowNs: number;
  readonly #chunk: number;
  readonly #order = new TimeOrder<StreamRecord>();
  #sources: BatchSource[] = [];
  #builder: EventBuilder | null = null;
  /** Trace clock minus CLOCK_MONOTONIC (ns), or null when the trace clock is not a nanosecond clock that was read. */
  #offsetNs: number | null = null;
  /** Newest timestamp seen (ns, as a Number): the fallback bound without a clock reading. */
  #newest = 0;
  /** Positive loss counts delivered, by CPU. */
  readonly #lostDelivered = new Map<number, number>();
  #events = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: IteratorSinkOptions = {}) {
    this.#windowNs = Math.max(0, options.reorderWindowMs ?? 250) * 1e6;
    this.#chunk = Math.max(1, options.chunk ?? 2048);
  }

  open(input: SinkInput): void {
    const buffer = input.buffers[0];
    this.#sources = [...(buffer?.cpus ?? []), ...input.rings.map((r) => r.cursor)];
    for (const s of this.#sources) this.#order.addCpu(s.cpu);
    this.#builder = new EventBuilder(input.context(buffer));
    const pair = input.clockPairs[0];
    if (pair !== undefined && clockInNs(pair.clock)) this.#offsetNs = Number(pair.traceNs - pair.monoNs);
    if (this.#windowNs > 0) {
      // Quiet periods: what waited for a late CPU goes out once the window has passed.
      this.#timer = setInterval(() => this.#release(false), Math.max(20, this.#windowNs / 2e6));
      this.#timer.unref();
    }
  }

  /** Events handed over so far. */
  get events(): number {
    return this.#events;
  }

  /**
   * Reads the round's batches a CPU at a time in turn, handing over a
   * chunk whenever one is ready and waiting until the loop has taken it:
   * the objects alive at any moment stay few (a round can hold a quarter
   * of a million events), which keeps the garbage collector cheap.
   */
  async consume(): Promise<void> {
    const order = this.#order;
    const active = [...this.#sources];
    for (const s of active) order.setOpen(s.cpu, true);
    let built = 0;
    while (active.length > 0) {
      for (let k = 0; k < active.length; k++) {
        const s = active[k]!;
        const batch = s.next();
        if (batch === null) {
          order.setOpen(s.cpu, false);
          active.splice(k--, 1);
          continue;
        }
        // Nobody is listening: let the pages go.
        if (this.handoff.cancelled) continue;
        this.#take(s.cpu, batch);
        built += batch.count;
      }
      if (built >= this.#chunk && !this.handoff.cancelled) {
        built = 0;
        this.#release(false);
        await this.handoff.drained();
      }
    }
    this.#release(false);
    await this.handoff.drained();
  }

  #take(cpu: number, batch: RecordBatch): void {
    const builder = this.#builder!;
    const order = this.#order;
    const n = batch.count;
    if (batch.lostBefore !== 0) {
      const hi = n > 0 ? batch.tsHi(0) : 0;
      const lo = n > 0 ? batch.tsLo(0) : 0;
      order.push(cpu, lostRecord(cpu, batch.lostBefore), hi, lo);
      if (batch.lostBefore > 0) this.#lostDelivered.set(cpu, (this.#lostDelivered.get(cpu) ?? 0) + batch.lostBefore);
    }
    for (let i = 0; i < n; i++) {
      const hi = batch.tsHi(i);
      const lo = batch.tsLo(i);
      order.push(cpu, builder.build(batch, i), hi, lo);
    }
    if (n > 0) {
      const last = batch.tsHi(n - 1) * TWO32 + batch.tsLo(n - 1);
      if (last > this.#newest) this.#newest = last;
    }
  }

  /** Hands over what can no longer be preceded (everything when `all`). */
  #release(all: boolean): void {
    if (this.#order.pending === 0 || this.handoff.cancelled) return;
    let hi = END_HI;
    let lo = 0;
    if (!all) {
      const now = this.#offsetNs !== null ? Number(native.clockNs(CLOCK_IDS.monotonic)) + this.#offsetNs : this.#newest;
      const complete = Math.max(0, now - this.#windowNs);
      hi = Math.floor(complete / TWO32);
      lo = complete - hi * TWO32;
    }
    const out: StreamRecord[] = [];
    this.#order.release(out, hi, lo);
    for (let at = 0; at < out.length; at += this.#chunk) this.handoff.push(out.length <= this.#chunk ? out : out.slice(at, at + this.#chunk));
    this.#events += out.length;
  }

  async close(end: SinkEnd): Promise<SinkReport> {
    this.#stopTimer();
    this.#release(true);
    // Losses no page reported (a dropped page's own count, overwrites the kernel only counted): the totals are exact.
    const settle: StreamRecord[] = [];
    const buffer = end.buffers[0];
    for (const c of buffer?.cpus ?? []) this.#settle(settle, c.cpu, c.counters.lost + c.stagingLost);
    const firstRing = this.#sources.length - end.rings.length;
    end.rings.forEach((r, i) => {
      const cursor = this.#sources[firstRing + i];
      if (cursor !== undefined) this.#settle(settle, cursor.cpu, r.lost);
    });
    this.handoff.push(settle);
    this.handoff.end();
    return { kind: this.kind, path: null, bytes: 0, events: this.#events, notes: [] };
  }

  #settle(out: StreamRecord[], cpu: number, total: number): void {
    const missing = total - (this.#lostDelivered.get(cpu) ?? 0);
    if (missing > 0) {
      out.push(lostRecord(cpu, missing));
      this.#lostDelivered.set(cpu, total);
    }
  }

  abort(reason: unknown): void {
    this.#stopTimer();
    this.handoff.fail(reason);
  }

  #stopTimer(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }
}
