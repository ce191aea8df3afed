// Small tables (losses, processes): rows given as JavaScript values,
// written as one file with one row group.

import type { ColumnRows, ColumnSpec } from './format/column.js';
import { encodeChunk } from './format/column.js';
import type { Compressor } from './format/compress.js';
import { ByteDictionary } from './format/dictionary.js';
import { type FinishedFile, ParquetFileWriter } from './format/file-writer.js';

export type Cell = number | bigint | string | null;

/** (low, high) words of an integer within int64. */
function pairOf(v: number | bigint): [number, number] {
  const b = BigInt.asUintN(64, typeof v === 'bigint' ? v : BigInt(v));
  return [Number(b & 0xffffffffn) | 0, Number(b >> 32n) | 0];
}

function columnRows(spec: ColumnSpec, rows: readonly (readonly Cell[])[], index: number): ColumnRows {
  const n = rows.length;
  let present: Uint8Array | null = null;
  const isNull = (r: number) => {
    if (rows[r]![index] !== null) return false;
    if (!spec.optional) throw new Error(`column ${spec.name} is not nullable`);
    present ??= new Uint8Array(n).fill(1);
    present[r] = 0;
    return true;
  };
  if (spec.leaf === 'string') {
    const dictionary = new ByteDictionary();
    const indices = new Int32Array(n);
    for (let r = 0; r < n; r++) indices[r] = isNull(r) ? 0 : dictionary.addString(String(rows[r]![index]));
    if (dictionary.count === 0) dictionary.addString('');
    return { rows: n, present, data: { kind: 'dict', indices, dictionary } };
  }
  if (spec.leaf === 'int64') {
    const values = new Int32Array(2 * n);
    for (let r = 0; r < n; r++) {
      if (isNull(r)) continue;
      const [lo, hi] = pairOf(rows[r]![index] as number | bigint);
      values[2 * r] = lo;
      values[2 * r + 1] = hi;
    }
    return { rows: n, present, data: { kind: 'int64', values } };
  }
  const values = new Int32Array(n);
  for (let r = 0; r < n; r++) if (!isNull(r)) values[r] = Number(rows[r]![index]) | 0;
  return { rows: n, present, data: { kind: 'int32', values } };
}

export async function writeSmallTable(
  path: string,
  columns: readonly ColumnSpec[],
  rows: readonly (readonly Cell[])[],
  compressor: Compressor,
  keyValues: ReadonlyArray<readonly [string, string]>,
  createdBy: string,
  fsync: boolean,
): Promise<FinishedFile> {
  const writer = new ParquetFileWriter(path, columns);
  try {
    if (rows.length > 0) {
      const chunks = await Promise.all(columns.map((c, i) => encodeChunk(c, columnRows(c, rows, i), compressor)));
      await writer.writeRowGroup(chunks, rows.length);
    }
    return await writer.finish(keyValues, createdBy, fsync);
  } catch (error) {
    await writer.discard();
    throw error;
  }
}
