// The shapes events() and batches() yield, and their typing: kernel events
// typed from declarations that `tracering types` writes (module
// augmentation of KernelEvents), application ring events typed from their
// schemas. Types only; the values come from event-builder.ts.

import type { FieldValue } from '../decode/field-decoder.js';

/**
 * Field types of kernel events, by `"system:event"`. Empty here: the file
 * that `tracering types -o FILE.d.ts` writes adds the running kernel's
 * events to it by module augmentation, and events() narrows on them:
 *
 * ```ts
 * declare module 'tracering' {
 *   interface KernelEvents {
 *     'sched:sched_switch': { prev_comm: string; prev_pid: number; prev_state: bigint; ... };
 *   }
 * }
 * ```
 */
export interface KernelEvents {}

/** Fields of an event that has no declared type: every field by name. */
export type UntypedFields = Readonly<Record<string, FieldValue>>;

/** The four fields every kernel and application event starts with. */
export interface CommonFields {
  /** The event's id (`common_type`). */
  readonly common_type: number;
  /** Latency flags (irqs off, need-resched, hard/soft irq...). */
  readonly common_flags: number;
  readonly common_preempt_count: number;
  /** The thread that emitted the event. */
  readonly common_pid: number;
}

/**
 * One decoded event. `fields` holds every field of the event's format
 * (the common ones too): integers of up to 32 bits as numbers, 64-bit
 * integers as bigint, character data as strings, other arrays as number[]
 * (bigint[] for 64-bit elements), byte arrays as Uint8Array, bitmasks as
 * the indices of their set bits. The object is the caller's to keep: it
 * holds no view into trace buffers.
 */
export interface TraceEvent<System extends string = string, Name extends string = string, Fields = UntypedFields> {
  /** Discriminates events from loss and unknown records. */
  readonly type: 'event';
  /** The event system (`sched`, or a ring schema's system, `app` by default). */
  readonly system: System;
  /** The event name (`sched_switch`). */
  readonly name: Name;
  /** The event's id in its buffer (`common_type`). */
  readonly id: number;
  /** The CPU whose buffer held it (application rings get numbers after the kernel's CPUs). */
  readonly cpu: number;
  /** Timestamp in nanoseconds of the trace clock (exact). */
  readonly ts: bigint;
  /** High 32 bits of the timestamp (for arithmetic without BigInt). */
  readonly tsHi: number;
  /** Low 32 bits of the timestamp, unsigned. */
  readonly tsLo: number;
  /** The thread that emitted it (`common_pid`). */
  readonly pid: number;
  /** That thread's name as the kernel last recorded it (`<...>` when unknown). */
  readonly comm: string;
  /** The event's fields, typed when its declaration is known. */
  readonly fields: Fields;
}

/**
 * Events lost on one CPU before the next record of that CPU: overwritten
 * by the kernel before they were read, or dropped by the staging ring when
 * the consumer fell behind. Counts are exact: over a whole iteration, the
 * counts of a CPU add up to the kernel's overrun plus the staging losses.
 */
export interface LostRecord {
  readonly type: 'lost';
  /** Always null (so `ev.name === '...'` narrows a mixed stream). */
  readonly name: null;
  /** Always null. */
  readonly system: null;
  readonly cpu: number;
  /**
   * Events lost; -1 when the kernel flagged a loss it could not count (its
   * count then arrives in a later record, at the latest when the iteration
   * ends).
   */
  readonly count: number;
}

/** A record whose event id has no usable format (its raw payload, copied). */
export interface UnknownRecord {
  readonly type: 'unknown';
  /** Always null. */
  readonly name: null;
  /** Always null. */
  readonly system: null;
  readonly id: number;
  readonly cpu: number;
  readonly ts: bigint;
  readonly tsHi: number;
  readonly tsLo: number;
  readonly pid: number;
  /** The record's payload bytes (a copy). */
  readonly payload: Uint8Array;
}

/** The names of KernelEvents. */
export type KernelEventKey = keyof KernelEvents & string;

/** The typed event of a KernelEvents key. */
export type KernelEvent<K = KernelEventKey> = K extends keyof KernelEvents ? (K extends `${infer S}:${infer N}` ? TraceEvent<S, N, KernelEvents[K]> : never) : never;

/** A selector as events() takes it: a string, or an object with a filter. */
export type EventSelector = string | { readonly event: string; readonly filter?: string };

type SelectorText<S> = S extends string ? S : S extends { readonly event: infer E extends string } ? E : never;

/** The KernelEvents keys a selector string covers (never: none declared). */
type KeysOf<S extends string> = string extends S
  ? KernelEventKey
  : S extends KernelEventKey
    ? S
    : S extends 'all'
      ? KernelEventKey
      : S extends `${infer Sys}:${infer Ev}`
        ? Ev extends '*'
          ? Extract<KernelEventKey, `${Sys}:${string}`>
          : HasGlob<S> extends true
            ? KernelEventKey
            : never
        : HasGlob<S> extends true
          ? KernelEventKey
          : Extract<KernelEventKey, `${S}:${string}`> | Extract<KernelEventKey, `${string}:${S}`>;

type HasGlob<S extends string> = S extends `${string}*${string}` | `${string}?${string}` | `${string}[${string}` ? true : false;

/**
 * The events a list of selectors yields: the declared type of each event
 * it covers, or an untyped TraceEvent for what has no declaration.
 */
export type SelectedKernelEvent<Selectors extends readonly EventSelector[]> = [KeysOf<SelectorText<Selectors[number]>>] extends [never]
  ? TraceEvent
  : KernelEvent<KeysOf<SelectorText<Selectors[number]>>> | UndeclaredOf<SelectorText<Selectors[number]>>;

/** An untyped event for selectors that match no declaration. */
type UndeclaredOf<S extends string> = S extends unknown ? ([KeysOf<S>] extends [never] ? TraceEvent : never) : never;

/** What an events() iteration yields for `Selectors` and the ring events `Ring`. */
export type StreamItem<Selectors extends readonly EventSelector[], Ring = never> = KernelPart<Selectors, Ring> | Ring | LostRecord | UnknownRecord;

/**
 * Without selectors, whatever the instance holds (untyped), except when
 * only rings are read: a private instance then has no kernel events.
 */
type KernelPart<Selectors extends readonly EventSelector[], Ring> = [Selectors[number]] extends [never]
  ? [Ring] extends [never]
    ? TraceEvent
    : never
  : SelectedKernelEvent<Selectors>;
