// The output thread's handle on a capture thread (capture-worker.ts): starts
// it on a trace array, learns what it opened, relays its warnings, and stops
// it, gracefully (final drain, nothing lost) or at once (a forced exit,
// synchronously, so the instance can be removed right after).

import fs from 'node:fs';
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { type CpuReaderCounters, newCounters } from '../consumer/counters.js';
import { InvalidArgumentError, TraceringError, type WarningHandler, emitProcessWarning } from '../errors.js';
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
   * defaultStagingBytes() (a budget: only what a backlog fills is committed).
   */
  stagingBytes?: number;
  /**
   * Lower the scheduling priority of every other thread of the process by
   * this many nice steps once the capture thread runs, so that on a
   * saturated CPU the reader wins over decoding, output, and V8's compiler
   * and GC threads: the kernel's pages keep moving to staging, where a
   * backlog waits (or is lost, counted) instead of being overwritten in the
   * kernel. Default 0 (a library leaves its host's threads alone); the CLI
   * uses OUTPUT_NICE_STEPS.
   */
  yieldToCapture?: number;
  /**
   * Join partly filled sub-buffers for up to this long before staging them
   * (default 0: stage each as read, lowest latency). Files want fewer,
   * fuller pages.
   */
  coalesceMs?: number;
  /**
   * Stage clean pages of read() readers in native code, with no JavaScript
   * per page (default true; false sends every page through the batch path,
   * as mapped readers go).
   */
  directStaging?: boolean;
  /** `--mode auto`: policy settings other than the defaults (AdaptivePolicy's PolicyConfig). */
  adaptive?: Partial<PolicyConfig>;
  /** `--mode auto`: the path CPUs start on (default read(); mmap once the rate is low). */
  startPath?: CapturePath;
  /** What happens when the output falls behind for longer than staging absorbs (default 'drop-oldest'). */
  policy?: StagingPolicy;
  onWarning?: WarningHandler;
}

/** MemAvailable from /proc/meminfo in bytes, or null where it cannot be read. */
function memAvailableBytes(): number | null {
  try {
    const m = /^MemAvailable:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/meminfo', 'latin1'));
    return m === null ? null : Number(m[1]) * 1024;
  } catch {
    return null;
  }
}

/**
 * The default staging memory for a trace array: a budget, not an
 * allocation. The ring is reserved at this size but the system commits only
 * the pages a backlog reaches (slots are reused last-freed first, so a
 * consumer that keeps up touches a few), so a generous budget costs nothing
 * until the output falls behind, and then turns what would be kernel
 * overwrites into a delay. An eighth of the memory available at start, at
 * most 2 GiB (records are addressed by 31-bit offsets), and never less than
 * 4x the kernel buffers (or 16 MiB).
 */
export function defaultStagingBytes(array: TraceArray, cpus: number, available: number | null = memAvailableBytes()): number {
  let kernel = 0;
  try {
    kernel = array.bufferSizeKb * 1024 * cpus;
  } catch {
    kernel = 4 << 20;
  }
  // buffer_size_kb reads "X" when the CPUs' sizes differ.
  if (!Number.isFinite(kernel)) kernel = 4 << 20;
  const floor = Math.max(16 << 20, 4 * kernel);
  const budget = available === null ? 512 << 20 : Math.min(2 ** 31 - (1 << 20), Math.floor(available / 8));
  return Math.max(floor, budget);
}

/** Nice steps the CLI's other threads give the capture thread (scheduler weights about 9.3 to 1: the reader gets ~90% of a contended CPU; 5 steps, 3 to 1, still lost 0.05% in 1 burst of 5). */
export const OUTPUT_NICE_STEPS = 10;

/**
 * Raises the nice value of every thread of this process but `tid` by
 * `steps` (Linux priorities are per thread). Not only the output thread:
 * V8's compiler and GC threads run hardest just as a burst starts (the
 * decoder is compiled then), and at the capture thread's priority they
 * kept it from reading for long enough to lose 2-4% of a burst at 8 M
 * events/s; lowered by 10 steps, none was lost in 6 bursts. Threads created later inherit the
 * lowered value from the main thread. Lowering needs no privilege; where
 * it fails anyway, nothing changes but the protection.
 */
function yieldToThread(tid: number, steps: number): void {
  let tasks: string[];
  try {
    tasks = fs.readdirSync('/proc/self/task');
  } catch {
    return;
  }
  for (const name of tasks) {
    const other = Number(name);
    if (!Number.isInteger(other) || other === tid) continue;
    try {
      os.setPriority(other, Math.min(19, os.getPriority(other) + steps));
    } catch {
      // the thread exited, or a sandbox refuses setpriority
    }
  }
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
    let slots = Math.max(8, Math.floor(bytes / subbufSize));
    const most = StagingRing.maxSlots(subbufSize);
    if (slots > most) {
      if (options.stagingBytes !== undefined) {
        throw new InvalidArgumentError(`staging memory: at most ${Math.floor((most * subbufSize) / 1048576)} MiB with ${subbufSize}-byte sub-buffers`);
      }
      slots = most;
    }
    const staging = StagingRing.create({ cpus: Math.max(1, cpuCount), slots, slotSize: subbufSize }, options.policy ?? 'drop-oldest');
    const config: CaptureConfig = {
      arrayPath: array.path,
      arrayName: array.name,
      mode: options.mode ?? 'auto',
      checkConsumers: options.checkConsumers ?? true,
      flushIntervalMs: options.flushIntervalMs ?? 100,
      quietWakeDelayMs: options.quietWakeDelayMs ?? 10,
      coalesceMs: options.coalesceMs ?? 0,
      ...(options.directStaging === false ? { directStaging: false } : {}),
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
    if (options.yieldToCapture !== undefined && options.yieldToCapture > 0) yieldToThread(opened.tid, options.yieldToCapture);
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
