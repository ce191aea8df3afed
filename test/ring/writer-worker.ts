// Worker (or child process) body: writes a seeded sequence of test payloads
// into a ring and reports what happened to each one.

import { parentPort, workerData } from 'node:worker_threads';
import { AppRing, type RingHandle } from '../../src/ring/app-ring.js';
import { fillPayload, rng } from './payload.js';

export interface WriterPlan {
  handle: RingHandle;
  count: number;
  seed: number;
  minLength: number;
  maxLength: number;
  /** Publish (flush) every this many events. */
  batch: number;
  /** Yield to the event loop after each batch (default true); false: a tight loop. */
  yieldBetweenBatches?: boolean;
  clock?: 'event' | 'batch';
  /** Stop after this long whatever the count. */
  maxMs: number;
}

export interface WriterReport {
  written: number;
  /** Sequence numbers the ring refused (discard/block) or lost at once. */
  refused: number[];
  entries: number;
  overrun: number;
  dropped: number;
}

export async function writePlan(plan: WriterPlan): Promise<WriterReport> {
  const ring = AppRing.attach(plan.handle);
  const writer = ring.writer({ autoFlush: false, clock: plan.clock ?? 'event' });
  const random = rng(plan.seed);
  const refused: number[] = [];
  const deadline = Date.now() + plan.maxMs;
  let seq = 0;
  while (seq < plan.count && Date.now() < deadline) {
    const end = Math.min(plan.count, seq + plan.batch);
    for (; seq < end; seq++) {
      const length = plan.minLength + Math.floor(random() * (plan.maxLength - plan.minLength + 1));
      const at = writer.reserve(length);
      if (at < 0) {
        refused.push(seq);
        continue;
      }
      fillPayload(writer.bytes, writer.view, at, seq, length);
      writer.commit();
    }
    writer.flush();
    if (plan.yieldBetweenBatches !== false) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  writer.close();
  const report = { written: seq, refused, entries: writer.entries, overrun: writer.overrun, dropped: writer.dropped };
  ring.close();
  return report;
}

if (parentPort && workerData) {
  writePlan(workerData as WriterPlan).then((r) => parentPort?.postMessage(r));
}
