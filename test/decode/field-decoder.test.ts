// Typed decoding: accessors, generated tables, object form, mixed batches.

import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BatchDecoder } from '../../src/decode/batch-decoder.js';
import { EventDecoder, SLOT_PAYLOAD_LENGTH } from '../../src/decode/field-decoder.js';
import { EventRegistry } from '../../src/decode/registry.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { FIXTURES, Payload, makeFormat, readPages, recordsOf } from './support.js';

const registry = EventRegistry.fromDirectory(path.join(FIXTURES, 'sched', 'tracefs'));
const switchFormat = registry.find('sched', 'sched_switch')!;
const pages = readPages(path.join(FIXTURES, 'pages', 'cpu0_read.bin'));
// First sched_switch of cpu0_read.bin (kernel text, cpu0_decoded.txt line 2):
// prev_comm=bash prev_pid=11224 prev_prio=120 prev_state=S ==> next_comm=bash next_pid=11227 next_prio=120
const first = pages.offsets.findIndex((o) => pages.view.getUint16(o, true) === switchFormat.id);
const base = pages.offsets[first]!;
const len = pages.lengths[first]!;

describe('EventDecoder accessors', () => {
  const d = new EventDecoder(switchFormat);

  it('read every kind of field without allocating', () => {
    assert.equal(d.int('prev_pid').get(pages.view, base), 11224);
    assert.equal(d.int('next_pid').get(pages.view, base), 11227);
    assert.equal(d.int('prev_prio').get(pages.view, base), 120);
    assert.equal(d.int('common_type').get(pages.view, base), switchFormat.id);
    const state = d.wide('prev_state');
    assert.deepEqual([state.hi(pages.view, base), state.lo(pages.view, base)], [0, 1]);
    assert.equal(state.get(pages.view, base), 1);
    assert.equal(state.number(pages.view, base), 1);
    assert.equal(state.bigint(pages.view, base), 1n);
    assert.equal(d.string('prev_comm').get(pages.view, pages.bytes, base, len), 'bash');
    const id = d.string('next_comm').id(pages.view, pages.bytes, base, len);
    assert.equal(d.strings.get(id), 'bash');
    assert.equal(d.string('prev_comm').id(pages.view, pages.bytes, base, len), id, 'same bytes, same id');
    assert.equal(d.int('prev_pid'), d.int('prev_pid'), 'accessors are cached');
  });

  it('rejects wrong kinds and unknown fields', () => {
    assert.throws(() => d.int('prev_state'), InvalidArgumentError);
    assert.throws(() => d.wide('prev_pid'), InvalidArgumentError);
    assert.throws(() => d.string('prev_pid'), InvalidArgumentError);
    assert.throws(() => d.int('nope'), /has no field "nope"/);
  });

  it('never loses 64-bit precision', () => {
    const f = makeFormat(['unsigned long ip;8;8;0', 's64 v;16;8;1'], '"x"');
    const p = new Payload(24).u64(8, 0xffffffff81234567n).u64(16, -3n);
    const dec = new EventDecoder(f);
    const ip = dec.wide('ip');
    assert.equal(ip.bigint(p.view, 0), 0xffffffff81234567n);
    assert.equal(ip.get(p.view, 0), 0xffffffff81234567n); // a BigInt: not safe as Number
    assert.throws(() => ip.number(p.view, 0), RangeError);
    assert.deepEqual([ip.hi(p.view, 0), ip.lo(p.view, 0)], [0xffffffff, 0x81234567]);
    const v = dec.wide('v');
    assert.equal(v.get(p.view, 0), -3);
    assert.equal(v.bigint(p.view, 0), -3n);
    assert.equal(v.number(p.view, 0), -3);
    const o = dec.toObject(p.view, p.bytes, 0, p.bytes.length);
    assert.equal(o.ip, 0xffffffff81234567n);
    assert.equal(o.v, -3n);
  });
});

describe('EventDecoder tables (generated code)', () => {
  it('decode every record of a batch into rows of slots', () => {
    const d = new EventDecoder(switchFormat);
    const indices = Int32Array.from(pages.offsets.flatMap((o, i) => (pages.view.getUint16(o, true) === switchFormat.id ? [i] : [])));
    const table = d.createTable(indices.length);
    d.decodeRecords(table, pages.bytes, pages.view, recordsOf(pages.offsets, pages.lengths), indices, indices.length);
    assert.equal(table.length, 6);
    const pid = table.slot('prev_pid');
    const state = table.slot('prev_state');
    const comm = table.slot('next_comm');
    assert.equal(table.int(0, pid), 11224);
    assert.equal(table.number(0, state), 1);
    assert.equal(table.bigint(0, state), 1n);
    assert.equal(table.string(0, comm), 'bash');
    assert.equal(table.payloadOffset(0), base);
    assert.equal(table.payloadLength(0), len);
    assert.equal(table.string(table.length - 1, table.slot('prev_comm')), 'swapper/0');
    assert.equal(table.int(0, table.slot('common_type')), switchFormat.id);
    assert.equal(comm.kind, 'fixed');
    assert.throws(() => d.decodeRecords(table, pages.bytes, pages.view, new Int32Array(4), null, 1), /table full/);
  });

  it('decodes dynamic arrays and marks short records', () => {
    const f = makeFormat(['__data_loc char[] name;8;4;0', '__rel_loc u8[] blob;12;4;0', 'unsigned int u;16;4;0'], '"x"');
    const p = new Payload(40).loc(8, 20, 4).str(20, 'abc\0').u32(12, 8 | (2 << 16)).bytesAt(24, [9, 8]).u32(16, 0xfffffffe);
    const bytes = new Uint8Array(80);
    bytes.set(p.bytes, 0);
    bytes.set(p.bytes.subarray(0, 12), 40); // a truncated copy
    const view = new DataView(bytes.buffer);
    const d = new EventDecoder(f);
    const t = d.createTable(4);
    d.decodeRecords(t, bytes, view, recordsOf([0, 40], [40, 12]), null, 2);
    assert.equal(t.string(0, t.slot('name')), 'abc');
    const span = t.span(0, t.slot('blob'), { offset: 0, length: 0 });
    assert.deepEqual([span.offset, span.length], [24, 2]); // rel: 12 + 4 + 8
    assert.equal(t.int(0, t.slot('u')), 0xfffffffe); // unsigned read back exactly
    assert.equal(t.data[t.stride + SLOT_PAYLOAD_LENGTH], -1, 'short record flagged');
  });

  it('embeds only numbers in generated code, whatever the field names', () => {
    // A name that would break out of a string or an identifier cannot even
    // be parsed; valid but surprising names are just slot labels.
    const f = makeFormat(['int constructor;8;4;1', 'int __proto__;12;4;1', 'int toString;16;4;1'], '"x"');
    const p = new Payload(24).i32(8, 1).i32(12, 2).i32(16, 3);
    const d = new EventDecoder(f);
    const t = d.createTable(1);
    d.decodeRecords(t, p.bytes, p.view, recordsOf([0], [24]), null, 1);
    assert.deepEqual([t.int(0, t.slot('constructor')), t.int(0, t.slot('__proto__')), t.int(0, t.slot('toString'))], [1, 2, 3]);
    const o = d.toObject(p.view, p.bytes, 0, 24);
    assert.deepEqual([o.constructor, o['__proto__'], o.toString], [1, 2, 3]);
    assert.equal(Object.getPrototypeOf(o), null);
  });
});

describe('object form', () => {
  it('gives every field a JS value', () => {
    const o = new EventDecoder(switchFormat).toObject(pages.view, pages.bytes, base, len);
    assert.deepEqual(
      { ...o },
      {
        common_type: switchFormat.id,
        common_flags: 1,
        common_preempt_count: 2,
        common_pid: 11224,
        prev_comm: 'bash',
        prev_pid: 11224,
        prev_prio: 120,
        prev_state: 1n,
        next_comm: 'bash',
        next_pid: 11227,
        next_prio: 120,
      },
    );
  });

  it('decodes arrays, bitmasks and byte arrays', () => {
    const f = makeFormat(['unsigned long caller[2];8;16;0', 'u8 mac[6];24;6;0', '__data_loc cpumask_t mask;32;4;0', 'u32 vals[];36;0;0'], '"x"');
    const p = new Payload(56).u64(8, 1n).u64(16, 0xffffffff81000000n).bytesAt(24, [1, 2, 3, 4, 5, 6]).loc(32, 48, 8).u32(36, 7).u32(40, 8).u32(44, 9).bytesAt(48, [0x05, 0, 0, 0, 0, 0, 0, 0x80]);
    const o = new EventDecoder(f).toObject(p.view, p.bytes, 0, 56, false);
    assert.deepEqual(o.caller, [1n, 0xffffffff81000000n]);
    assert.deepEqual(o.mac, Uint8Array.of(1, 2, 3, 4, 5, 6));
    assert.deepEqual(o.mask, [0, 2, 63]);
    assert.deepEqual(o.vals, [7, 8, 9, 0x05, 0x80000000]);
    assert.equal('common_pid' in o, false);
  });
});

describe('BatchDecoder', () => {
  it('groups a mixed batch by event and decodes each group', () => {
    const all = readPages(path.join(FIXTURES, 'pages', 'mmap_cpu1.bin'));
    const records = {
      bytes: all.bytes,
      view: all.view,
      count: all.offsets.length,
      records: recordsOf(all.offsets, all.lengths),
    };
    const b = new BatchDecoder(registry);
    b.decode(records);
    assert.equal(b.unknown, 0);
    const counts = new Map([...b.tables()].map((t) => [t.format.name, t.length]));
    assert.deepEqual(Object.fromEntries(counts), { sched_switch: 519, sched_wakeup: 398, sched_process_fork: 62, sched_process_exit: 62, sched_process_exec: 46, print: 9 });
    const sw = b.table(switchFormat.id)!;
    assert.equal(sw.string(0, sw.slot('next_comm')), 'bench_consumer.');
    // A second batch replaces the rows.
    b.decode({ ...records, count: 3 });
    assert.equal([...b.tables()].reduce((n, t) => n + t.length, 0), 3);
    // Unknown ids are counted, not thrown.
    const bogus = new Payload(16, 4242);
    b.decode({ bytes: bogus.bytes, view: bogus.view, count: 1, records: recordsOf([0], [16]) });
    assert.equal(b.unknown, 1);
  });
});
