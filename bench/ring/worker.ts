// Worker of the ring benchmark (bench/ring.ts): the other side of each
// measurement, a consumer while the main thread writes, or a producer while
// the main thread consumes. Jobs arrive by message; each answers `ready`
// once set up (ring attached, role claimed), then `done` with its result.
// A job runs synchronously to its end: consumers stop when the writer has
// finished and everything is read (or at their deadline), producers after
// their count.

import { parentPort } from 'node:worker_threads';
import { RingBuffer } from 'ringbuf.js';
import { native } from '../../src/native.js';
import { AppRing, type RingHandle } from '../../src/ring/app-ring.js';
import type { ClockMode } from '../../src/ring/writer.js';
import { rbConsume, rbWriteBatch, rbWriteEach, trConsume, trWrite } from './loops.js';

export type Job =
  | { kind: 'pin'; cpu: number }
  | { kind: 'tr-consume'; handle: RingHandle; len: number; deadlineMs: number; backoffNs: number }
  | {
      kind: 'rb-consume';
      sab: SharedArrayBuffer;
      done: SharedArrayBuffer;
      len: number;
      ts: boolean;
      deadlineMs: number;
      backoffNs: number;
    }
  | {
      kind: 'tr-produce';
      handle: RingHandle;
      len: number;
      count: number;
      clock: ClockMode;
      batch: number;
      go: SharedArrayBuffer;
    }
  | {
      kind: 'rb-produce';
      sab: SharedArrayBuffer;
      done: SharedArrayBuffer;
      len: number;
      ts: boolean;
      batch: number;
      count: number;
      go: SharedArrayBuffer;
    };

export type WorkerMessage =
  | { id: 0; type: 'up' }
  | { id: number; type: 'ready' }
  | { id: number; type: 'done'; result: unknown }
  | { id: number; type: 'error'; message: string };

const port = parentPort;
if (port === null) throw new Error('bench/ring/worker.ts runs as a worker thread');

/** Producers wait for the main thread's go (it starts its clock then). */
function awaitGo(go: SharedArrayBuffer): void {
  const flag = new Int32Array(go);
  if (Atomics.wait(flag, 0, 0, 10_000) === 'timed-out') throw new Error('no go signal within 10 s');
}

function runJob(id: number, job: Job): unknown {
  const ready = () => port!.postMessage({ id, type: 'ready' } satisfies WorkerMessage);
  switch (job.kind) {
    case 'pin':
      native.setThreadAffinity([job.cpu]);
      ready();
      return native.getThreadAffinity();
    case 'tr-consume': {
      const ring = AppRing.attach(job.handle);
      const reader = ring.reader();
      try {
        ready();
        return trConsume(reader, job.len, job.deadlineMs, job.backoffNs);
      } finally {
        ring.releaseReader();
      }
    }
    case 'rb-consume': {
      const rb = new RingBuffer(job.sab, Uint8Array);
      ready();
      return rbConsume(rb, job.len, job.ts, new Int32Array(job.done), job.deadlineMs, job.backoffNs);
    }
    case 'tr-produce': {
      const ring = AppRing.attach(job.handle);
      const w = ring.writer({ clock: job.clock, autoFlush: false });
      try {
        ready();
        awaitGo(job.go);
        const r = trWrite(w, job.count, job.len, job.batch);
        return { ...r, writerDropped: w.dropped, writerEntries: w.entries };
      } finally {
        w.close();
      }
    }
    case 'rb-produce': {
      const rb = new RingBuffer(job.sab, Uint8Array);
      const done = new Int32Array(job.done);
      try {
        ready();
        awaitGo(job.go);
        return job.batch > 1
          ? rbWriteBatch(rb, job.count, job.len, job.ts, job.batch)
          : rbWriteEach(rb, job.count, job.len, job.ts);
      } finally {
        Atomics.store(done, 0, 1);
      }
    }
  }
}

port.on('message', (msg: { id: number; job: Job }) => {
  try {
    const result = runJob(msg.id, msg.job);
    port.postMessage({ id: msg.id, type: 'done', result } satisfies WorkerMessage);
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    port.postMessage({ id: msg.id, type: 'error', message } satisfies WorkerMessage);
  }
});
port.postMessage({ id: 0, type: 'up' } satisfies WorkerMessage);
