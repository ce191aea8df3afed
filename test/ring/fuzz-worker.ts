// Worker body of the ring-file fuzz test: runs seeded mutations of real
// ring files through the fuzz target and reports each input's outcome; the
// test's main thread is the watchdog.

import { parentPort, workerData } from 'node:worker_threads';
import target, { isCodedError, mutateRingFile, rng } from '../../fuzz/targets/ring-file.js';

export interface FuzzPlan {
  count: number;
  seed: number;
}

export type FuzzMessage =
  | { kind: 'start'; index: number }
  | { kind: 'done'; seeds: number; outcomes: Record<string, number>; bugs: string[]; slowestMs: number };

async function main(plan: FuzzPlan): Promise<void> {
  const port = parentPort!;
  const seeds = target.seeds();
  const outcomes: Record<string, number> = {};
  const bugs: string[] = [];
  let slowestMs = 0;
  for (let index = 0; index < seeds.length + plan.count; index++) {
    port.postMessage({ kind: 'start', index } satisfies FuzzMessage);
    // The seeds as they are first, then mutations of them.
    const input = index < seeds.length ? (seeds[index] as Uint8Array) : mutateRingFile(seeds[index % seeds.length] as Uint8Array, rng(plan.seed + index));
    const started = performance.now();
    let outcome = 'rendered';
    try {
      await target.run(input);
    } catch (error) {
      if (isCodedError(error)) outcome = (error as { code: string }).code;
      else {
        outcome = 'uncaught';
        bugs.push(`input ${index} (seed ${plan.seed + index}): ${error instanceof Error ? error.stack : String(error)}`);
      }
    }
    slowestMs = Math.max(slowestMs, performance.now() - started);
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  port.postMessage({ kind: 'done', seeds: seeds.length, outcomes, bugs, slowestMs } satisfies FuzzMessage);
}

if (parentPort && workerData) void main(workerData as FuzzPlan);
