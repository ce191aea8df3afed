// The staging ring's default size is a memory budget: reserved, committed
// only as a backlog reaches it. These check the budget's rule and that a
// large reservation really costs nothing until pages are written.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { defaultStagingBytes } from '../../src/capture/capture.js';
import { StagingRing } from '../../src/capture/staging-ring.js';
import { TraceringError } from '../../src/errors.js';
import { recordLength, writeDataHeader, writeSubbufHeader } from '../../src/layout/encode.js';
import { RecordBatch, WalkState, walkRecords } from '../../src/layout/record.js';
import { hostSubbufLayout, newSubbufHeader, readSubbufHeader } from '../../src/layout/subbuf.js';
import { RoundTaker } from '../../src/capture/rounds.js';
import type { TraceArray } from '../../src/kernel/trace-array.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** A trace array whose buffer_size_kb reads `kb` (the only thing the rule reads). */
function arrayOf(kb: number): TraceArray {
  return { bufferSizeKb: kb } as unknown as TraceArray;
}

function rssBytes(): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'latin1'));
  return Number(m![1]) * 1024;
}

describe('staging memory budget', () => {
  it('is an eighth of available memory, at most 2 GiB, never below 4x the kernel buffers', () => {
    assert.equal(defaultStagingBytes(arrayOf(4096), 2, 8 * GiB), 1 * GiB);
    assert.equal(defaultStagingBytes(arrayOf(4096), 2, 24 * GiB), 2 * GiB - MiB);
    // A small machine: the floor (4x the kernel's 2 x 4 MiB) wins.
    assert.equal(defaultStagingBytes(arrayOf(4096), 2, 128 * MiB), 32 * MiB);
    // Tiny kernel buffers still get 16 MiB.
    assert.equal(defaultStagingBytes(arrayOf(7), 1, 8 * MiB), 16 * MiB);
    // Unknown available memory: the old fixed 512 MiB.
    assert.equal(defaultStagingBytes(arrayOf(4096), 2, null), 512 * MiB);
  });

  it('reads the real /proc/meminfo by default', () => {
    const avail = Number(/^MemAvailable:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/meminfo', 'latin1'))![1]) * 1024;
    const got = defaultStagingBytes(arrayOf(4096), 2);
    // MemAvailable moves between the two reads; the rule's result stays within a few pages of it.
    const want = Math.max(32 * MiB, Math.min(2 * GiB - MiB, Math.floor(avail / 8)));
    assert.ok(Math.abs(got - want) < 64 * MiB, `budget ${got} for MemAvailable ${avail}`);
  });

  it('a 1 GiB ring commits only the slots that are written', () => {
    const before = rssBytes();
    const ring = StagingRing.create({ cpus: 2, slots: 262144, slotSize: 4096 }, 'drop-oldest');
    const reserved = rssBytes() - before;
    assert.ok(reserved < 64 * MiB, `reserving 1 GiB of staging made the process ${(reserved / MiB).toFixed(1)} MiB larger`);
    // Writing 64 MiB of slots commits them: the measurement can see commitment at all.
    ring.data.fill(1, 0, 64 * MiB);
    const written = rssBytes() - before;
    assert.ok(written >= 60 * MiB, `writing 64 MiB of slots made the process only ${(written / MiB).toFixed(1)} MiB larger`);
  });

  it('the largest ring decodes a record in its last slot; a larger one is refused with a code', () => {
    const slotSize = 4096;
    const slots = StagingRing.maxSlots(slotSize);
    assert.ok(slots * slotSize >= 2 * GiB - MiB, `room for the 2 GiB budget (${slots} slots)`);
    const ring = StagingRing.create({ cpus: 1, slots, slotSize }, 'drop-oldest');
    const layout = hostSubbufLayout(slotSize);
    const start = (slots - 1) * slotSize;
    const le = layout.littleEndian;
    const len = recordLength(8);
    const payload = writeDataHeader(ring.view, start + layout.dataOffset, len, 5, le);
    ring.view.setUint32(payload, 0xfeedbeef, le);
    writeSubbufHeader(ring.view, start, layout, 0, 1000, len);
    const batch = new RecordBatch(16);
    batch.reset(ring.data, ring.view, 0, slots - 1);
    const walk = new WalkState();
    walk.begin(0, 1000);
    walkRecords(layout, start + layout.dataOffset, len, 0, walk, batch);
    assert.equal(batch.corrupt, null);
    assert.equal(batch.count, 1);
    assert.equal(batch.tsLo(0), 1005);
    // The record's offset addresses the last slot's bytes (no 31-bit wrap).
    assert.equal(batch.view.getUint32(batch.records[0]!, le), 0xfeedbeef);
    assert.throws(
      () => StagingRing.create({ cpus: 1, slots: slots + 1, slotSize }, 'drop-oldest'),
      (e: unknown) => e instanceof TraceringError && e.code === 'ERR_INVALID_ARG_VALUE',
    );
  });
});

describe('losses after the last staged page', () => {
  it('come out as a closing loss page: every event taken or reported lost', () => {
    const layout = hostSubbufLayout(4096);
    const ring = StagingRing.create({ cpus: 1, slots: 2, slotSize: 4096 }, 'drop-oldest');
    const taker = new RoundTaker(ring, layout);
    const stage = (events: number, ts: number) => {
      const slot = ring.reserve(0, events);
      if (slot === -1) return false;
      writeSubbufHeader(ring.view, ring.slotOffset(slot), layout, 0, ts, 0);
      ring.publish(0, slot, events, 0);
      return true;
    };
    assert.ok(stage(10, 100) && stage(20, 200));
    // The output thread holds both slots: the next page has nowhere to go and is dropped, counted.
    assert.equal(taker.take(), 2);
    assert.equal(stage(30, 300), false);
    assert.equal(ring.dropped(0).events, 30);
    taker.release();
    assert.equal(taker.take(), 0, 'nothing more was staged');
    taker.release();
    // Nothing follows the dropped page to carry its count: the closing round does.
    assert.equal(taker.takeTrailingLosses(), 1);
    const round = taker.cpus[0]!;
    assert.equal(round.lostBefore[0], 30);
    const h = readSubbufHeader(ring.view, ring.slotOffset(round.slots[0]!), layout, newSubbufHeader());
    assert.equal(h.commitSize, 0);
    assert.equal(h.lost, 30);
    assert.equal(h.tsLo, 200, 'stamped with the last page taken, so page times stay in order');
    assert.equal(ring.eventsIn(round.slots[0]!), 0);
    taker.release();
    assert.equal(taker.takeTrailingLosses(), 0, 'reported once');
  });
});
