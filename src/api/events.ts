// The front door: events() and batches(), async iterables over a live
// capture. A call sets nothing up; the first next() starts record() with an
// IteratorSink (a private instance unless one is named), and the iteration
// ends when the duration is over or the signal aborts (after what was
// captured until then), or when the loop breaks or throws: return() and
// throw() stop the capture and settle only once the instance, the
// mappings and the capture thread are gone.

import type { StagingPolicy } from '../capture/staging-ring.js';
import type { WarningHandler } from '../errors.js';
import type { ModeChoice } from '../kernel/trace-source.js';
import { type RecordSummary, record } from '../pipeline/record.js';
import type { EventSelector, StreamItem } from './event-types.js';
import { IteratorSink, type StreamRecord } from './iterator-sink.js';
import type { RingItem, RingSelector } from './ring-types.js';

/** What to capture, as record() takes it; every option is optional. */
export interface EventsOptions<
  Selectors extends readonly EventSelector[] = readonly EventSelector[],
  Rings extends readonly RingSelector[] = readonly RingSelector[],
> {
  /** Kernel events, as trace-cmd's -e takes them (`sched:sched_switch`, `sched`, `irq:*`, `all`), each with an optional filter. */
  events?: Selectors;
  /** Record this instance (created if absent, removed at the end only if created); default a private instance. */
  instance?: string;
  /** Trace only these PIDs. */
  pids?: readonly number[];
  /** The trace clock (default the instance's; `mono` when rings are given, so that both share a timeline). */
  clock?: string;
  /** mmap (6.10+), read(), or auto (default). */
  mode?: ModeChoice;
  /** Application rings to read beside the kernel's buffers: paths, or paths with their event types. */
  rings?: Rings;
  /** End after this long. */
  durationMs?: number;
  /** End when this aborts (what was captured until then is still delivered). */
  signal?: AbortSignal;
  /** Take what the buffers of `instance` hold now and end: no settings are changed, nothing is cleared. */
  drain?: boolean;
  /** Memory between the capture thread and the loop, and what happens when it is full (default: drop the oldest pages, counted). */
  staging?: { bytes?: number; policy?: StagingPolicy };
  /** Per-CPU kernel buffer size in KiB. */
  bufferKb?: number;
  /** Sub-buffer size in KiB. */
  subbufKb?: number;
  /** tracing_cpumask, hex. */
  cpumask?: string;
  /** How late (ms of trace time) one CPU's events may arrive and still be put in time order with the others (default 250). */
  reorderWindowMs?: number;
  /** Where tracefs is (default: found, or mounted as root). */
  tracefs?: string;
  /** kallsyms for symbol names, or null for none (default /proc/kallsyms). */
  kallsyms?: string | null;
  /** Warnings (default process.emitWarning). */
  onWarning?: WarningHandler;
  /** Things to tell a person (an adopted instance, a fallback). */
  onNote?: (note: string) => void;
}

/**
 * An iteration over a capture: an async iterator (use it once, with
 * `for await`), with the capture's summary once it has ended.
 */
export interface EventStream<T> extends AsyncIterableIterator<T, undefined> {
  /** The next item; calls may overlap (they are served in turn). */
  next(): Promise<IteratorResult<T, undefined>>;
  /** Stops the capture (what `break` calls); settles once the instance, mappings and capture thread are gone. */
  return(): Promise<IteratorResult<T, undefined>>;
  /** Stops the capture as return() does, then rejects with `error`. */
  throw(error?: unknown): Promise<IteratorResult<T, undefined>>;
  /** The recording's summary (counters per CPU, the end reason), once the iteration has ended; null before. */
  readonly summary: RecordSummary | null;
  /** Ends the iteration early, as `break` does; settles once everything is cleaned up. */
  stop(): Promise<void>;
  /** `await using` support: stop(). */
  [Symbol.asyncDispose](): Promise<void>;
}

const ignore = (): void => {};

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** One iteration: runs record() with an IteratorSink on first use and hands out its chunks. */
class StreamRun {
  readonly #options: EventsOptions;
  readonly #abort = new AbortController();
  #sink: IteratorSink | null = null;
  #running: Promise<RecordSummary> | null = null;
  summary: RecordSummary | null = null;
  done = false;
  /** The last take() (they run one after another). */
  #turn: Promise<void> = Promise.resolve();

  constructor(options: EventsOptions) {
    this.#options = options;
  }

  #start(): IteratorSink {
    if (this.#sink !== null) return this.#sink;
    const o = this.#options;
    const sink = new IteratorSink(o.reorderWindowMs === undefined ? {} : { reorderWindowMs: o.reorderWindowMs });
    this.#sink = sink;
    const signal = o.signal === undefined ? this.#abort.signal : AbortSignal.any([o.signal, this.#abort.signal]);
    const rings = (o.rings ?? []).map((r) => (typeof r === 'string' ? r : r.path));
    const clock = o.clock ?? (rings.length > 0 ? 'mono' : undefined);
    this.#running = record({
      sinks: [sink],
      signal,
      events: (o.events ?? []).map((e) => (typeof e === 'string' ? e : { event: e.event, ...(e.filter === undefined ? {} : { filter: e.filter }) })),
      rings,
      ...(o.instance === undefined ? {} : { instance: o.instance }),
      ...(o.pids === undefined ? {} : { pids: o.pids }),
      ...(clock === undefined ? {} : { clock }),
      ...(o.mode === undefined ? {} : { mode: o.mode }),
      ...(o.durationMs === undefined ? {} : { durationMs: o.durationMs }),
      ...(o.drain === undefined ? {} : { drain: o.drain }),
      ...(o.staging === undefined ? {} : { staging: o.staging }),
      ...(o.bufferKb === undefined ? {} : { bufferKb: o.bufferKb }),
      ...(o.subbufKb === undefined ? {} : { subbufKb: o.subbufKb }),
      ...(o.cpumask === undefined ? {} : { cpumask: o.cpumask }),
      ...(o.tracefs === undefined ? {} : { tracefs: o.tracefs }),
      ...(o.kallsyms === undefined ? {} : { kallsyms: o.kallsyms }),
      ...(o.onWarning === undefined ? {} : { onWarning: o.onWarning }),
      ...(o.onNote === undefined ? {} : { onNote: o.onNote }),
    }).then((summary) => {
      this.summary = summary;
      return summary;
    });
    // A failure before the sink opened (a misspelt event, no tracefs) reaches the consumer too.
    this.#running.catch((error: unknown) => sink.handoff.fail(error));
    return sink;
  }

  /** The next chunk, or null at the end (then the capture has been cleaned up); calls are served in turn. */
  take(): Promise<StreamRecord[] | null> {
    const next = this.#turn.then(() => this.#take());
    this.#turn = next.then(ignore, ignore);
    return next;
  }

  async #take(): Promise<StreamRecord[] | null> {
    if (this.done) return null;
    const sink = this.#start();
    let chunk: StreamRecord[] | null;
    try {
      chunk = await sink.handoff.take();
    } catch (error) {
      this.done = true;
      await this.#running!.catch(() => {});
      throw error;
    }
    if (chunk === null) {
      this.done = true;
      await this.#running;
    }
    return chunk;
  }

  /** Stops the capture and waits until it has cleaned up. */
  async stop(): Promise<void> {
    if (this.done) return;
    this.done = true;
    if (this.#running === null) return;
    this.#sink!.handoff.cancel();
    this.#abort.abort();
    await this.#running;
  }
}

class EventIterator<T> implements EventStream<T> {
  readonly #run: StreamRun;
  #chunk: StreamRecord[] = [];
  #at = 0;
  /** Settles when the last next() that had to wait has settled (null: none pending). */
  #inflight: Promise<void> | null = null;

  constructor(options: EventsOptions) {
    this.#run = new StreamRun(options);
  }

  get summary(): RecordSummary | null {
    return this.#run.summary;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#inflight === null) {
      // The hot path: an item of the current chunk, no await inside.
      if (this.#at < this.#chunk.length) return Promise.resolve({ done: false, value: this.#chunk[this.#at++] as T });
      return this.#track(this.#refill());
    }
    // next() called again before the last one settled: in turn, so that no item is skipped or given twice.
    return this.#track(this.#inflight.then(() => this.#step()));
  }

  /** A next() that waited for the one before it. */
  #step(): Promise<IteratorResult<T, undefined>> {
    if (this.#at < this.#chunk.length) return Promise.resolve({ done: false, value: this.#chunk[this.#at++] as T });
    return this.#refill();
  }

  #track(result: Promise<IteratorResult<T, undefined>>): Promise<IteratorResult<T, undefined>> {
    const settled = result.then(ignore, ignore);
    this.#inflight = settled;
    void settled.then(() => {
      if (this.#inflight === settled) this.#inflight = null;
    });
    return result;
  }

  async #refill(): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      const chunk = await this.#run.take();
      if (chunk === null) {
        this.#chunk = [];
        return DONE;
      }
      if (chunk.length === 0) continue;
      this.#chunk = chunk;
      this.#at = 1;
      return { done: false, value: chunk[0] as T };
    }
  }

  async return(): Promise<IteratorResult<T, undefined>> {
    this.#chunk = [];
    await this.#run.stop();
    return DONE;
  }

  async throw(error?: unknown): Promise<IteratorResult<T, undefined>> {
    this.#chunk = [];
    await this.#run.stop();
    throw error;
  }

  stop(): Promise<void> {
    this.#chunk = [];
    return this.#run.stop();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

class BatchIterator<T> implements EventStream<readonly T[]> {
  readonly #run: StreamRun;

  constructor(options: EventsOptions) {
    this.#run = new StreamRun(options);
  }

  get summary(): RecordSummary | null {
    return this.#run.summary;
  }

  async next(): Promise<IteratorResult<readonly T[], undefined>> {
    for (;;) {
      const chunk = await this.#run.take();
      if (chunk === null) return DONE;
      if (chunk.length > 0) return { done: false, value: chunk as unknown as readonly T[] };
    }
  }

  async return(): Promise<IteratorResult<readonly T[], undefined>> {
    await this.#run.stop();
    return DONE;
  }

  async throw(error?: unknown): Promise<IteratorResult<readonly T[], undefined>> {
    await this.#run.stop();
    throw error;
  }

  stop(): Promise<void> {
    return this.#run.stop();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * Decoded events of the running kernel (and of application rings), merged
 * by time across CPUs and rings, with loss records where events were lost:
 *
 * ```ts
 * for await (const ev of events({ events: ['sched:sched_switch'], durationMs: 1000 })) {
 *   if (ev.name === 'sched_switch') console.log(ev.comm, ev.fields.next_comm);
 *   else if (ev.type === 'lost') console.log(`CPU ${ev.cpu}: ${ev.count} events lost`);
 * }
 * ```
 *
 * Nothing starts until the first iteration. Without `instance`, a private
 * instance is created and removed at the end. The iteration ends when
 * `durationMs` is over or `signal` aborts; `break`, `return` or an
 * exception in the loop end it too, and cleanup is complete when the loop
 * has exited. Fields are typed once the declarations `tracering types`
 * writes are in the compilation.
 */
export function events<const Selectors extends readonly EventSelector[] = readonly [], const Rings extends readonly RingSelector[] = readonly []>(
  options: EventsOptions<Selectors, Rings> = {},
): EventStream<StreamItem<Selectors, RingItem<Rings>>> {
  return new EventIterator(options);
}

/**
 * The same items as events(), in chunks (arrays in time order, about 2048
 * items each): one await per chunk instead of one per event.
 */
export function batches<const Selectors extends readonly EventSelector[] = readonly [], const Rings extends readonly RingSelector[] = readonly []>(
  options: EventsOptions<Selectors, Rings> = {},
): EventStream<ReadonlyArray<StreamItem<Selectors, RingItem<Rings>>>> {
  return new BatchIterator(options);
}
