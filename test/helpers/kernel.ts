// Test access to the real kernel: every test gets its own tracefs instance,
// removed afterwards whatever happens. Without tracefs a kernel test skips
// with the reason, except under CI=true, where that is a failure.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, type TestContext } from 'node:test';
import { Instance, Tracefs } from '../../src/kernel/tracefs.js';
import { native } from '../../src/native.js';
import { tsWorker } from './ts-worker.js';

export const INSTANCE_PREFIX = 'trtest';
const inCi = process.env.CI === 'true';
const created = new Set<Instance>();

let located: Tracefs | Error | undefined;
function locate(): Tracefs | Error {
  if (located === undefined) {
    try {
      located = Tracefs.locate();
      fs.accessSync(located.root, fs.constants.W_OK);
    } catch (error) {
      located = error instanceof Error ? error : new Error(String(error));
    }
  }
  return located;
}

/** The tracefs to test against, or null after marking the test skipped. */
export function kernelOrSkip(t: TestContext): Tracefs | null {
  const found = locate();
  if (found instanceof Tracefs) return found;
  if (inCi) throw new Error(`CI=true requires tracefs: ${found.message}`);
  t.skip(`tracefs unavailable: ${found.message}`);
  return null;
}

/**
 * A fresh instance for one test, removed when the returned object is
 * disposed (declare it with `using`, after which every reader declared
 * later with `using` is closed first, as rmdir needs).
 */
export function testInstance(tracefs: Tracefs): Instance & Disposable {
  const inst = tracefs.createUniqueInstance(INSTANCE_PREFIX);
  created.add(inst);
  return Object.assign(inst, {
    [Symbol.dispose]() {
      created.delete(inst);
      try {
        inst.disableAllEvents();
      } catch {
        // removal below reports what matters
      }
      inst.remove();
    },
  });
}

// Every file that uses these helpers checks, after its tests, that it left
// no instance and no ring-buffer mapping behind.
after(() => {
  assert.deepEqual(
    [...created].map((i) => i.name),
    [],
    'tests left tracefs instances behind',
  );
  assert.deepEqual(liveTraceMappings(), [], 'tests left ring-buffer mappings behind');
});

// Last resort if a test leaked an instance: the process is ending, so its
// mappings and fds are going away; try once more.
function removeLeftovers(): void {
  for (const inst of created) {
    try {
      inst.disableAllEvents();
      inst.remove();
    } catch {
      // reported by the leak test and by CI's instance check
    }
  }
}
process.on('exit', removeLeftovers);
// The test runner ends a file that outlives --test-timeout with SIGTERM,
// which skips 'exit': remove the instances on that path too.
process.once('SIGTERM', () => {
  removeLeftovers();
  process.exit(143);
});

export interface BackgroundWrite {
  cpu: number;
  count: number;
  /** Upper bound on the writing time. */
  maxMs?: number;
  raw?: boolean;
  prefix?: string;
  pauseEvery?: number;
  pauseMs?: number;
  /** Writing stops early once element 0 of this shared array is non-zero. */
  stop?: Int32Array;
}

/** Writes markers from a worker pinned to `cpu`; resolves when done. */
export function writeInBackground(inst: Instance, job: BackgroundWrite): Promise<WriteResult> {
  const worker = tsWorker(new URL('./writer-worker.ts', import.meta.url), {
    workerData: {
      path: inst.file(job.raw ? 'trace_marker_raw' : 'trace_marker'),
      cpu: job.cpu,
      count: job.count,
      maxMs: job.maxMs ?? 10_000,
      prefix: job.prefix ?? 'bg ',
      raw: job.raw ?? false,
      pauseEvery: job.pauseEvery ?? 0,
      pauseMs: job.pauseMs ?? 0,
      stop: job.stop ?? null,
    },
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (result: WriteResult) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`writer worker exited with ${code}`));
    });
  });
}

/** Runs `fn` with the calling thread pinned to `cpu`, restoring the affinity after. */
export function onCpu<T>(cpu: number, fn: () => T): T {
  const before = native.getThreadAffinity();
  native.setThreadAffinity([cpu]);
  try {
    return fn();
  } finally {
    native.setThreadAffinity(before);
  }
}

export interface WriteResult {
  written: number;
  /** Writes the kernel refused (a full buffer in non-overwrite mode answers EBADF). */
  refused: number;
}

/** Writes `count` trace_marker events (text from `text(i)`) on `cpu`. */
export function writeMarkers(inst: Instance, cpu: number, count: number, text: (i: number) => string): WriteResult {
  return writeEach(inst.file('trace_marker'), cpu, count, (i) => Buffer.from(text(i)));
}

/** Writes `count` trace_marker_raw events: a u32 id followed by `payload(i)`. */
export function writeRawMarkers(
  inst: Instance,
  cpu: number,
  count: number,
  payload: (i: number) => Uint8Array,
  id = 0x7472,
): WriteResult {
  return writeEach(inst.file('trace_marker_raw'), cpu, count, (i) => {
    const body = payload(i);
    const out = Buffer.alloc(4 + body.length);
    out.writeUInt32LE(id, 0);
    out.set(body, 4);
    return out;
  });
}

function writeEach(path: string, cpu: number, count: number, bytes: (i: number) => Uint8Array): WriteResult {
  if (!Number.isInteger(count) || count < 0 || count > 10_000_000) throw new RangeError('count out of bounds');
  const fd = fs.openSync(path, 'w');
  try {
    return onCpu(cpu, () => {
      const result: WriteResult = { written: 0, refused: 0 };
      for (let i = 0; i < count; i++) {
        try {
          fs.writeSync(fd, bytes(i));
          result.written++;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EBADF') throw error;
          result.refused++;
        }
      }
      return result;
    });
  } finally {
    fs.closeSync(fd);
  }
}

/** Instances a test run left behind (names starting with the test prefix). */
export function leftoverTestInstances(tracefs: Tracefs): string[] {
  return tracefs.instances().filter((n) => n.startsWith(`${INSTANCE_PREFIX}-`));
}

/** Lines of /proc/self/maps that map a tracefs ring buffer. */
export function liveTraceMappings(): string[] {
  return fs
    .readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((l) => l.includes('/trace_pipe_raw'));
}
