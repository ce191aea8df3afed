// Application rings named on the command line (--ring PATH).

import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { FormatSource } from '../decode/registry.js';
import type { WarningHandler } from '../errors.js';
import type { BatchSource } from '../layout/batch-source.js';
import type { RecordBatch } from '../layout/record.js';
import type { TaskNames } from '../output/task-names.js';
import { AppRing } from '../ring/app-ring.js';
import type { RingReader } from '../ring/reader.js';
import type { CommandScope } from './command-scope.js';

export const ringUsage = `  --ring PATH     an application ring file (e.g. /dev/shm/NAME); repeatable`;

/**
 * Record bytes one ring may yield per rendering round. A round is one
 * synchronous run: while a writer keeps up with the reader it would never
 * end, and signals (Ctrl-C) would wait for it.
 */
const ROUND_BYTES = 4 << 20;

/** A ring reader that yields at most ROUND_BYTES per round (see startRound). */
export class RoundLimitedSource implements BatchSource {
  readonly reader: RingReader;
  readonly cpu: number;
  readonly #roundBytes: number;
  #left: number;
  /** This round ended on the budget, not because the ring had nothing more. */
  limited = false;

  constructor(reader: RingReader, roundBytes = ROUND_BYTES) {
    this.reader = reader;
    this.cpu = reader.cpu;
    this.#roundBytes = this.#left = roundBytes;
  }

  startRound(): void {
    this.#left = this.#roundBytes;
    this.limited = false;
  }

  next(): RecordBatch | null {
    if (this.#left <= 0) {
      this.limited = true;
      return null;
    }
    const batch = this.reader.next();
    if (batch !== null) this.#left -= Math.max(1, batch.byteLength);
    return batch;
  }

  get caughtUp(): boolean {
    return this.reader.caughtUp;
  }
}

export interface OpenRings {
  rings: AppRing[];
  readers: RingReader[];
  /** The readers as sources for a renderer, bounded per round. */
  sources: RoundLimitedSource[];
  formats: FormatSource[];
  /** Gives each ring's writer thread its name in text output. */
  nameWriters(tasks: TaskNames): void;
}

/**
 * Opens each ring and claims its reader role; rings get CPU numbers after
 * `firstCpu` (after the kernel's CPUs in a merged stream).
 */
export function openRings(
  paths: readonly string[],
  firstCpu: number,
  scope: CommandScope,
  options: { onWarning?: WarningHandler } = {},
): OpenRings {
  const rings: AppRing[] = [];
  const readers: RingReader[] = [];
  for (const [i, path] of paths.entries()) {
    const ring = AppRing.open(path);
    scope.defer(() => ring.close());
    rings.push(ring);
    readers.push(ring.reader({ cpu: firstCpu + i, ...options }));
    scope.defer(() => ring.releaseReader());
  }
  return {
    rings,
    readers,
    sources: readers.map((r) => new RoundLimitedSource(r)),
    formats: rings.map((r) => r.formats),
    nameWriters(tasks) {
      for (const ring of rings) {
        const tid = ring.lastWriterTid;
        if (tid !== 0) tasks.setComm(tid, ring.name);
      }
    },
  };
}

/**
 * Renders everything the rings hold, round by round (`render` runs the
 * renderer once), yielding to the event loop between rounds so that a
 * signal can stop it; ends when a round found the rings drained, or when
 * `signal` aborts.
 */
export async function renderRings(rings: Pick<OpenRings, 'sources'>, render: () => void, signal: AbortSignal): Promise<void> {
  for (;;) {
    for (const s of rings.sources) s.startRound();
    render();
    if (signal.aborted || !rings.sources.some((s) => s.limited)) return;
    await yieldToLoop();
    if (signal.aborted) return;
  }
}

/** Waits until any ring signals data, `timeoutMs` passes, or `signal` aborts. */
export async function waitForRings(readers: readonly RingReader[], timeoutMs: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || readers.length === 0) return;
  let onAbort = () => {};
  const aborted = new Promise<void>((resolve) => {
    onAbort = resolve;
  });
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.race([aborted, ...readers.map((r) => r.waitReadable(timeoutMs))]);
  } finally {
    // One listener per wait, removed with it: a long stream waits often.
    signal.removeEventListener('abort', onAbort);
  }
}
