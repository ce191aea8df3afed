// Hot loops of the ring benchmark (bench/ring.ts), shared by the main thread
// and the worker (bench/ring/worker.ts) so both run the same code.
//
// Every event carries the same payload in both libraries and in the
// kernel comparison: u32 PAYLOAD_ID (what trace_marker_raw takes as the
// raw_data id), u32 sequence number, then FILL words up to the payload size.
// Writers write every word of every event (no pre-filled payload is reused
// without being written), so tracering and ringbuf.js do the same stores;
// ringbuf.js additionally copies its staged record into the ring (push), as
// its API requires.
//
// Consumers poll; when there is nothing to read they back off for
// `backoffNs` (a spin on the local clock that touches no shared memory)
// before polling again, as a dedicated consumer thread would: polling
// without a pause keeps pulling the writer's cache lines (its page's commit
// word, the control words, the records it is writing) and slows the writer
// down several times over (backoffNs 0 measures that). Both libraries'
// consumers follow the same policy.
//
// Consumers check every event's sequence number (strictly increasing; the
// gaps must equal the writer's refusals), every event's length, timestamps
// non-decreasing where there are timestamps, and the whole payload of every
// 64th event.

import { performance } from 'node:perf_hooks';
import { CLOCK_IDS, native } from '../../src/native.js';
import type { RingBuffer } from 'ringbuf.js';
import type { RingReader } from '../../src/ring/reader.js';
import type { RingWriter } from '../../src/ring/writer.js';

export const PAYLOAD_ID = 0x7462; // "bt", as bench/c/fill.c
export const FILL = 0xa5a5a5a5;
/** Events whose sequence number has these bits clear get a full payload check. */
export const SAMPLE_MASK = 63;

/** Waits `ns` on the local clock (no shared memory touched). */
function backOff(ns: number): void {
  const until = performance.now() + ns / 1e6;
  while (performance.now() < until) {
    // spin
  }
}

export interface WriteResult {
  /** Events attempted (sequence numbers used). */
  events: number;
  /** Refused by a full ring (discard mode / ringbuf.js full). */
  dropped: number;
  /** Wall time of the loop, and the writing thread's on-CPU time (the machine is shared). */
  ns: number;
  cpuNs: number;
}

/** On-CPU ns of the calling thread (CLOCK_THREAD_CPUTIME_ID; see bench/lib/common.ts threadCpuNs). */
function cpuNow(): number {
  return Number(native.clockNs(CLOCK_IDS.threadCputime));
}

export interface ConsumeResult {
  read: number;
  /** Events the reader was told were lost (overwrite losses; 0 expected in discard mode). */
  lost: number;
  /** The ring's count of refused events (tracering: the writer's `dropped`, via the reader). */
  dropped: number;
  /** Sum of the gaps in the sequence numbers read, from 0 to the last one read. */
  gaps: number;
  /** Last sequence number read (-1: none). */
  lastSeq: number;
  /** The first gaps seen, for diagnosis: [last seq before, seq after, sub-buffer id or -1, index in batch]. */
  gapLog: [number, number, number, number][];
  /** Sequence numbers not strictly increasing, bad lengths, bad sampled payloads, timestamps going back. */
  seqErrors: number;
  lengthErrors: number;
  payloadErrors: number;
  timeErrors: number;
  sampled: number;
  /** Calls that returned events, and the time spent in them (consumer CPU cost, ns). */
  batches: number;
  busyNs: number;
  /** From the start signal (or the first poll) to the last event read. */
  elapsedNs: number;
  timedOut: boolean;
}

function newConsumeResult(): ConsumeResult {
  return {
    read: 0,
    lost: 0,
    dropped: 0,
    gaps: 0,
    lastSeq: -1,
    gapLog: [],
    seqErrors: 0,
    lengthErrors: 0,
    payloadErrors: 0,
    timeErrors: 0,
    sampled: 0,
    batches: 0,
    busyNs: 0,
    elapsedNs: 0,
    timedOut: false,
  };
}

/** Checks the result of a run of `written` events (sequence numbers 0..written-1); returns the problems found. */
export function checkConsumed(what: string, c: ConsumeResult, written: number, dropped: number, lossy = false): string[] {
  const problems: string[] = [];
  if (c.timedOut) problems.push(`${what}: the consumer timed out`);
  if (c.read + dropped + c.lost !== written) {
    problems.push(`${what}: written ${written} != read ${c.read} + dropped ${dropped} + lost ${c.lost}`);
  }
  const missing = c.gaps + (written - 1 - c.lastSeq);
  if (missing !== dropped + c.lost) {
    problems.push(
      `${what}: ${missing} sequence numbers missing, but ${dropped + c.lost} refused/lost ` +
        `(last read ${c.lastSeq}; first gaps [before, after, sub-buffer, index]: ${JSON.stringify(c.gapLog)})`,
    );
  }
  if (!lossy && c.lost !== 0) problems.push(`${what}: ${c.lost} events lost in a mode that must not lose any`);
  for (const [name, n] of [
    ['out-of-order sequence numbers', c.seqErrors],
    ['bad lengths', c.lengthErrors],
    ['bad sampled payloads', c.payloadErrors],
    ['timestamps going back', c.timeErrors],
  ] as const) {
    if (n !== 0) problems.push(`${what}: ${n} ${name}`);
  }
  return problems;
}

// --- tracering ------------------------------------------------------------------

/** Events `from`..`stop` - 1 (their sequence numbers) reserved in place and committed; returns how many were refused. */
function trWriteRun(w: RingWriter, from: number, stop: number, len: number): number {
  const view = w.view;
  let dropped = 0;
  for (let seq = from; seq < stop; seq++) {
    const at = w.reserve(len);
    if (at < 0) {
      dropped++;
      continue;
    }
    view.setUint32(at, PAYLOAD_ID, true);
    view.setUint32(at + 4, seq, true);
    for (let k = 8; k < len; k += 4) view.setUint32(at + k, FILL, true);
    w.commit();
  }
  return dropped;
}

/**
 * Writes `count` events of `len` bytes into the ring, reserving each in
 * place and writing its payload words through `writer.view`; publishes
 * (flush) after every `batch` events, as the end of a synchronous run does.
 */
export function trWrite(w: RingWriter, count: number, len: number, batch: number): WriteResult {
  let dropped = 0;
  const c0 = cpuNow();
  const t0 = process.hrtime.bigint();
  for (let b = 0; b < count; b += batch) {
    const stop = b + batch < count ? b + batch : count;
    dropped += trWriteRun(w, b, stop, len);
    w.flush();
  }
  const ns = Number(process.hrtime.bigint() - t0);
  return { events: count, dropped, ns, cpuNs: cpuNow() - c0 };
}

/**
 * The floor under every writer: the same payload stores, in the same loop
 * shape, into plain shared memory of the ring's size (a header word and the
 * payload per event, wrapping at the end) with no ring logic and no clock.
 */
export function plainWrite(bytes: number, count: number, len: number, batch: number): WriteResult {
  const view = new DataView(new SharedArrayBuffer(bytes));
  const step = 4 + ((len + 3) & ~3);
  const last = bytes - step;
  let at = 0;
  const c0 = cpuNow();
  const t0 = process.hrtime.bigint();
  for (let b = 0; b < count; b += batch) {
    const stop = b + batch < count ? b + batch : count;
    for (let seq = b; seq < stop; seq++) {
      if (at > last) at = 0;
      view.setUint32(at, len, true);
      const p = at + 4;
      view.setUint32(p, PAYLOAD_ID, true);
      view.setUint32(p + 4, seq, true);
      for (let k = 8; k < len; k += 4) view.setUint32(p + k, FILL, true);
      at += step;
    }
  }
  const ns = Number(process.hrtime.bigint() - t0);
  return { events: count, dropped: 0, ns, cpuNs: cpuNow() - c0 };
}

/**
 * The same through the default auto-flush: each run of `batch` events ends
 * with an await, and the writer's queued microtask publishes it.
 */
export async function trWriteAuto(w: RingWriter, count: number, len: number, batch: number): Promise<WriteResult> {
  let dropped = 0;
  const c0 = cpuNow();
  const t0 = process.hrtime.bigint();
  for (let b = 0; b < count; b += batch) {
    const stop = b + batch < count ? b + batch : count;
    dropped += trWriteRun(w, b, stop, len);
    await null;
  }
  const ns = Number(process.hrtime.bigint() - t0);
  return { events: count, dropped, ns, cpuNs: cpuNow() - c0 };
}

/**
 * Consumes a ring until its writer has closed it and everything is read:
 * RingReader.next() and a walk over each batch's records (sequence number,
 * length, timestamp; whole payload sampled). `start` is when timing starts
 * (ns, process.hrtime.bigint()), or 0n to start at the first poll.
 */
export function trConsume(reader: RingReader, len: number, deadlineMs: number, backoffNs: number, start = 0n): ConsumeResult {
  const r = newConsumeResult();
  const t0 = start === 0n ? process.hrtime.bigint() : start;
  let lastEventAt = t0;
  const deadline = Date.now() + deadlineMs;
  const padded = (len + 3) & ~3;
  let last = -1;
  let lastHi = 0;
  let lastLo = 0;
  let closedSeen = false;
  let idle = 0;
  for (;;) {
    const p0 = performance.now();
    const b = reader.next();
    if (b === null || b.count === 0) {
      if (closedSeen) break;
      if (reader.channel.writerClosed) closedSeen = true;
      else if ((++idle & 1023) === 0 && Date.now() > deadline) {
        r.timedOut = true;
        break;
      } else if (backoffNs > 0) backOff(backoffNs);
      continue;
    }
    const view = b.view;
    const rec = b.records;
    const n = b.count;
    for (let i = 0; i < n; i++) {
      const k = i << 2;
      const off = rec[k]!;
      if (rec[k + 1]! !== padded) r.lengthErrors++;
      const seq = view.getUint32(off + 4, true);
      if (seq <= last) r.seqErrors++;
      else if (seq !== last + 1) {
        r.gaps += seq - last - 1;
        if (r.gapLog.length < 16) r.gapLog.push([last, seq, b.subbufId, i]);
      }
      last = seq;
      const hi = rec[k + 2]! >>> 0;
      const lo = rec[k + 3]! >>> 0;
      if (hi < lastHi || (hi === lastHi && lo < lastLo)) r.timeErrors++;
      lastHi = hi;
      lastLo = lo;
      if ((seq & SAMPLE_MASK) === 0) {
        r.sampled++;
        let ok = view.getUint32(off, true) === PAYLOAD_ID;
        for (let k = 8; k < len; k += 4) ok = ok && view.getUint32(off + k, true) === FILL;
        if (!ok) r.payloadErrors++;
      }
    }
    r.read += n;
    r.batches++;
    r.busyNs += (performance.now() - p0) * 1e6;
    lastEventAt = process.hrtime.bigint();
  }
  r.lastSeq = last;
  reader.finish();
  r.dropped = reader.counters.dropped;
  r.lost = reader.counters.lost;
  r.elapsedNs = Number(lastEventAt - t0);
  return r;
}

// --- ringbuf.js -------------------------------------------------------------------

/**
 * Bytes of ringbuf.js storage for a ring of about `bytes` holding whole
 * records: a capacity that is a multiple of the record length keeps every
 * push and pop a whole number of records (a push writes min(free, asked)).
 */
export function rbCapacity(bytes: number, recLen: number): number {
  return Math.floor(bytes / recLen) * recLen;
}

function stageRecord(v: DataView, at: number, seq: number, len: number): void {
  v.setUint32(at, PAYLOAD_ID, true);
  v.setUint32(at + 4, seq, true);
  for (let k = 8; k < len; k += 4) v.setUint32(at + k, FILL, true);
}

/**
 * One push per event: the payload (and, with `ts`, an 8-byte timestamp
 * from process.hrtime(): u32 seconds, u32 nanoseconds) staged in a record,
 * then pushed. A full ring refuses the event (push returns 0).
 */
export function rbWriteEach(rb: RingBuffer, count: number, len: number, ts: boolean): WriteResult {
  const recLen = ts ? len + 8 : len;
  const rec = new Uint8Array(recLen);
  const v = new DataView(rec.buffer);
  let dropped = 0;
  const c0 = cpuNow();
  const t0 = process.hrtime.bigint();
  for (let seq = 0; seq < count; seq++) {
    stageRecord(v, 0, seq, len);
    if (ts) {
      const t = process.hrtime();
      v.setUint32(len, t[0], true);
      v.setUint32(len + 4, t[1], true);
    }
    if (rb.push(rec) === 0) dropped++;
  }
  const ns = Number(process.hrtime.bigint() - t0);
  return { events: count, dropped, ns, cpuNs: cpuNow() - c0 };
}

/**
 * `batch` events staged back to back (each with its own timestamp when
 * `ts`), then one push; events that do not fit are refused. With `solo`
 * (ringbuf.js's storage as a SharedArrayBuffer) there is no consumer: the
 * read pointer (the storage's second u32) is moved to the write pointer
 * after each push, as a consumer taking everything at once would: the
 * writer's own cost, with nothing refused.
 */
export function rbWriteBatch(rb: RingBuffer, count: number, len: number, ts: boolean, batch: number, solo: SharedArrayBuffer | null = null): WriteResult {
  const recLen = ts ? len + 8 : len;
  const stage = new Uint8Array(recLen * batch);
  const v = new DataView(stage.buffer);
  const ptrs = solo !== null ? new Uint32Array(solo, 0, 2) : null;
  let dropped = 0;
  const c0 = cpuNow();
  const t0 = process.hrtime.bigint();
  for (let b = 0; b < count; b += batch) {
    const stop = b + batch < count ? b + batch : count;
    let at = 0;
    for (let seq = b; seq < stop; seq++) {
      stageRecord(v, at, seq, len);
      if (ts) {
        const t = process.hrtime();
        v.setUint32(at + len, t[0], true);
        v.setUint32(at + len + 4, t[1], true);
      }
      at += recLen;
    }
    const pushed = rb.push(stage, at);
    if (pushed !== at) dropped += (at - pushed) / recLen;
    if (ptrs !== null) Atomics.store(ptrs, 1, Atomics.load(ptrs, 0));
  }
  const ns = Number(process.hrtime.bigint() - t0);
  return { events: count, dropped, ns, cpuNs: cpuNow() - c0 };
}

/**
 * Pops records until `done[0]` is set (the writer finished) and the ring is
 * empty, walking each record as trConsume does.
 */
export function rbConsume(
  rb: RingBuffer,
  len: number,
  ts: boolean,
  done: Int32Array,
  deadlineMs: number,
  backoffNs: number,
  start = 0n,
): ConsumeResult {
  const r = newConsumeResult();
  const recLen = ts ? len + 8 : len;
  const buf = new Uint8Array(recLen * Math.max(1, Math.floor(65536 / recLen)));
  const view = new DataView(buf.buffer);
  const t0 = start === 0n ? process.hrtime.bigint() : start;
  let lastEventAt = t0;
  const deadline = Date.now() + deadlineMs;
  let last = -1;
  let lastSec = 0;
  let lastNs = 0;
  let doneSeen = false;
  let idle = 0;
  for (;;) {
    const p0 = performance.now();
    const got = rb.pop(buf);
    if (got === 0) {
      if (doneSeen) break;
      if (Atomics.load(done, 0) !== 0) doneSeen = true;
      else if ((++idle & 1023) === 0 && Date.now() > deadline) {
        r.timedOut = true;
        break;
      } else if (backoffNs > 0) backOff(backoffNs);
      continue;
    }
    if (got % recLen !== 0) r.lengthErrors++;
    let n = 0;
    for (let off = 0; off + recLen <= got; off += recLen) {
      const seq = view.getUint32(off + 4, true);
      if (seq <= last) r.seqErrors++;
      else if (seq !== last + 1) {
        r.gaps += seq - last - 1;
        if (r.gapLog.length < 16) r.gapLog.push([last, seq, -1, off / recLen]);
      }
      last = seq;
      if (ts) {
        const sec = view.getUint32(off + len, true);
        const ns = view.getUint32(off + len + 4, true);
        if (sec < lastSec || (sec === lastSec && ns < lastNs)) r.timeErrors++;
        lastSec = sec;
        lastNs = ns;
      }
      if ((seq & SAMPLE_MASK) === 0) {
        r.sampled++;
        let ok = view.getUint32(off, true) === PAYLOAD_ID;
        for (let k = 8; k < len; k += 4) ok = ok && view.getUint32(off + k, true) === FILL;
        if (!ok) r.payloadErrors++;
      }
      n++;
    }
    r.read += n;
    r.batches++;
    r.busyNs += (performance.now() - p0) * 1e6;
    lastEventAt = process.hrtime.bigint();
  }
  r.lastSeq = last;
  r.elapsedNs = Number(lastEventAt - t0);
  return r;
}
