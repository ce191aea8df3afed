// Runs inputs through a target in a heap-limited worker with a per-input
// watchdog: an input that throws anything but a coded error, exceeds the
// heap, or does not finish in time is a finding.

import { spawnWorker } from '../src/capture/spawn-worker.js';
import type { Worker } from 'node:worker_threads';
import type { Outcome } from './worker.js';

export interface RunnerOptions {
  /** The target module (a file URL). */
  module: string;
  timeoutMs?: number;
  heapMb?: number;
}

export type Verdict = { kind: 'ok'; coded: string | null } | { kind: 'crash' | 'hang' | 'oom'; detail: string };

export class TargetRunner {
  readonly #options: Required<RunnerOptions>;
  #worker: Worker | null = null;
  #ready: Promise<void> | null = null;

  constructor(options: RunnerOptions) {
    this.#options = { timeoutMs: 5000, heapMb: 256, ...options };
  }

  #start(): Promise<void> {
    const worker = spawnWorker(new URL('./worker.ts', import.meta.url), {
      workerData: { module: this.#options.module },
      resourceLimits: { maxOldGenerationSizeMb: this.#options.heapMb, maxYoungGenerationSizeMb: 32 },
      stdout: true,
      stderr: true,
    });
    this.#worker = worker;
    this.#ready = new Promise((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    return this.#ready;
  }

  async run(input: Uint8Array): Promise<Verdict> {
    if (this.#worker === null) await this.#start();
    else await this.#ready;
    const worker = this.#worker!;
    return new Promise<Verdict>((resolve) => {
      const done = (v: Verdict, restart: boolean) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (restart) {
          this.#worker = null;
          void worker.terminate();
        }
        resolve(v);
      };
      const onMessage = (o: Outcome) => done(o.ok ? { kind: 'ok', coded: o.coded } : { kind: 'crash', detail: o.error }, false);
      const onError = (e: Error) => done({ kind: (e as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'oom' : 'crash', detail: String(e.stack ?? e) }, true);
      const onExit = (code: number) => done({ kind: 'crash', detail: `worker exited (${code})` }, true);
      const timer = setTimeout(() => done({ kind: 'hang', detail: `no answer in ${this.#options.timeoutMs} ms` }, true), this.#options.timeoutMs);
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
      worker.postMessage(input);
    });
  }

  async close(): Promise<void> {
    await this.#worker?.terminate();
    this.#worker = null;
  }
}
