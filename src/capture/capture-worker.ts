// The capture thread: takes sub-buffers out of the kernel's per-CPU buffers
// at the kernel's pace (readiness wake-ups and a flush timer, as
// TraceSource.stream does) and stages each one, whole, for the output
// thread. Nothing here decodes or writes output, so a slow output never
// delays reading (the staging ring's policy decides what happens when it
// is full).

import { parentPort, workerData } from 'node:worker_threads';
import { TraceringError, type TraceringWarning } from '../errors.js';
import { STAGE_STATUS, type StageStatus, native } from '../native.js';
import type { CpuReader } from '../kernel/cpu-reader.js';
import { TraceArray } from '../kernel/trace-array.js';
import { type DirectPump, type DirectPumpResult, TraceSource } from '../kernel/trace-source.js';
import { type DirectStagingTarget, ReadCpuReader } from '../kernel/read-cpu-reader.js';
import { AdaptiveCapture } from './adaptive-capture.js';
import type { BufferAdvice, PolicyDecision } from './adaptive-policy.js';
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

/** How the capture thread reads: fixed readers (TraceSource), or per-CPU paths chosen as the rate goes. */
interface Engine {
  readonly readers: readonly CpuReader[];
  readonly missingCpus: readonly number[];
  readonly wakeups: number;
  counters(): CpuCounters[];
  /** Reads until `signal`, then drains everything; `stage` gets each batch with its CPU's queue, `direct` takes clean pages past it. */
  run(
    signal: AbortSignal,
    stage: (batch: RecordBatch, reader: CpuReader, queue: number) => void,
    beforeSwitch: (queue: number) => void,
    direct: DirectPump | undefined,
  ): Promise<void>;
  finish(): CpuCounters[];
  decisions(): PolicyDecision[];
  advice(): BufferAdvice | null;
  close(): void;
}

function fixedEngine(source: TraceSource): Engine {
  const queueOf = new Map<CpuReader, number>(source.readers.map((r, i) => [r, i]));
  return {
    readers: source.readers,
    missingCpus: source.missingCpus,
    get wakeups() {
      return source.wakeups;
    },
    counters: () => source.readers.map((r) => ({ cpu: r.cpu, counters: { ...r.counters } })),
    run: (signal, stage, _beforeSwitch, direct) =>
      source.stream({
        onBatch: (batch, reader) => stage(batch, reader, queueOf.get(reader)!),
        ...(direct === undefined ? {} : { direct }),
        signal,
        flushIntervalMs: config.flushIntervalMs,
        quietWakeDelayMs: config.quietWakeDelayMs,
      }),
    finish: () => source.finish().cpus.map(({ cpu, ...c }) => ({ cpu, counters: c })),
    decisions: () => [],
    advice: () => null,
    close: () => source.close(),
  };
}

function adaptiveEngine(capture: AdaptiveCapture): Engine {
  let reported = 0;
  return {
    get readers() {
      return capture.readers;
    },
    missingCpus: capture.missingCpus,
    get wakeups() {
      return capture.wakeups;
    },
    counters: () => capture.counters(),
    run: async (signal, stage, beforeSwitch, direct) => {
      capture.onBatch = stage;
      capture.beforeSwitch = beforeSwitch;
      capture.direct = direct;
      await capture.run(signal);
    },
    finish: () => {
      capture.finish();
      return capture.counters();
    },
    decisions: () => {
      const all = capture.decisions;
      const fresh = all.slice(reported);
      reported = all.length;
      return [...fresh];
    },
    advice: () => capture.advice(),
    close: () => capture.close(),
  };
}

function openEngine(array: TraceArray, onWarning: (w: TraceringWarning) => void): Engine {
  if (config.mode === 'auto') {
    return adaptiveEngine(
      AdaptiveCapture.open(array, {
        onWarning,
        checkConsumers: config.checkConsumers,
        quietWakeDelayMs: config.quietWakeDelayMs,
        ...(config.policy === undefined ? {} : { policy: config.policy }),
        ...(config.startPath === undefined ? {} : { startPath: config.startPath }),
        ...(config.cpus === undefined ? {} : { cpus: config.cpus }),
      }),
    );
  }
  return fixedEngine(
    TraceSource.open(array, {
      mode: config.mode,
      onWarning,
      checkConsumers: config.checkConsumers,
      // One sub-buffer per batch: each becomes one staged slot.
      pagesPerBatch: 1,
      ...(config.cpus === undefined ? {} : { cpus: config.cpus }),
    }),
  );
}

async function main(): Promise<void> {
  const staging = StagingRing.attach(config.staging!.memory, config.staging!.geometry, config.staging!.policy);
  const array = new TraceArray(config.arrayPath, config.arrayName);
  const onWarning = (warning: TraceringWarning) => post({ type: 'warning', warning });
  let engine: Engine;
  try {
    engine = openEngine(array, onWarning);
  } catch (error) {
    post(describe(error));
    staging.markClosed();
    return;
  }
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
  const modes = () => engine.readers.map((r) => r.mode);
  post({
    type: 'opened',
    readers: engine.readers.map((r) => ({
      cpu: r.cpu,
      mode: r.mode,
      subbufSize: r.layout.subbufSize,
      nrSubbufs: 'nrSubbufs' in r && typeof r.nrSubbufs === 'number' ? r.nrSubbufs : 0,
    })),
    missingCpus: [...engine.missingCpus],
    tid: native.gettid(),
  });

  const slotSize = staging.geometry.slotSize;
  const put = (queue: number, page: Uint8Array, events: number, lost: number) => {
    const slot = staging.reserve(queue, events, () => hard);
    if (slot === NO_SLOT) return;
    staging.data.set(page, staging.slotOffset(slot));
    staging.publish(queue, slot, events, lost);
  };
  const coalescers = config.coalesceMs > 0 ? engine.readers.map((r) => new PageCoalescer(r.layout)) : null;
  const emitters = engine.readers.map((_, q) => (p: CoalescedPage) => put(q, p.page, p.events, p.lost));
  const stage = (batch: RecordBatch, reader: CpuReader, queue: number) => {
    if (hard || staging.aborted) throw new HardStop();
    const page = reader.lastPages;
    if (page.byteLength !== slotSize) {
      if (page.byteLength === 0) return;
      throw new TraceringError('ERR_INTERNAL', `CPU ${reader.cpu}: a staged batch of ${page.byteLength} bytes is not one sub-buffer`);
    }
    if (coalescers === null) put(queue, page, batch.count, batch.lostBefore);
    else coalescers[queue]!.add(page, batch, performance.now(), emitters[queue]!);
  };
  // A CPU changing path stages its pending page first: pages stay in order.
  const beforeSwitch = (queue: number) => coalescers?.[queue]!.flush(emitters[queue]!);
  const flushOld = (all: boolean) => {
    if (coalescers === null) return;
    const now = performance.now();
    for (const [q, c] of coalescers.entries()) if (c.pending && (all || now - c.startedAt >= config.coalesceMs)) c.flush(emitters[q]!);
  };

  const direct = config.directStaging === false ? undefined : directStaging(staging, engine, coalescers);

  const progress = setInterval(() => {
    flushOld(false);
    post({ type: 'progress', cpus: engine.counters(), wakeups: engine.wakeups, modes: modes(), decisions: engine.decisions() });
  }, Math.min(250, Math.max(20, config.coalesceMs || 250)));
  try {
    await engine.run(stop.signal, stage, beforeSwitch, direct);
    flushOld(true);
    const cpus = engine.finish();
    post({ type: 'done', cpus, wakeups: engine.wakeups, modes: modes(), decisions: engine.decisions(), advice: engine.advice() });
  } catch (error) {
    if (!(error instanceof HardStop)) post(describe(error));
  } finally {
    clearInterval(progress);
    try {
      engine.close();
    } finally {
      staging.markClosed();
    }
  }
}

/** A minCommit no page reaches: the first page read is handed off. */
const HAND_OFF_ALL = 0x7fffffff;

/** How a pump reads each STAGE_STATUS but abort. */
const PUMP_END: Readonly<Record<Exclude<StageStatus, typeof STAGE_STATUS.abort>, DirectPumpResult['end']>> = {
  [STAGE_STATUS.more]: 'more',
  [STAGE_STATUS.empty]: 'empty',
  [STAGE_STATUS.writer]: 'writer',
  [STAGE_STATUS.handoff]: 'handoff',
  [STAGE_STATUS.noSlot]: 'unable',
};

/**
 * The fast path of the read() readers: clean pages go from the kernel into
 * staging slots in native code (ReadCpuReader.stageDirect), with no
 * JavaScript per page; every other page, and mapped readers, take `stage`.
 * While a CPU's coalescer holds a partial page, the next page read goes to
 * it, so pages keep their order.
 */
function directStaging(staging: StagingRing, engine: Engine, coalescers: readonly PageCoalescer[] | null): DirectPump {
  const targets = new WeakMap<CpuReader, DirectStagingTarget>();
  const memory = staging.bytes;
  const descriptor = staging.nativeDescriptor;
  const dataOffset = staging.data.byteOffset;
  const unable: DirectPumpResult = { pages: 0, bytes: 0, end: 'unable' };
  const result: DirectPumpResult = { pages: 0, bytes: 0, end: 'more' };
  const targetOf = (reader: ReadCpuReader): DirectStagingTarget => {
    let target = targets.get(reader);
    if (target === undefined) {
      // Readers change when a CPU switches path; queues follow the readers' order.
      const queue = engine.readers.indexOf(reader);
      if (queue < 0) throw new TraceringError('ERR_INTERNAL', `CPU ${reader.cpu}: a reader the capture does not know`);
      // With a coalescer, only the pages it would stage as they are skip it.
      const minCommit = coalescers?.[queue]?.passThroughBytes ?? 0;
      target = { memory, descriptor, dataOffset, queue, minCommit };
      targets.set(reader, target);
    }
    return target;
  };
  return (reader, maxPages) => {
    if (!(reader instanceof ReadCpuReader) || reader.layout.subbufSize !== staging.geometry.slotSize) return unable;
    const target = targetOf(reader);
    // A pending partial page is older than anything read now: the next page goes to the coalescer (joined, or the pending one staged first).
    const staged = reader.stageDirect(target, maxPages, coalescers?.[target.queue]!.pending === true ? HAND_OFF_ALL : target.minCommit);
    if (staged.wake) staging.wakeConsumer();
    // The native side checks the ring's abort flag before each page (a forced exit sets it).
    if (staged.status === STAGE_STATUS.abort) throw new HardStop();
    result.pages = staged.pages;
    result.bytes = staged.bytes;
    result.end = PUMP_END[staged.status];
    return result;
  };
}

main().catch((error) => {
  post(describe(error));
});
