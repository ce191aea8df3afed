// Writer in a worker thread, reader in this one, over a SharedArrayBuffer.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { AppRing } from '../../src/ring/app-ring.js';
import type { RingMode } from '../../src/layout/ring-control.js';
import { tsWorker } from '../helpers/ts-worker.js';
import { checkGaps, consumeUntilClosed } from './consume.js';
import { rng } from './payload.js';
import type { WriterPlan, WriterReport } from './writer-worker.js';

async function run(mode: RingMode, subbufs: number, plan: Omit<WriterPlan, 'handle'>, pause?: () => number) {
  using ring = AppRing.create({ subbufs, mode });
  const reader = ring.reader();
  const worker = tsWorker(new URL('./writer-worker.ts', import.meta.url), { workerData: { ...plan, handle: ring.handle } });
  const reporting = once(worker, 'message') as Promise<[WriterReport]>;
  const consumed = await consumeUntilClosed(reader, pause ? { pause } : {});
  const [report] = await reporting;
  return { consumed, report, counters: reader.counters, stats: ring.stats() };
}

describe('ring between threads', () => {
  it('discard mode: every committed event read once, in order, intact; refusals counted', async () => {
    const { consumed, report, counters } = await run('discard', 16, {
      count: 200_000,
      seed: 1,
      minLength: 8,
      maxLength: 200,
      batch: 512,
      maxMs: 20_000,
    });
    assert.equal(report.written, 200_000);
    const refused = new Set(report.refused);
    assert.equal(checkGaps(consumed, report.written, refused), 0, 'nothing lost beyond refusals');
    assert.equal(consumed.seqs.length + refused.size, report.written);
    assert.equal(counters.lost, 0);
    assert.equal(counters.dropped, report.dropped);
    assert.equal(report.dropped, refused.size);
  });

  it('overwrite mode with a slow reader: lost equals overrun, and each gap is where the flags say', async () => {
    const slow = rng(7);
    const { consumed, report, counters, stats } = await run(
      'overwrite',
      4,
      { count: 60_000, seed: 2, minLength: 8, maxLength: 120, batch: 256, maxMs: 20_000 },
      () => (slow() < 0.05 ? 2 : 0),
    );
    const refused = new Set(report.refused);
    const missing = checkGaps(consumed, report.written, refused);
    assert.ok(report.overrun > 0, 'the slow reader was overrun');
    assert.equal(missing, report.overrun);
    assert.equal(counters.lost, report.overrun);
    assert.equal(stats.overrun, report.overrun);
    assert.equal(consumed.seqs.length + missing + refused.size, report.written);
  });

  it('block mode: a slow reader loses nothing', async () => {
    const slow = rng(9);
    const { consumed, report, counters } = await run(
      'block',
      4,
      { count: 20_000, seed: 3, minLength: 8, maxLength: 300, batch: 200, maxMs: 20_000 },
      () => (slow() < 0.1 ? 1 : 0),
    );
    assert.deepEqual(report.refused, []);
    assert.equal(checkGaps(consumed, report.written, new Set()), 0);
    assert.equal(consumed.seqs.length, 20_000);
    assert.equal(counters.lost + counters.dropped, 0);
  });
});
