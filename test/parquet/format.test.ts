// The Parquet writer on its own (no kernel): columns of every kind and
// edge values, written by src/sinks/parquet/format/ and read back by DuckDB
// value for value, including what the statistics let it skip.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type ColumnRows, type ColumnSpec, binaryColumn, encodeChunk, intColumn, stringColumn } from '../../src/sinks/parquet/format/column.js';
import { type CompressionName, createCompressor, zstdAvailable } from '../../src/sinks/parquet/format/compress.js';
import { ByteDictionary } from '../../src/sinks/parquet/format/dictionary.js';
import { ParquetFileWriter } from '../../src/sinks/parquet/format/file-writer.js';
import { validUtf8 } from '../../src/sinks/parquet/builders.js';
import { duck } from './support.js';

const scratch = fs.mkdtempSync(join(os.tmpdir(), 'tracering-parquet-format-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

type Value = number | bigint | string | Uint8Array | null | ReadonlyArray<number | bigint>;

function pair(v: number | bigint): [number, number] {
  const b = BigInt.asUintN(64, BigInt(v));
  return [Number(b & 0xffffffffn) | 0, Number(b >> 32n) | 0];
}

/** The test's own packing of JS values into the writer's column data. */
function rowsOf(spec: ColumnSpec, values: readonly Value[]): ColumnRows {
  const n = values.length;
  const present = values.some((v) => v === null) ? Uint8Array.from(values, (v) => (v === null ? 0 : 1)) : null;
  if (spec.list) {
    const offsets = new Int32Array(n + 1);
    const flat: Array<number | bigint> = [];
    values.forEach((v, r) => {
      if (v !== null) flat.push(...(v as ReadonlyArray<number | bigint>));
      offsets[r + 1] = flat.length;
    });
    const stride = spec.leaf === 'int64' ? 2 : 1;
    const ints = new Int32Array(flat.length * stride);
    flat.forEach((x, i) => {
      if (stride === 2) [ints[2 * i], ints[2 * i + 1]] = pair(x);
      else ints[i] = Number(x) | 0;
    });
    return { rows: n, present, data: { kind: 'list', offsets, values: ints } };
  }
  switch (spec.leaf) {
    case 'int32':
      return { rows: n, present, data: { kind: 'int32', values: Int32Array.from(values, (v) => (v === null ? 0 : Number(v) | 0)) } };
    case 'int64': {
      const ints = new Int32Array(2 * n);
      values.forEach((v, r) => {
        if (v !== null) [ints[2 * r], ints[2 * r + 1]] = pair(v as number | bigint);
      });
      return { rows: n, present, data: { kind: 'int64', values: ints } };
    }
    case 'string': {
      const dictionary = new ByteDictionary();
      const indices = new Int32Array(n);
      values.forEach((v, r) => {
        const bytes = v === null ? new Uint8Array(0) : typeof v === 'string' ? new TextEncoder().encode(v) : (v as Uint8Array);
        indices[r] = dictionary.add(bytes, 0, bytes.length);
      });
      const valid = validUtf8(dictionary, indices, n);
      return { rows: n, present, data: { kind: 'dict', indices: valid.indices, dictionary: valid.dictionary } };
    }
    case 'binary': {
      const offsets = new Int32Array(n + 1);
      const chunks: Uint8Array[] = [];
      let at = 0;
      values.forEach((v, r) => {
        if (v !== null) {
          chunks.push(v as Uint8Array);
          at += (v as Uint8Array).length;
        }
        offsets[r + 1] = at;
      });
      const data = new Uint8Array(at);
      let p = 0;
      for (const c of chunks) {
        data.set(c, p);
        p += c.length;
      }
      return { rows: n, present, data: { kind: 'binary', offsets, data } };
    }
  }
}

async function writeFile(path: string, specs: readonly ColumnSpec[], groups: ReadonlyArray<ReadonlyArray<readonly Value[]>>, codec: CompressionName): Promise<void> {
  const compressor = createCompressor(codec);
  const w = new ParquetFileWriter(path, specs);
  for (const g of groups) {
    const chunks = await Promise.all(specs.map((s, i) => encodeChunk(s, rowsOf(s, g[i]!), compressor)));
    await w.writeRowGroup(chunks, g[0]!.length);
  }
  await w.finish([['tracering.test', 'format']], 'tracering tests', false);
}

/** How DuckDB's JSON rows show a value of this column. */
function shown(spec: ColumnSpec, v: Value): unknown {
  if (v === null) return null;
  if (spec.list) return (v as ReadonlyArray<number | bigint>).map((x) => (spec.leaf === 'int64' ? String(BigInt.asIntN(64, BigInt(x)) === BigInt(x) || !spec.signed ? BigInt(x) : BigInt.asIntN(64, BigInt(x))) : Number(x)));
  if (spec.leaf === 'int64') return String(spec.signed ? BigInt.asIntN(64, BigInt(v as number | bigint)) : BigInt.asUintN(64, BigInt(v as number | bigint)));
  if (spec.leaf === 'int32') return Number(v);
  if (spec.leaf === 'binary') return Buffer.from(v as Uint8Array).toString('hex').toUpperCase();
  return typeof v === 'string' ? v : new TextDecoder().decode(v as Uint8Array);
}

const rand = (() => {
  let s = 0x12345678;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
})();

describe('Parquet writer read back by DuckDB', () => {
  const n = 3000;
  const specs: ColumnSpec[] = [
    intColumn('s8', 8, true, true),
    intColumn('u8', 8, false),
    intColumn('s16', 16, true),
    intColumn('u16', 16, false, true),
    intColumn('s32_few', 32, true),
    intColumn('s32_many', 32, true, true),
    intColumn('u32', 32, false),
    intColumn('s64_few', 64, true, true),
    intColumn('u64_many', 64, false),
    { ...intColumn('ts', 64, true), delta: true },
    { ...intColumn('ts_gappy', 64, true, true), delta: true },
    { ...intColumn('ts_wild', 64, true), delta: true },
    stringColumn('name', true),
    stringColumn('long_text'),
    binaryColumn('blob', true),
    intColumn('list32', 32, false, true, true),
    intColumn('list64', 64, true, false, true),
  ];
  const column = (i: number, make: (r: number) => Value) => Array.from({ length: n }, (_, r) => make(r + i * n));
  const group = (g: number): Value[][] => [
    column(g, (r) => (r % 11 === 0 ? null : (r % 256) - 128)),
    column(g, (r) => r % 256),
    column(g, (r) => (r % 2 ? -32768 : 32765) + (r % 3)),
    column(g, (r) => (r % 5 === 0 ? null : 65535 - (r % 7))),
    column(g, (r) => [0, -1, 2147483647, -2147483648][r % 4]!),
    column(g, (r) => (r % 13 === 0 ? null : Math.floor(rand() * 4294967296) - 2147483648)),
    column(g, (r) => [0, 1, 4294967295, 2147483648][r % 4]! + (r % 2)),
    column(g, (r) => (r % 9 === 0 ? null : [0n, -1n, 9223372036854775807n, -9223372036854775808n][r % 4]!)),
    column(g, () => BigInt(Math.floor(rand() * 2 ** 52)) * 4096n + 18446744073709000000n % 4096n),
    column(g, (r) => 1_000_000_000_000_000n + BigInt(r) * 997n + BigInt(r % 3)),
    column(g, (r) => (r % 17 === 0 ? null : 5_000_000_000n * BigInt(r % 50) + (r % 2 ? 0n : 1_099_511_627_776n) - 3n * BigInt(r))),
    column(g, (r) => (r % 100 === 0 ? -9223372036854775808n : 9223372036854775807n - BigInt(r))),
    column(g, (r) => (r % 7 === 0 ? null : r % 10 === 1 ? Uint8Array.of(0x66, 0xff, 0xfe, 0x6f) : ['sshd', 'node', '', 'kworker/0:1', 'héllo wörld'][r % 5]!)),
    column(g, (r) => `${'x'.repeat(70)} ${r}`),
    column(g, (r) => (r % 4 === 0 ? null : Uint8Array.from({ length: r % 6 }, (_, k) => (r + k) & 0xff))),
    column(g, (r) => (r % 8 === 0 ? null : Array.from({ length: r % 5 }, (_, k) => (r * 7 + k) >>> 0))),
    column(g, (r) => Array.from({ length: r % 3 }, (_, k) => BigInt(r) * 1_000_000_007n * (k % 2 ? -1n : 1n))),
  ];
  const groups = [group(0), group(1), [...group(2).map((c) => c.slice(0, 7))]];
  const codecs: CompressionName[] = ['none', 'gzip', ...(zstdAvailable() ? (['zstd'] as const) : [])];

  for (const codec of codecs) {
    it(`every column, three row groups, ${codec}`, async () => {
      const path = join(scratch, `all-${codec}.parquet`);
      await writeFile(path, specs, groups, codec);
      const db = await duck();
      try {
        const select = specs.map((s) => (s.leaf === 'binary' ? `hex(${s.name}) as ${s.name}` : s.name)).join(', ');
        const got = await db.rows(`select ${select} from '${path}'`);
        const want = groups.flatMap((g) => g[0]!.map((_, r) => Object.fromEntries(specs.map((s, i) => [s.name, shown(s, g[i]![r]!)]))));
        assert.equal(got.length, want.length);
        for (let r = 0; r < want.length; r++) {
          const w = { ...want[r]! };
          // Invalid UTF-8 is written with U+FFFD replacements.
          if (typeof w.name === 'string') w.name = w.name.replace(/\uFFFD+/g, '\uFFFD');
          const g = { ...got[r]! };
          if (typeof g.name === 'string') g.name = g.name.replace(/\uFFFD+/g, '\uFFFD');
          assert.deepEqual(g, w, `row ${r}`);
        }
        // Filters DuckDB may answer from statistics (row groups skipped) match a scan in JavaScript.
        const tsMin = 1_000_000_000_000_000n + 3000n * 997n;
        const c1 = await db.rows(`select count(*) as n from '${path}' where ts >= ${tsMin}`);
        assert.equal(Number(c1[0]!.n), 3000 + 7);
        const c2 = await db.rows(`select count(*) as n from '${path}' where u32 = 4294967295`);
        assert.equal(Number(c2[0]!.n), want.filter((w) => w.u32 === 4294967295).length);
        const c3 = await db.rows(`select count(*) as n from '${path}' where name = 'node'`);
        assert.equal(Number(c3[0]!.n), want.filter((w) => w.name === 'node').length);
        const c4 = await db.rows(`select count(*) as n from '${path}' where s64_few = -9223372036854775808`);
        assert.equal(Number(c4[0]!.n), want.filter((w) => w.s64_few === '-9223372036854775808').length);
        // The encodings chosen: deltas for timestamps (wide ones too), PLAIN when deltas pass 2^52, dictionaries for few values.
        const enc = await db.rows(`select path_in_schema as c, first(encodings) as e from parquet_metadata('${path}') where row_group_id = 0 group by all`);
        const encoding = Object.fromEntries(enc.map((r) => [r.c, String(r.e)]));
        assert.match(encoding.ts!, /DELTA_BINARY_PACKED/);
        assert.match(encoding.ts_gappy!, /DELTA_BINARY_PACKED/);
        assert.doesNotMatch(encoding.ts_wild!, /DELTA/);
        assert.match(encoding.s32_few!, /RLE_DICTIONARY/);
        assert.doesNotMatch(encoding.s32_many!, /DICTIONARY/);
        const kv = await db.rows(`select value from parquet_kv_metadata('${path}') where key = 'tracering.test'`);
        assert.equal(String(kv[0]?.value), 'format');
      } finally {
        db.close();
      }
    });
  }

  it('RLE runs and bit-packed stretches of every length around 8 and 504', async () => {
    const path = join(scratch, 'rle.parquet');
    // A dictionary column (few distinct values) whose indices alternate runs and noise.
    const values: Value[] = [];
    for (const len of [1, 7, 8, 9, 15, 16, 17, 503, 504, 505, 1000]) {
      for (let k = 0; k < len; k++) values.push(len % 3);
      for (let k = 0; k < len; k++) values.push((k * 7) % 5);
    }
    const spec = intColumn('v', 32, true);
    await writeFile(path, [spec], [[values]], 'none');
    const db = await duck();
    try {
      const got = await db.rows(`select v from '${path}'`);
      assert.deepEqual(
        got.map((r) => r.v),
        values,
      );
    } finally {
      db.close();
    }
  });

  it('an empty file and an empty string dictionary', async () => {
    const path = join(scratch, 'empty.parquet');
    await writeFile(path, [stringColumn('s', true), intColumn('i', 64, true)], [], 'gzip');
    const db = await duck();
    try {
      assert.deepEqual(await db.rows(`select count(*) as n from '${path}'`), [{ n: '0' }]);
      const path2 = join(scratch, 'nulls.parquet');
      await writeFile(path2, [stringColumn('s', true)], [[[null, null, null]]], 'gzip');
      assert.deepEqual(await db.rows(`select s from '${path2}'`), [{ s: null }, { s: null }, { s: null }]);
    } finally {
      db.close();
    }
  });
});
