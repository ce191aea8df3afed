// Writer in another process, reader here, through a file mapping in
// /dev/shm with futex wake-ups.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import type { RingMode } from '../../src/layout/ring-control.js';
import { AppRing } from '../../src/ring/app-ring.js';
import { checkGaps, consumeUntilClosed } from './consume.js';
import { rng } from './payload.js';
import type { WriterPlan, WriterReport } from './writer-worker.js';

const root = new URL('../../', import.meta.url).pathname;
const shm = fs.existsSync('/dev/shm') ? '/dev/shm' : '/tmp';

async function runAcrossProcesses(mode: RingMode, subbufs: number, plan: Omit<WriterPlan, 'handle'>, pause?: () => number) {
  const path = `${shm}/tracering-test-${process.pid}-${mode}`;
  fs.rmSync(path, { force: true });
  const ring = AppRing.create({ path, subbufs, mode });
  try {
    const reader = ring.reader();
    const full: WriterPlan = { ...plan, handle: { path } };
    const script = `import('./test/ring/writer-worker.ts').then((m) => m.writePlan(${JSON.stringify(full)})).then((r) => process.stdout.write(JSON.stringify(r)));`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    const exited = once(child, 'exit');
    const consumed = await consumeUntilClosed(reader, pause ? { pause } : {});
    const [code] = (await exited) as [number];
    assert.equal(code, 0);
    return { consumed, report: JSON.parse(out) as WriterReport, counters: reader.counters };
  } finally {
    ring.close();
    fs.rmSync(path, { force: true });
  }
}

describe('ring between processes (file mapping, futex wake-ups)', () => {
  it('discard mode: every committed event read once, in order, intact', async () => {
    const { consumed, report, counters } = await runAcrossProcesses('discard', 16, {
      count: 100_000,
      seed: 11,
      minLength: 8,
      maxLength: 250,
      batch: 300,
      maxMs: 20_000,
    });
    assert.equal(report.written, 100_000);
    const refused = new Set(report.refused);
    assert.equal(checkGaps(consumed, report.written, refused), 0);
    assert.equal(consumed.seqs.length + refused.size, report.written);
    assert.equal(counters.dropped, refused.size);
  });

  it('overwrite mode: lost equals overrun, gaps where the flags say', async () => {
    const slow = rng(5);
    const { consumed, report, counters } = await runAcrossProcesses(
      'overwrite',
      4,
      { count: 40_000, seed: 12, minLength: 8, maxLength: 100, batch: 128, maxMs: 20_000 },
      () => (slow() < 0.05 ? 3 : 0),
    );
    const missing = checkGaps(consumed, report.written, new Set(report.refused));
    assert.ok(report.overrun > 0);
    assert.equal(missing, report.overrun);
    assert.equal(counters.lost, report.overrun);
  });
});
