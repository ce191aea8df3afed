// Userspace ring benchmark: write cost per event (timestamp included) and
// consumer throughput of tracering's application ring, side by side in one
// run with ringbuf.js (npm) and with writing the same payloads to the
// kernel's trace_marker_raw, and beside a C writer of the same record
// layout (bench/c/ring.c, the physical limit). Goals (issue 13): the write
// at most 1.5x the C ring and at most ringbuf.js at every payload size
// (judged writer alone: overwrite with no reader for tracering, the read
// pointer moved up after each push for ringbuf.js, so that neither refuses
// anything); and at least ringbuf.js's throughput while carrying
// timestamps, variable sizes and loss accounting. Times are the writing
// thread's on-CPU time (/proc/thread-self/schedstat: the machine is
// shared), wall time in the JSON.
//
// Payloads of 16, 32 and 128 bytes: u32 id, u32 sequence number, filler
// words (bench/ring/loops.ts); every word of every event is written.
// Each variant runs in its own Node process (see "the suite" below); in it
// the main thread is pinned to TRBENCH_CPU (the writer CPU, default the last
// one), a worker (bench/ring/worker.ts) to another CPU. Both libraries get
// the same ring bytes, the same payload stores, the same publication
// granularity (BATCH events) and the same consumer policy.
//
// 1. Write cost, ns per event (a warm-up round, then ROUNDS rounds of N
//    events at each size; medians):
//    - tracering, 'event' clock (process.hrtime() per event) and 'batch'
//      clock (one per batch): in overwrite mode with no consumer, and in
//      discard mode with a consumer worker keeping up (the realistic case;
//      consumers pause TRBENCH_RING_BACKOFF_NS after an empty poll, see
//      bench/ring/loops.ts; one row each with a consumer that spins instead).
//      The loop reserves, writes the payload words through writer.view and
//      commits; flush() (what ends a synchronous run) every BATCH events.
//      One informational row runs the default auto-flush instead (an await
//      ends each run of BATCH events, the writer's microtask publishes).
//    - ringbuf.js with a consumer worker popping: one push per event
//      (payload only; payload + 8-byte process.hrtime() timestamp), and
//      BATCH events staged then pushed at once (same two variants).
//    - trace_marker_raw of a private tracefs instance (trace_clock mono):
//      fs.writeSync from Node, and write() from C (bench/c/fill.c).
//    - the physical limit of a per-event timestamp: C clock_gettime
//      (bench/c/clock.c), and Node's clock calls for reference.
// 2. Consumer throughput: a producer worker writes as fast as it can
//    (tracering in discard mode; ringbuf.js refusing what does not fit); the
//    main thread consumes, walking every record (RingReader.next() /
//    ringbuf.js pop). Events/s and payload MB/s from the go signal to the
//    last event read, and the consumer's busy ns/event.
// Every run is checked: written = read + refused exactly, sequence numbers
// strictly increasing with gaps only where refused, lengths, timestamps
// non-decreasing, whole payloads of every 64th event; the overwrite runs
// against the ring's counters; the kernel runs against the instance's stats.
//
// Environment: TRBENCH_RING_EVENTS (events per write round, 524288),
// TRBENCH_RING_ROUNDS (5), TRBENCH_RING_SIZES ("16,32,128"),
// TRBENCH_RING_BATCH (64), TRBENCH_RING_KERNEL_EVENTS (100000),
// TRBENCH_RING_STREAM_EVENTS (4194304), TRBENCH_RING_STREAM_ROUNDS (3),
// TRBENCH_RING_BACKOFF_NS (2000), TRBENCH_CPU (writer CPU, default the
// last), TRBENCH_RING_SECTIONS ("write,kernel,stream"),
// TRBENCH_RING_VARIANTS (substrings of variant ids, e.g. "tr-batch,rb-batch";
// default all). About 30 s in all (bounded: 50 s budget, then variants are
// skipped; 45 s per child process; consumers give up after 15 s).
//
// Output: progress, tables (write cost, ratios, throughput), one JSON line.
// Exit status 1 if a check fails; the goals are reported, not enforced.
//
// Run: npm run bench -- ring   (or node --import tsx bench/ring.ts)

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { RingBuffer } from 'ringbuf.js';
import { type Instance, Tracefs } from '../src/kernel/tracefs.js';
import { native } from '../src/native.js';
import {
  type Figure,
  LoadMeter,
  busyShare,
  compileC,
  envInt,
  figureJson,
  median,
  outDir,
  printFigures,
  runIfMain,
  runJson,
  stat as statOf,
  threadCpuNs,
} from './lib/common.js';
import { AppRing } from '../src/ring/app-ring.js';
import type { ClockMode } from '../src/ring/writer.js';
import {
  type ConsumeResult,
  FILL,
  PAYLOAD_ID,
  type WriteResult,
  checkConsumed,
  plainWrite,
  rbCapacity,
  rbConsume,
  rbWriteBatch,
  rbWriteEach,
  trConsume,
  trWrite,
  trWriteAuto,
} from './ring/loops.js';
import { tsWorker } from './ring/ts-worker.js';
import type { Job, WorkerMessage } from './ring/worker.js';

/** Goals (issue 13): at most this times the C ring with the same layout, and at most ringbuf.js, at every payload size. */
const C_GOAL = 1.5;
/** Ring geometry for both libraries: 64 sub-buffers of 4 KiB (tracering's default), 256 KiB for ringbuf.js. */
const SUBBUF_SIZE = 4096;
const SUBBUFS = 64;
const RING_BYTES = SUBBUF_SIZE * SUBBUFS;
/** Bounds. */
const SUITE_BUDGET_MS = 150_000;
const JOB_TIMEOUT_MS = 20_000;
const CONSUMER_DEADLINE_MS = 15_000;
const CHILD_TIMEOUT_MS = 30_000;

let interrupted: string | null = null;
function checkInterrupted(): void {
  if (interrupted !== null) throw new Error(`interrupted by ${interrupted}`);
}
/** A helper program ended by Ctrl-C/SIGTERM: the suite is being interrupted. */
function onChildSignal(signal: string): void {
  interrupted ??= signal;
  checkInterrupted();
}
const onSignal = (signal: string) => {
  interrupted = signal;
};

interface Config {
  events: number;
  rounds: number;
  sizes: number[];
  batch: number;
  kernelEvents: number;
  streamEvents: number;
  streamRounds: number;
  writerCpu: number;
  otherCpu: number;
  /** Sections to run (write, kernel, stream) and variant filters (substrings of variant ids). */
  sections: string[];
  variants: string[];
  /** CPUs available to the process at start (before pinning). */
  cpus: number;
  /** Consumers' pause after an empty poll (ns); 0: spin. */
  backoffNs: number;
}


function readConfig(): Config {
  const cpus = native.getThreadAffinity();
  const writerCpu = envInt('TRBENCH_CPU', cpus[cpus.length - 1] ?? 0, 0, 4095);
  if (!cpus.includes(writerCpu)) throw new RangeError(`TRBENCH_CPU ${writerCpu} is not available to this process`);
  const sizes = (process.env.TRBENCH_RING_SIZES ?? '16,32,128').split(',').map(Number);
  if (sizes.some((s) => !Number.isInteger(s) || s < 8 || s > 1024 || s % 4 !== 0)) {
    throw new RangeError('TRBENCH_RING_SIZES: payload sizes, multiples of 4 in 8..1024');
  }
  return {
    events: envInt('TRBENCH_RING_EVENTS', 1 << 19, 1024, 1 << 24),
    rounds: envInt('TRBENCH_RING_ROUNDS', 5, 1, 50),
    sizes,
    batch: envInt('TRBENCH_RING_BATCH', 64, 1, 4096),
    kernelEvents: envInt('TRBENCH_RING_KERNEL_EVENTS', 100_000, 1000, 10_000_000),
    streamEvents: envInt('TRBENCH_RING_STREAM_EVENTS', 1 << 22, 1024, 1 << 26),
    streamRounds: envInt('TRBENCH_RING_STREAM_ROUNDS', 3, 1, 20),
    writerCpu,
    otherCpu: cpus.find((c) => c !== writerCpu) ?? -1,
    cpus: cpus.length,
    backoffNs: envInt('TRBENCH_RING_BACKOFF_NS', 2000, 0, 1_000_000),
    sections: (process.env.TRBENCH_RING_SECTIONS ?? 'write,kernel,stream').split(','),
    variants: (process.env.TRBENCH_RING_VARIANTS ?? '').split(',').filter((v) => v !== ''),
  };
}

// --- C helpers ------------------------------------------------------------------



// --- the worker -------------------------------------------------------------------

interface Pending {
  ready: () => void;
  done: (result: unknown) => void;
  fail: (error: Error) => void;
}

/** The worker thread and its jobs: start() answers when it is set up (ready) and finished (done). */
class Peer {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly up: Promise<void>;
  #next = 1;
  #dead: Error | null = null;

  constructor() {
    this.#worker = tsWorker(new URL('./ring/worker.ts', import.meta.url));
    let up!: () => void;
    let down!: (e: Error) => void;
    this.up = new Promise<void>((resolve, reject) => {
      up = resolve;
      down = reject;
    });
    this.#worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'up') return up();
      const p = this.#pending.get(m.id);
      if (p === undefined) return;
      if (m.type === 'ready') p.ready();
      else {
        this.#pending.delete(m.id);
        if (m.type === 'done') p.done(m.result);
        else p.fail(new Error(`worker: ${m.message}`));
      }
    });
    const die = (error: Error) => {
      this.#dead = error;
      down(error);
      for (const p of this.#pending.values()) p.fail(error);
      this.#pending.clear();
    };
    this.#worker.on('error', die);
    this.#worker.on('exit', (code) => die(new Error(`worker exited (${code})`)));
  }

  /** Posts a job; `ready` resolves once it is set up, `done` with its result (both reject on failure or after timeoutMs). */
  start<T>(job: Job, timeoutMs = JOB_TIMEOUT_MS): { ready: Promise<void>; done: Promise<T> } {
    if (this.#dead !== null) throw this.#dead;
    const id = this.#next++;
    let readyOk!: () => void;
    let readyFail!: (e: Error) => void;
    let doneOk!: (r: T) => void;
    let doneFail!: (e: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      readyOk = resolve;
      readyFail = reject;
    });
    const done = new Promise<T>((resolve, reject) => {
      doneOk = resolve;
      doneFail = reject;
    });
    // Callers await what they need; a failure they no longer wait for is not an unhandled rejection.
    ready.catch(() => {});
    done.catch(() => {});
    const fail = (error: Error) => {
      clearTimeout(timer);
      this.#pending.delete(id);
      readyFail(error);
      doneFail(error);
    };
    const timer = setTimeout(() => fail(new Error(`worker job ${job.kind} did not finish within ${timeoutMs} ms`)), timeoutMs);
    this.#pending.set(id, {
      ready: readyOk,
      done: (r) => {
        clearTimeout(timer);
        doneOk(r as T);
      },
      fail,
    });
    this.#worker.postMessage({ id, job });
    return { ready, done };
  }

  async close(): Promise<void> {
    this.#dead ??= new Error('worker closed');
    await this.#worker.terminate();
  }
}

function withTimeout<T>(p: Promise<T>, what: string, ms = JOB_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

// --- write cost ---------------------------------------------------------------------

type WriteVariant =
  | 'tr-event-ow'
  | 'tr-batch-ow'
  | 'tr-event-dc'
  | 'tr-batch-dc'
  | 'tr-batch-spin'
  | 'tr-batch-auto'
  | 'rb-each'
  | 'rb-each-ts'
  | 'rb-batch'
  | 'rb-batch-ts'
  | 'rb-batch-spin'
  | 'rb-batch-solo'
  | 'rb-batch-ts-solo'
  | 'payload-only';

const WRITE_LABELS: Record<WriteVariant | 'km-node' | 'km-c', string> = {
  'tr-event-ow': 'tracering, event clock, overwrite, no consumer',
  'tr-batch-ow': 'tracering, batch clock, overwrite, no consumer',
  'tr-event-dc': 'tracering, event clock, discard + consumer',
  'tr-batch-dc': 'tracering, batch clock, discard + consumer',
  'tr-batch-spin': 'tracering, batch clock, discard + spinning consumer',
  'tr-batch-auto': 'tracering, batch clock, auto-flush (await per run)',
  'rb-each': 'ringbuf.js, push per event, no timestamp',
  'rb-each-ts': 'ringbuf.js, push per event + hrtime ts',
  'rb-batch': 'ringbuf.js, staged batch push, no timestamp',
  'rb-batch-ts': 'ringbuf.js, staged batch push + hrtime ts',
  'rb-batch-spin': 'ringbuf.js, staged batch push, spinning consumer',
  'rb-batch-solo': 'ringbuf.js, staged batch push, writer alone (no ts)',
  'rb-batch-ts-solo': 'ringbuf.js, staged batch push + hrtime ts, writer alone',
  'payload-only': 'payload stores alone (plain memory, no ring, no clock)',
  'km-node': 'trace_marker_raw, fs.writeSync (Node)',
  'km-c': 'trace_marker_raw, write() (C)',
};

interface Sample {
  /** Wall ns per event. */
  nsPerEvent: number;
  /** The writing thread's on-CPU ns per event (the figure used: the machine is shared). */
  cpuNsPerEvent: number;
  dropped: number;
  events: number;
  /** Consumer busy ns per event read, where there was a consumer. */
  consumerNs: number | null;
  /** Which of the kernel rows (km-node, km-c) a kernel sample belongs to. */
  variant?: string;
}

/** Problems found by the checks (each fails the suite). */
const problems: string[] = [];

function verify(found: string[]): void {
  for (const p of found) {
    problems.push(p);
    console.error(`ring: CHECK FAILED: ${p}`);
  }
}

async function writeRound(peer: Peer, cfg: Config, v: WriteVariant, len: number, events: number): Promise<Sample> {
  const what = `${v} ${len} B`;
  if (v === 'payload-only') {
    const r = plainWrite(RING_BYTES, events, len, cfg.batch);
    return { nsPerEvent: r.ns / events, cpuNsPerEvent: r.cpuNs / events, dropped: 0, events, consumerNs: null };
  }
  if (v.startsWith('tr-')) {
    const clock: ClockMode = v.startsWith('tr-event') ? 'event' : 'batch';
    const spin = v.endsWith('-spin');
    const withConsumer = v.endsWith('-dc') || spin;
    const ring = AppRing.create({ subbufSize: SUBBUF_SIZE, subbufs: SUBBUFS, mode: withConsumer ? 'discard' : 'overwrite' });
    try {
      let job: { ready: Promise<void>; done: Promise<ConsumeResult> } | null = null;
      if (withConsumer) {
        job = peer.start<ConsumeResult>({
          kind: 'tr-consume',
          handle: ring.handle,
          len,
          deadlineMs: CONSUMER_DEADLINE_MS,
          backoffNs: spin ? 0 : cfg.backoffNs,
        });
        await job.ready;
      }
      const auto = v === 'tr-batch-auto';
      const w = ring.writer({ clock, autoFlush: auto });
      let r: WriteResult;
      try {
        r = auto ? await trWriteAuto(w, events, len, cfg.batch) : trWrite(w, events, len, cfg.batch);
      } finally {
        w.close();
      }
      if (w.dropped !== r.dropped) verify([`${what}: loop counted ${r.dropped} refused, writer ${w.dropped}`]);
      let consumerNs: number | null = null;
      if (job !== null) {
        const c = await job.done;
        verify(checkConsumed(what, c, events, r.dropped));
        if (c.dropped !== r.dropped) verify([`${what}: reader reports ${c.dropped} dropped, writer ${r.dropped}`]);
        consumerNs = c.read > 0 ? c.busyNs / c.read : null;
      } else {
        const s = ring.stats();
        if (s.entries !== events || s.dropped !== 0 || s.overrun + s.unread !== events) {
          verify([`${what}: ring counters after ${events} writes: ${JSON.stringify({ entries: s.entries, overrun: s.overrun, unread: s.unread, dropped: s.dropped })}`]);
        }
      }
      return { nsPerEvent: r.ns / events, cpuNsPerEvent: r.cpuNs / events, dropped: r.dropped, events, consumerNs };
    } finally {
      ring.close();
    }
  }
  const ts = v.includes('-ts');
  const recLen = ts ? len + 8 : len;
  const sab = RingBuffer.getStorageForCapacity(rbCapacity(RING_BYTES, recLen), Uint8Array);
  if (v.endsWith('-solo')) {
    // ringbuf.js's writer alone: its read pointer moved up after each push (nothing refused, no consumer thread).
    const rb = new RingBuffer(sab, Uint8Array);
    const r = rbWriteBatch(rb, events, len, ts, cfg.batch, sab);
    if (r.dropped !== 0) verify([`${what}: ${r.dropped} refused with the read pointer moved up after each push`]);
    return { nsPerEvent: r.ns / events, cpuNsPerEvent: r.cpuNs / events, dropped: r.dropped, events, consumerNs: null };
  }
  // ringbuf.js with a consumer (a push into a full ring is refused)
  const doneSab = new SharedArrayBuffer(4);
  const job = peer.start<ConsumeResult>({
    kind: 'rb-consume',
    sab,
    done: doneSab,
    len,
    ts,
    deadlineMs: CONSUMER_DEADLINE_MS,
    backoffNs: v.endsWith('-spin') ? 0 : cfg.backoffNs,
  });
  await job.ready;
  const rb = new RingBuffer(sab, Uint8Array);
  let r: WriteResult;
  try {
    r = v.startsWith('rb-batch') ? rbWriteBatch(rb, events, len, ts, cfg.batch) : rbWriteEach(rb, events, len, ts);
  } finally {
    Atomics.store(new Int32Array(doneSab), 0, 1);
  }
  const c = await job.done;
  verify(checkConsumed(what, c, events, r.dropped));
  return { nsPerEvent: r.ns / events, cpuNsPerEvent: r.cpuNs / events, dropped: r.dropped, events, consumerNs: c.read > 0 ? c.busyNs / c.read : null };
}

// --- the kernel's trace_marker_raw ------------------------------------------------------

interface FillResult {
  written: number;
  stop: string;
  elapsed_ns: number;
}

class KernelMarker {
  readonly fd: number;
  constructor(
    readonly instance: Instance,
    readonly cpu: number,
    events: number,
    maxLen: number,
  ) {
    instance.traceClock = 'mono'; // CLOCK_MONOTONIC, as the app ring's timestamps
    instance.setOption('overwrite', true);
    instance.setBufferSizeKb(1); // other CPUs: the minimum
    const recordBytes = 8 + 8 + maxLen; // header + length word, common header, payload
    instance.setCpuBufferSizeKb(cpu, Math.min(65536, Math.ceil((events * recordBytes * 1.1) / 1024) + 64));
    this.fd = fs.openSync(instance.file('trace_marker_raw'), 'w');
  }

  /** Events the instance holds or overwrote since the last clear, all CPUs. */
  count(): { total: number; dropped: number } {
    let total = 0;
    let dropped = 0;
    for (const cpu of this.instance.cpus()) {
      const s = this.instance.cpuStats(cpu);
      total += s.entries + s.overrun;
      dropped += s.droppedEvents;
    }
    return { total, dropped };
  }

  check(what: string, written: number): void {
    const { total, dropped } = this.count();
    if (total !== written || dropped !== 0) verify([`${what}: wrote ${written} markers, the instance counts ${total} (${dropped} dropped)`]);
  }

  /** fs.writeSync of each payload (the realistic Node path), from the pinned main thread. */
  nodeRound(len: number, events: number): Sample {
    this.instance.clear();
    const buf = Buffer.alloc(len);
    const v = new DataView(buf.buffer, buf.byteOffset, len);
    const fd = this.fd;
    const c0 = threadCpuNs();
    const t0 = process.hrtime.bigint();
    for (let seq = 0; seq < events; seq++) {
      v.setUint32(0, PAYLOAD_ID, true);
      v.setUint32(4, seq, true);
      for (let k = 8; k < len; k += 4) v.setUint32(k, FILL, true);
      fs.writeSync(fd, buf, 0, len);
    }
    const ns = Number(process.hrtime.bigint() - t0);
    const cpuNs = threadCpuNs() - c0;
    this.check(`trace_marker_raw (Node) ${len} B`, events);
    return { nsPerEvent: ns / events, cpuNsPerEvent: cpuNs / events, dropped: 0, events, consumerNs: null };
  }

  cRound(fill: string, len: number, events: number): Sample {
    this.instance.clear();
    const r = runJson<FillResult>(fill, [
      '--file', this.instance.file('trace_marker_raw'),
      '--cpu', String(this.cpu),
      '--count', String(events),
      '--size', String(len),
      '--max-ms', '20000',
    ], CHILD_TIMEOUT_MS, onChildSignal);
    if (r.written !== events || r.stop !== 'count') {
      verify([`C trace_marker_raw writer stopped (${r.stop}) after ${r.written} of ${events}`]);
    }
    this.check(`trace_marker_raw (C) ${len} B`, r.written);
    // fill.c times by the wall clock only.
    return { nsPerEvent: r.elapsed_ns / r.written, cpuNsPerEvent: r.elapsed_ns / r.written, dropped: 0, events: r.written, consumerNs: null };
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

// --- consumer throughput -----------------------------------------------------------------

type StreamVariant = 'tr-batch' | 'tr-event' | 'rb-batch' | 'rb-batch-ts';
const STREAM_LABELS: Record<StreamVariant, string> = {
  'tr-batch': 'tracering (batch clock writer), RingReader.next()',
  'tr-event': 'tracering (event clock writer), RingReader.next()',
  'rb-batch': 'ringbuf.js (staged batches, no ts), pop',
  'rb-batch-ts': 'ringbuf.js (staged batches + ts), pop',
};

interface StreamSample {
  eventsPerSec: number;
  read: number;
  dropped: number;
  /** Producer's own ns per event. */
  producerNs: number;
  /** Consumer busy ns per event read. */
  consumerNs: number;
}

async function streamRound(peer: Peer, cfg: Config, v: StreamVariant, len: number): Promise<StreamSample> {
  const what = `stream ${v} ${len} B`;
  const events = cfg.streamEvents;
  const go = new SharedArrayBuffer(4);
  const start = () => {
    const t0 = process.hrtime.bigint();
    Atomics.store(new Int32Array(go), 0, 1);
    Atomics.notify(new Int32Array(go), 0);
    return t0;
  };
  let c: ConsumeResult;
  let p: WriteResult & { writerDropped?: number };
  if (v.startsWith('tr-')) {
    const ring = AppRing.create({ subbufSize: SUBBUF_SIZE, subbufs: SUBBUFS, mode: 'discard' });
    try {
      const reader = ring.reader();
      const job = peer.start<WriteResult & { writerDropped: number }>({
        kind: 'tr-produce',
        handle: ring.handle,
        len,
        count: events,
        clock: v === 'tr-event' ? 'event' : 'batch',
        batch: cfg.batch,
        go,
      });
      await job.ready;
      c = trConsume(reader, len, CONSUMER_DEADLINE_MS, cfg.backoffNs, start());
      p = await job.done;
      ring.releaseReader();
      if (p.writerDropped !== p.dropped || c.dropped !== p.dropped) {
        verify([`${what}: refused counts disagree: loop ${p.dropped}, writer ${p.writerDropped}, reader ${c.dropped}`]);
      }
    } finally {
      ring.close();
    }
  } else {
    const ts = v === 'rb-batch-ts';
    const recLen = ts ? len + 8 : len;
    const sab = RingBuffer.getStorageForCapacity(rbCapacity(RING_BYTES, recLen), Uint8Array);
    const done = new SharedArrayBuffer(4);
    const job = peer.start<WriteResult>({ kind: 'rb-produce', sab, done, len, ts, batch: cfg.batch, count: events, go });
    await job.ready;
    const rb = new RingBuffer(sab, Uint8Array);
    c = rbConsume(rb, len, ts, new Int32Array(done), CONSUMER_DEADLINE_MS, cfg.backoffNs, start());
    p = await job.done;
  }
  verify(checkConsumed(what, c, events, p.dropped));
  return {
    eventsPerSec: (c.read / c.elapsedNs) * 1e9,
    read: c.read,
    dropped: p.dropped,
    producerNs: p.ns / events,
    consumerNs: c.busyNs / Math.max(1, c.read),
  };
}

/**
 * An idle pause after a warm-up: V8 optimizes hot functions on background
 * threads, which get no CPU while the measured threads spin on every CPU.
 */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 250));

// --- clocks -----------------------------------------------------------------------------

function nodeClockNs(which: 'hrtime' | 'hrtime.bigint' | 'performance.now', n: number): number {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  if (which === 'hrtime') {
    for (let i = 0; i < n; i++) sink += process.hrtime()[1];
  } else if (which === 'hrtime.bigint') {
    for (let i = 0; i < n; i++) sink += Number(process.hrtime.bigint() & 0xffn);
  } else {
    for (let i = 0; i < n; i++) sink += performance.now();
  }
  const ns = Number(process.hrtime.bigint() - t0) / n;
  if (sink === -1) console.log(sink); // keep the results used
  return ns;
}

// --- statistics and tables -----------------------------------------------------------------

/** Above this share of refused events, a run's consumer did not keep up. */
const DROP_FLAG = 0.01;

function dropShare(list: { dropped: number; events: number }[]): number {
  return list.reduce((a, x) => a + x.dropped, 0) / Math.max(1, list.reduce((a, x) => a + x.events, 0));
}


interface Stat {
  median: number;
  min: number;
  max: number;
}
function stat(xs: number[]): Stat {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

function table(head: string[], rows: string[][], leftCols = 1): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < leftCols ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');

/** Share of CPU time (all CPUs) not idle over `ms`, from /proc/stat. */

// --- the suite -----------------------------------------------------------------------------
//
// Each variant runs in its own Node process (a child of run()): its hot loops
// are compiled for it alone. Measured in one process, the loops and the
// ring's code carry type feedback from every other variant (the event-clock
// writer with a consumer measured 60-70 ns there against 40 ns alone), and
// a library would be measured with the other's JIT state.

const WRITE_VARIANTS: WriteVariant[] = [
  'payload-only',
  'tr-event-ow',
  'tr-batch-ow',
  'tr-event-dc',
  'tr-batch-dc',
  'tr-batch-spin',
  'tr-batch-auto',
  'rb-each',
  'rb-each-ts',
  'rb-batch',
  'rb-batch-ts',
  'rb-batch-spin',
  'rb-batch-solo',
  'rb-batch-ts-solo',
];
const STREAM_VARIANTS: StreamVariant[] = ['tr-batch', 'tr-event', 'rb-batch', 'rb-batch-ts'];

interface ChildSpec {
  section: 'write' | 'kernel' | 'stream';
  variant: string;
}

interface ChildResult {
  /** Per payload size, the measured rounds. */
  samples: Record<string, Sample[]>;
  streams: Record<string, StreamSample[]>;
  rounds: number;
  problems: string[];
  note: string;
}

const CHILD_FLAG = '--ring-child';
const RESULT_TAG = '@ring-result ';
const CHILD_MAX_MS = 45_000;

let liveInstance: Instance | null = null;
let liveMarker: KernelMarker | null = null;
function cleanupInstance(): void {
  const m = liveMarker;
  liveMarker = null;
  const i = liveInstance;
  liveInstance = null;
  try {
    m?.close();
  } finally {
    i?.remove();
  }
}

/** Child: pins itself (and the worker), measures one variant at every size, prints the tagged result. */
async function child(spec: ChildSpec): Promise<void> {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', cleanupInstance);
  const cfg = readConfig();
  const out: ChildResult = { samples: {}, streams: {}, rounds: 0, problems, note: '' };
  const push = <T>(into: Record<string, T[]>, len: number, x: T) => {
    (into[String(len)] ??= []).push(x);
  };
  const affinity = native.getThreadAffinity();
  const peer = spec.section === 'kernel' ? null : new Peer();
  try {
    if (peer !== null) await withTimeout(peer.up, 'worker start-up');
    if (cfg.otherCpu >= 0) {
      native.setThreadAffinity([cfg.writerCpu]);
      if (peer !== null) await peer.start({ kind: 'pin', cpu: cfg.otherCpu }).done;
    }
    if (spec.section === 'write') {
      const v = spec.variant as WriteVariant;
      // Round 0 warms up; rounds alternate the order of sizes.
      for (let round = 0; round <= cfg.rounds; round++) {
        const sizes = round % 2 === 0 ? cfg.sizes : [...cfg.sizes].reverse();
        for (const len of sizes) {
          checkInterrupted();
          const s = await writeRound(peer!, cfg, v, len, round === 0 ? Math.min(cfg.events, 1 << 17) : cfg.events);
          if (round > 0) push(out.samples, len, s);
        }
        if (round === 0) await settle();
        else out.rounds = round;
      }
    } else if (spec.section === 'kernel') {
      const tracefs = Tracefs.locate();
      fs.accessSync(join(tracefs.root, 'instances'), fs.constants.W_OK);
      liveInstance = tracefs.createUniqueInstance('trbench');
      liveMarker = new KernelMarker(liveInstance, cfg.writerCpu, cfg.kernelEvents, Math.max(...cfg.sizes));
      const m = liveMarker;
      const fill = join(outDir, 'fill');
      for (const len of cfg.sizes) m.nodeRound(len, Math.min(cfg.kernelEvents, 20_000)); // warm-up
      const rounds = Math.min(3, cfg.rounds);
      for (let round = 0; round < rounds; round++) {
        for (const len of cfg.sizes) {
          checkInterrupted();
          // Node and C alternate which goes first.
          const order = round % 2 === 0 ? (['km-node', 'km-c'] as const) : (['km-c', 'km-node'] as const);
          for (const v of order) {
            const s = v === 'km-node' ? m.nodeRound(len, cfg.kernelEvents) : m.cRound(fill, len, cfg.kernelEvents);
            push(out.samples, len, { ...s, variant: v });
          }
        }
        out.rounds = round + 1;
      }
      cleanupInstance();
    } else {
      const v = spec.variant as StreamVariant;
      const full = cfg.streamEvents;
      cfg.streamEvents = Math.min(full, 1 << 18);
      for (const len of cfg.sizes) await streamRound(peer!, cfg, v, len); // warm-up
      cfg.streamEvents = full;
      await settle();
      for (let round = 1; round <= cfg.streamRounds; round++) {
        const sizes = round % 2 === 1 ? cfg.sizes : [...cfg.sizes].reverse();
        for (const len of sizes) {
          checkInterrupted();
          push(out.streams, len, await streamRound(peer!, cfg, v, len));
        }
        out.rounds = round;
      }
    }
  } finally {
    native.setThreadAffinity(affinity);
    await peer?.close();
    cleanupInstance();
  }
  process.stdout.write(`${RESULT_TAG}${JSON.stringify(out)}\n`);
}

/** Runs one variant in a fresh Node process; removes a tracefs instance it may have left. */
function runChild(spec: ChildSpec, tracefs: Tracefs | null): ChildResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), CHILD_FLAG, JSON.stringify(spec)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: CHILD_MAX_MS,
    killSignal: 'SIGKILL', // its tracefs instance, if any, is removed below
    maxBuffer: 16 << 20,
  });
  if (tracefs !== null && r.pid !== undefined) {
    for (const name of tracefs.instances().filter((n) => n.startsWith(`trbench-${r.pid}-`))) {
      tracefs.openInstance(name, { create: false }).remove();
    }
  }
  if (r.status === 130 || r.signal === 'SIGINT') interrupted ??= 'SIGINT';
  checkInterrupted();
  const what = `${spec.section} ${spec.variant}`;
  if (r.error) throw new Error(`ring ${what}: ${r.error.message}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith(RESULT_TAG));
  if (line === undefined) throw new Error(`ring ${what}: ${r.signal ?? `exit ${r.status}`}, no result`);
  return JSON.parse(line.slice(RESULT_TAG.length)) as ChildResult;
}

export async function run(): Promise<void> {
  process.on('SIGINT', onSignal);
  try {
    await runSuite();
  } catch (error) {
    if (interrupted === null) throw error;
    console.error(`ring: interrupted by ${interrupted}; instances removed`);
    process.exitCode = 130;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

async function runSuite(): Promise<void> {
  const started = Date.now();
  const overBudget = () => Date.now() - started > SUITE_BUDGET_MS;
  const cfg = readConfig();
  const bin = compileC(['clock', 'fill', 'ring'] as const);
  const busy = busyShare(300);
  console.log(
    `ring: ${cfg.events} events per write round, ${cfg.rounds} rounds (+1 warm-up), payloads ${cfg.sizes.join('/')} B, ` +
      `batch ${cfg.batch}, consumer back-off ${cfg.backoffNs} ns; ring ${SUBBUFS} x ${SUBBUF_SIZE} B (ringbuf.js ${RING_BYTES} B); ` +
      `writer CPU ${cfg.writerCpu}, other thread CPU ${cfg.otherCpu}; one process per variant; ${os.release()}, ` +
      `Node ${process.version}, ${os.cpus()[0]?.model ?? '?'} x${cfg.cpus}, ${(busy * 100).toFixed(0)}% busy before start`,
  );
  if (busy > 0.1) console.log('ring: note: other work is running; expect noisy figures (rerun to confirm)');
  if (cfg.otherCpu < 0) console.log('ring: note: one CPU only; writer and consumer share it');

  // Physical limit: a clock read from C on the writer CPU; Node's clocks (this thread, pinned there).
  const cClock = runJson<{ median_ns: number; min_ns: number }>(bin.clock, ['--cpu', String(cfg.writerCpu), '--count', '5000000', '--rounds', '5'], CHILD_TIMEOUT_MS, onChildSignal);
  const nodeClocks: Record<string, number> = {};
  const affinity = native.getThreadAffinity();
  try {
    native.setThreadAffinity([cfg.writerCpu]);
    for (const which of ['hrtime', 'hrtime.bigint', 'performance.now'] as const) {
      nodeClockNs(which, 200_000);
      nodeClocks[which] = median([0, 1, 2, 3, 4].map(() => nodeClockNs(which, 1_000_000)));
    }
  } finally {
    native.setThreadAffinity(affinity);
  }
  console.log(
    `  clocks: C clock_gettime(CLOCK_MONOTONIC) ${f1(cClock.median_ns)} ns; Node process.hrtime() ${f1(nodeClocks.hrtime!)}, ` +
      `hrtime.bigint() ${f1(nodeClocks['hrtime.bigint']!)}, performance.now() ${f1(nodeClocks['performance.now']!)} ns`,
  );

  // The physical limit of a writer with this record layout: bench/c/ring.c.
  const cRingMeter = new LoadMeter();
  const cRing = runJson<CRingResult>(
    bin.ring,
    ['--cpu', String(cfg.writerCpu), '--events', String(cfg.events), '--sizes', cfg.sizes.join(','), '--rounds', String(cfg.rounds), '--batch', String(cfg.batch), '--subbuf', String(SUBBUF_SIZE), '--subbufs', String(SUBBUFS)],
    CHILD_TIMEOUT_MS * 2,
    onChildSignal,
  );
  const cRingLoad = cRingMeter.stop();
  console.log(
    `  C ring, same layout (CPU ns/event, event / batch clock): ` +
      cfg.sizes.map((l) => `${l} B ${f1(median(cRing.event[String(l)]?.cpuNs ?? []))} / ${f1(median(cRing.batch[String(l)]?.cpuNs ?? []))}`).join(', '),
  );

  const selected = (v: string) => cfg.variants.length === 0 || cfg.variants.some((f) => v.includes(f));
  const samples = new Map<string, Sample[]>();
  const streams = new Map<string, StreamSample[]>();
  const skipped: string[] = [];
  let writeRounds = 0;
  let streamRoundsDone = 0;
  let kernelRounds = 0;
  let kernelNote = '';
  const absorb = (r: ChildResult) => {
    for (const p of r.problems) problems.push(p);
  };
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

  // 1. Write cost, one variant per process.
  for (const v of cfg.sections.includes('write') ? WRITE_VARIANTS.filter(selected) : []) {
    if (overBudget()) {
      skipped.push(v);
      continue;
    }
    const r = runChild({ section: 'write', variant: v }, null);
    absorb(r);
    writeRounds = Math.max(writeRounds, r.rounds);
    for (const [len, list] of Object.entries(r.samples)) samples.set(`${v}/${len}`, list);
    const med = cfg.sizes.map((l) => f1(median((r.samples[String(l)] ?? []).map((x) => x.cpuNsPerEvent)))).join(' / ');
    console.log(`  write ${v}: ${med} ns/event (${cfg.sizes.join('/')} B) (${elapsed()})`);
  }

  // The kernel's trace_marker_raw, Node and C.
  let tracefs: Tracefs | null = null;
  if (cfg.sections.includes('kernel') && (selected('km-node') || selected('km-c'))) {
    try {
      tracefs = Tracefs.locate();
      fs.accessSync(join(tracefs.root, 'instances'), fs.constants.W_OK);
    } catch (error) {
      kernelNote = `skipped: tracefs is not usable here: ${(error as Error).message}`;
    }
    if (tracefs !== null && overBudget()) kernelNote = 'skipped: over the time budget';
    else if (tracefs !== null) {
      const r = runChild({ section: 'kernel', variant: 'km' }, tracefs);
      absorb(r);
      kernelRounds = r.rounds;
      for (const [len, list] of Object.entries(r.samples)) {
        for (const v of ['km-node', 'km-c']) {
          samples.set(`${v}/${len}`, list.filter((x) => x.variant === v));
        }
      }
    }
    console.log(`  trace_marker_raw: ${kernelNote || `${kernelRounds} rounds, instance removed`} (${elapsed()})`);
  }

  // 2. Consumer throughput, one variant per process.
  for (const v of cfg.sections.includes('stream') ? STREAM_VARIANTS.filter(selected) : []) {
    if (overBudget()) {
      skipped.push(`stream ${v}`);
      continue;
    }
    const r = runChild({ section: 'stream', variant: v }, null);
    absorb(r);
    streamRoundsDone = Math.max(streamRoundsDone, r.rounds);
    for (const [len, list] of Object.entries(r.streams)) streams.set(`${v}/${len}`, list);
    const med = cfg.sizes.map((l) => f1(median((r.streams[String(l)] ?? []).map((x) => x.eventsPerSec / 1e6)))).join(' / ');
    console.log(`  stream ${v}: ${med} M events/s (${cfg.sizes.join('/')} B) (${elapsed()})`);
  }
  if (skipped.length > 0) console.log(`ring: over the ${SUITE_BUDGET_MS / 1000} s budget, skipped: ${skipped.join(', ')}`);

  report(cfg, {
    cRing,
    cRingLoad,
    cClock: cClock.median_ns,
    nodeClocks,
    samples,
    streams,
    writeRounds,
    streamRoundsDone,
    kernelRounds,
    kernelNote,
    busy,
    skipped,
    seconds: (Date.now() - started) / 1000,
  });
  if (problems.length > 0) {
    console.error(`ring: ${problems.length} check(s) failed`);
    process.exitCode = 1;
  }
}

interface CRingResult {
  event: Record<string, { cpuNs: number[]; wallNs: number[] }>;
  batch: Record<string, { cpuNs: number[]; wallNs: number[] }>;
}

interface Results {
  cRing: CRingResult;
  cRingLoad: ReturnType<LoadMeter['stop']>;
  cClock: number;
  nodeClocks: Record<string, number>;
  samples: Map<string, Sample[]>;
  streams: Map<string, StreamSample[]>;
  writeRounds: number;
  streamRoundsDone: number;
  kernelRounds: number;
  kernelNote: string;
  busy: number;
  skipped: string[];
  seconds: number;
}

function report(cfg: Config, r: Results): void {
  const ns = (v: string, len: number): Stat | null => {
    const s = r.samples.get(`${v}/${len}`);
    return s === undefined || s.length === 0 ? null : stat(s.map((x) => x.cpuNsPerEvent));
  };
  const writeKeys = Object.keys(WRITE_LABELS) as (keyof typeof WRITE_LABELS)[];

  // Table 1: write cost.
  console.log();
  console.log(`Write cost, writer thread CPU ns per event including the timestamp (median of ${r.writeRounds} rounds of ${cfg.events}; kernel: ${r.kernelRounds} of ${cfg.kernelEvents})`);
  const head = ['variant'];
  for (const len of cfg.sizes) head.push(`${len} B`, 'min-max', 'drop%');
  const rows: string[][] = [];
  for (const v of writeKeys) {
    const row = [WRITE_LABELS[v]];
    let any = false;
    for (const len of cfg.sizes) {
      const s = ns(v, len);
      const list = r.samples.get(`${v}/${len}`) ?? [];
      if (s === null) {
        row.push('-', '', '');
        continue;
      }
      any = true;
      const dropped = dropShare(list);
      row.push(f1(s.median), `${f1(s.min)}-${f1(s.max)}`, `${(dropped * 100).toFixed(dropped === 0 ? 0 : 1)}${dropped > DROP_FLAG ? ' !' : ''}`);
    }
    if (any) rows.push(row);
  }
  rows.push(['C clock_gettime(CLOCK_MONOTONIC) alone', ...cfg.sizes.flatMap(() => [f1(r.cClock), '', ''])]);
  rows.push([`Node process.hrtime() alone`, ...cfg.sizes.flatMap(() => [f1(r.nodeClocks.hrtime!), '', ''])]);
  table(head, rows);
  console.log(
    `(the writing thread's on-CPU time; drop% = events refused by a full ring while the consumer ran: "!" above ${DROP_FLAG * 100}%, ` +
      'the consumer did not keep up and part of the cost is of refusals; ringbuf.js needs a consumer to take anything)',
  );

  // Consumer cost while writing (busy time of the consumer worker).
  const cons = (v: string, len: number) => median((r.samples.get(`${v}/${len}`) ?? []).map((x) => x.consumerNs ?? Number.NaN));

  // Table 2: ratios.
  console.log();
  console.log('Ratios of write cost (< 1: tracering costs less)');
  const ratio = (a: string, b: string, len: number) => {
    const x = ns(a, len);
    const y = ns(b, len);
    return x === null || y === null ? Number.NaN : x.median / y.median;
  };
  const ratioRows: [string, string, string][] = [
    ['tracering event clock + consumer / ringbuf.js push per event + ts', 'tr-event-dc', 'rb-each-ts'],
    ['tracering event clock + consumer / ringbuf.js batch + ts', 'tr-event-dc', 'rb-batch-ts'],
    ['tracering batch clock + consumer / ringbuf.js batch (no ts)', 'tr-batch-dc', 'rb-batch'],
    ['tracering batch clock + consumer / ringbuf.js push per event (no ts)', 'tr-batch-dc', 'rb-each'],
    ['tracering batch clock / ringbuf.js batch (no ts), spinning consumers', 'tr-batch-spin', 'rb-batch-spin'],
    ['tracering event clock + consumer / trace_marker_raw (Node)', 'tr-event-dc', 'km-node'],
    ['tracering batch clock + consumer / trace_marker_raw (Node)', 'tr-batch-dc', 'km-node'],
    ['tracering event clock + consumer / trace_marker_raw (C)', 'tr-event-dc', 'km-c'],
  ];
  const rhead = ['ratio', ...cfg.sizes.map((l) => `${l} B`)];
  const rrows = ratioRows.map(([label, a, b]) => [label, ...cfg.sizes.map((l) => f2(ratio(a, b, l)))]);
  for (const [label, v] of [
    ['tracering event clock, no consumer / C clock_gettime', 'tr-event-ow'],
    ['tracering event clock + consumer / C clock_gettime', 'tr-event-dc'],
  ] as const) {
    rrows.push([label, ...cfg.sizes.map((l) => f2((ns(v, l)?.median ?? Number.NaN) / r.cClock))]);
  }
  for (const [label, v] of [
    ['tracering batch clock + consumer minus payload stores (ns)', 'tr-batch-dc'],
    ['tracering event clock + consumer minus payload stores (ns)', 'tr-event-dc'],
    ['ringbuf.js batch (no ts) minus payload stores (ns)', 'rb-batch'],
  ] as const) {
    rrows.push([label, ...cfg.sizes.map((l) => f1((ns(v, l)?.median ?? Number.NaN) - (ns('payload-only', l)?.median ?? Number.NaN)))]);
  }
  rrows.push([
    'tracering event clock + consumer minus C clock_gettime (ns)',
    ...cfg.sizes.map((l) => f1((ns('tr-event-dc', l)?.median ?? Number.NaN) - r.cClock)),
  ]);
  table(rhead, rrows);

  // Table 3: throughput.
  console.log();
  console.log(
    `Consumer throughput: producer worker as fast as it can, main thread consuming (median of ${r.streamRoundsDone} runs of ${cfg.streamEvents} events)`,
  );
  const thead = ['stream', 'payload', 'Mev/s', 'MB/s', 'min-max Mev/s', 'drop%', 'producer ns/ev', 'consumer busy ns/ev'];
  const trows: string[][] = [];
  const tput = (v: string, len: number) => {
    const s = r.streams.get(`${v}/${len}`) ?? [];
    return s.length === 0 ? null : s;
  };
  for (const len of cfg.sizes) {
    for (const v of Object.keys(STREAM_LABELS) as StreamVariant[]) {
      const s = tput(v, len);
      if (s === null) continue;
      const e = stat(s.map((x) => x.eventsPerSec / 1e6));
      const drop = s.reduce((a, x) => a + x.dropped, 0) / (s.length * cfg.streamEvents);
      trows.push([
        STREAM_LABELS[v],
        `${len} B`,
        f1(e.median),
        f1(e.median * len),
        `${f1(e.min)}-${f1(e.max)}`,
        (drop * 100).toFixed(1),
        f1(median(s.map((x) => x.producerNs))),
        f1(median(s.map((x) => x.consumerNs))),
      ]);
    }
  }
  table(thead, trows, 2);
  console.log('(events/s delivered = events read / time from go to the last event read; drop% = refused by the full ring: the consumer fell behind)');
  const tratio = (a: StreamVariant, b: StreamVariant, len: number) => {
    const x = tput(a, len);
    const y = tput(b, len);
    return x === null || y === null ? Number.NaN : median(x.map((s) => s.eventsPerSec)) / median(y.map((s) => s.eventsPerSec));
  };
  console.log();
  table(
    ['throughput ratio (>= 1: tracering delivers at least as much)', ...cfg.sizes.map((l) => `${l} B`)],
    [
      ['tracering (batch clock) / ringbuf.js (no ts)', ...cfg.sizes.map((l) => f2(tratio('tr-batch', 'rb-batch', l)))],
      ['tracering (event clock) / ringbuf.js (no ts)', ...cfg.sizes.map((l) => f2(tratio('tr-event', 'rb-batch', l)))],
      ['tracering (event clock) / ringbuf.js (+ ts)', ...cfg.sizes.map((l) => f2(tratio('tr-event', 'rb-batch-ts', l)))],
    ],
  );

  // Goals, as figures beside their peers (writer thread CPU time per event).
  const figures: Figure[] = [];
  const series = (v: string, len: number) => (r.samples.get(`${v}/${len}`) ?? []).map((x) => x.cpuNsPerEvent);
  const meterLoad = r.cRingLoad;
  for (const len of cfg.sizes) {
    const pairs: Array<[string, string, string, number[], number, string]> = [
      [`tracering event clock, ${len} B`, 'tr-event-ow', 'C ring, event clock (same layout)', r.cRing.event[String(len)]?.cpuNs ?? [], C_GOAL, 'x C'],
      [`tracering batch clock, ${len} B`, 'tr-batch-ow', 'C ring, batch clock (same layout)', r.cRing.batch[String(len)]?.cpuNs ?? [], C_GOAL, 'x C'],
      [`tracering batch clock, ${len} B`, 'tr-batch-ow', 'ringbuf.js batch push, writer alone (no ts)', series('rb-batch-solo', len), 1, 'x ringbuf.js'],
      [`tracering event clock, ${len} B`, 'tr-event-ow', 'ringbuf.js batch push + hrtime ts, writer alone', series('rb-batch-ts-solo', len), 1, 'x ringbuf.js'],
    ];
    for (const [what, v, peerWhat, peer, goal, unit] of pairs) {
      const ours = series(v, len);
      if (ours.length === 0 || peer.length === 0) continue;
      // Rounds of different processes are not paired: the ratio of medians, its spread from both sides'.
      const a = statOf(ours);
      const b = statOf(peer);
      const ratio = { ...statOf([a.median / b.median]), spread: Math.hypot(a.spread, b.spread) };
      figures.push({
        what: `write, ${what} (overwrite, no reader)`,
        unit: 'ns/ev',
        value: a,
        peer: { what: peerWhat, value: b },
        ratio,
        ratioNote: `of ${unit.slice(2)}`,
        goal: { text: `<= ${goal}${unit}`, met: ratio.median <= goal },
        load: meterLoad,
        rounds: a.n,
      });
    }
    for (const [what, v, pv] of [
      ['tracering batch clock + consumer thread', 'tr-batch-dc', 'rb-batch'],
      ['tracering event clock + consumer thread', 'tr-event-dc', 'rb-batch-ts'],
    ] as const) {
      const ours = series(v, len);
      const peer = series(pv, len);
      if (ours.length === 0 || peer.length === 0) continue;
      const a = statOf(ours);
      const b = statOf(peer);
      figures.push({
        what: `write, ${what}, ${len} B (info: drops ${(dropShare(r.samples.get(`${v}/${len}`) ?? []) * 100).toFixed(0)}% / ${(dropShare(r.samples.get(`${pv}/${len}`) ?? []) * 100).toFixed(0)}%)`,
        unit: 'ns/ev',
        value: a,
        peer: { what: `${WRITE_LABELS[pv]}`, value: b },
        ratio: { ...statOf([a.median / b.median]), spread: Math.hypot(a.spread, b.spread) },
        ratioNote: 'of ringbuf.js',
        load: meterLoad,
        rounds: a.n,
      });
    }
  }
  printFigures('ring: write cost beside the C ring (same record layout) and ringbuf.js (writer thread CPU time per event)', figures);
  const goalTput = cfg.sizes.every((l) => tratio('tr-batch', 'rb-batch', l) >= 1);
  console.log(
    `goals: <= ${C_GOAL}x the C ring and <= ringbuf.js at every payload size: ${figures.filter((f) => f.goal !== undefined).every((f) => f.goal!.met) ? 'met' : 'MISSED'}` +
      `; throughput >= ringbuf.js: ${goalTput ? 'met' : 'MISSED'}; physical limit of a per-event clock: ${f1(r.cClock)} ns (C)`,
  );
  const beyond = (v: WriteVariant, l: number) => (ns(v, l)?.median ?? Number.NaN) - (ns('payload-only', l)?.median ?? Number.NaN);
  console.log(
    'the ring\'s own cost, beyond the payload stores every writer makes (event / batch clock, with a consumer): ' +
      cfg.sizes.map((l) => `${l} B: ${f1(beyond('tr-event-dc', l))} / ${f1(beyond('tr-batch-dc', l))} ns (stores ${f1(ns('payload-only', l)?.median ?? Number.NaN)})`).join(', '),
  );
  console.log(`ring: ${r.seconds.toFixed(1)} s${problems.length > 0 ? `, ${problems.length} CHECK(S) FAILED` : ', all counts exact'}`);

  const perSize = (v: string) =>
    Object.fromEntries(
      cfg.sizes.map((l) => {
        const s = ns(v, l);
        const list = r.samples.get(`${v}/${l}`) ?? [];
        return [
          l,
          s === null
            ? null
            : {
                ns: Number(s.median.toFixed(2)),
                min: Number(s.min.toFixed(2)),
                max: Number(s.max.toFixed(2)),
                dropPct: Number((dropShare(list) * 100).toFixed(2)),
              },
        ];
      }),
    );
  const summary = {
    suite: 'ring',
    kernel: os.release(),
    node: process.version,
    cpus: cfg.cpus,
    writerCpu: cfg.writerCpu,
    otherCpu: cfg.otherCpu,
    busyBefore: Number(r.busy.toFixed(2)),
    events: cfg.events,
    rounds: r.writeRounds,
    batch: cfg.batch,
    backoffNs: cfg.backoffNs,
    ring: { subbufSize: SUBBUF_SIZE, subbufs: SUBBUFS },
    clockNs: {
      c: Number(r.cClock.toFixed(2)),
      ...Object.fromEntries(Object.entries(r.nodeClocks).map(([k, v]) => [k, Number(v.toFixed(2))])),
    },
    writeNs: Object.fromEntries(writeKeys.map((v) => [v, perSize(v)])),
    consumerBusyNsWhileWriting: Object.fromEntries(
      (['tr-event-dc', 'tr-batch-dc', 'rb-each-ts', 'rb-batch', 'rb-batch-ts'] as const).map((v) => [
        v,
        Object.fromEntries(cfg.sizes.map((l) => [l, Number(f2(cons(v, l))) || null])),
      ]),
    ),
    throughput: Object.fromEntries(
      (Object.keys(STREAM_LABELS) as StreamVariant[]).map((v) => [
        v,
        Object.fromEntries(
          cfg.sizes.map((l) => {
            const s = tput(v, l);
            if (s === null) return [l, null];
            const eps = median(s.map((x) => x.eventsPerSec));
            return [
              l,
              {
                eventsPerSec: Math.round(eps),
                mbPerSec: Number(((eps * l) / 1e6).toFixed(1)),
                dropped: s.reduce((a, x) => a + x.dropped, 0),
                consumerBusyNs: Number(median(s.map((x) => x.consumerNs)).toFixed(2)),
              },
            ];
          }),
        ),
      ]),
    ),
    goals: {
      cRing: C_GOAL,
      met: figures.filter((f) => f.goal !== undefined).every((f) => f.goal!.met),
      throughputMet: goalTput,
    },
    figures: figures.map(figureJson),
    kernelNote: r.kernelNote || undefined,
    skipped: r.skipped.length > 0 ? r.skipped : undefined,
    checksFailed: problems.length,
    seconds: Number(r.seconds.toFixed(1)),
  };
  console.log(JSON.stringify(summary));
}

runIfMain(import.meta.url, CHILD_FLAG, (args) => child(JSON.parse(args[0] ?? '{}') as ChildSpec), run, () => interrupted !== null);
