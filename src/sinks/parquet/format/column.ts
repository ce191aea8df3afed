// Columns: how a column is declared (ColumnSpec, and the schema elements
// it becomes), the values of one row group (ColumnData), and the encoding
// of those values into a column chunk (a dictionary page for strings, one
// data page, statistics).
//
// Encodings, chosen for speed of writing: integers PLAIN (the bytes of the
// typed array, on little-endian hosts), strings as a dictionary
// (RLE_DICTIONARY indices; the builders intern them as they arrive), byte
// strings PLAIN. Every data page is DATA_PAGE v1 with RLE levels.

import { ByteWriter } from './bytes.js';
import type { Compressor } from './compress.js';
import type { ByteDictionary } from './dictionary.js';
import {
  type ColumnMeta,
  ConvertedType,
  Encoding,
  PhysicalType,
  Repetition,
  type SchemaElement,
  type Statistics,
  encodeDataPageHeader,
  encodeDictionaryPageHeader,
} from './metadata.js';
import { writeDelta64 } from './delta.js';
import { intDictionary } from './int-dictionary.js';
import { bitWidthOf, writeHybrid } from './rle.js';

export type LeafType = 'int32' | 'int64' | 'string' | 'binary';

export interface ColumnSpec {
  readonly name: string;
  readonly leaf: LeafType;
  /** Integers: the logical width and signedness (int32 leaves hold 8, 16 or 32 bits). */
  readonly bits: 8 | 16 | 32 | 64;
  readonly signed: boolean;
  /** Rows may be null. */
  readonly optional: boolean;
  /** Each row holds a list of leaf values (never null elements). */
  readonly list: boolean;
  /** int64: DELTA_BINARY_PACKED (nearly sorted values: timestamps). */
  readonly delta?: boolean;
}

export function intColumn(name: string, bits: 8 | 16 | 32 | 64, signed: boolean, optional = false, list = false): ColumnSpec {
  return { name, leaf: bits === 64 ? 'int64' : 'int32', bits, signed, optional, list };
}

export function stringColumn(name: string, optional = false): ColumnSpec {
  return { name, leaf: 'string', bits: 32, signed: false, optional, list: false };
}

export function binaryColumn(name: string, optional = false): ColumnSpec {
  return { name, leaf: 'binary', bits: 32, signed: false, optional, list: false };
}

/** Values of one column for one row group. Dense: null rows keep a slot (ignored). */
export type ColumnData =
  | { readonly kind: 'int32'; readonly values: Int32Array }
  /** Two slots per value: low word, high word. */
  | { readonly kind: 'int64'; readonly values: Int32Array }
  | { readonly kind: 'dict'; readonly indices: Int32Array; readonly dictionary: ByteDictionary }
  /** offsets[r] .. offsets[r + 1] in data. */
  | { readonly kind: 'binary'; readonly offsets: Int32Array; readonly data: Uint8Array }
  /** List rows: offsets[r] .. offsets[r + 1] index elements of values (int32 slots, or pairs for 64-bit). */
  | { readonly kind: 'list'; readonly offsets: Int32Array; readonly values: Int32Array };

export interface ColumnRows {
  readonly rows: number;
  /** 1 present, 0 null, per row; null when no row is null. */
  readonly present: Uint8Array | null;
  readonly data: ColumnData;
}

const INT_CONVERTED: Record<string, ConvertedType> = {
  '8s': ConvertedType.INT_8,
  '16s': ConvertedType.INT_16,
  '32s': ConvertedType.INT_32,
  '64s': ConvertedType.INT_64,
  '8u': ConvertedType.UINT_8,
  '16u': ConvertedType.UINT_16,
  '32u': ConvertedType.UINT_32,
  '64u': ConvertedType.UINT_64,
};

function leafElement(spec: ColumnSpec, name: string, repetition: Repetition): SchemaElement {
  switch (spec.leaf) {
    case 'string':
      return { name, type: PhysicalType.BYTE_ARRAY, repetition, convertedType: ConvertedType.UTF8, logical: { kind: 'string' } };
    case 'binary':
      return { name, type: PhysicalType.BYTE_ARRAY, repetition };
    default:
      return {
        name,
        type: spec.leaf === 'int64' ? PhysicalType.INT64 : PhysicalType.INT32,
        repetition,
        convertedType: INT_CONVERTED[`${spec.bits}${spec.signed ? 's' : 'u'}`]!,
        logical: { kind: 'int', bits: spec.bits, signed: spec.signed },
      };
  }
}

/** The schema elements of a file with these columns (root first, depth-first). */
export function schemaElements(columns: readonly ColumnSpec[]): SchemaElement[] {
  const out: SchemaElement[] = [{ name: 'schema', numChildren: columns.length }];
  for (const c of columns) {
    const repetition = c.optional ? Repetition.OPTIONAL : Repetition.REQUIRED;
    if (!c.list) {
      out.push(leafElement(c, c.name, repetition));
      continue;
    }
    // The three-level LIST structure of the format's spec.
    out.push({ name: c.name, repetition, numChildren: 1, convertedType: ConvertedType.LIST, logical: { kind: 'list' } });
    out.push({ name: 'list', repetition: Repetition.REPEATED, numChildren: 1 });
    out.push(leafElement(c, 'element', Repetition.REQUIRED));
  }
  return out;
}

export function columnPath(spec: ColumnSpec): string[] {
  return spec.list ? [spec.name, 'list', 'element'] : [spec.name];
}

/** A column chunk, encoded and compressed, ready to be appended to a file. */
export interface EncodedChunk {
  /** Dictionary page (header and body), if any, then the data page. */
  readonly parts: Uint8Array[];
  /** Where the data page starts, relative to the chunk's start. */
  readonly dataPageAt: number;
  readonly hasDictionary: boolean;
  readonly meta: Omit<ColumnMeta, 'dataPageOffset' | 'dictionaryPageOffset'>;
}

/** Page bodies are built here, then copied out at their size. */
const scratch = new ByteWriter(1 << 20);

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The bytes of int32 slots [from, to) as stored little endian. */
function int32Bytes(values: Int32Array, from: number, to: number): Uint8Array {
  if (LE) return new Uint8Array(values.buffer, values.byteOffset + from * 4, (to - from) * 4);
  const out = new Uint8Array((to - from) * 4);
  const dv = new DataView(out.buffer);
  for (let i = from; i < to; i++) dv.setInt32((i - from) * 4, values[i]!, true);
  return out;
}

/** Levels of the rows: repetition (lists only) and definition levels, and the count of level entries. */
interface Levels {
  readonly entries: number;
  readonly rep: Uint8Array | null;
  readonly def: Uint8Array | null;
  readonly maxDef: number;
}

function levelsOf(spec: ColumnSpec, rows: ColumnRows): Levels {
  const n = rows.rows;
  const present = rows.present;
  if (!spec.list) {
    if (!spec.optional) return { entries: n, rep: null, def: null, maxDef: 0 };
    const def = present ?? new Uint8Array(n).fill(1);
    return { entries: n, rep: null, def: def.length === n ? def : def.subarray(0, n), maxDef: 1 };
  }
  const offsets = (rows.data as { offsets: Int32Array }).offsets;
  const base = spec.optional ? 1 : 0;
  let entries = 0;
  for (let r = 0; r < n; r++) entries += Math.max(1, offsets[r + 1]! - offsets[r]!);
  const rep = new Uint8Array(entries);
  const def = new Uint8Array(entries);
  let e = 0;
  for (let r = 0; r < n; r++) {
    const len = offsets[r + 1]! - offsets[r]!;
    if (present !== null && present[r] === 0) {
      def[e++] = 0;
      continue;
    }
    if (len === 0) {
      def[e++] = base;
      continue;
    }
    for (let k = 0; k < len; k++) {
      rep[e] = k === 0 ? 0 : 1;
      def[e++] = base + 1;
    }
  }
  return { entries, rep, def, maxDef: base + 1 };
}

function writeLevels(out: ByteWriter, levels: Uint8Array, n: number, max: number): void {
  const lengthAt = out.length;
  out.u32(0);
  writeHybrid(out, levels, n, bitWidthOf(max));
  out.view.setUint32(lengthAt, out.length - lengthAt - 4, true);
}

/** Signed or unsigned comparison of int32 slots. */
function int32Bounds(values: Int32Array, present: Uint8Array | null, from: number, to: number, signed: boolean): [number, number] | null {
  let min = 0;
  let max = 0;
  let any = false;
  for (let i = from; i < to; i++) {
    if (present !== null && present[i] === 0) continue;
    const v = signed ? values[i]! : values[i]! >>> 0;
    if (!any) {
      min = max = v;
      any = true;
    } else if (v < min) min = v;
    else if (v > max) max = v;
  }
  return any ? [min, max] : null;
}

/** Min and max of 64-bit pairs, as slot indices of the winning values. */
function int64Bounds(values: Int32Array, present: Uint8Array | null, from: number, to: number, signed: boolean): [number, number] | null {
  let minAt = -1;
  let maxAt = -1;
  let minHi = 0;
  let minLo = 0;
  let maxHi = 0;
  let maxLo = 0;
  for (let i = from; i < to; i++) {
    if (present !== null && present[i] === 0) continue;
    const lo = values[2 * i]! >>> 0;
    const hi = signed ? values[2 * i + 1]! : values[2 * i + 1]! >>> 0;
    if (minAt < 0) {
      minAt = maxAt = i;
      minHi = maxHi = hi;
      minLo = maxLo = lo;
      continue;
    }
    if (hi < minHi || (hi === minHi && lo < minLo)) {
      minAt = i;
      minHi = hi;
      minLo = lo;
    } else if (hi > maxHi || (hi === maxHi && lo > maxLo)) {
      maxAt = i;
      maxHi = hi;
      maxLo = lo;
    }
  }
  return minAt < 0 ? null : [minAt, maxAt];
}

function le32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v | 0, true);
  return b;
}

function le64(values: Int32Array, at: number): Uint8Array {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, values[2 * at]!, true);
  dv.setInt32(4, values[2 * at + 1]!, true);
  return b;
}

function compareBytes(a: Uint8Array, aFrom: number, aTo: number, b: Uint8Array, bFrom: number, bTo: number): number {
  const n = Math.min(aTo - aFrom, bTo - bFrom);
  for (let i = 0; i < n; i++) {
    const d = a[aFrom + i]! - b[bFrom + i]!;
    if (d !== 0) return d;
  }
  return aTo - aFrom - (bTo - bFrom);
}

/** Longest string bound kept in statistics (longer ones would need truncation rules). */
const MAX_STRING_BOUND = 64;

function dictionaryBounds(dict: ByteDictionary): [Uint8Array, Uint8Array] | null {
  if (dict.count === 0) return null;
  const { offsets, bytes } = dict;
  let min = 0;
  let max = 0;
  for (let i = 0; i < dict.count; i++) {
    if (offsets[i + 1]! - offsets[i]! > MAX_STRING_BOUND) return null;
    if (compareBytes(bytes, offsets[i]!, offsets[i + 1]!, bytes, offsets[min]!, offsets[min + 1]!) < 0) min = i;
    if (compareBytes(bytes, offsets[i]!, offsets[i + 1]!, bytes, offsets[max]!, offsets[max + 1]!) > 0) max = i;
  }
  return [bytes.slice(offsets[min]!, offsets[min + 1]!), bytes.slice(offsets[max]!, offsets[max + 1]!)];
}

function countNulls(present: Uint8Array | null, n: number): number {
  if (present === null) return 0;
  let nulls = 0;
  for (let i = 0; i < n; i++) nulls += 1 - present[i]!;
  return nulls;
}

interface Values {
  readonly encoding: Encoding;
  readonly stats: Statistics;
  /** The PLAIN dictionary page body, for RLE_DICTIONARY. */
  readonly dictionary: Uint8Array | null;
  readonly dictionaryCount: number;
}

/** The present rows' int32 slots (or pairs) of a dense array, in order. */
function appendPresent(out: ByteWriter, values: Int32Array, present: Uint8Array | null, n: number, stride: number): void {
  if (present === null) {
    out.append(int32Bytes(values, 0, n * stride));
    return;
  }
  // Runs of present rows, copied whole.
  let r = 0;
  while (r < n) {
    while (r < n && present[r] === 0) r++;
    const from = r;
    while (r < n && present[r] !== 0) r++;
    if (r > from) out.append(int32Bytes(values, from * stride, r * stride));
  }
}

/** Values (present rows only) in the page body, the statistics, and a dictionary page if one is used. */
function writeValues(spec: ColumnSpec, rows: ColumnRows, out: ByteWriter): Values {
  const n = rows.rows;
  const present = rows.present;
  const data = rows.data;
  const nullCount = spec.list ? 0 : countNulls(present, n);
  switch (data.kind) {
    case 'int32':
    case 'int64': {
      const stride = data.kind === 'int64' ? 2 : 1;
      if (spec.delta === true && stride === 2) {
        const at = out.length;
        if (writeDelta64(out, data.values, present, n)) {
          return { encoding: Encoding.DELTA_BINARY_PACKED, stats: intStats(spec, data.values, present, 0, n, nullCount), dictionary: null, dictionaryCount: 0 };
        }
        out.length = at;
      }
      const dict = intDictionary(data.values, present, n, stride);
      if (dict !== null) {
        const width = Math.max(1, bitWidthOf(dict.count - 1));
        out.u8(width);
        writeHybrid(out, dict.indices, dict.indices.length, width);
        const page = int32Bytes(dict.values, 0, dict.values.length).slice();
        return { encoding: Encoding.RLE_DICTIONARY, stats: intStats(spec, dict.values, null, 0, dict.count, nullCount), dictionary: page, dictionaryCount: dict.count };
      }
      appendPresent(out, data.values, present, n, stride);
      return { encoding: Encoding.PLAIN, stats: intStats(spec, data.values, present, 0, n, nullCount), dictionary: null, dictionaryCount: 0 };
    }
    case 'list': {
      const from = data.offsets[0]!;
      const to = data.offsets[n]!;
      const stride = spec.leaf === 'int64' ? 2 : 1;
      out.append(int32Bytes(data.values, from * stride, to * stride));
      return { encoding: Encoding.PLAIN, stats: intStats(spec, data.values, null, from, to, 0), dictionary: null, dictionaryCount: 0 };
    }
    case 'dict': {
      const width = Math.max(1, bitWidthOf(data.dictionary.count - 1));
      out.u8(width);
      let indices = data.indices.subarray(0, n);
      if (present !== null) indices = indices.filter((_, i) => present[i] !== 0);
      writeHybrid(out, indices, indices.length, width);
      const bounds = dictionaryBounds(data.dictionary);
      return {
        encoding: Encoding.RLE_DICTIONARY,
        stats: { nullCount, min: bounds?.[0] ?? null, max: bounds?.[1] ?? null },
        dictionary: dictionaryPage(data.dictionary),
        dictionaryCount: data.dictionary.count,
      };
    }
    case 'binary': {
      for (let r = 0; r < n; r++) {
        if (present !== null && present[r] === 0) continue;
        const a = data.offsets[r]!;
        const b = data.offsets[r + 1]!;
        out.u32(b - a);
        out.append(data.data.subarray(a, b));
      }
      return { encoding: Encoding.PLAIN, stats: { nullCount, min: null, max: null }, dictionary: null, dictionaryCount: 0 };
    }
  }
}

function intStats(spec: ColumnSpec, values: Int32Array, present: Uint8Array | null, from: number, to: number, nullCount: number): Statistics {
  if (spec.leaf === 'int64') {
    const b = int64Bounds(values, present, from, to, spec.signed);
    return { nullCount, min: b === null ? null : le64(values, b[0]), max: b === null ? null : le64(values, b[1]) };
  }
  const b = int32Bounds(values, present, from, to, spec.signed);
  return { nullCount, min: b === null ? null : le32(b[0]), max: b === null ? null : le32(b[1]) };
}

function dictionaryPage(dict: ByteDictionary): Uint8Array {
  const out = new ByteWriter(dict.byteLength + dict.count * 4 + 16);
  const { offsets, bytes } = dict;
  for (let i = 0; i < dict.count; i++) {
    out.u32(offsets[i + 1]! - offsets[i]!);
    out.append(bytes.subarray(offsets[i]!, offsets[i + 1]!));
  }
  return out.bytes();
}

function physicalOf(spec: ColumnSpec): PhysicalType {
  return spec.leaf === 'int64' ? PhysicalType.INT64 : spec.leaf === 'int32' ? PhysicalType.INT32 : PhysicalType.BYTE_ARRAY;
}

/**
 * Encodes one column of a row group. The page bodies are built now (the
 * row data can be reused as soon as this returns); compression may finish
 * later (the promise).
 */
export function encodeChunk(spec: ColumnSpec, rows: ColumnRows, compressor: Compressor): Promise<EncodedChunk> {
  const levels = levelsOf(spec, rows);
  const body = scratch;
  body.reset();
  if (levels.rep !== null) writeLevels(body, levels.rep, levels.entries, 1);
  if (levels.def !== null) writeLevels(body, levels.def, levels.entries, levels.maxDef);
  const { encoding, stats, dictionary: dict, dictionaryCount: dictCount } = writeValues(spec, rows, body);
  // The scratch buffer is reused by the next chunk: the page keeps a copy of its exact size.
  const dataBody = body.copy();
  const pending = [dict === null ? null : compressor.compress(dict), compressor.compress(dataBody)];
  return Promise.all(pending).then(([dictZ, dataZ]) => {
    const parts: Uint8Array[] = [];
    let size = 0;
    let uncompressed = 0;
    const header = new ByteWriter(64);
    if (dict !== null && dictZ != null) {
      encodeDictionaryPageHeader(header, { uncompressedSize: dict.length, compressedSize: dictZ.length, numValues: dictCount });
      parts.push(header.copy(), dictZ);
      size += header.length + dictZ.length;
      uncompressed += header.length + dict.length;
      header.reset();
    }
    const dataPageAt = size;
    encodeDataPageHeader(header, { uncompressedSize: dataBody.length, compressedSize: dataZ!.length, numValues: levels.entries, encoding });
    parts.push(header.copy(), dataZ!);
    size += header.length + dataZ!.length;
    uncompressed += header.length + dataBody.length;
    const encodings: Encoding[] = dict !== null ? [Encoding.PLAIN, Encoding.RLE, Encoding.RLE_DICTIONARY] : [encoding, Encoding.RLE];
    return {
      parts,
      dataPageAt,
      hasDictionary: dict !== null,
      meta: {
        type: physicalOf(spec),
        encodings,
        path: columnPath(spec),
        codec: compressor.codec,
        numValues: levels.entries,
        uncompressedSize: uncompressed,
        compressedSize: size,
        statistics: stats,
      },
    };
  });
}
