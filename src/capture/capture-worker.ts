// The capture thread: takes sub-buffers out of the kernel's per-CPU buffers
// at the kernel's pace (readiness wake-ups and a flush timer, as
// TraceSource.stream does) and stages each one, whole, for the output
// thread. Nothing here decodes or writes output, so a slow output never
// delays reading (the staging ring's policy decides what happens when it
// is full).

import { parentPort, workerData } from 'node:worker_threads';
import { TraceringError, type TraceringWarning } from '../errors.js';
import type { CpuReader } from '../kernel/cpu-reader.js';
import { TraceArray } from '../kernel/trace-array.js';
import { TraceSource } from '../kernel/trace-source.js';
import type { RecordBatch } from '../layout/record.js';
import type { CaptureConfig, CpuCounters, FromCapture, ToCapture } from './protocol.js';
import { type CoalescedPage, PageCoalescer } from './coalescer.js';
import { NO_SLOT, StagingRing } from './staging-ring.js';

const config = workerData as CaptureConfig;
const port = parentPort!;
const post = (message: FromCapture) => port.postMessage(message);

/** Thrown out of the pump when a forced exit ends the capture at once. */
class HardStop extends Error {}

function describe(error: unknown): FromCapture {
  const e = error instanceof Error ? error : new Error(String(error));
  return {
    type: 'failed',
    error: { name: e.name, code: e instanceof TraceringError ? e.code : ((e as { code?: string }).code ?? null), message: e.message, stack: e.stack ?? null },
  };
}

function counters(source: TraceSource): CpuCounters[] {
  return source.readers.map((r) => ({ cpu: r.cpu, counters: { ...r.counters } }));
}

async function main(): Promise<void> {
  const staging = StagingRing.attach(config.staging!.memory, config.staging!.geometry, config.staging!.policy);
  const array = new TraceArray(config.arrayPath, config.arrayName);
  const onWarning = (warning: TraceringWarning) => post({ type: 'warning', warning });
  let source: TraceSource;
  try {
    source = TraceSource.open(array, {
      mode: config.mode,
      onWarning,
      checkConsumers: config.checkConsumers,
      // One sub-buffer per batch: each becomes one staged slot.
      pagesPerBatch: 1,
      ...(config.cpus === undefined ? {} : { cpus: config.cpus }),
    });
  } catch (error) {
    post(describe(error));
    staging.markClosed();
    return;
  }
  const queueOf = new Map<CpuReader, number>(source.readers.map((r, i) => [r, i]));
  const stop = new AbortController();
  let hard = false;
  port.on('message', (message: ToCapture) => {
    if (message.type === 'stop') {
      // The last drain must lose nothing: wait for the output, never drop.
      staging.forceBlock();
      stop.abort();
    } else {
      hard = true;
      staging.abort();
      stop.abort();
    }
  });
  // Readers, pollers and timers keep the thread alive while it captures;
  // the port alone must not once it is done.
  port.unref();
  post({
    type: 'opened',
    readers: source.readers.map((r) => ({
      cpu: r.cpu,
      mode: r.mode,
      subbufSize: r.layout.subbufSize,
      nrSubbufs: 'nrSubbufs' in r && typeof r.nrSubbufs === 'number' ? r.nrSubbufs : 0,
    })),
    missingCpus: [...source.missingCpus],
  });

  const slotSize = staging.geometry.slotSize;
  const put = (queue: number, page: Uint8Array, events: number, lost: number) => {
    const slot = staging.reserve(queue, events, () => hard);
    if (slot === NO_SLOT) return;
    staging.data.set(page, staging.slotOffset(slot));
    staging.publish(queue, slot, events, lost);
  };
  const coalescers =
    config.coalesceMs > 0 ? source.readers.map((r) => new PageCoalescer(r.layout)) : null;
  const emitters = source.readers.map((_, q) => (p: CoalescedPage) => put(q, p.page, p.events, p.lost));
  const stage = (batch: RecordBatch, reader: CpuReader) => {
    if (hard || staging.aborted) throw new HardStop();
    const page = reader.lastPages;
    if (page.byteLength !== slotSize) {
      if (page.byteLength === 0) return;
      throw new TraceringError('ERR_INTERNAL', `CPU ${reader.cpu}: a staged batch of ${page.byteLength} bytes is not one sub-buffer`);
    }
    const queue = queueOf.get(reader)!;
    if (coalescers === null) put(queue, page, batch.count, batch.lostBefore);
    else coalescers[queue]!.add(page, batch, performance.now(), emitters[queue]!);
  };
  const flushOld = (all: boolean) => {
    if (coalescers === null) return;
    const now = performance.now();
    for (const [q, c] of coalescers.entries()) if (c.pending && (all || now - c.startedAt >= config.coalesceMs)) c.flush(emitters[q]!);
  };

  const progress = setInterval(() => {
    flushOld(false);
    post({ type: 'progress', cpus: counters(source), wakeups: source.wakeups });
  }, Math.min(250, Math.max(20, config.coalesceMs || 250)));
  try {
    await source.stream({
      onBatch: stage,
      signal: stop.signal,
      flushIntervalMs: config.flushIntervalMs,
      quietWakeDelayMs: config.quietWakeDelayMs,
    });
    flushOld(true);
    const summary = source.finish();
    post({ type: 'done', cpus: summary.cpus.map(({ cpu, ...c }) => ({ cpu, counters: c })), wakeups: summary.wakeups });
  } catch (error) {
    if (!(error instanceof HardStop)) post(describe(error));
  } finally {
    clearInterval(progress);
    try {
      source.close();
    } finally {
      staging.markClosed();
    }
  }
}

main().catch((error) => {
  post(describe(error));
});
