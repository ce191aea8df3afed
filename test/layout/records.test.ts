// Record walking on synthetic sub-buffers built with the encoder: the cases
// the captures cannot show (64-bit timestamps, TS_MSB, other layouts,
// corruption).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  recordLength,
  writeDataHeader,
  writePadding,
  writeSubbufHeader,
  writeTimeExtend,
  writeTimeStamp,
} from '../../src/layout/encode.js';
import { RecordBatch, WalkState, walkRecords } from '../../src/layout/record.js';
import { type SubbufLayout, hostSubbufLayout, newSubbufHeader, readSubbufHeader } from '../../src/layout/subbuf.js';
import { tsFromBigInt, tsToBigInt } from '../../src/layout/timestamp.js';
import { cpuMs } from '../helpers/cpu-time.js';
import { walkPages } from '../helpers/pages.js';

type Step =
  | { data: number; delta: bigint } // payload bytes; delta may need a TIME_EXTEND
  | { stamp: bigint }
  | { discarded: number; delta: number }
  | { endPadding: true };

/** Builds one sub-buffer the way the kernel's writer lays it out; returns expected timestamps. */
function buildPage(layout: SubbufLayout, pageTs: bigint, steps: Step[]): { bytes: Uint8Array; expected: bigint[] } {
  const bytes = new Uint8Array(layout.subbufSize);
  const view = new DataView(bytes.buffer);
  const le = layout.littleEndian;
  const data = layout.dataOffset;
  let pos = 0;
  let ts = pageTs;
  const expected: bigint[] = [];
  for (const step of steps) {
    if ('data' in step) {
      let delta = step.delta;
      if (delta > (1n << 27n) - 1n) {
        const [hi, lo] = tsFromBigInt(delta);
        writeTimeExtend(view, data + pos, hi, lo, le);
        pos += 8;
        ts += delta;
        delta = 0n;
      } else {
        ts += delta;
      }
      const len = recordLength(step.data);
      const payloadAt = writeDataHeader(view, data + pos, len, Number(delta), le);
      bytes.fill(0xab, payloadAt, data + pos + len);
      pos += len;
      expected.push(ts);
    } else if ('stamp' in step) {
      const [hi, lo] = tsFromBigInt(step.stamp);
      writeTimeStamp(view, data + pos, hi, lo, le);
      pos += 8;
      ts = step.stamp;
    } else if ('discarded' in step) {
      const len = recordLength(step.discarded);
      view.setUint32(data + pos, le ? ((step.delta << 5) | 29) >>> 0 : ((29 << 27) | step.delta) >>> 0, le);
      view.setUint32(data + pos + 4, len - 4, le);
      pos += len;
    } else {
      const rest = layout.subbufSize - data - pos;
      writePadding(view, data + pos, rest, le);
      pos += rest;
    }
  }
  const [hi, lo] = tsFromBigInt(pageTs);
  writeSubbufHeader(view, 0, layout, hi, lo, pos);
  return { bytes, expected };
}

function walkOne(bytes: Uint8Array, layout: SubbufLayout) {
  const [page] = walkPages(bytes, layout);
  assert.ok(page);
  return page;
}

const layouts: Array<[string, SubbufLayout]> = [
  ['64-bit little endian', hostSubbufLayout(4096)],
  ['64-bit big endian', { subbufSize: 4096, dataOffset: 16, longSize: 8, littleEndian: false }],
  ['32-bit little endian', { subbufSize: 4096, dataOffset: 12, longSize: 4, littleEndian: true }],
  ['8 KiB sub-buffers', hostSubbufLayout(8192)],
];

describe('record sizing follows the kernel (rb_calculate_event_length)', () => {
  it('aligns, switches to type_len 0 above 112 bytes, and turns 12 into 16', () => {
    const cases: Array<[number, number]> = [
      [0, 8],
      [1, 8],
      [4, 8],
      [5, 16],
      [8, 16],
      [12, 16],
      [13, 20],
      [108, 112],
      [112, 116],
      [113, 124],
      [169, 180], // the spec's 150-character marker
    ];
    for (const [payload, total] of cases) assert.equal(recordLength(payload), total, `payload ${payload}`);
  });
});

for (const [name, layout] of layouts) {
  describe(`walking a ${name} sub-buffer`, () => {
    it('reconstructs timestamps through deltas, time extends, absolute stamps and padding', () => {
      const base = (1n << 53n) - 1000n; // crosses 2^53 on the way
      const { bytes, expected } = buildPage(layout, base, [
        { data: 28, delta: 0n },
        { data: 0, delta: 5n },
        { data: 8, delta: (1n << 27n) - 1n },
        { data: 113, delta: 1n << 27n }, // just too big for the header: TIME_EXTEND
        { discarded: 20, delta: 77 }, // padding with a delta: the kernel's readers ignore the delta
        { data: 600, delta: (1n << 40n) + 12345n },
        { stamp: base + (1n << 45n) },
        { data: 16, delta: 0n },
        { data: 40, delta: 3n },
        { endPadding: true },
      ]);
      const page = walkOne(bytes, layout);
      assert.equal(page.corrupt, null);
      assert.deepEqual(
        page.records.map((r) => r.ts),
        expected,
      );
      assert.deepEqual(
        page.records.map((r) => r.length),
        [28, 4, 12, 116, 600, 16, 40],
      );
      assert.equal(page.end, layout.subbufSize - layout.dataOffset);
    });

    it('restores the top bits of an absolute TIME_STAMP from the page time (TS_MSB)', () => {
      const pageTs = (0x1fn << 59n) + 100n; // a clock above 2^59
      const later = pageTs + 1_000_000n;
      const { bytes, expected } = buildPage(layout, pageTs, [{ data: 8, delta: 0n }, { stamp: later }, { data: 8, delta: 0n }]);
      assert.deepEqual(
        walkOne(bytes, layout).records.map((r) => r.ts),
        expected,
      );
      // Stamp whose low 59 bits wrapped past the page time's: one 2^59 step up.
      const wrapPage = (0x10n << 59n) + (1n << 59n) - 10n;
      const wrapped = wrapPage + 100n;
      const w = buildPage(layout, wrapPage, [{ stamp: wrapped }, { data: 8, delta: 0n }]);
      assert.deepEqual(
        walkOne(w.bytes, layout).records.map((r) => r.ts),
        [wrapped],
      );
    });

    it('stops at null padding (type 29, delta 0)', () => {
      const { bytes } = buildPage(layout, 1000n, [{ data: 8, delta: 1n }, { data: 8, delta: 1n }]);
      const view = new DataView(bytes.buffer);
      // Overwrite the second record's header with null padding and commit past it.
      view.setUint32(layout.dataOffset + 16, layout.littleEndian ? 29 : (29 << 27) >>> 0, layout.littleEndian);
      const page = walkOne(bytes, layout);
      assert.equal(page.records.length, 1);
      assert.equal(page.ended, true);
    });

    it('reads MISSED flags and the stored count; the count needs room after the data', () => {
      const { bytes } = buildPage(layout, 1n, [{ data: 8, delta: 0n }]);
      const view = new DataView(bytes.buffer);
      writeSubbufHeader(view, 0, layout, 0, 1, 16, 265);
      const h = readSubbufHeader(view, 0, layout, newSubbufHeader());
      assert.deepEqual([h.commitSize, h.missedEvents, h.lost], [16, true, 265]);
      const full = layout.subbufSize - layout.dataOffset;
      writeSubbufHeader(view, 0, layout, 0, 1, full - layout.longSize + 1, 7);
      const h2 = readSubbufHeader(view, 0, layout, newSubbufHeader());
      assert.deepEqual([h2.missedEvents, h2.lost], [true, -1]);
    });
  });
}

describe('corrupt sub-buffers', () => {
  const layout = hostSubbufLayout(4096);

  it('flags a record that overruns the committed data and drops the rest', () => {
    const { bytes } = buildPage(layout, 1n, [{ data: 8, delta: 0n }, { data: 100, delta: 1n }]);
    const view = new DataView(bytes.buffer);
    writeSubbufHeader(view, 0, layout, 0, 1, 16 + 50); // commit cuts the second record
    const page = walkOne(bytes, layout);
    assert.equal(page.records.length, 1);
    assert.match(page.corrupt ?? '', /overruns/);
  });

  it('flags a large record with an impossible length', () => {
    const { bytes } = buildPage(layout, 1n, [{ data: 200, delta: 0n }]);
    new DataView(bytes.buffer).setUint32(16 + 4, 0x7fff_fff1, true);
    assert.match(walkOne(bytes, layout).corrupt ?? '', /bad length/);
  });

  it('rejects a commit size beyond the data area with a coded error', () => {
    const bytes = new Uint8Array(4096);
    new DataView(bytes.buffer).setUint32(8, 5000, true);
    assert.throws(() => readSubbufHeader(new DataView(bytes.buffer), 0, layout, newSubbufHeader()), {
      code: 'ERR_MALFORMED_INPUT',
    });
  });

  it('survives random pages: no throw past the header check, no hang, nothing outside the commit', () => {
    let seed = 0x2545f491;
    const rand = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const cpu = cpuMs(() => {
      for (let round = 0; round < 2000; round++) {
        const bytes = new Uint8Array(4096);
        const view = new DataView(bytes.buffer);
        for (let i = 0; i < 4096; i += 4) view.setUint32(i, rand(), true);
        const commit = rand() % 4081;
        view.setUint32(8, commit, true);
        view.setUint32(12, 0, true);
        const batch = new RecordBatch(512);
        batch.reset(bytes, view, 0, 0);
        const walk = new WalkState();
        walk.begin(0, 0);
        walkRecords(layout, 16, commit, 0, walk, batch);
        assert.ok(walk.pos <= commit || walk.ended);
        for (let i = 0; i < batch.count; i++) {
          const off = (batch.offset(i)) - 16;
          assert.ok(off >= 0 && off + (batch.length(i)) <= commit, `record ${i} escapes the commit`);
        }
      }
    });
    assert.ok(cpu < 5000, `${cpu.toFixed(0)} ms of CPU`);
  });
});

describe('64-bit timestamp helpers', () => {
  it('round-trip and divide exactly without BigInt', async () => {
    const { tsDivMod, tsToDecimal } = await import('../../src/layout/timestamp.js');
    const samples = [0n, 1n, (1n << 53n) + 1n, (1n << 63n) + 12345678901n, (1n << 64n) - 1n, 1_000_000_000_999n];
    for (const v of samples) {
      const [hi, lo] = tsFromBigInt(v);
      assert.equal(tsToBigInt(hi, lo), v);
      assert.equal(tsToDecimal(hi, lo), v.toString());
      for (const d of [1000n, 1_000_000_000n, 7n]) {
        const [qh, ql, r] = tsDivMod(hi, lo, Number(d));
        assert.equal(tsToBigInt(qh, ql), v / d);
        assert.equal(BigInt(r), v % d);
      }
    }
  });
});
