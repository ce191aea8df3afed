// Typed decoding of event payloads, specialised per event format.
//
// Three ways to read fields, by cost:
//  1. Tables (EventTable + EventDecoder.decodeRecords): a decoder generated
//     per format writes every field of many records into one Int32Array,
//     row-major; strings and arrays are recorded as (offset, length) into
//     the batch bytes and materialised only on request. ~5 ns/event for
//     sched_switch (bench/decode-micro.ts).
//  2. Accessors (EventDecoder.int/.wide/.string/.data): one small object
//     per field, reading one value of one record; allocation-free.
//  3. Objects (EventDecoder.toObject): one plain object per event, for
//     convenience (~10x slower).
//
// 64-bit fields: tables and accessors give the two 32-bit halves (hi, lo)
// with no BigInt on the hot path; `number()` is exact or throws RangeError
// (kernel addresses exceed 2^53), `bigint()` is always exact. The object
// form uses bigint for every 8-byte value, so a field has one JS type.
//
// Generated code (new Function, row-codegen.ts) embeds only validated
// integers and fixed DataView method names; field names never reach it
// (slots are addressed by index), so a hostile format file cannot inject code.

import { InvalidArgumentError } from '../errors.js';
import type { EventFormat, FieldFormat } from './format-file.js';
import { type Int, fromHiLo, readInt } from './int64.js';
import { type ListDecoder, type RowsDecoder, generateListDecoder, generateRowsDecoder } from './row-codegen.js';
import { FixedIdCache, FixedStringCache, StringTable } from './strings.js';

export type { ListDecoder, RowsDecoder } from './row-codegen.js';

const TWO32 = 4294967296;

/** Options of the decoders of one event format. */
export interface DecoderOptions {
  /** Byte order of the recording kernel (default: little endian). */
  littleEndian?: boolean;
  /** Interning table for strings (shared between decoders is fine). */
  strings?: StringTable;
}

/** Where a field's data lies in one record: absolute offset and length, clamped to the payload. */
export interface DataSpan {
  offset: number;
  length: number;
}

function spanOf(f: FieldFormat, view: DataView, base: number, len: number, le: boolean, out: DataSpan): DataSpan {
  switch (f.kind) {
    case 'dynamic':
    case 'relative': {
      if (f.offset + 4 > len) {
        out.offset = base + len;
        out.length = 0;
        return out;
      }
      const w = view.getUint32(base + f.offset, le);
      const off = (w & 0xffff) + (f.kind === 'relative' ? f.offset + 4 : 0);
      const n = w >>> 16;
      if (off >= len) {
        out.offset = base + len;
        out.length = 0;
      } else {
        out.offset = base + off;
        out.length = Math.min(n, len - off);
      }
      return out;
    }
    case 'flex':
      out.offset = base + Math.min(f.offset, len);
      out.length = Math.max(0, len - f.offset);
      return out;
    default:
      out.offset = base + f.offset;
      out.length = Math.max(0, Math.min(f.size, len - f.offset));
      return out;
  }
}

/** Integer field of 1, 2 or 4 bytes. */
export class IntAccessor {
  readonly field: FieldFormat;
  /** Reads the field from the payload starting at `base`. */
  readonly get: (view: DataView, base: number) => number;
  constructor(field: FieldFormat, le: boolean) {
    this.field = field;
    const o = field.offset;
    const s = field.kind === 'pointer' ? false : field.signed;
    switch (field.size) {
      case 1:
        this.get = s ? (v, b) => v.getInt8(b + o) : (v, b) => v.getUint8(b + o);
        break;
      case 2:
        this.get = s ? (v, b) => v.getInt16(b + o, le) : (v, b) => v.getUint16(b + o, le);
        break;
      default:
        this.get = s ? (v, b) => v.getInt32(b + o, le) : (v, b) => v.getUint32(b + o, le);
    }
  }
}

/** Integer field of 8 bytes, read as (hi, lo) halves. */
export class WideAccessor {
  readonly field: FieldFormat;
  readonly signed: boolean;
  /** High 32 bits (signed for signed fields). */
  readonly hi: (view: DataView, base: number) => number;
  /** Low 32 bits, unsigned. */
  readonly lo: (view: DataView, base: number) => number;
  constructor(field: FieldFormat, le: boolean) {
    this.field = field;
    this.signed = field.kind !== 'pointer' && field.signed;
    const loAt = field.offset + (le ? 0 : 4);
    const hiAt = field.offset + (le ? 4 : 0);
    this.lo = (v, b) => v.getUint32(b + loAt, le);
    this.hi = this.signed ? (v, b) => v.getInt32(b + hiAt, le) : (v, b) => v.getUint32(b + hiAt, le);
  }

  /** Exact value: a Number when safe, else a BigInt. */
  get(view: DataView, base: number): Int {
    return fromHiLo(this.hi(view, base), this.lo(view, base), this.signed);
  }

  /** The value as a Number; throws RangeError when it is not exactly representable. */
  number(view: DataView, base: number): number {
    const hi = this.hi(view, base);
    if (hi >= 2097152 || hi < -2097152) throw new RangeError(`${this.field.name}: 64-bit value exceeds 2^53; use bigint() or hi/lo`);
    return hi * TWO32 + this.lo(view, base);
  }

  /** The value as a BigInt (always exact). */
  bigint(view: DataView, base: number): bigint {
    const v = (BigInt(this.hi(view, base)) << 32n) | BigInt(this.lo(view, base));
    return this.signed ? BigInt.asIntN(64, v) : v;
  }
}

/** Character data (char arrays, `__data_loc char[]`, `char buf[]`). */
export class StringAccessor {
  readonly field: FieldFormat;
  readonly #le: boolean;
  readonly #strings: StringTable;
  readonly #span: DataSpan = { offset: 0, length: 0 };
  /** Fixed arrays of up to 32 bytes (comms): word-keyed caches. */
  readonly #fixedIds: FixedIdCache | null;
  readonly #fixedStrings: FixedStringCache | null;
  constructor(field: FieldFormat, le: boolean, strings: StringTable) {
    this.field = field;
    this.#le = le;
    this.#strings = strings;
    const fixed = field.kind === 'array' && FixedStringCache.fits(field.size);
    this.#fixedIds = fixed ? new FixedIdCache(strings) : null;
    this.#fixedStrings = fixed ? new FixedStringCache() : null;
  }

  /** Interned id of the string (StringTable.get(id) gives it), or -1 if too long to intern. */
  id(view: DataView, bytes: Uint8Array, base: number, len: number): number {
    const f = this.field;
    if (this.#fixedIds !== null && f.offset + f.size <= len) return this.#fixedIds.id(view, bytes, base + f.offset, f.size);
    const s = spanOf(f, view, base, len, this.#le, this.#span);
    return this.#strings.intern(bytes, s.offset, s.length);
  }

  /** The string of the field in the record at `base` (payload length `len`). */
  get(view: DataView, bytes: Uint8Array, base: number, len: number): string {
    const f = this.field;
    if (this.#fixedStrings !== null && f.offset + f.size <= len) return this.#fixedStrings.get(view, bytes, base + f.offset, f.size);
    const s = spanOf(f, view, base, len, this.#le, this.#span);
    return this.#strings.string(bytes, s.offset, s.length);
  }
}

/** Any array-like field: where its bytes are. */
export class DataAccessor {
  readonly field: FieldFormat;
  readonly #le: boolean;
  constructor(field: FieldFormat, le: boolean) {
    this.field = field;
    this.#le = le;
  }

  /** Fills `out` with the data's absolute offset and length (clamped to the payload). */
  span(view: DataView, base: number, len: number, out: DataSpan): DataSpan {
    return spanOf(this.field, view, base, len, this.#le, out);
  }
}

/** A field value in the object form. */
export type FieldValue = number | bigint | string | Uint8Array | readonly number[] | readonly bigint[];

/** One event as a plain object, keyed by field name (null prototype if a field is named __proto__). */
export type DecodedEvent = Record<string, FieldValue>;

// ---- tables (decoded rows) ----------------------------------------------

/**
 * Where a field lives in a table row. Rows are runs of `stride` int32
 * slots in one Int32Array (row-major): measured 2x faster to fill than one
 * typed array per field (bench/decode-micro.ts: ~5 vs ~10 ns/event for
 * sched_switch), since stores go to consecutive addresses of one array.
 */
export interface Slot {
  readonly field: FieldFormat;
  /**
   * 'int': one slot (unsigned values stored as their int32 bits: read them
   *        with `>>> 0` or int());
   * 'wide': two slots, low word then high word;
   * 'dynamic': two slots, absolute offset and length of the data in `bytes`;
   * 'fixed': no slot, the data is at payload offset + field offset.
   */
  readonly kind: 'int' | 'wide' | 'dynamic' | 'fixed';
  /** First slot index within a row (-1 for 'fixed'). */
  readonly index: number;
  readonly signed: boolean;
}

/** Slot of each row's payload offset in `bytes`, and of its payload length (-1: too short, fields not set). */
export const SLOT_PAYLOAD_OFFSET = 0;
/** Slot of the payload length in each row (-1: the record was too short for its format). */
export const SLOT_PAYLOAD_LENGTH = 1;

/** Decoded fields of many records of one event, valid while `bytes` holds the records. */
export class EventTable {
  readonly format: EventFormat;
  readonly capacity: number;
  /** int32 slots per row. */
  readonly stride: number;
  /** Rows filled. */
  length = 0;
  /** Row r occupies data[r * stride, (r + 1) * stride). */
  readonly data: Int32Array;
  /** The memory the records (and 'dynamic'/'fixed' spans) are in. */
  bytes: Uint8Array = new Uint8Array(0);
  view: DataView = new DataView(this.bytes.buffer);
  /** By field index. */
  readonly slots: readonly Slot[];
  /**
   * The common_type slot, preset to the event's id in every row when the
   * table is created (it can only hold that value: a record's type is what
   * picks its table); null if the format lays common_type out otherwise.
   * EventDecoder.listDecoder() leaves it alone, saving a store per row.
   */
  readonly idSlot: Slot | null;
  readonly #byName: Map<string, Slot>;
  readonly #strings: StringTable;
  readonly #span: DataSpan = { offset: 0, length: 0 };

  constructor(format: EventFormat, capacity: number, strings: StringTable) {
    if (!Number.isInteger(capacity) || capacity < 0 || capacity > 1 << 24) throw new InvalidArgumentError(`capacity ${capacity} out of range`);
    this.format = format;
    this.capacity = capacity;
    this.#strings = strings;
    const slots: Slot[] = [];
    let next = 2;
    for (const f of format.fields) {
      const scalar = f.kind === 'int' || f.kind === 'pointer';
      const signed = f.kind === 'int' && f.signed;
      if (scalar && f.size <= 4) slots.push({ field: f, kind: 'int', index: next++, signed });
      else if (scalar) {
        slots.push({ field: f, kind: 'wide', index: next, signed });
        next += 2;
      } else if (f.kind === 'dynamic' || f.kind === 'relative') {
        slots.push({ field: f, kind: 'dynamic', index: next, signed: false });
        next += 2;
      } else slots.push({ field: f, kind: 'fixed', index: -1, signed: false });
    }
    this.stride = next;
    this.slots = slots;
    this.#byName = new Map(slots.map((c) => [c.field.name, c]));
    this.data = new Int32Array(capacity * next);
    const id = this.#byName.get('common_type');
    this.idSlot = id !== undefined && id.kind === 'int' && id.field.offset === 0 && id.field.size === 2 && !id.signed ? id : null;
    if (this.idSlot !== null) for (let at = this.idSlot.index; at < this.data.length; at += next) this.data[at] = format.id;
  }

  /** The slot of field `name` (throws when the event has no such field). */
  slot(name: string): Slot {
    const c = this.#byName.get(name);
    if (c === undefined) throw new InvalidArgumentError(`${this.format.system}/${this.format.name} has no field "${name}"`);
    return c;
  }

  /** Offset in `bytes` of the payload of `row`. */
  payloadOffset(row: number): number {
    return this.data[row * this.stride]!;
  }

  /** -1 when the record was too short for the format (its fields were not decoded). */
  payloadLength(row: number): number {
    return this.data[row * this.stride + 1]!;
  }

  /** Value of an 'int' slot (exact). */
  int(row: number, s: Slot): number {
    const v = this.data[row * this.stride + s.index]!;
    return s.signed ? v : v >>> 0;
  }

  /** Low / high 32 bits of a 'wide' slot (high signed for signed fields). */
  lo(row: number, s: Slot): number {
    return this.data[row * this.stride + s.index]! >>> 0;
  }

  /** High 32 bits of a 'wide' slot (signed for signed fields). */
  hi(row: number, s: Slot): number {
    const v = this.data[row * this.stride + s.index + 1]!;
    return s.signed ? v : v >>> 0;
  }

  /** A 'wide' slot as a Number; RangeError when not exactly representable (> 2^53). */
  number(row: number, s: Slot): number {
    const hi = this.hi(row, s);
    if (hi >= 2097152 || hi < -2097152) throw new RangeError(`${s.field.name}: 64-bit value exceeds 2^53; use bigint() or hi/lo`);
    return hi * TWO32 + this.lo(row, s);
  }

  /** A 'wide' (or 'int') slot, exact. */
  bigint(row: number, s: Slot): bigint {
    if (s.kind === 'int') return BigInt(this.int(row, s));
    const v = (BigInt(this.hi(row, s) >>> 0) << 32n) | BigInt(this.lo(row, s));
    return s.signed ? BigInt.asIntN(64, v) : v;
  }

  /** Where a 'dynamic' or 'fixed' field's bytes are for `row` (absolute offset in `bytes`, length). */
  span(row: number, s: Slot, out: DataSpan): DataSpan {
    const b = row * this.stride;
    if (s.kind === 'dynamic') {
      out.offset = this.data[b + s.index]!;
      out.length = this.data[b + s.index + 1]!;
      return out;
    }
    const base = this.data[b]!;
    const len = this.data[b + 1]!;
    return spanOf(s.field, this.view, base, len < 0 ? 0 : len, true, out);
  }

  /** String of a string field at `row` (interned; materialised on this call). */
  string(row: number, s: Slot): string {
    const sp = this.span(row, s, this.#span);
    return this.#strings.string(this.bytes, sp.offset, sp.length);
  }

  /** Interned id of a string field at `row` (-1 if too long to intern). */
  stringId(row: number, s: Slot): number {
    const sp = this.span(row, s, this.#span);
    return this.#strings.intern(this.bytes, sp.offset, sp.length);
  }

  /** Empties the table (its rows are overwritten by the next decode). */
  clear(): void {
    this.length = 0;
  }
}

/** Decoders of one event format. */
export class EventDecoder {
  readonly format: EventFormat;
  readonly littleEndian: boolean;
  readonly strings: StringTable;
  #rows: RowsDecoder | null = null;
  #list: ListDecoder | null = null;
  readonly #accessors = new Map<string, IntAccessor | WideAccessor | StringAccessor | DataAccessor>();
  readonly #fixed = new FixedStringCache();
  readonly #span: DataSpan = { offset: 0, length: 0 };
  readonly #protoField: boolean;

  constructor(format: EventFormat, options: DecoderOptions = {}) {
    this.format = format;
    this.littleEndian = options.littleEndian ?? true;
    this.strings = options.strings ?? new StringTable();
    this.#protoField = format.byName.has('__proto__');
  }

  #field(name: string): FieldFormat {
    const f = this.format.byName.get(name);
    if (f === undefined) throw new InvalidArgumentError(`${this.format.system}/${this.format.name} has no field "${name}"`);
    return f;
  }

  #cached<T extends IntAccessor | WideAccessor | StringAccessor | DataAccessor>(key: string, make: () => T): T {
    let a = this.#accessors.get(key);
    if (a === undefined) {
      a = make();
      this.#accessors.set(key, a);
    }
    return a as T;
  }

  /** Accessor of an integer field of up to 4 bytes. */
  int(name: string): IntAccessor {
    const f = this.#field(name);
    if ((f.kind !== 'int' && f.kind !== 'pointer') || f.size > 4) throw new InvalidArgumentError(`field "${name}" is not an integer of up to 4 bytes`);
    return this.#cached(`i:${name}`, () => new IntAccessor(f, this.littleEndian));
  }

  /** Accessor of an 8-byte integer field. */
  wide(name: string): WideAccessor {
    const f = this.#field(name);
    if ((f.kind !== 'int' && f.kind !== 'pointer') || f.size !== 8) throw new InvalidArgumentError(`field "${name}" is not an 8-byte integer`);
    return this.#cached(`w:${name}`, () => new WideAccessor(f, this.littleEndian));
  }

  /** Accessor of a string field. */
  string(name: string): StringAccessor {
    const f = this.#field(name);
    if (f.kind === 'int' || f.kind === 'pointer') throw new InvalidArgumentError(`field "${name}" is not a string or array`);
    return this.#cached(`s:${name}`, () => new StringAccessor(f, this.littleEndian, this.strings));
  }

  /** Accessor of any array-like field's bytes. */
  data(name: string): DataAccessor {
    const f = this.#field(name);
    if (f.kind === 'int' || f.kind === 'pointer') throw new InvalidArgumentError(`field "${name}" is not an array`);
    return this.#cached(`d:${name}`, () => new DataAccessor(f, this.littleEndian));
  }

  /** A table of `capacity` rows for this event. */
  createTable(capacity: number): EventTable {
    return new EventTable(this.format, capacity, this.strings);
  }

  /**
   * Decodes `count` records into `table` (appending rows): `records` holds
   * them as RecordBatch.records does (payload offset in `bytes` at i * 4,
   * payload length at i * 4 + 1); `indices`, if given, selects which
   * records (e.g. those of this event in a mixed batch). The caller
   * guarantees they are records of this event.
   */
  decodeRecords(
    table: EventTable,
    bytes: Uint8Array,
    view: DataView,
    records: Int32Array,
    indices: Int32Array | null,
    count: number,
  ): void {
    if (table.format !== this.format) throw new InvalidArgumentError('table was created for another event');
    if (table.length + count > table.capacity) throw new InvalidArgumentError(`table full: ${table.length} + ${count} rows > capacity ${table.capacity}`);
    if (count > (indices === null ? records.length >> 2 : indices.length)) throw new InvalidArgumentError('count exceeds the records given');
    if (table.bytes !== bytes) {
      if (table.length > 0) throw new InvalidArgumentError('table already holds rows of another buffer; clear() it first');
      table.bytes = bytes;
      table.view = view;
    }
    if (this.#rows === null) this.#rows = generateRowsDecoder(table, this.littleEndian);
    this.#rows(view, records, indices, count, table.length, table.data);
    table.length += count;
  }

  /**
   * The generated list decoder (see ListDecoder), for callers that have
   * already checked what decodeRecords() checks (BatchDecoder: its own
   * tables, records of this event only, chained by its own pass). It does
   * not write the table's idSlot, preset at creation.
   */
  listDecoder(table: EventTable): ListDecoder {
    if (table.format !== this.format) throw new InvalidArgumentError('table was created for another event');
    if (this.#list === null) this.#list = generateListDecoder(table, this.littleEndian);
    return this.#list;
  }

  /** One event as an object: every field (common ones too unless `common` is false). */
  toObject(view: DataView, bytes: Uint8Array, base: number, len: number, common = true): DecodedEvent {
    // Plain objects stay in V8's fast mode (null-prototype objects start as
    // dictionaries: ~1.5x slower); only a field literally named __proto__
    // needs the null prototype to be stored as data.
    const out = (this.#protoField ? Object.create(null) : {}) as DecodedEvent;
    for (const f of this.format.fields) {
      if (!common && f.common) continue;
      const v = this.value(f, view, bytes, base, len);
      if (v !== undefined) out[f.name] = v;
    }
    return out;
  }

  /** One field's value as toObject() gives it (undefined: an integer beyond the payload, left out). */
  value(f: FieldFormat, view: DataView, bytes: Uint8Array, base: number, len: number): FieldValue | undefined {
    const le = this.littleEndian;
    const span = this.#span;
    if (f.kind === 'int' || f.kind === 'pointer') {
      if (f.offset + f.size > len) return undefined;
      return scalar(view, base + f.offset, f.size, f.kind === 'int' && f.signed, le);
    }
    if (f.isString) {
      // Fixed char arrays (comms) through the word-keyed cache, others interned.
      if (f.kind === 'array' && FixedStringCache.fits(f.size) && f.offset + f.size <= len) {
        return this.#fixed.get(view, bytes, base + f.offset, f.size);
      }
      spanOf(f, view, base, len, le, span);
      return this.strings.string(bytes, span.offset, span.length);
    }
    spanOf(f, view, base, len, le, span);
    if (f.isBitmask) return bitIndices(bytes, span.offset, span.length, this.format.longSize, le);
    if (f.kind === 'blob' || f.elementSize === 1 || ![2, 4, 8].includes(f.elementSize)) return bytes.slice(span.offset, span.offset + span.length);
    const n = Math.floor(span.length / f.elementSize);
    if (f.elementSize === 8) {
      const vals: bigint[] = [];
      for (let i = 0; i < n; i++) vals.push(scalar(view, span.offset + i * 8, 8, f.elementSigned, le) as bigint);
      return vals;
    }
    const vals: number[] = [];
    for (let i = 0; i < n; i++) vals.push(scalar(view, span.offset + i * f.elementSize, f.elementSize, f.elementSigned, le) as number);
    return vals;
  }
}

/** Integer of 1/2/4 bytes as number, 8 bytes as bigint (object form). */
function scalar(view: DataView, at: number, size: number, signed: boolean, le: boolean): number | bigint {
  switch (size) {
    case 8:
      return signed ? view.getBigInt64(at, le) : view.getBigUint64(at, le);
    default:
      return readInt(view, at, size, signed, le);
  }
}

/** Indices of the set bits of a bitmap of `longSize`-byte words. */
function bitIndices(bytes: Uint8Array, at: number, len: number, longSize: 4 | 8, le: boolean): number[] {
  const out: number[] = [];
  const words = Math.floor(len / longSize);
  for (let w = 0; w < words; w++) {
    for (let b = 0; b < longSize; b++) {
      const byte = bytes[at + w * longSize + (le ? b : longSize - 1 - b)]!;
      if (byte === 0) continue;
      for (let k = 0; k < 8; k++) if (byte & (1 << k)) out.push(w * longSize * 8 + b * 8 + k);
    }
  }
  return out;
}
