// The mapped reader follows kernel-abi.md §4: its own cursor per reader id,
// growing reads on the page the writer is on, resets while mapped, pages
// partly consumed before mapping; timestamps as the kernel prints them.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { TraceringWarning } from '../../src/errors.js';
import type { RecordBatch } from '../../src/layout/record.js';
import { MappedCpuReader } from '../../src/kernel/mapped-cpu-reader.js';
import { ReadCpuReader } from '../../src/kernel/read-cpu-reader.js';
import { kernelOrSkip, testInstance, writeMarkers } from '../helpers/kernel.js';
import { kernelMicros, textTimestamps } from '../helpers/pages.js';

/** trace_marker texts of a batch (print events: buf at payload offset 16). */
function texts(batch: RecordBatch | null): string[] {
  if (!batch) return [];
  const out = [];
  for (let i = 0; i < batch.count; i++) {
    const off = (batch.offset(i)) + 16;
    out.push(Buffer.from(batch.bytes.subarray(off, batch.bytes.indexOf(0, off))).toString().trimEnd());
  }
  return out;
}

function drainTexts(reader: MappedCpuReader | ReadCpuReader): string[] {
  const out: string[] = [];
  for (let b = reader.next(); b; b = reader.next()) out.push(...texts(b));
  return out;
}

describe('mapped reader', () => {
  it('maps with the geometry the instance was given', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    inst.setSubbufSizeKb(8);
    inst.setBufferSizeKb(64);
    using reader = disposable(MappedCpuReader.open(inst, 0));
    assert.equal(reader.layout.subbufSize, 8192);
    assert.equal(reader.metaPageSize, 8192, 'meta_page_size equals the sub-buffer size');
    assert.equal(reader.nrSubbufs, Math.max(2, Math.ceil((64 * 1024) / (8192 - 16))) + 1);
    assert.equal(reader.meta.metaStructLen, 80);
  });

  it('follows the writer on the reader page: same id, growing read, no repeats', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    using reader = disposable(MappedCpuReader.open(inst, 0));
    assert.equal(reader.next(), null);
    writeMarkers(inst, 0, 1, () => 'one');
    const first = reader.next();
    assert.deepEqual(texts(first), ['one']);
    const id = first?.subbufId;
    writeMarkers(inst, 0, 2, (i) => `more${i}`);
    const second = reader.next();
    assert.equal(second?.subbufId, id, 'the writer is still on the reader page');
    assert.deepEqual(texts(second), ['more0', 'more1']);
    assert.equal(reader.next(), null);
    assert.equal(reader.meta.readerId, id);
    assert.equal(reader.counters.events, 3);
  });

  it('reconstructs time extends after sleeps exactly as the kernel prints them', async (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    for (const pause of [0, 150, 300, 10, 200]) {
      await sleep(pause);
      writeMarkers(inst, 0, 2, (i) => `after ${pause} ms #${i}`);
    }
    const expected = textTimestamps(inst.readText('trace'));
    using reader = disposable(MappedCpuReader.open(inst, 0));
    const got: bigint[] = [];
    for (let b = reader.next(); b; b = reader.next()) for (let i = 0; i < b.count; i++) got.push(b.timestampBigInt(i));
    assert.equal(got.length, 10);
    assert.deepEqual(
      got.map(kernelMicros),
      expected.map((e) => e.micros),
    );
    assert.ok((got[4] as bigint) - (got[3] as bigint) > 290_000_000n, 'a 0.3 s gap survives the time extend');
  });

  it('delivers large (type_len 0) records intact', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    inst.setSubbufSizeKb(8);
    // Up to 3000 bytes: the kernel splits trace_marker writes near 4 KiB into several events.
    const big = Array.from({ length: 3000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    const sizes = [200, 1500, 3000];
    writeMarkers(inst, 0, 3, (i) => `${i}:${big.slice(0, sizes[i])}`);
    using reader = disposable(MappedCpuReader.open(inst, 0));
    const batch = reader.next();
    assert.ok(batch);
    assert.deepEqual(texts(batch), [0, 1, 2].map((i) => `${i}:${big.slice(0, sizes[i])}`));
    for (let i = 0; i < batch.count; i++) assert.ok((batch.length(i)) > 112);
  });

  it('detects a reset while mapped and delivers only what came after it', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    const warnings: TraceringWarning[] = [];
    using reader = disposable(MappedCpuReader.open(inst, 0, { onWarning: (w) => warnings.push(w) }));
    writeMarkers(inst, 0, 6, (i) => `before${i}`);
    assert.equal(drainTexts(reader).length, 6);
    writeMarkers(inst, 0, 4, (i) => `discarded${i}`);
    inst.clear();
    assert.equal(reader.meta.readerRead, 0, 'the kernel republished the meta page on reset');
    writeMarkers(inst, 0, 3, (i) => `after${i}`);
    assert.deepEqual(drainTexts(reader), ['after0', 'after1', 'after2']);
    assert.equal(reader.counters.resets, 1);
    assert.deepEqual(
      warnings.map((w) => w.code),
      ['TRACERING_BUFFER_RESET'],
    );
  });

  it('starts after bytes consumed before it mapped (reader.read non-zero at map time)', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    writeMarkers(inst, 0, 3, (i) => `old${i}`);
    {
      using early = disposable(ReadCpuReader.open(inst, 0));
      assert.deepEqual(drainTexts(early), ['old0', 'old1', 'old2']);
    }
    writeMarkers(inst, 0, 2, (i) => `new${i}`);
    using reader = disposable(MappedCpuReader.open(inst, 0));
    assert.ok(reader.meta.readerRead > 0, 'the reader page was partly consumed');
    assert.deepEqual(drainTexts(reader), ['new0', 'new1']);
  });
});

/** Readers close on dispose (tests declare them with `using`). */
function disposable<T extends { close(): void }>(reader: T): T & Disposable {
  return Object.assign(reader, { [Symbol.dispose]: () => reader.close() });
}
