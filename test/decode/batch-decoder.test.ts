// BatchDecoder: the chained grouping pass and the generated list decoders
// agree with EventDecoder.decodeRecords() slot for slot, whatever the batch
// size, byte order or field packing; odd records are counted unknown; the
// code generator embeds nothing but small integers.

import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BatchDecoder, type RecordsLike } from '../../src/decode/batch-decoder.js';
import { EventDecoder, type EventTable } from '../../src/decode/field-decoder.js';
import { FORMAT_LIMITS, parseFormatFile } from '../../src/decode/format-file.js';
import { EventRegistry, type FormatSource } from '../../src/decode/registry.js';
import { generateListDecoder, lit } from '../../src/decode/row-codegen.js';
import { MalformedInputError } from '../../src/errors.js';
import { FIXTURES, formatText, readPages, recordsOf } from './support.js';

/** Formats held in memory. */
class MemorySource implements FormatSource {
  readonly label = 'memory';
  readonly #events: Map<string, string>;
  constructor(events: Record<string, string>) {
    this.#events = new Map(Object.entries(events));
  }
  listEvents(): [string, string][] {
    return [...this.#events.keys()].map((k) => k.split('/') as [string, string]);
  }
  readFormat(system: string, event: string): string {
    return this.#events.get(`${system}/${event}`)!;
  }
  readOptional(): string | null {
    return null;
  }
}

/** Checks every table of the last decode() against decodeRecords() over the same records. */
function assertLikeDecodeRecords(b: BatchDecoder, batch: RecordsLike, littleEndian = true): number {
  const ids = new Map<number, number[]>();
  for (let i = 0; i < batch.count; i++) {
    const o = batch.records[i * 4]!;
    if (batch.records[i * 4 + 1]! < 2 || o < 0 || o > batch.view.byteLength - 2) continue;
    const id = batch.view.getUint16(o, littleEndian);
    ids.set(id, [...(ids.get(id) ?? []), i]);
  }
  let rows = 0;
  for (const [id, list] of ids) {
    const found = b.registry.lookup(id);
    if (found.status !== 'ok') continue;
    const got = b.table(id);
    assert.ok(got !== undefined, `table of ${found.format.name}`);
    const d = new EventDecoder(found.format, { littleEndian });
    const want = d.createTable(list.length);
    d.decodeRecords(want, batch.bytes, batch.view, batch.records, Int32Array.from(list), list.length);
    assert.equal(got.length, want.length, found.format.name);
    assert.deepEqual(got.data.subarray(0, got.length * got.stride), want.data.subarray(0, want.length * want.stride), found.format.name);
    rows += got.length;
  }
  return rows;
}

describe('BatchDecoder', () => {
  const registry = EventRegistry.fromDirectory(path.join(FIXTURES, 'sched', 'tracefs'));
  const all = readPages(path.join(FIXTURES, 'pages', 'mmap_cpu1.bin'));
  const whole: RecordsLike = { bytes: all.bytes, view: all.view, count: all.offsets.length, records: recordsOf(all.offsets, all.lengths) };

  it('decodes like decodeRecords(), in batches of any size', () => {
    for (const size of [whole.count, 700, 50, 3, 1]) {
      const b = new BatchDecoder(registry);
      let rows = 0;
      for (let s = 0; s < whole.count; s += size) {
        const batch = { ...whole, count: Math.min(size, whole.count - s), records: whole.records.subarray(s * 4) };
        b.decode(batch);
        rows += assertLikeDecodeRecords(b, batch);
        assert.equal([...b.tables()].reduce((n, t) => n + t.length, 0) + b.unknown, batch.count);
      }
      assert.equal(rows, whole.count, `batches of ${size}`);
    }
  });

  it('grows a table past its first size', () => {
    const b = new BatchDecoder(registry);
    const id = registry.find('sched', 'sched_switch')!.id;
    const one = all.offsets.findIndex((o) => all.view.getUint16(o, true) === id);
    b.decode({ ...whole, count: one + 1 });
    assert.equal(b.table(id)!.length, 1);
    assert.ok(b.table(id)!.capacity < 519);
    b.decode(whole); // 519 sched_switch: more than the first table holds
    assert.equal(b.table(id)!.length, 519);
    assertLikeDecodeRecords(b, whole);
  });

  it('presets the id slot of every row', () => {
    const b = new BatchDecoder(registry);
    b.decode(whole);
    for (const t of b.tables()) {
      assert.ok(t.idSlot !== null);
      for (let r = 0; r < t.length; r++) assert.equal(t.int(r, t.idSlot), t.format.id);
      assert.equal(t.data[(t.capacity - 1) * t.stride + t.idSlot.index], t.format.id, 'rows not written yet too');
    }
  });

  it('counts records too short or outside the view as unknown, and carries on', () => {
    const b = new BatchDecoder(registry);
    const n = 20;
    const recs = whole.records.slice(0, n * 4);
    recs[1] = 1; // too short for an id
    recs[5] = 0;
    recs[8] = whole.view.byteLength; // outside the view
    recs[12] = -8;
    b.decode({ ...whole, count: n, records: recs });
    assert.equal(b.unknown, 4);
    assert.equal([...b.tables()].reduce((k, t) => k + t.length, 0), n - 4);
    b.decode({ ...whole, count: n });
    assert.equal(b.unknown, 0);
    assertLikeDecodeRecords(b, { ...whole, count: n });
  });

  it('counts events without a format as unknown', () => {
    const b = new BatchDecoder(registry);
    const bytes = new Uint8Array(32);
    const view = new DataView(bytes.buffer);
    view.setUint16(0, 4242, true);
    view.setUint16(16, registry.find('sched', 'sched_switch')!.id, true);
    b.decode({ bytes, view, count: 2, records: recordsOf([0, 16], [16, 8]) });
    assert.equal(b.unknown, 1);
    const [t] = [...b.tables()];
    assert.equal(t!.length, 1);
    assert.equal(t!.payloadLength(0), -1, 'too short for its format: fields not decoded');
  });

  for (const littleEndian of [true, false]) {
    it(`packs small fields sharing a word (${littleEndian ? 'little' : 'big'} endian)`, () => {
      const text = formatText(
        ['s8 a;8;1;1', 'u8 b;9;1;0', 's16 c;10;2;1', 'u16 d;12;2;0', 'u8 e;14;1;0', 'int f;16;4;1', 'u64 g;20;8;0', '__data_loc char[] s;28;4;0', 'u16 lone;32;2;0'],
        '"x"',
        'packed',
        900,
      );
      const reg = new EventRegistry(new MemorySource({ 'test/packed': text }));
      const f = parseFormatFile(text, { system: 'test' });
      assert.equal(f.fixedSize, 34);
      const size = 40;
      const count = 300;
      const bytes = new Uint8Array(size * count + 8);
      const view = new DataView(bytes.buffer);
      const offsets: number[] = [];
      for (let r = 0; r < count; r++) {
        const o = r * size;
        view.setUint16(o, 900, littleEndian);
        view.setUint8(o + 2, r & 0xff);
        view.setUint8(o + 3, 0x80 | r);
        view.setInt32(o + 4, -r, littleEndian);
        view.setInt8(o + 8, -(r % 128));
        view.setUint8(o + 9, 255 - (r % 256));
        view.setInt16(o + 10, -1000 - r, littleEndian);
        view.setUint16(o + 12, 65535 - r, littleEndian);
        view.setUint8(o + 14, 0xfe);
        view.setInt32(o + 16, r * 1000 - 7, littleEndian);
        view.setBigUint64(o + 20, 0xffffffff81000000n + BigInt(r), littleEndian);
        view.setUint32(o + 28, 36 | (3 << 16), littleEndian);
        view.setUint16(o + 32, r, littleEndian);
        bytes.set([0x61 + (r % 26), 0x62, 0], o + 36);
        offsets.push(o);
      }
      const batch: RecordsLike = { bytes, view, count, records: recordsOf(offsets, offsets.map((_, r) => (r === 7 ? 20 : size))) };
      const b = new BatchDecoder(reg, { littleEndian });
      b.decode(batch);
      assert.equal(assertLikeDecodeRecords(b, batch, littleEndian), count);
      const t: EventTable = b.table(900)!;
      const d = new EventDecoder(f, { littleEndian });
      for (const r of [0, 5, 128, 299]) {
        const o = d.toObject(view, bytes, offsets[r]!, size);
        for (const name of ['common_flags', 'common_preempt_count', 'common_pid', 'a', 'b', 'c', 'd', 'e', 'f', 'lone']) {
          assert.equal(t.int(r, t.slot(name)), o[name], `${name} of row ${r}`);
        }
        assert.equal(t.bigint(r, t.slot('g')), o.g);
        assert.equal(t.string(r, t.slot('s')), o.s);
      }
      assert.equal(t.payloadLength(7), -1, 'a record shorter than the fixed part');
    });
  }
});

describe('row code generation', () => {
  it('embeds only small non-negative integers', () => {
    for (const bad of [1.5, -1, Number.NaN, Infinity, FORMAT_LIMITS.maxOffset * 2 + 1, 2 ** 40]) {
      assert.throws(() => lit(bad), MalformedInputError, String(bad));
    }
    assert.throws(() => lit('1); process.exit(1); (1' as unknown as number), MalformedInputError);
    assert.equal(lit(FORMAT_LIMITS.maxOffset), String(FORMAT_LIMITS.maxOffset));
  });

  it('generates code for formats at the limits of what the parser accepts', () => {
    const f = parseFormatFile(formatText([`u8 far;${FORMAT_LIMITS.maxOffset - 1};1;0`, 'u16 near;8;2;0'], '"x"'), { system: 'test' });
    const d = new EventDecoder(f);
    const table = d.createTable(1);
    const list = generateListDecoder(table, true);
    assert.equal(typeof list, 'function');
    assert.equal(list.toString().includes('far'), false, 'no field name in the code');
  });
});
