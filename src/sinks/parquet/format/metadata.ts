// Parquet's metadata structures (parquet-format's parquet.thrift), the
// subset this writer produces, and their compact-protocol encodings:
// page headers and the file footer (FileMetaData).

import { ByteWriter } from './bytes.js';
import { CompactWriter, TType } from './thrift.js';

export const PhysicalType = { BOOLEAN: 0, INT32: 1, INT64: 2, DOUBLE: 5, BYTE_ARRAY: 6 } as const;
export type PhysicalType = (typeof PhysicalType)[keyof typeof PhysicalType];

export const Repetition = { REQUIRED: 0, OPTIONAL: 1, REPEATED: 2 } as const;
export type Repetition = (typeof Repetition)[keyof typeof Repetition];

export const ConvertedType = {
  UTF8: 0,
  LIST: 3,
  UINT_8: 11,
  UINT_16: 12,
  UINT_32: 13,
  UINT_64: 14,
  INT_8: 15,
  INT_16: 16,
  INT_32: 17,
  INT_64: 18,
} as const;
export type ConvertedType = (typeof ConvertedType)[keyof typeof ConvertedType];

export const Encoding = { PLAIN: 0, RLE: 3, DELTA_BINARY_PACKED: 5, RLE_DICTIONARY: 8 } as const;
export type Encoding = (typeof Encoding)[keyof typeof Encoding];

export const Codec = { UNCOMPRESSED: 0, SNAPPY: 1, GZIP: 2, BROTLI: 4, ZSTD: 6 } as const;
export type Codec = (typeof Codec)[keyof typeof Codec];

export const PageType = { DATA_PAGE: 0, DICTIONARY_PAGE: 2 } as const;

/** LogicalType: a string, a list, or an integer of a width and signedness. */
export type LogicalType = { readonly kind: 'string' } | { readonly kind: 'list' } | { readonly kind: 'int'; readonly bits: 8 | 16 | 32 | 64; readonly signed: boolean };

export interface SchemaElement {
  readonly name: string;
  /** Leaves only. */
  readonly type?: PhysicalType;
  /** Absent for the root. */
  readonly repetition?: Repetition;
  /** Groups (and the root) only. */
  readonly numChildren?: number;
  readonly convertedType?: ConvertedType;
  readonly logical?: LogicalType;
}

export interface Statistics {
  readonly nullCount: number;
  /** PLAIN-encoded bounds in the column's sort order (TYPE_ORDER), or null when not known. */
  readonly min: Uint8Array | null;
  readonly max: Uint8Array | null;
}

export interface ColumnMeta {
  readonly type: PhysicalType;
  readonly encodings: readonly Encoding[];
  readonly path: readonly string[];
  readonly codec: Codec;
  readonly numValues: number;
  readonly uncompressedSize: number;
  readonly compressedSize: number;
  readonly dataPageOffset: number;
  readonly dictionaryPageOffset: number | null;
  readonly statistics: Statistics | null;
}

export interface RowGroupMeta {
  readonly columns: readonly ColumnMeta[];
  readonly numRows: number;
  /** Sum of the columns' uncompressed sizes. */
  readonly totalByteSize: number;
  readonly fileOffset: number;
  readonly totalCompressedSize: number;
}

export interface FileMeta {
  readonly schema: readonly SchemaElement[];
  readonly numRows: number;
  readonly rowGroups: readonly RowGroupMeta[];
  readonly keyValues: ReadonlyArray<readonly [string, string]>;
  readonly createdBy: string;
  /** Leaf columns (each gets TYPE_ORDER, so readers trust min_value/max_value). */
  readonly leafCount: number;
}

function writeLogical(w: CompactWriter, l: LogicalType): void {
  w.struct(10);
  switch (l.kind) {
    case 'string':
      w.struct(1);
      w.end();
      break;
    case 'list':
      w.struct(3);
      w.end();
      break;
    case 'int':
      w.struct(10);
      w.i8(1, l.bits);
      w.bool(2, l.signed);
      w.end();
      break;
  }
  w.end();
}

function writeSchemaElement(w: CompactWriter, e: SchemaElement): void {
  w.begin();
  if (e.type !== undefined) w.i32(1, e.type);
  if (e.repetition !== undefined) w.i32(3, e.repetition);
  w.string(4, e.name);
  if (e.numChildren !== undefined) w.i32(5, e.numChildren);
  if (e.convertedType !== undefined) w.i32(6, e.convertedType);
  if (e.logical !== undefined) writeLogical(w, e.logical);
  w.end();
}

function writeStatistics(w: CompactWriter, id: number, s: Statistics): void {
  w.struct(id);
  w.i64(3, s.nullCount);
  if (s.max !== null) w.binary(5, s.max);
  if (s.min !== null) w.binary(6, s.min);
  w.end();
}

function writeColumnChunk(w: CompactWriter, c: ColumnMeta): void {
  w.begin();
  w.i64(2, c.dictionaryPageOffset ?? c.dataPageOffset); // file_offset: where the chunk starts
  w.struct(3);
  w.i32(1, c.type);
  w.list(2, TType.I32, c.encodings.length);
  for (const e of c.encodings) w.elementI32(e);
  w.list(3, TType.BINARY, c.path.length);
  for (const p of c.path) w.elementString(p);
  w.i32(4, c.codec);
  w.i64(5, c.numValues);
  w.i64(6, c.uncompressedSize);
  w.i64(7, c.compressedSize);
  w.i64(9, c.dataPageOffset);
  if (c.dictionaryPageOffset !== null) w.i64(11, c.dictionaryPageOffset);
  if (c.statistics !== null) writeStatistics(w, 12, c.statistics);
  w.end();
  w.end();
}

/** The footer's FileMetaData, thrift-encoded. */
export function encodeFileMeta(meta: FileMeta): Uint8Array {
  const w = new CompactWriter(new ByteWriter(4096));
  w.begin();
  w.i32(1, 2); // format version 2 (logical types)
  w.list(2, TType.STRUCT, meta.schema.length);
  for (const e of meta.schema) writeSchemaElement(w, e);
  w.i64(3, meta.numRows);
  w.list(4, TType.STRUCT, meta.rowGroups.length);
  meta.rowGroups.forEach((g, ordinal) => {
    w.begin();
    w.list(1, TType.STRUCT, g.columns.length);
    for (const c of g.columns) writeColumnChunk(w, c);
    w.i64(2, g.totalByteSize);
    w.i64(3, g.numRows);
    w.i64(5, g.fileOffset);
    w.i64(6, g.totalCompressedSize);
    w.i16(7, ordinal);
    w.end();
  });
  if (meta.keyValues.length > 0) {
    w.list(5, TType.STRUCT, meta.keyValues.length);
    for (const [k, v] of meta.keyValues) {
      w.begin();
      w.string(1, k);
      w.string(2, v);
      w.end();
    }
  }
  w.string(6, meta.createdBy);
  w.list(7, TType.STRUCT, meta.leafCount);
  for (let i = 0; i < meta.leafCount; i++) {
    w.begin(); // ColumnOrder union
    w.struct(1); // TYPE_ORDER
    w.end();
    w.end();
  }
  w.end();
  return w.out.copy();
}

export interface DataPageInfo {
  readonly uncompressedSize: number;
  readonly compressedSize: number;
  /** Values including nulls (level entries for lists). */
  readonly numValues: number;
  readonly encoding: Encoding;
}

/** A DATA_PAGE (v1) header; levels are RLE-encoded. */
export function encodeDataPageHeader(out: ByteWriter, p: DataPageInfo): void {
  const w = new CompactWriter(out);
  w.begin();
  w.i32(1, PageType.DATA_PAGE);
  w.i32(2, p.uncompressedSize);
  w.i32(3, p.compressedSize);
  w.struct(5);
  w.i32(1, p.numValues);
  w.i32(2, p.encoding);
  w.i32(3, Encoding.RLE);
  w.i32(4, Encoding.RLE);
  w.end();
  w.end();
}

export function encodeDictionaryPageHeader(out: ByteWriter, p: { uncompressedSize: number; compressedSize: number; numValues: number }): void {
  const w = new CompactWriter(out);
  w.begin();
  w.i32(1, PageType.DICTIONARY_PAGE);
  w.i32(2, p.uncompressedSize);
  w.i32(3, p.compressedSize);
  w.struct(7);
  w.i32(1, p.numValues);
  w.i32(2, Encoding.PLAIN);
  w.end();
  w.end();
}
