// The single writer of an application ring. Records are reserved and filled
// in place, encoded exactly as the kernel's ring buffer encodes them
// (kernel/trace/ring_buffer.c: rb_calculate_event_length, __rb_reserve_next,
// rb_reset_tail, rb_move_tail):
//
//   - the first record of a sub-buffer has delta 0 and sets its time_stamp;
//   - a delta of 2^27 or more gets a TIME_EXTEND record first;
//   - a record that does not fit ends the sub-buffer: a padding record
//     (type 29, delta 1) covers the rest if at least 8 bytes remain, and the
//     writer moves to the next ring slot;
//   - when that slot holds the oldest unread page (the ring is full), the
//     writer overwrites it (overwrite: pushes the head, counts its events as
//     overrun), drops the record (discard), or waits for the reader (block).
//
// Lock-free against the reader: the writer owns the tail and its page's
// commit word; it touches the head only when the ring is full, by CAS. What
// it writes becomes visible per batch, not per record: flush() (run
// automatically at the end of the current synchronous run) publishes the
// commit word, the counters, and wakes a waiting reader.

import { InvalidArgumentError } from '../errors.js';
import { MAX_HEADER_DELTA, MIN_PADDING_LENGTH, writePadding, writeTimeExtend } from '../layout/encode.js';
import { CTRL, FLAG_WRITER_CLOSED, HEAD_SHIFT, HEAD_SWAPPING, HEAD_UPDATING, type RingMode } from '../layout/ring-control.js';
import { SMALL_PAYLOAD_MAX } from '../layout/record.js';
import { addRelative, monotonicParts, partsToHiLo, relativeTo } from './clock.js';
import type { RingControl } from './control.js';

/** How a writer timestamps records: 'event' (a clock read per record) or 'batch' (one per batch). */
export type ClockMode = 'event' | 'batch';

/** Options of AppRing.writer(). */
export interface RingWriterOptions {
  /** 'event' (default): a clock read per record. 'batch': one per batch, shared by its records. */
  clock?: ClockMode;
  /** common_pid written by reserveEvent (default: the writer's thread id). */
  pid?: number;
  /** Wait at most this long for space in block mode (default 1000 ms). */
  blockTimeoutMs?: number;
  /** Publish automatically at the end of each synchronous run (default true). */
  autoFlush?: boolean;
  /** Base of relative times, as (hi, lo) nanoseconds; default now. For replaying given timestamps. */
  clockBase?: readonly [number, number];
}

const TWO32 = 4294967296;
const DATA_OFFSET = 16;
const MODE_CODE: Record<RingMode, number> = { overwrite: 0, discard: 1, block: 2 };

/** The writer of an application ring (one per ring): reserves, fills and commits records in place. */
export class RingWriter {
  /** Views over the whole ring memory: payloads are written at the offsets reserve() returns. */
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** Int32 view of the same memory, for the header words (host order = little-endian here). */
  readonly #i32: Int32Array;
  readonly mode: RingMode;
  /** Events written, overwritten and refused, as this writer counts them. */
  entries = 0;
  overrun = 0;
  dropped = 0;

  readonly #ctl: RingControl;
  readonly #modeCode: number;
  readonly #dataSize: number;
  readonly #subbufSize: number;
  readonly #slots: number;
  readonly #pid: number;
  readonly #batchClock: boolean;
  readonly #autoFlush: boolean;
  readonly #blockTimeoutMs: number;
  readonly #watermark: number;
  /** CLOCK_MONOTONIC when the writer started, and that instant relative to the clock base. */
  readonly #startSec: number;
  readonly #startNs: number;
  readonly #startRel: number;
  readonly #baseHi: number;
  readonly #baseLo: number;

  /** Sub-buffer being written, its data area's byte offset, and the write offset in it. */
  #cur = 0;
  #dataStart = 0;
  #pos = 0;
  /** End of the records committed so far (a reserved record is not). */
  #committed = 0;
  /** Commit value last published to the reader. */
  #published = 0;
  /** The page was closed (padded) but the writer could not move on yet. */
  #closedPage = false;
  #pageEvents = 0;
  #tail = 0;
  /** Time of the last record, relative to the base (ns). */
  #last = 0;
  /** Batch clock: the batch's time, or -1 before its first record. */
  #batchTime = -1;
  #flushPending = false;
  #publishedEntries = -1;
  #publishedOverrun = -1;
  #publishedDropped = -1;
  #closed = false;
  readonly #flush = () => this.flush();

  constructor(ctl: RingControl, mode: RingMode, options: RingWriterOptions = {}) {
    this.#ctl = ctl;
    this.bytes = ctl.memory.bytes;
    this.view = ctl.memory.view;
    this.#i32 = ctl.memory.i32;
    this.mode = mode;
    this.#modeCode = MODE_CODE[mode];
    this.#subbufSize = ctl.geometry.subbufSize;
    this.#dataSize = this.#subbufSize - DATA_OFFSET;
    this.#slots = ctl.slotCount;
    this.#pid = options.pid ?? 0;
    this.#batchClock = options.clock === 'batch';
    this.#autoFlush = options.autoFlush ?? true;
    // Without auto-flush nothing is ever pending: reserve() skips the check.
    this.#flushPending = !this.#autoFlush;
    this.#blockTimeoutMs = options.blockTimeoutMs ?? 1000;
    this.#watermark = ctl.load(CTRL.watermark);
    const [sec, ns] = monotonicParts();
    const start = partsToHiLo(sec, ns);
    this.#startSec = sec;
    this.#startNs = ns;
    [this.#baseHi, this.#baseLo] = options.clockBase ?? start;
    this.#startRel = relativeTo(this.#baseHi, this.#baseLo, start[0], start[1]);
    // Continue where the ring's tail is (a fresh ring: position 0, slot 0).
    this.#tail = ctl.load(CTRL.tail) >>> HEAD_SHIFT;
    this.#enter(ctl.slot(this.#tail % this.#slots));
    this.entries = ctl.load64(CTRL.entries);
    this.overrun = ctl.load64(CTRL.overrun);
    this.dropped = ctl.load64(CTRL.dropped);
  }

  /** Nanoseconds since the writer's clock base, from CLOCK_MONOTONIC. */
  now(): number {
    const t = process.hrtime();
    return (t[0] - this.#startSec) * 1e9 + (t[1] - this.#startNs) + this.#startRel;
  }

  /** The writer's clock base as (hi, lo) nanoseconds. */
  get clockBase(): [number, number] {
    return [this.#baseHi, this.#baseLo];
  }

  /**
   * Reserves a record of `length` payload bytes stamped now; returns the
   * payload's byte offset in `bytes`/`view`, or -1 when the record was
   * dropped (counted in `dropped`, or `overrun` when a reader swap was in
   * the way). Fill the payload, then commit().
   */
  reserve(length: number): number {
    let time: number;
    if (this.#batchClock) {
      time = this.#batchTime;
      if (time < 0) time = this.#batchTime = this.now();
    } else {
      const t = process.hrtime();
      time = (t[0] - this.#startSec) * 1e9 + (t[1] - this.#startNs) + this.#startRel;
    }
    return this.reserveAt(length, time);
  }

  /** reserve() at a given time (ns relative to the clock base; see clockBase). */
  reserveAt(length: number, time: number): number {
    // Fast path (inlined into callers): a record on a page already started,
    // with a delta that fits the header word. Everything else (a page's
    // first record, TIME_EXTEND, moving to the next page, bad lengths) is
    // the general path below.
    const pos = this.#pos;
    const delta = time - this.#last;
    if (pos !== 0 && length > 0 && delta >= 0 && delta < 134217728) {
      const large = length > 112;
      let size = (length + (large ? 11 : 7)) & ~3;
      if (size === 12) size = 16;
      const end = pos + size;
      if (end <= this.#dataSize) {
        const at = this.#dataStart + pos;
        const word = at >> 2;
        const i32 = this.#i32;
        let payload = at + 4;
        if (large) {
          i32[word] = delta << 5; // type_len 0: the length follows
          i32[word + 1] = size - 4;
          payload = at + 8;
        } else {
          i32[word] = (delta << 5) | ((size - 4) >>> 2);
        }
        this.#pos = end;
        this.#last = time;
        this.#pageEvents++;
        this.entries++;
        if (!this.#flushPending) this.#scheduleFlush();
        return payload;
      }
    }
    return this.#reserveSlow(length, time);
  }

  #scheduleFlush(): void {
    if (!this.#autoFlush) return;
    this.#flushPending = true;
    queueMicrotask(this.#flush);
  }

  #reserveSlow(length: number, time: number): number {
    // rb_calculate_event_length: 0 counts as 1; larger payloads carry their length.
    let size = length === 0 ? 1 : length;
    size = (size + (size > SMALL_PAYLOAD_MAX ? 11 : 7)) & ~3;
    if (size === 12) size = 16;
    if (size > this.#dataSize || !(length >= 0)) {
      throw new InvalidArgumentError(`a ${length}-byte record does not fit a ${this.#subbufSize}-byte sub-buffer`);
    }
    let pos = this.#pos;
    let delta = 0;
    let extend = false;
    if (pos !== 0) {
      delta = time - this.#last;
      if (delta < 0) delta = 0; // the clock went backwards: the kernel writes 0 too
      else if (delta > MAX_HEADER_DELTA) extend = true;
    }
    if (pos + size + (extend ? 8 : 0) > this.#dataSize) {
      if (!this.#advance()) return -1;
      pos = 0;
      delta = 0;
      extend = false;
    }
    const view = this.view;
    let at = this.#dataStart + pos;
    if (pos === 0) {
      // The page's time_stamp is the full time of its first record.
      const [hi, lo] = addRelative(this.#baseHi, this.#baseLo, time < 0 ? 0 : time);
      view.setUint32(this.#dataStart - 16, lo, true);
      view.setUint32(this.#dataStart - 12, hi, true);
    } else if (extend) {
      const dHi = Math.floor(delta / TWO32);
      writeTimeExtend(view, at, dHi, delta - dHi * TWO32, true);
      at += 8;
      pos += 8;
      delta = 0;
    }
    // rb_update_event: type_len = body / 4, or 0 with the length in array[0].
    const body = size - 4;
    let payload: number;
    if (body > SMALL_PAYLOAD_MAX) {
      view.setUint32(at, delta << 5, true);
      view.setUint32(at + 4, body, true);
      payload = at + 8;
    } else {
      view.setUint32(at, ((delta << 5) | (body >>> 2)) >>> 0, true);
      payload = at + 4;
    }
    this.#pos = pos + size;
    this.#last = time;
    this.#pageEvents++;
    this.entries++;
    if (this.#autoFlush && !this.#flushPending) {
      this.#flushPending = true;
      queueMicrotask(this.#flush);
    }
    return payload;
  }

  /** Reserves a record for event `type` and writes its 8-byte common header; returns the payload offset (or -1). */
  reserveEvent(type: number, length: number): number {
    const at = this.reserve(length);
    if (at >= 0) {
      const view = this.view;
      view.setUint32(at, type & 0xffff, true); // common_type; flags and preempt count 0
      view.setInt32(at + 4, this.#pid, true);
    }
    return at;
  }

  /** Marks the last reserved record complete: the next flush publishes it. */
  commit(): void {
    this.#committed = this.#pos;
  }

  /** Writes `payload` as one record (reserve, copy, commit); false if it was dropped. */
  write(payload: Uint8Array): boolean {
    const at = this.reserve(payload.length);
    if (at < 0) return false;
    this.bytes.set(payload, at);
    this.#committed = this.#pos;
    return true;
  }

  /**
   * Publishes what was committed: the page's commit word, the counters,
   * and a wake-up for a reader waiting at the watermark.
   */
  flush(): void {
    this.#flushPending = !this.#autoFlush;
    this.#batchTime = -1;
    if (this.#closed) return;
    const ctl = this.#ctl;
    if (!this.#closedPage && this.#committed !== this.#published) {
      // A sequentially consistent store: the records written before it are
      // visible to a reader that loads this commit.
      Atomics.store(ctl.memory.i32, ctl.commitWord(this.#cur), this.#committed);
      this.#published = this.#committed;
    }
    // The shared counters (entries, overrun, dropped) are published when the
    // writer leaves a page (#advance) and on close(), not per batch: a
    // sequentially consistent 64-bit store (and a BigInt) per flush, on a
    // line the reader loads at every poll, cost more than the records.
    if (ctl.load(CTRL.readerWaiting) !== 0) {
      this.#publishCounters();
      if (this.#watermarkReached()) this.#wakeReader();
    }
  }

  #publishCounters(): void {
    const ctl = this.#ctl;
    if (this.entries !== this.#publishedEntries) {
      ctl.store64(CTRL.entries, this.entries);
      this.#publishedEntries = this.entries;
    }
    if (this.overrun !== this.#publishedOverrun) {
      ctl.store64(CTRL.overrun, this.overrun);
      this.#publishedOverrun = this.overrun;
    }
    if (this.dropped !== this.#publishedDropped) {
      ctl.store64(CTRL.dropped, this.dropped);
      this.#publishedDropped = this.dropped;
    }
  }

  // The kernel's full_hit(): (dirty + 1) * 100 >= percent * pages.
  #watermarkReached(): boolean {
    if (this.#watermark === 0) return true;
    const dirty = this.#ctl.distance(this.#ctl.load(CTRL.head) >>> HEAD_SHIFT, this.#tail);
    return (dirty + 1) * 100 >= this.#watermark * this.#slots;
  }

  #wakeReader(): void {
    const ctl = this.#ctl;
    Atomics.add(ctl.memory.i32, ctl.word(CTRL.wakeSeq), 1);
    ctl.memory.notify(ctl.word(CTRL.wakeSeq), 1);
  }

  /** Starts writing sub-buffer `id` from its beginning. */
  #enter(id: number): void {
    this.#cur = id;
    this.#dataStart = this.#ctl.subbufStart(id) + DATA_OFFSET;
    this.#pos = 0;
    this.#committed = 0;
    this.#published = 0;
    this.#pageEvents = 0;
    this.#closedPage = false;
  }

  /** Closes the current page (rb_reset_tail) and publishes it complete. */
  #closePage(): void {
    const ctl = this.#ctl;
    const pos = this.#pos;
    const rest = this.#dataSize - pos;
    ctl.setRealEnd(this.#cur, pos);
    let commit = pos;
    if (rest >= MIN_PADDING_LENGTH) {
      writePadding(this.view, this.#dataStart + pos, rest, true);
      commit = this.#dataSize;
    }
    ctl.setPageEntries(this.#cur, this.#pageEvents);
    Atomics.store(ctl.memory.i32, ctl.commitWord(this.#cur), commit);
    this.#published = this.#committed = commit;
    this.#pos = this.#dataSize; // later reserves retry the move
    this.#closedPage = true;
  }

  /** Moves to the next ring slot (rb_move_tail); false if the record must be dropped. */
  #advance(): boolean {
    const ctl = this.#ctl;
    if (!this.#closedPage) this.#closePage();
    const next = ctl.nextPosition(this.#tail);
    let deadline = 0; // read the clock only if the reader is mid-swap: refusals stay cheap
    for (let spins = 0; ; spins++) {
      const head = ctl.load(CTRL.head);
      const headPos = head >>> HEAD_SHIFT;
      if (ctl.distance(headPos, next) < this.#slots) break; // the slot is free
      // The ring is full: the next slot holds the oldest unread page.
      if (this.#modeCode === 1) {
        this.dropped++;
        return false;
      }
      if (this.#modeCode === 2) {
        if (this.#waitForSpace(head)) continue;
        this.dropped++;
        return false;
      }
      if ((head & HEAD_SWAPPING) !== 0) {
        // The reader is taking that page right now (a few stores); once it
        // has, the ring is not full. Only a reader stalled mid-swap costs
        // this record, counted as refused so loss flags stay exact.
        if (deadline === 0) deadline = Date.now() + 100;
        else if (Date.now() > deadline) {
          this.dropped++;
          return false;
        }
        this.#awaitReader(head, spins);
        continue;
      }
      // Push the head: mark the push, count the page's events as overrun,
      // publish, unmark. A reader that sees the mark waits, so the overrun
      // it reads before claiming a page is exact (the kernel's order).
      if (ctl.cas(CTRL.head, head, (ctl.nextPosition(headPos) << HEAD_SHIFT) | HEAD_UPDATING)) {
        this.overrun += ctl.pageEntries(ctl.slot(headPos % this.#slots));
        ctl.store64(CTRL.overrun, this.overrun);
        this.#publishedOverrun = this.overrun;
        ctl.store(CTRL.head, ctl.nextPosition(headPos) << HEAD_SHIFT);
        break;
      }
    }
    const id = ctl.slot(next % this.#slots);
    // Empty before the tail says so: a reader that swaps it in sees no data.
    ctl.setCommit(id, 0);
    this.#tail = next;
    ctl.store(CTRL.tail, next << HEAD_SHIFT);
    this.#enter(id);
    this.#publishCounters();
    return true;
  }

  /** Waits a moment for the reader to finish a swap (it notifies when a writer waits). */
  #awaitReader(head: number, spins: number): void {
    if (spins < 200) return;
    const ctl = this.#ctl;
    ctl.store(CTRL.writerWaiting, 1);
    ctl.memory.wait(ctl.word(CTRL.head), head, 1);
    ctl.store(CTRL.writerWaiting, 0);
  }

  /** Block mode: sleeps until the reader moves the head (or the timeout); true if it moved. */
  #waitForSpace(head: number): boolean {
    const ctl = this.#ctl;
    this.flush();
    ctl.store(CTRL.writerWaiting, 1);
    const r = ctl.memory.wait(ctl.word(CTRL.head), head, this.#blockTimeoutMs);
    ctl.store(CTRL.writerWaiting, 0);
    return r !== 'timed-out';
  }

  /** Publishes everything and marks the ring as finished by its writer. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#publishCounters();
    this.#closed = true;
    const ctl = this.#ctl;
    Atomics.or(ctl.memory.i32, ctl.word(CTRL.flags), FLAG_WRITER_CLOSED);
    ctl.store(CTRL.writer, 0);
    this.#wakeReader();
  }
}
