// Slices, instants and counters for applications, written into an AppRing
// as ordinary ring events of a reserved schema (system "tracering"), so
// every reader handles them: kernel text prints `slice_begin: name=handle`,
// JSON Lines gives the fields, and the Perfetto output turns them into
// TrackEvent slices, instants and counters on the writer thread's track.
//
//   const trace = new TraceApi(ring, ring.writer());
//   trace.begin('handle'); ...; trace.end();
//   { using _ = trace.span('parse'); ... }          // ends at scope exit
//   await trace.span('query', async () => db.run())  // ends when it settles
//   trace.instant('cache-miss');
//   trace.counter('queue', 17); trace.counter('load', 0.75);

import { InvalidArgumentError } from '../errors.js';
import type { AppEvent } from './app-event.js';
import type { AppRing } from './app-ring.js';
import type { EventSchema } from './schema.js';
import type { RingWriter } from './writer.js';

/** The event system of the reserved schemas. */
export const TRACE_API_SYSTEM = 'tracering';

/** Names of the reserved events. */
export const TRACE_API_EVENTS = {
  begin: 'slice_begin',
  end: 'slice_end',
  instant: 'instant',
  counter: 'counter',
  counterDouble: 'counter_double',
} as const;

const SCHEMAS: Record<keyof typeof TRACE_API_EVENTS, EventSchema> = {
  begin: { system: TRACE_API_SYSTEM, name: TRACE_API_EVENTS.begin, fields: [['name', 'string']] },
  // The name of the slice that ends, for readers of the text; Perfetto ends the innermost open slice.
  end: { system: TRACE_API_SYSTEM, name: TRACE_API_EVENTS.end, fields: [['name', 'string']] },
  instant: { system: TRACE_API_SYSTEM, name: TRACE_API_EVENTS.instant, fields: [['name', 'string']] },
  counter: { system: TRACE_API_SYSTEM, name: TRACE_API_EVENTS.counter, fields: [['name', 'string'], ['value', 's64']] },
  // Non-integer values as their shortest decimal text: exact, and readable in the kernel's text form.
  counterDouble: { system: TRACE_API_SYSTEM, name: TRACE_API_EVENTS.counterDouble, fields: [['name', 'string'], ['value', 'string']] },
};

/** The event of `schema` in `ring`: the one defined before (by any thread or process), or a new one. */
function eventOf(ring: AppRing, schema: EventSchema): AppEvent {
  return ring.event(schema.name, schema.system) ?? ring.defineEvent(schema);
}

/** An open span: end() (or leaving a `using` scope) ends it, once. */
export interface Span extends Disposable {
  /** Ends the span (again: nothing). */
  end(): void;
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** Slices, instants and counters written into an application ring, on the writer thread's track (Perfetto TrackEvents). */
export class TraceApi {
  readonly ring: AppRing;
  readonly writer: RingWriter;
  readonly #begin: AppEvent;
  readonly #end: AppEvent;
  readonly #instant: AppEvent;
  readonly #counter: AppEvent;
  readonly #counterDouble: AppEvent;
  /** Names of the open slices, innermost last. */
  readonly #open: string[] = [];

  constructor(ring: AppRing, writer: RingWriter) {
    this.ring = ring;
    this.writer = writer;
    this.#begin = eventOf(ring, SCHEMAS.begin);
    this.#end = eventOf(ring, SCHEMAS.end);
    this.#instant = eventOf(ring, SCHEMAS.instant);
    this.#counter = eventOf(ring, SCHEMAS.counter);
    this.#counterDouble = eventOf(ring, SCHEMAS.counterDouble);
  }

  /** Slices open now (begun, not ended). */
  get depth(): number {
    return this.#open.length;
  }

  /** Starts a slice on this thread's track; false if the ring dropped the event. */
  begin(name: string): boolean {
    this.#open.push(name);
    return this.#begin.write(this.writer, name);
  }

  /** Ends the innermost open slice. */
  end(): boolean {
    const name = this.#open.pop();
    if (name === undefined) throw new InvalidArgumentError('TraceApi.end(): no slice is open');
    return this.#end.write(this.writer, name);
  }

  /**
   * A slice around `fn` (ended when it returns, throws, or its promise
   * settles), or, without `fn`, a Span to end() or to hold with `using`.
   */
  span(name: string): Span;
  span<T>(name: string, fn: () => T): T;
  span<T>(name: string, fn?: () => T): T | Span {
    this.begin(name);
    const depth = this.#open.length;
    let ended = false;
    const finish = () => {
      if (ended) return;
      ended = true;
      // Only the slice this span opened: inner ones left open by mistake end with it.
      while (this.#open.length >= depth) this.end();
    };
    if (fn === undefined) return { end: finish, [Symbol.dispose]: finish };
    let result: T;
    try {
      result = fn();
    } catch (error) {
      finish();
      throw error;
    }
    if (result instanceof Promise) return result.finally(finish) as T;
    finish();
    return result;
  }

  /** A point in time on this thread's track. */
  instant(name: string): boolean {
    return this.#instant.write(this.writer, name);
  }

  /** A counter's value now (a track per counter name under this thread). */
  counter(name: string, value: number | bigint): boolean {
    if (typeof value === 'bigint') {
      if (value > INT64_MAX || value < INT64_MIN) throw new InvalidArgumentError(`counter ${name}: ${value} does not fit 64 bits`);
      return this.#counter.write(this.writer, name, value);
    }
    if (!Number.isFinite(value)) throw new InvalidArgumentError(`counter ${name}: ${value} is not a finite number`);
    if (Number.isSafeInteger(value)) return this.#counter.write(this.writer, name, BigInt(value));
    return this.#counterDouble.write(this.writer, name, String(value));
  }
}
