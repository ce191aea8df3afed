// The captured sub-buffers (test/fixtures/pages, see its README.md) decode
// as their notes and the kernel's own text say.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { hostSubbufLayout } from '../../src/layout/subbuf.js';
import { kernelMicros, readBytes, textTimestamps, walkPages } from '../helpers/pages.js';

const dir = new URL('../fixtures/pages/', import.meta.url).pathname;
const page = (name: string, size = 4096) => walkPages(readBytes(dir + name), hostSubbufLayout(size));
const PRINT = 5;

describe('captured sub-buffers', () => {
  it('marker3.0.bin: three trace_marker events on the mmap reader page', () => {
    const [p] = page('marker3.0.bin');
    assert.ok(p);
    assert.equal(p.header.commitSize, 88);
    assert.equal(p.header.missedEvents, false);
    assert.deepEqual(
      p.records.map((r) => [r.dataOffset, r.length, r.ts, r.type, r.pid]),
      [
        [4, 28, 571989729711n, PRINT, 10945],
        [36, 28, 571989735591n, PRINT, 10945],
        [68, 20, 571989737871n, PRINT, 10945],
      ],
    );
    const bytes = readBytes(dir + 'marker3.0.bin');
    const first = p.records[0] as { fileOffset: number };
    assert.equal(Buffer.from(bytes.subarray(first.fileOffset + 16, first.fileOffset + 23)).toString(), 'hello1\n');
  });

  it('time_extend.bin: TIME_EXTEND records carry the sleeps (0.3 s and 2.0 s)', () => {
    const [p] = page('time_extend.bin');
    const ts = p?.records.map((r) => r.ts) ?? [];
    assert.equal(ts.length, 3);
    // data+28: type 30, delta 32515064, array[0] = 2 -> (2 << 27) + 32515064
    assert.equal((ts[1] as bigint) - (ts[0] as bigint), (2n << 27n) + 32515064n);
    assert.ok((ts[2] as bigint) - (ts[1] as bigint) > 2_000_000_000n);
  });

  it('incr.3.bin: two 0.5 s TIME_EXTENDs between print events', () => {
    const [p] = page('incr.3.bin');
    const ts = p?.records.map((r) => r.ts) ?? [];
    assert.equal(ts.length, 3);
    for (const gap of [(ts[1] as bigint) - (ts[0] as bigint), (ts[2] as bigint) - (ts[1] as bigint)]) {
      assert.ok(gap > 500_000_000n && gap < 510_000_000n, `gap ${gap}`);
    }
  });

  it('big_event.bin: a type_len 0 record, 172-byte payload at data+36', () => {
    const [p] = page('big_event.bin');
    const big = p?.records[1];
    assert.ok(big);
    assert.equal(big.dataOffset, 36);
    assert.equal(big.length, 172);
    assert.equal(big.ts - (p?.records[0]?.ts ?? 0n), 529250n);
  });

  it('ovr.0.bin: MISSED_EVENTS without room for the count (sign-extended commit)', () => {
    const bytes = readBytes(dir + 'ovr.0.bin');
    assert.deepEqual([...bytes.subarray(8, 16)], [0xf0, 0x0f, 0, 0x80, 0xff, 0xff, 0xff, 0xff]);
    const [p] = page('ovr.0.bin');
    assert.equal(p?.header.commitSize, 4080);
    assert.equal(p?.header.missedEvents, true);
    assert.equal(p?.header.lost, -1);
  });

  it('ovr2.0.bin: MISSED_EVENTS | MISSED_STORED, 265 lost stored after the data', () => {
    const [p] = page('ovr2.0.bin');
    assert.equal(p?.header.commitSize, 4028);
    assert.equal(p?.header.lost, 265);
    assert.equal(p?.end, 4028);
  });

  it('ovr2.1.bin: a 52-byte end-of-page padding record is skipped, not counted', () => {
    const [p] = page('ovr2.1.bin');
    assert.equal(p?.header.commitSize, 4080);
    assert.equal(p?.end, 4080);
    const last = p?.records.at(-1);
    assert.ok(last && last.dataOffset + last.length <= 4028);
    assert.equal(p?.corrupt, null);
  });

  it('counter_clock.bin: counter clock values 28 and 29, as the kernel prints them', () => {
    const [p] = page('counter_clock.bin');
    assert.deepEqual(
      p?.records.map((r) => r.ts),
      [28n, 29n],
    );
    const text = fs.readFileSync(dir + 'counter_clock_trace.txt', 'utf8');
    assert.match(text, /\s28: /);
    assert.match(text, /\s29: /);
  });

  it('subbuf8k.0.bin: an 8 KiB sub-buffer with two print events', () => {
    const [p] = page('subbuf8k.0.bin', 8192);
    assert.equal(p?.records.length, 2);
    assert.equal(p?.header.commitSize, 64);
  });

  it('partial_read_72.bin: a copy-path page starts from the previous event time', () => {
    // read() with count=72 returned the pages in 72-byte pieces and the
    // capture stops 936 bytes into the second page: zero-fill it.
    const raw = readBytes(dir + 'partial_read_72.bin');
    const whole = new Uint8Array(8192);
    whole.set(raw);
    const [first, second] = walkPages(whole);
    assert.ok(first && second);
    assert.equal(second.header.tsHi * 2 ** 32 + second.header.tsLo, Number(first.records.at(-1)?.ts));
    assert.equal((second.records[0]?.ts ?? 0n) - (first.records.at(-1)?.ts ?? 0n), 2400n);
  });

  it('multiline_marker.bin: one record for a two-line marker', () => {
    const [p] = page('multiline_marker.bin');
    assert.equal(p?.records.length, 1);
  });

  for (const [pages, text] of [
    ['cpu0_read.bin', 'cpu0_decoded.txt'],
    ['cpu1_read.bin', 'cpu1_decoded.txt'],
    ['mmap_cpu1.bin', 'mmap_cpu1_trace_ref.txt'],
  ] as const) {
    it(`${pages}: every event's timestamp and pid equal the kernel's text (${text})`, () => {
      const records = page(pages).flatMap((p) => p.records);
      const expected = textTimestamps(fs.readFileSync(dir + text, 'utf8'));
      assert.ok(expected.length > 0);
      assert.equal(records.length, expected.length);
      records.forEach((r, i) => {
        assert.equal(kernelMicros(r.ts), expected[i]?.micros, `event ${i}`);
        assert.equal(r.pid, expected[i]?.pid, `event ${i}`);
      });
    });
  }

  it('mmap_cpu1.bin: page commits match the capture index, incl. the 4076-byte page', () => {
    const idx = fs
      .readFileSync(dir + 'mmap_cpu1.idx', 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    const pages = page('mmap_cpu1.bin');
    assert.equal(pages.length, idx.length);
    pages.forEach((p, i) => {
      assert.equal(p.header.commitSize, Number(idx[i]?.[2]));
      assert.equal(p.end, p.header.commitSize);
      assert.equal(p.corrupt, null);
    });
    assert.ok(pages.some((p) => p.header.commitSize === 4076));
    assert.equal(pages.reduce((n, p) => n + p.records.length, 0), 1096);
  });
});
