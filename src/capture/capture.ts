// The output thread's handle on a capture thread (capture-worker.ts): starts
// it on a trace array, learns what it opened, relays its warnings, and stops
// it, gracefully (final drain, nothing lost) or at once (a forced exit,
// synchronously, so the instance can be removed right after).

import type { Worker } from 'node:worker_threads';
import { type CpuReaderCounters, newCounters } from '../consumer/counters.js';
import { TraceringError, type WarningHandler, emitProcessWarning } from '../errors.js';
import { arraySubbufSize } from '../kernel/read-cpu-reader.js';
import type { TraceArray } from '../kernel/trace-array.js';
import type { ModeChoice } from '../kernel/trace-source.js';
import { hostSubbufLayout, type SubbufLayout } from '../layout/subbuf.js';
import type { ReaderMode } from '../kernel/cpu-reader.js';
import type { BufferAdvice, CapturePath, PolicyConfig, PolicyDecision } from './adaptive-policy.js';
import type { CaptureConfig, CpuCounters, FromCapture, ReaderInfo } from './protocol.js';
import { siblingModule, spawnWorker } from './spawn-worker.js';
import { StagingRing, type StagingPolicy } from './staging-ring.js';

/** How Capture.start() reads the kernel and stages its pages. */
export interface CaptureOptions {
  mode?: ModeChoice;
  /** CPUs to read (default every CPU with a buffer). */
  cpus?: readonly number[];
  /** Look in /proc for other consumers of the buffers (default true). */
  checkConsumers?: boolean;
  /** Pick up data below the wake-up watermark this often (default 100 ms). */
  flushIntervalMs?: number;
  quietWakeDelayMs?: number;
  /**
   * Memory for pages between the capture and the output, in bytes. Default:
   * four times the kernel buffers (all CPUs), within 16 MiB..512 MiB.
   */
  stagingBytes?: number;
  /**
   * Join partly filled sub-buffers for up to this long before staging them
   * (default 0: stage each as read, lowest latency). Files want fewer,
   * fuller pages.
   */
  coalesceMs?: number;
  /** `--mode auto`: policy settings other than the defaults (AdaptivePolicy's PolicyConfig). */
  adaptive?: Partial<PolicyConfig>;
  /**
   * `--mode auto`: the path each CPU starts on (default 'mmap', the lowest
   * latency). Files, which coalesce for a second anyway, start on read():
   * cheaper per event at full pages, and the policy moves them as the rate goes.
   */
  startPath?: CapturePath;
  /** What happens when the output falls behind for longer than staging absorbs (default 'drop-oldest'). */
  policy?: StagingPolicy;
  onWarning?: WarningHandler;
}

/** The default staging memory for a trace array. */
export function defaultStagingBytes(array: TraceArray, cpus: number): number {
  let kernel = 0;
  try {
    kernel = array.bufferSizeKb * 1024 * cpus;
  } catch {
    kernel = 4 << 20;
  }
  // buffer_size_kb reads "X" when the CPUs' sizes differ.
  if (!Number.isFinite(kernel)) kernel = 4 << 20;
  return Math.min(512 << 20, Math.max(16 << 20, 4 * kernel));
}

function rebuildError(e: Extract<FromCapture, { type: 'failed' }>['error']): Error {
  const error = e.code !== null && e.code.startsWith('ERR_') ? new TraceringError(e.code, e.message) : new Error(`capture thread: ${e.message}`);
  if (e.stack !== null) error.stack = e.stack;
  return error;
}

/** A running capture thread on one trace array: its staging ring, its readers, and how to stop it. */
export class Capture {
  readonly array: TraceArray;
  readonly staging: StagingRing;
  readonly layout: SubbufLayout;
  readonly readers: readonly ReaderInfo[];
  readonly missingCpus: readonly number[];
  readonly #worker: Worker;
  readonly #done: Promise<CpuCounters[]>;
  #progress: CpuCounters[];
  #finished = false;
  #stopping = false;
  #wakeups = 0;
  #modes: ReaderMode[];
  readonly #decisions: PolicyDecision[] = [];
  #unread = 0;
  #advice: BufferAdvice | null = null;

  private constructor(
    array: TraceArray,
    worker: Worker,
    staging: StagingRing,
    opened: Extract<FromCapture, { type: 'opened' }>,
    done: Promise<CpuCounters[]>,
    progress: (update: (p: Extract<FromCapture, { type: 'progress' | 'done' }>) => void) => void,
  ) {
    this.array = array;
    this.#worker = worker;
    this.staging = staging;
    this.readers = opened.readers;
    this.missingCpus = opened.missingCpus;
    this.layout = hostSubbufLayout(staging.geometry.slotSize);
    this.#progress = opened.readers.map((r) => ({ cpu: r.cpu, counters: newCounters() }));
    this.#modes = opened.readers.map((r) => r.mode);
    this.#done = done.then((cpus) => {
      this.#finished = true;
      this.#progress = cpus;
      return cpus;
    });
    progress((m) => {
      if (!this.#finished || m.type === 'done') this.#progress = m.cpus;
      this.#wakeups = m.wakeups;
      this.#modes = m.modes;
      this.#decisions.push(...m.decisions);
      if (m.type === 'done') this.#advice = m.advice;
    });
  }

  /** Starts a capture thread on `array`; resolves once its readers are open (rejects with their error). */
  static async start(array: TraceArray, options: CaptureOptions = {}): Promise<Capture> {
    const onWarning = options.onWarning ?? emitProcessWarning;
    const cpuCount = (options.cpus ?? array.cpus()).length;
    const subbufSize = arraySubbufSize(array);
    const bytes = options.stagingBytes ?? defaultStagingBytes(array, cpuCount);
    const slots = Math.max(8, Math.floor(bytes / subbufSize));
    const staging = StagingRing.create({ cpus: Math.max(1, cpuCount), slots, slotSize: subbufSize }, options.policy ?? 'drop-oldest');
    const config: CaptureConfig = {
      arrayPath: array.path,
      arrayName: array.name,
      mode: options.mode ?? 'auto',
      checkConsumers: options.checkConsumers ?? true,
      flushIntervalMs: options.flushIntervalMs ?? 100,
      quietWakeDelayMs: options.quietWakeDelayMs ?? 10,
      coalesceMs: options.coalesceMs ?? 0,
      ...(options.adaptive !== undefined ? { policy: options.adaptive } : {}),
      ...(options.startPath !== undefined ? { startPath: options.startPath } : {}),
      staging: { memory: staging.memory, geometry: staging.geometry, policy: staging.policy },
      ...(options.cpus === undefined ? {} : { cpus: options.cpus }),
    };
    const worker = spawnWorker(siblingModule(import.meta.url, 'capture-worker'), { workerData: config });
    let onProgress: (m: Extract<FromCapture, { type: 'progress' | 'done' }>) => void = () => {};
    let resolveDone!: (c: CpuCounters[]) => void;
    let rejectDone!: (e: unknown) => void;
    const done = new Promise<CpuCounters[]>((resolve, reject) => {
      resolveDone = resolve;
      rejectDone = reject;
    });
    done.catch(() => {}); // observed through Capture.done
    const opened = await new Promise<Extract<FromCapture, { type: 'opened' }>>((resolve, reject) => {
      let isOpen = false;
      let result: CpuCounters[] | null = null;
      worker.on('message', (m: FromCapture) => {
        switch (m.type) {
          case 'opened':
            isOpen = true;
            resolve(m);
            break;
          case 'warning':
            onWarning(m.warning);
            break;
          case 'progress':
            onProgress(m);
            break;
          case 'done':
            onProgress(m);
            result = m.cpus;
            break;
          case 'failed': {
            const error = rebuildError(m.error);
            if (isOpen) rejectDone(error);
            else reject(error);
            break;
          }
        }
      });
      worker.on('error', (error) => (isOpen ? rejectDone(error) : reject(error)));
      worker.on('exit', (code) => {
        if (result !== null) resolveDone(result);
        const error = new TraceringError('ERR_CAPTURE_EXITED', `the capture thread exited (code ${code}) before it finished`);
        if (isOpen) rejectDone(error);
        else reject(error);
      });
    }).catch(async (error) => {
      await worker.terminate();
      throw error;
    });
    return new Capture(array, worker, staging, opened, done, (update) => (onProgress = update));
  }

  /** Each reader's counters as of the last progress report (final once done). */
  get counters(): readonly CpuCounters[] {
    return this.#progress;
  }

  get wakeups(): number {
    return this.#wakeups;
  }

  /** Each reader's path now (`--mode auto` switches them as the rate goes). */
  get modes(): readonly ReaderMode[] {
    return this.#modes;
  }

  /** Every adaptive-capture decision so far. */
  get decisions(): readonly PolicyDecision[] {
    return this.#decisions;
  }

  /** Decisions since the last call. */
  takeDecisions(): PolicyDecision[] {
    const fresh = this.#decisions.slice(this.#unread);
    this.#unread = this.#decisions.length;
    return fresh;
  }

  /** The buffer size advised for the next start (once done), when the buffer overflowed or nearly did. */
  get advice(): BufferAdvice | null {
    return this.#advice;
  }

  get finished(): boolean {
    return this.#finished;
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  /** Ends reading gracefully: the capture thread drains what is left (waiting for the output, never dropping) and finishes. */
  stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#worker.postMessage({ type: 'stop' });
  }

  /** Resolves with the final counters once the capture thread has drained and closed its readers. */
  get done(): Promise<CpuCounters[]> {
    return this.#done;
  }

  /**
   * Ends the capture at once, from any context (a second Ctrl-C, an exit
   * handler): blocks until the capture thread has unmapped and closed every
   * buffer (or `timeoutMs` passes), so the instance can be removed next.
   */
  hardStopSync(timeoutMs = 2000): boolean {
    this.#stopping = true;
    this.staging.abort();
    this.#worker.postMessage({ type: 'hard-stop' });
    return this.staging.closed || this.staging.waitClosedSync(timeoutMs);
  }

  /** Waits for the thread to end (after done, or after a hard stop). */
  async close(): Promise<void> {
    if (!this.staging.closed) this.hardStopSync();
    await this.#worker.terminate();
  }
}

export type { CpuReaderCounters };
