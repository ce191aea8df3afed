// Growable column storage for the rows of one row group, and the field
// builders that copy an event's fields out of the batch decoder's tables
// (src/decode/field-decoder.ts EventTable: int32 slots per row, strings
// and arrays as spans into the batch bytes). Everything is copied: the
// batch memory may be reused as soon as the rows are appended.

import { isUtf8 } from 'node:buffer';
import { type DataSpan, type EventTable, SLOT_PAYLOAD_LENGTH, type Slot } from '../../decode/field-decoder.js';
import { cStringLength } from '../../decode/strings.js';
import type { ColumnRows } from './format/column.js';
import { ByteDictionary } from './format/dictionary.js';
import type { FieldColumn } from './schema.js';

/**
 * `a`, or a copy with room for `need` slots: doubling, but not past `cap`
 * slots (arrays sized by rows stop at a row group's worth).
 */
export function growInt32(a: Int32Array, need: number, cap = Number.POSITIVE_INFINITY): Int32Array {
  if (need <= a.length) return a;
  let n = Math.max(16, a.length * 2);
  while (n < need) n *= 2;
  n = Math.max(need, Math.min(n, cap));
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

export function growUint8(a: Uint8Array, need: number): Uint8Array {
  if (need <= a.length) return a;
  let n = Math.max(64, a.length * 2);
  while (n < need) n *= 2;
  const b = new Uint8Array(n);
  b.set(a);
  return b;
}

/** Which rows are present: null until the first null row. */
export class Presence {
  bits: Uint8Array | null = null;

  /** Marks row `r` (rows before it present) as present or null. */
  set(r: number, present: boolean): void {
    if (this.bits === null) {
      if (present) return;
      this.bits = new Uint8Array(Math.max(256, r * 2)).fill(1);
    }
    if (r >= this.bits.length) {
      const grown = new Uint8Array(Math.max(r + 1, this.bits.length * 2)).fill(1);
      grown.set(this.bits);
      this.bits = grown;
    }
    this.bits[r] = present ? 1 : 0;
  }

  view(rows: number): Uint8Array | null {
    if (this.bits === null) return null;
    if (this.bits.length < rows) {
      const grown = new Uint8Array(rows).fill(1);
      grown.set(this.bits);
      this.bits = grown;
    }
    return this.bits.subarray(0, rows);
  }

  reset(): void {
    this.bits = null;
  }
}

const EMPTY = new Uint8Array(0);
const replacing = new TextDecoder('utf-8');
const encoder = new TextEncoder();

/**
 * A dictionary whose entries are all valid UTF-8 (Parquet strings must
 * be): invalid entries are decoded with U+FFFD replacements. Returns the
 * same dictionary when it is valid (the usual case: one native check).
 */
export function validUtf8(dict: ByteDictionary, indices: Int32Array, rows: number): { dictionary: ByteDictionary; indices: Int32Array } {
  if (isUtf8(dict.bytes.subarray(0, dict.byteLength))) return { dictionary: dict, indices };
  const fixed = new ByteDictionary();
  const map = new Int32Array(dict.count);
  for (let i = 0; i < dict.count; i++) {
    const bytes = encoder.encode(replacing.decode(dict.bytes.subarray(dict.offsets[i]!, dict.offsets[i + 1]!)));
    map[i] = fixed.add(bytes, 0, bytes.length);
  }
  const remapped = new Int32Array(rows);
  for (let r = 0; r < rows; r++) remapped[r] = map[indices[r]!]!;
  return { dictionary: fixed, indices: remapped };
}

/** Appends one event field of table rows to a column. */
export interface FieldBuilder {
  readonly column: FieldColumn;
  /** Appends rows [0, table.length) of `table` at row `at` of this column. */
  append(table: EventTable, slot: Slot, at: number): void;
  /** Appends `count` null rows at row `at` (records whose fields could not be decoded). */
  appendNulls(at: number, count: number): void;
  columnRows(rows: number): ColumnRows;
  /** Bytes held (for the memory budget). */
  readonly bytes: number;
  reset(): void;
}

function shortRow(data: Int32Array, base: number): boolean {
  return data[base + SLOT_PAYLOAD_LENGTH]! < 0;
}

class IntField implements FieldBuilder {
  readonly column: FieldColumn;
  values: Int32Array;
  readonly #present = new Presence();
  readonly #limit: number;

  constructor(column: FieldColumn, limit: number, rows: number) {
    this.column = column;
    this.#limit = limit;
    this.values = new Int32Array(rows);
  }

  get bytes(): number {
    return this.values.length * 4;
  }

  append(table: EventTable, slot: Slot, at: number): void {
    const n = table.length;
    const values = (this.values = growInt32(this.values, at + n, this.#limit));
    const data = table.data;
    const stride = table.stride;
    const index = slot.index;
    for (let r = 0; r < n; r++) {
      const base = r * stride;
      if (shortRow(data, base)) {
        values[at + r] = 0;
        this.#present.set(at + r, false);
      } else values[at + r] = data[base + index]!;
    }
  }

  appendNulls(at: number, count: number): void {
    this.values = growInt32(this.values, at + count, this.#limit);
    for (let r = at; r < at + count; r++) {
      this.values[r] = 0;
      this.#present.set(r, false);
    }
  }

  columnRows(rows: number): ColumnRows {
    return { rows, present: this.#present.view(rows), data: { kind: 'int32', values: this.values.subarray(0, rows) } };
  }

  reset(): void {
    this.#present.reset();
  }
}

class WideField implements FieldBuilder {
  readonly column: FieldColumn;
  values: Int32Array;
  readonly #present = new Presence();
  readonly #limit: number;

  constructor(column: FieldColumn, limit: number, rows: number) {
    this.column = column;
    this.#limit = 2 * limit;
    this.values = new Int32Array(2 * rows);
  }

  get bytes(): number {
    return this.values.length * 4;
  }

  append(table: EventTable, slot: Slot, at: number): void {
    const n = table.length;
    const values = (this.values = growInt32(this.values, 2 * (at + n), this.#limit));
    const data = table.data;
    const stride = table.stride;
    const index = slot.index;
    for (let r = 0; r < n; r++) {
      const base = r * stride;
      const o = 2 * (at + r);
      if (shortRow(data, base)) {
        values[o] = 0;
        values[o + 1] = 0;
        this.#present.set(at + r, false);
      } else {
        values[o] = data[base + index]!;
        values[o + 1] = data[base + index + 1]!;
      }
    }
  }

  appendNulls(at: number, count: number): void {
    this.values = growInt32(this.values, 2 * (at + count), this.#limit);
    for (let r = at; r < at + count; r++) {
      this.values[2 * r] = 0;
      this.values[2 * r + 1] = 0;
      this.#present.set(r, false);
    }
  }

  columnRows(rows: number): ColumnRows {
    return { rows, present: this.#present.view(rows), data: { kind: 'int64', values: this.values.subarray(0, 2 * rows) } };
  }

  reset(): void {
    this.#present.reset();
  }
}

class StringField implements FieldBuilder {
  readonly column: FieldColumn;
  indices: Int32Array;
  readonly dictionary = new ByteDictionary();
  readonly #present = new Presence();
  readonly #span: DataSpan = { offset: 0, length: 0 };
  readonly #limit: number;

  constructor(column: FieldColumn, limit: number, rows: number) {
    this.column = column;
    this.#limit = limit;
    this.indices = new Int32Array(rows);
  }

  get bytes(): number {
    return this.indices.length * 4 + this.dictionary.byteLength + this.dictionary.count * 8;
  }

  /** Distinct values so far (a row group ends before the dictionary grows too large). */
  get distinct(): number {
    return this.dictionary.count;
  }

  append(table: EventTable, slot: Slot, at: number): void {
    const n = table.length;
    const indices = (this.indices = growInt32(this.indices, at + n, this.#limit));
    const data = table.data;
    const stride = table.stride;
    const bytes = table.bytes;
    const span = this.#span;
    const dict = this.dictionary;
    for (let r = 0; r < n; r++) {
      if (shortRow(data, r * stride)) {
        indices[at + r] = dict.add(EMPTY, 0, 0);
        this.#present.set(at + r, false);
        continue;
      }
      table.span(r, slot, span);
      indices[at + r] = dict.add(bytes, span.offset, cStringLength(bytes, span.offset, span.length));
    }
  }

  appendNulls(at: number, count: number): void {
    this.indices = growInt32(this.indices, at + count, this.#limit);
    const empty = this.dictionary.add(EMPTY, 0, 0);
    for (let r = at; r < at + count; r++) {
      this.indices[r] = empty;
      this.#present.set(r, false);
    }
  }

  columnRows(rows: number): ColumnRows {
    const { dictionary, indices } = validUtf8(this.dictionary, this.indices, rows);
    return { rows, present: this.#present.view(rows), data: { kind: 'dict', indices: indices.subarray(0, rows), dictionary } };
  }

  reset(): void {
    this.#present.reset();
    this.dictionary.clear();
  }
}

/** Variable-length rows (byte strings, lists): an offsets array whose null rows take no room. */
abstract class OffsetsField {
  readonly column: FieldColumn;
  offsets: Int32Array;
  protected readonly present = new Presence();
  protected readonly span: DataSpan = { offset: 0, length: 0 };
  protected readonly limit: number;

  constructor(column: FieldColumn, limit: number, rows: number) {
    this.column = column;
    this.limit = limit + 1;
    this.offsets = new Int32Array(rows + 1);
  }

  appendNulls(at: number, count: number): void {
    this.offsets = growInt32(this.offsets, at + count + 1, this.limit);
    for (let r = at; r < at + count; r++) {
      this.offsets[r + 1] = this.offsets[r]!;
      this.present.set(r, false);
    }
  }

  reset(): void {
    this.present.reset();
  }
}

class BinaryField extends OffsetsField implements FieldBuilder {
  data: Uint8Array = new Uint8Array(4096);

  get bytes(): number {
    return this.offsets.length * 4 + this.data.length;
  }

  append(table: EventTable, slot: Slot, at: number): void {
    const n = table.length;
    this.offsets = growInt32(this.offsets, at + n + 1, this.limit);
    const offsets = this.offsets;
    const span = this.span;
    for (let r = 0; r < n; r++) {
      let len = 0;
      if (shortRow(table.data, r * table.stride)) this.present.set(at + r, false);
      else {
        table.span(r, slot, span);
        len = span.length;
      }
      const start = offsets[at + r]!;
      this.data = growUint8(this.data, start + len);
      if (len > 0) this.data.set(table.bytes.subarray(span.offset, span.offset + len), start);
      offsets[at + r + 1] = start + len;
    }
  }

  columnRows(rows: number): ColumnRows {
    return { rows, present: this.present.view(rows), data: { kind: 'binary', offsets: this.offsets.subarray(0, rows + 1), data: this.data } };
  }
}

/** Integer arrays (fixed, dynamic, flexible) as lists; bitmasks as the list of set bits. */
class ListField extends OffsetsField implements FieldBuilder {
  values: Int32Array = new Int32Array(1024);
  readonly #le: boolean;
  readonly #longSize: number;

  constructor(column: FieldColumn, littleEndian: boolean, longSize: number, limit: number, rows: number) {
    super(column, limit, rows);
    this.#le = littleEndian;
    this.#longSize = longSize;
  }

  get bytes(): number {
    return this.offsets.length * 4 + this.values.length * 4;
  }

  append(table: EventTable, slot: Slot, at: number): void {
    const n = table.length;
    this.offsets = growInt32(this.offsets, at + n + 1, this.limit);
    const offsets = this.offsets;
    const span = this.span;
    const f = this.column.field;
    const bits = this.column.kind === 'bits';
    const width = bits ? 0 : f.elementSize;
    const pair = width === 8;
    const view = table.view;
    const le = this.#le;
    for (let r = 0; r < n; r++) {
      let count = offsets[at + r]!;
      if (shortRow(table.data, r * table.stride)) {
        this.present.set(at + r, false);
        offsets[at + r + 1] = count;
        continue;
      }
      table.span(r, slot, span);
      if (bits) count = this.#appendBits(table.bytes, span.offset, span.length, count);
      else {
        const k = Math.floor(span.length / width);
        const values = (this.values = growInt32(this.values, (count + k) * (pair ? 2 : 1)));
        let p = span.offset;
        for (let e = 0; e < k; e++, p += width) {
          const at2 = count + e;
          switch (width) {
            case 1:
              values[at2] = f.elementSigned ? view.getInt8(p) : view.getUint8(p);
              break;
            case 2:
              values[at2] = f.elementSigned ? view.getInt16(p, le) : view.getUint16(p, le);
              break;
            case 4:
              values[at2] = view.getInt32(p, le);
              break;
            default:
              values[2 * at2] = view.getInt32(le ? p : p + 4, le);
              values[2 * at2 + 1] = view.getInt32(le ? p + 4 : p, le);
          }
        }
        count += k;
      }
      offsets[at + r + 1] = count;
    }
  }

  #appendBits(bytes: Uint8Array, at: number, len: number, count: number): number {
    const word = this.#longSize;
    const words = Math.floor(len / word);
    for (let w = 0; w < words; w++) {
      for (let b = 0; b < word; b++) {
        const byte = bytes[at + w * word + (this.#le ? b : word - 1 - b)]!;
        if (byte === 0) continue;
        for (let k = 0; k < 8; k++) {
          if ((byte & (1 << k)) === 0) continue;
          this.values = growInt32(this.values, count + 1);
          this.values[count++] = w * word * 8 + b * 8 + k;
        }
      }
    }
    return count;
  }

  columnRows(rows: number): ColumnRows {
    return { rows, present: this.present.view(rows), data: { kind: 'list', offsets: this.offsets.subarray(0, rows + 1), values: this.values } };
  }
}

/**
 * A builder for one field, with room for `rows` rows to start with;
 * `limit`: the most rows it holds (its row arrays never grow past it).
 */
export function fieldBuilder(column: FieldColumn, littleEndian: boolean, longSize: number, limit: number, rows: number): FieldBuilder {
  switch (column.kind) {
    case 'int':
      return new IntField(column, limit, rows);
    case 'wide':
      return new WideField(column, limit, rows);
    case 'string':
      return new StringField(column, limit, rows);
    case 'binary':
      return new BinaryField(column, limit, rows);
    case 'list':
    case 'bits':
      return new ListField(column, littleEndian, longSize, limit, rows);
  }
}

export function isStringField(b: FieldBuilder): b is FieldBuilder & { readonly distinct: number } {
  return b instanceof StringField;
}
