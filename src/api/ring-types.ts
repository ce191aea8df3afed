// Typing of application ring events from their schemas, no generation
// step: `ring.defineEvent({ name: 'request', fields: [['id', 'u32'],
// ['path', 'string']] })` is an AppEvent whose type knows its fields, and
// events({ rings: [{ path, events: [request] }] }) yields them typed.

import type { AppEvent } from '../ring/app-event.js';
import type { EventSchema, FieldType } from '../ring/schema.js';
import type { CommonFields, TraceEvent } from './event-types.js';

/** The decoded value of a schema field type (as events() gives it). */
export type FieldTypeValue<T extends FieldType> = T extends 'u64' | 's64'
  ? bigint
  : T extends 'string' | `char[${number}]`
    ? string
    : T extends 'bytes'
      ? Uint8Array
      : number;

/** What AppEvent.write() takes for a schema field type. */
export type FieldTypeInput<T extends FieldType> = T extends 'u64' | 's64'
  ? bigint | number
  : T extends 'bool'
    ? boolean | number
    : T extends 'string' | `char[${number}]`
      ? string
      : T extends 'bytes'
        ? Uint8Array
        : number;

/** The values AppEvent.write() takes, in field order. */
export type SchemaValues<S extends EventSchema> = FieldInputs<S['fields']>;

/** Field values for a list of [name, type] pairs (a tuple for a literal schema). */
export type FieldInputs<F extends ReadonlyArray<readonly [string, FieldType]>> = {
  -readonly [K in keyof F]: F[K] extends readonly [string, infer T extends FieldType] ? FieldTypeInput<T> : never;
};

/** The decoded fields of a schema's events (the common fields first, as in its format). */
export type SchemaFields<S extends EventSchema> = CommonFields & {
  readonly [F in S['fields'][number] as F[0]]: FieldTypeValue<F[1]>;
};

/** The system of a schema's events ('app' unless it names one). */
export type SchemaSystem<S extends EventSchema> = S extends { readonly system: infer Sys extends string } ? Sys : 'app';

/** A decoded event of the schema `S`. */
export type SchemaEvent<S extends EventSchema> = TraceEvent<SchemaSystem<S>, S['name'], SchemaFields<S>>;

/** A ring to read beside the kernel: its path, or its path and the event types it carries (for typing). */
export type RingSelector = string | { readonly path: string; readonly events?: readonly AppEvent<EventSchema>[] };

/** The events a list of rings yields. */
export type RingItem<R extends readonly RingSelector[]> = RingItemOf<R[number]>;

type RingItemOf<X> = X extends string
  ? TraceEvent
  : X extends { readonly events: readonly (infer E)[] }
    ? E extends AppEvent<infer S> ? SchemaEvent<S> : TraceEvent
    : TraceEvent;
