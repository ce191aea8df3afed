// Application rings named on the command line (--ring PATH).

import type { FormatSource } from '../decode/registry.js';
import type { TaskNames } from '../output/task-names.js';
import { AppRing } from '../ring/app-ring.js';
import type { RingReader } from '../ring/reader.js';
import type { CommandScope } from './command-scope.js';

export const ringUsage = `  --ring PATH     an application ring file (e.g. /dev/shm/NAME); repeatable`;

export interface OpenRings {
  rings: AppRing[];
  readers: RingReader[];
  formats: FormatSource[];
  /** Gives each ring's writer thread its name in text output. */
  nameWriters(tasks: TaskNames): void;
}

/**
 * Opens each ring and claims its reader role; rings get CPU numbers after
 * `firstCpu` (after the kernel's CPUs in a merged stream).
 */
export function openRings(paths: readonly string[], firstCpu: number, scope: CommandScope): OpenRings {
  const rings: AppRing[] = [];
  const readers: RingReader[] = [];
  for (const [i, path] of paths.entries()) {
    const ring = AppRing.open(path);
    scope.defer(() => ring.close());
    rings.push(ring);
    readers.push(ring.reader({ cpu: firstCpu + i }));
    scope.defer(() => ring.releaseReader());
  }
  return {
    rings,
    readers,
    formats: rings.map((r) => r.formats),
    nameWriters(tasks) {
      for (const ring of rings) {
        const tid = ring.lastWriterTid;
        if (tid !== 0) tasks.setComm(tid, ring.name);
      }
    },
  };
}

/** Waits until any ring signals data, `timeoutMs` passes, or `signal` aborts. */
export function waitForRings(readers: readonly RingReader[], timeoutMs: number, signal: AbortSignal): Promise<unknown> {
  if (signal.aborted || readers.length === 0) return Promise.resolve();
  const aborted = new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  return Promise.race([aborted, ...readers.map((r) => r.waitReadable(timeoutMs))]);
}
