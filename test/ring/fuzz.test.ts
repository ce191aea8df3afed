// Seeded fuzzing of application ring files: real rings written by a real
// writer (closed, abandoned, overwritten, part read, killed mid-push),
// damaged where it hurts (geometry, control words, claims, per-page arrays,
// page headers, records, schema area), then read, rendered and written to
// (fuzz/targets/ring-file.ts). Every input must end, with a render or a
// coded error. A worker runs the inputs; this thread is its watchdog.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tsWorker } from '../helpers/ts-worker.js';
import type { FuzzMessage, FuzzPlan } from './fuzz-worker.js';

/** An input that takes this long has hung (one takes milliseconds; the slowest waits are 50 ms). */
const HANG_MS = 30_000;

describe('fuzzed ring files', () => {
  it('1,500 seeded mutations: each a clean render or a coded error, none hangs', async () => {
    const plan: FuzzPlan = { count: 1500, seed: 0x5eed0000 };
    const worker = tsWorker(new URL('./fuzz-worker.ts', import.meta.url), { workerData: plan });
    let current = -1;
    let lastStart = Date.now();
    const result = await new Promise<Extract<FuzzMessage, { kind: 'done' }>>((resolve, reject) => {
      const watchdog = setInterval(() => {
        if (Date.now() - lastStart < HANG_MS) return;
        clearInterval(watchdog);
        void worker.terminate();
        reject(new Error(`input ${current} (seed ${plan.seed + current}) did not end within ${HANG_MS} ms`));
      }, 500);
      worker.on('message', (m: FuzzMessage) => {
        if (m.kind === 'start') {
          current = m.index;
          lastStart = Date.now();
          return;
        }
        clearInterval(watchdog);
        resolve(m);
      });
      worker.on('error', (error) => {
        clearInterval(watchdog);
        reject(error);
      });
      worker.on('exit', (code) => {
        clearInterval(watchdog);
        reject(new Error(`the fuzz worker exited (${code}) during input ${current}`));
      });
    });
    await worker.terminate();
    assert.deepEqual(result.bugs, [], 'errors that are not TraceringErrors');
    const { rendered = 0, ERR_RING_CORRUPT: corrupt = 0, ERR_MALFORMED_INPUT: malformed = 0 } = result.outcomes;
    // The mutations reach every outcome: not all rejected at the door, not all harmless.
    assert.ok(rendered > 100, `rendered: ${JSON.stringify(result.outcomes)}`);
    assert.ok(corrupt > 50 && malformed > 50, `coded errors: ${JSON.stringify(result.outcomes)}`);
    const total = Object.values(result.outcomes).reduce((a, b) => a + b, 0);
    assert.equal(total, plan.count + result.seeds);
  });
});
