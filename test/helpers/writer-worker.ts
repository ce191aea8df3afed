// Worker body for background load: pins itself to a CPU and writes bounded
// trace_marker / trace_marker_raw events. Bounded by count and by time.

import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { native } from '../../src/native.js';

export interface WriterJob {
  path: string;
  cpu: number;
  count: number;
  maxMs: number;
  /** trace_marker text prefix; raw writes when `raw` is set. */
  prefix: string;
  raw: boolean;
  /** Pause this long every `pauseEvery` writes (0: never). */
  pauseEvery: number;
  pauseMs: number;
  /** Stop once element 0 is non-zero (set by the test when what it waits for happened). */
  stop: Int32Array | null;
}

const job = workerData as WriterJob;
native.setThreadAffinity([job.cpu]);
const fd = fs.openSync(job.path, 'w');
const deadline = Date.now() + job.maxMs;
let written = 0;
let refused = 0;
const raw = Buffer.alloc(24);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
try {
  for (let i = 0; i < job.count && Date.now() < deadline && (job.stop === null || Atomics.load(job.stop, 0) === 0); i++) {
    try {
      if (job.raw) {
        raw.writeUInt32LE(0x7472, 0);
        raw.writeUInt32LE(i, 4);
        fs.writeSync(fd, raw);
      } else {
        fs.writeSync(fd, `${job.prefix}${i}`);
      }
      written++;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EBADF') throw error;
      refused++;
    }
    if (job.pauseEvery > 0 && (i + 1) % job.pauseEvery === 0) Atomics.wait(sleeper, 0, 0, job.pauseMs);
  }
} finally {
  fs.closeSync(fd);
}
parentPort?.postMessage({ written, refused });
