// `--mode auto`: the capture thread's loop when the path is chosen per CPU
// as the rate goes (AdaptivePolicy): mmap at low rates (lowest latency),
// read() at high ones (the cheaper path at full pages), the wake-up
// watermark and each CPU's flush interval following the rate, and the
// advice to size the buffer for the next start when it overflowed.
//
// A path switch hands over everything the old reader took from the
// kernel, settles its losses, and opens the other reader with the old
// one's loss baseline, so the counts stay exact across the switch.

import { type CpuReaderCounters, addCounters, newCounters } from '../consumer/counters.js';
import { MmapUnsupportedError, WarningCode, type WarningHandler } from '../errors.js';
import type { CpuReader } from '../kernel/cpu-reader.js';
import { parseCpuStats } from '../kernel/cpu-stats.js';
import { MappedCpuReader } from '../kernel/mapped-cpu-reader.js';
import type { TraceArray } from '../kernel/trace-array.js';
import { type BatchHandler, type DirectPump, capacityInBatches, openCpuReader, pumpReader } from '../kernel/trace-source.js';
import { warnOtherConsumers } from '../kernel/trace-pipe-raw.js';
import { POLL_READABLE, native, type NativePoller } from '../native.js';
import { AdaptivePolicy, type BufferAdvice, type CapturePath, type PolicyConfig, type PolicyDecision, type RateSample } from './adaptive-policy.js';

const SAMPLE_MS = 250;

interface CpuState {
  readonly cpu: number;
  reader: CpuReader;
  poller: NativePoller | null;
  /** Counters of the readers this CPU had before the current one. */
  readonly base: CpuReaderCounters;
  wakeups: number;
  flushMs: number;
  flushTimer: NodeJS.Timeout | null;
  holdTimer: NodeJS.Timeout | null;
  bufferKb: number;
  /**
   * A read() reader's pump bound: the ring's sub-buffers, -1 until first
   * asked. A pump runs on every wake-up and flush; a stats read each time
   * (capacityInBatches) cost more than the pages it bounds, and a bound
   * from the last sample was too small when the rate rose between samples
   * (one sub-buffer per wake-up after an idle start: the reader fell
   * behind). A whole ring per pump still ends a pump that feeds itself.
   */
  capacity: number;
}

export interface AdaptiveCaptureOptions {
  cpus?: readonly number[];
  onWarning: WarningHandler;
  checkConsumers: boolean;
  quietWakeDelayMs: number;
  onDecisions?: (decisions: readonly PolicyDecision[]) => void;
  /** Policy settings other than the defaults. */
  policy?: Partial<PolicyConfig>;
  /**
   * The path each CPU starts on where the kernel can map (default read():
   * the rate is not known yet, and read() keeps up where mmap may not; a
   * CPU moves to mmap once its rate has stayed low).
   */
  startPath?: CapturePath;
}

type StageBatch = (batch: Parameters<BatchHandler>[0], reader: CpuReader, queue: number) => void;


export class AdaptiveCapture {
  readonly array: TraceArray;
  readonly missingCpus: readonly number[];
  readonly #cpus: CpuState[];
  readonly #policy: AdaptivePolicy;
  readonly #options: AdaptiveCaptureOptions;
  #sampleTimer: NodeJS.Timeout | null = null;
  #bufferPercent: number;
  #running = false;
  #closed = false;
  #failure: unknown = null;
  #fail: ((e: unknown) => void) | null = null;
  /** Receives every batch read, with the index of its CPU (its queue). */
  onBatch: StageBatch = () => {};
  /** Before a CPU changes reader: stage what is pending for it. */
  beforeSwitch: (queue: number) => void = () => {};
  /** Takes clean pages past onBatch where it can (see DirectPump). */
  direct: DirectPump | undefined = undefined;

  private constructor(array: TraceArray, cpus: CpuState[], missing: number[], mmapAvailable: boolean, options: AdaptiveCaptureOptions) {
    this.array = array;
    this.#cpus = cpus;
    this.missingCpus = missing;
    this.#options = options;
    this.#bufferPercent = safe(() => array.bufferPercent, 50);
    this.#policy = new AdaptivePolicy({
      cpus: cpus.map((c) => ({
        cpu: c.cpu,
        subbufSize: c.reader.layout.subbufSize,
        subbufs: c.reader instanceof MappedCpuReader ? c.reader.nrSubbufs : Math.max(2, Math.round((c.bufferKb * 1024) / c.reader.layout.subbufSize)),
        path: c.reader.mode,
      })),
      mmapAvailable,
      bufferPercent: this.#bufferPercent,
      startMs: performance.now(),
      ...(options.policy !== undefined ? { config: options.policy } : {}),
    });
    for (const c of cpus) c.flushMs = this.#policy.settings().cpus.find((s) => s.cpu === c.cpu)?.flushMs ?? 100;
  }

  /**
   * Opens every CPU: mapped where the kernel allows it (which tells whether
   * it does), read() otherwise. run() then moves each CPU to its start path.
   */
  static open(array: TraceArray, options: AdaptiveCaptureOptions): AdaptiveCapture {
    const cpus: CpuState[] = [];
    const missing: number[] = [];
    let mmapAvailable = true;
    try {
      for (const cpu of options.cpus ?? array.cpus()) {
        let reader: CpuReader;
        try {
          reader = openCpuReader(array, cpu, { mode: mmapAvailable ? 'auto' : 'read', onWarning: options.onWarning, pagesPerBatch: 1 });
        } catch (error) {
          if ((error as { code?: string }).code === 'ERR_CPU_NO_BUFFER' && options.cpus === undefined) {
            missing.push(cpu);
            continue;
          }
          throw error;
        }
        if (reader.mode === 'read') mmapAvailable = false;
        else if ((options.startPath ?? 'read') === 'read') {
          // Mapped once to learn that the kernel can (the policy may come back to it), then read().
          reader.close();
          reader = openCpuReader(array, cpu, { mode: 'read', onWarning: options.onWarning, pagesPerBatch: 1 });
        }
        cpus.push({
          cpu,
          reader,
          poller: null,
          base: newCounters(),
          wakeups: 0,
          flushMs: 100,
          flushTimer: null,
          holdTimer: null,
          bufferKb: safe(() => Number.parseInt(array.readText(`per_cpu/cpu${cpu}/buffer_size_kb`), 10) || 0, 0),
          capacity: -1,
        });
      }
      if (options.checkConsumers) warnOtherConsumers(array, cpus.map((c) => c.cpu), options.onWarning);
    } catch (error) {
      for (const c of cpus) c.reader.close();
      throw error;
    }
    return new AdaptiveCapture(array, cpus, missing, mmapAvailable, options);
  }

  get readers(): CpuReader[] {
    return this.#cpus.map((c) => c.reader);
  }

  get wakeups(): number {
    return this.#cpus.reduce((n, c) => n + c.wakeups, 0);
  }

  /** Each CPU's counters so far (all its readers). */
  counters(): Array<{ cpu: number; counters: CpuReaderCounters }> {
    return this.#cpus.map((c) => {
      const total = { ...c.base };
      addCounters(total, c.reader.counters);
      total.dropped = c.reader.counters.dropped;
      return { cpu: c.cpu, counters: total };
    });
  }

  get decisions(): readonly PolicyDecision[] {
    return this.#policy.decisions;
  }

  advice(): BufferAdvice | null {
    return this.#policy.advice();
  }

  /** Reads as data arrives until `signal` aborts; then drains what is left. Rejects with what a reader throws. */
  async run(signal: AbortSignal): Promise<void> {
    this.#running = true;
    await new Promise<void>((resolve, reject) => {
      const finish = () => {
        this.#stopTimers();
        resolve();
      };
      this.#fail = (error) => {
        this.#failure ??= error;
        this.#stopTimers();
        reject(error);
      };
      for (const [q, c] of this.#cpus.entries()) {
        this.#startPoller(q, c);
        this.#armFlush(q, c);
      }
      this.#sampleTimer = setInterval(() => this.#guard(() => this.#sample()), SAMPLE_MS);
      if (signal.aborted) finish();
      else signal.addEventListener('abort', finish, { once: true });
    });
    if (this.#failure !== null) throw this.#failure;
    // The final drain: everything the readers took, everything still in the kernel.
    for (const [q, c] of this.#cpus.entries()) this.#pump(q, c, true);
  }

  /** Settles every reader's accounting. */
  finish(): void {
    for (const c of this.#cpus) c.reader.finish();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopTimers();
    let first: unknown;
    for (const c of this.#cpus) {
      try {
        c.poller?.close();
        c.reader.close();
      } catch (error) {
        first ??= error;
      }
    }
    if (first !== undefined) throw first;
  }

  #guard(fn: () => void): void {
    if (this.#failure !== null || !this.#running) return;
    try {
      fn();
    } catch (error) {
      this.#fail?.(error);
    }
  }

  #stopTimers(): void {
    this.#running = false;
    if (this.#sampleTimer !== null) clearInterval(this.#sampleTimer);
    this.#sampleTimer = null;
    for (const c of this.#cpus) {
      c.poller?.stop();
      if (c.flushTimer !== null) clearTimeout(c.flushTimer);
      if (c.holdTimer !== null) clearTimeout(c.holdTimer);
      c.flushTimer = c.holdTimer = null;
    }
  }

  #pump(q: number, c: CpuState, complete = false): number {
    const reader = c.reader;
    if (reader instanceof MappedCpuReader || complete) return pumpReader(reader, (batch) => this.onBatch(batch, reader, q), capacityInBatches(this.array, reader), complete, this.direct);
    if (c.capacity < 0) c.capacity = Math.max(capacityInBatches(this.array, reader), Math.ceil((c.bufferKb * 1024) / reader.layout.subbufSize) + 1);
    return pumpReader(reader, (batch) => this.onBatch(batch, reader, q), c.capacity, complete, this.direct);
  }

  #startPoller(q: number, c: CpuState): void {
    c.poller?.close();
    const poller: NativePoller = new native.Poller(c.reader.fd, (status) =>
      this.#guard(() => {
        if (status < 0) throw new Error(`poll on CPU ${c.cpu} failed (${status})`);
        c.wakeups++;
        const bytes = this.#pump(q, c);
        // A wake-up that brought little is likely our own doing: hold off.
        if (bytes < c.reader.layout.subbufSize / 2 && c.poller === poller) {
          poller.stop();
          c.holdTimer = setTimeout(() => {
            c.holdTimer = null;
            if (this.#running && c.poller === poller) poller.start(POLL_READABLE);
          }, this.#options.quietWakeDelayMs);
        }
      }),
    );
    c.poller = poller;
    poller.start(POLL_READABLE);
  }

  #armFlush(q: number, c: CpuState): void {
    if (c.flushTimer !== null) clearTimeout(c.flushTimer);
    c.flushTimer = setTimeout(() => {
      c.flushTimer = null;
      this.#guard(() => {
        this.#pump(q, c);
        this.#armFlush(q, c);
      });
    }, c.flushMs);
  }

  #sample(): void {
    const now = performance.now();
    const counters = this.counters();
    const samples: RateSample[] = this.#cpus.map((c, i) => {
      let fill = 0;
      let lost = counters[i]!.counters.lost;
      let dropped = 0;
      try {
        const stats = parseCpuStats(this.array.readText(`per_cpu/cpu${c.cpu}/stats`));
        fill = c.bufferKb > 0 ? Math.min(100, (stats.bytes / (c.bufferKb * 1024)) * 100) : 0;
        lost = Math.max(lost, stats.overrun);
        dropped = stats.droppedEvents;
      } catch {
        // the instance is going away
      }
      return { cpu: c.cpu, events: counters[i]!.counters.events, bytes: counters[i]!.counters.bytes, fillPercent: fill, wakeups: c.wakeups, lost, dropped };
    });
    const decisions = this.#policy.observe(now, samples);
    if (decisions.length === 0) return;
    this.#apply();
    this.#options.onDecisions?.(decisions);
  }

  #apply(): void {
    const settings = this.#policy.settings();
    if (settings.bufferPercent !== this.#bufferPercent) {
      try {
        this.array.bufferPercent = settings.bufferPercent;
        this.#bufferPercent = settings.bufferPercent;
      } catch (error) {
        this.#options.onWarning({ code: WarningCode.adaptive, message: `could not set buffer_percent: ${(error as Error).message}` });
      }
    }
    for (const [q, c] of this.#cpus.entries()) {
      const want = settings.cpus.find((s) => s.cpu === c.cpu);
      if (want === undefined) continue;
      if (want.path !== c.reader.mode) this.#switch(q, c, want.path);
      if (want.flushMs !== c.flushMs) {
        c.flushMs = want.flushMs;
        this.#armFlush(q, c);
      }
    }
  }

  /** Moves CPU `c` to the other path, losing and double-counting nothing. */
  #switch(q: number, c: CpuState, path: CapturePath): void {
    const old = c.reader;
    this.#pump(q, c, true);
    old.finish();
    this.beforeSwitch(q);
    const baseline = old.lossAccountedTo;
    addCounters(c.base, old.counters);
    // One consumer per buffer (the flock): the old reader goes first.
    c.poller?.close();
    c.poller = null;
    old.close();
    const open = (mode: CapturePath) =>
      openCpuReader(this.array, c.cpu, { mode, lossBaseline: baseline, onWarning: this.#options.onWarning, pagesPerBatch: 1 });
    try {
      c.reader = open(path);
    } catch (error) {
      // Back to the old path: a failed switch costs efficiency, not data.
      if (!(error instanceof MmapUnsupportedError)) {
        this.#options.onWarning({ code: WarningCode.adaptive, cpu: c.cpu, message: `CPU ${c.cpu}: could not switch to ${path}: ${(error as Error).message}` });
      }
      c.reader = open(old.mode);
    }
    c.capacity = -1;
    this.#startPoller(q, c);
  }
}

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
