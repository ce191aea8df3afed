// Randomised, replayable: each seed fixes the ring's geometry and mode,
// record sizes, time gaps (explicit times: time extends, page starts) and
// when the reader runs. Writer and reader interleave in one thread, so a
// failing seed replays exactly (TRACERING_SEED=n to run one).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RingMode } from '../../src/layout/ring-control.js';
import { AppRing } from '../../src/ring/app-ring.js';
import { checkPayload, fillPayload, rng } from './payload.js';

const seeds = process.env.TRACERING_SEED ? [Number(process.env.TRACERING_SEED)] : [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

function stress(seed: number): void {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const subbufSize = pick([4096, 8192]);
  const subbufs = 3 + Math.floor(random() * 10);
  const mode: RingMode = pick(['overwrite', 'discard'] as const);
  const count = 2000 + Math.floor(random() * 30_000);
  const maxLength = pick([16, 64, 300, 1000, subbufSize - 40]);
  const ring = AppRing.create({ subbufSize, subbufs, mode });
  try {
    const writer = ring.writer({ autoFlush: false, clockBase: [0x12345, 0x9abc0000] });
    const reader = ring.reader();
    const times: number[] = [];
    const refused = new Set<number>();
    const read: Array<{ seq: number; time: bigint; lostBefore: number }> = [];
    let pendingLost = 0;
    let time = 0;
    const drain = (limit: number) => {
      for (let n = 0; n < limit; n++) {
        const b = reader.next();
        if (!b) return;
        assert.equal(b.corrupt, null, `seed ${seed}: corrupt page`);
        if (b.lostBefore > 0) pendingLost += b.lostBefore;
        for (let i = 0; i < b.count; i++) {
          const seq = checkPayload(b.bytes, b.view, b.offset(i), b.length(i));
          read.push({ seq, time: b.timestampBigInt(i), lostBefore: pendingLost });
          pendingLost = 0;
        }
      }
    };
    for (let seq = 0; seq < count; seq++) {
      // Gaps: mostly small, sometimes past 2^27 (a TIME_EXTEND), rarely huge.
      const r = random();
      time += r < 0.9 ? Math.floor(random() * 5000) : r < 0.99 ? 2 ** 27 + Math.floor(random() * 2 ** 30) : 2 ** 40;
      times.push(time);
      const length = 8 + Math.floor(random() * (maxLength - 7));
      const at = writer.reserveAt(length, time);
      if (at < 0) refused.add(seq);
      else {
        fillPayload(writer.bytes, writer.view, at, seq, length);
        writer.commit();
      }
      if (random() < 0.05) writer.flush();
      if (random() < 0.02) drain(Math.floor(random() * 4));
    }
    writer.close();
    drain(1e9);
    reader.finish();

    const base = (0x12345n << 32n) | 0x9abc0000n;
    let last = -1;
    let missing = 0;
    for (const e of read) {
      assert.ok(e.seq > last, `seed ${seed}: ${e.seq} after ${last}`);
      assert.equal(e.time, base + BigInt(times[e.seq] as number), `seed ${seed}: time of ${e.seq}`);
      let gap = 0;
      for (let s = last + 1; s < e.seq; s++) if (!refused.has(s)) gap++;
      assert.equal(gap, e.lostBefore, `seed ${seed}: gap before ${e.seq}`);
      missing += gap;
      last = e.seq;
    }
    assert.equal(read.length + missing + refused.size, count, `seed ${seed}: accounting`);
    assert.equal(missing, writer.overrun, `seed ${seed}: lost vs overrun`);
    assert.equal(reader.counters.lost, writer.overrun, `seed ${seed}: reader's lost`);
    assert.equal(reader.counters.dropped, writer.dropped, `seed ${seed}: dropped`);
    assert.equal(writer.dropped, refused.size, `seed ${seed}: refusals`);
    if (mode === 'discard') assert.equal(writer.overrun, 0);
  } finally {
    ring.close();
  }
}

describe('ring stress (seeded)', () => {
  for (const seed of seeds) it(`seed ${seed}`, () => stress(seed));
});
