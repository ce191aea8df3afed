// The staging ring between the capture thread (which takes sub-buffers out
// of the kernel at the kernel's pace) and the output thread (which decodes
// and writes them at the output's pace). Shared memory, kernel page layout:
// each slot holds one whole sub-buffer exactly as a reader got it.
//
// Slots come from one pool shared by every CPU, so a burst on one CPU can
// use all of it. Each CPU has a queue of ready slots, in the order they
// were read. The output thread claims slots from the queues, reads them in
// place (no copy), and releases them to the pool.
//
// When the pool is empty the capture thread applies the policy:
//   'block'       wait for the output thread to release slots (the kernel
//                 buffer then fills, and overwrites if it must: kernel losses);
//   'drop-oldest' reuse the oldest unclaimed slot (of this CPU if it has
//                 one, else of the CPU with most queued), counting its events
//                 as lost; when every slot is claimed, the incoming page is
//                 dropped and counted instead.
// Losses are exact: each slot carries the number of events the capture
// thread produced on its CPU before it, so the reader sees any gap.
//
// Index updates take a tiny spin lock; page contents are written and read
// outside it (a slot belongs to one side at a time).

import { InvalidArgumentError } from '../errors.js';

/** What the capture thread does when staging is full: wait for the output ('block': the kernel buffer then overwrites) or reuse the oldest queued page ('drop-oldest'); either way every loss is counted. */
export type StagingPolicy = 'block' | 'drop-oldest';

// Control words (Int32).
const LOCK = 0;
/** Pages published so far (wraps): the output thread waits on it. */
const SEQ = 1;
/** The output thread is waiting on SEQ. */
const CONSUMER_WAITING = 2;
/** Releases so far (wraps): the capture thread waits on it when the pool is empty. */
const RELEASES = 3;
const FREE_TOP = 4;
/** 1: the capture thread must block, not drop (the final drain). */
const FORCE_BLOCK = 5;
/** 1: stop waiting at once (forced exit). */
const ABORT = 6;
/** 1: the capture thread has closed its readers (unmapped, fds closed). */
const CLOSED = 7;
/** The SEQ value at which a waiting output thread wants to be woken (a batch, not every page). */
const WAKE_AT = 8;
const CTL_WORDS = 9;

// Per-CPU words (Float64, under the lock: exact past 2^31 pages): queue
// head (claim side), queue tail (publish side).
const Q_HEAD = 0;
const Q_TAIL = 1;
const CPU_WORDS = 2;

// Per-slot metadata (Float64): events produced on its CPU before it, its
// events, the kernel's loss report before it.
const M_BEFORE = 0;
const M_EVENTS = 1;
const M_KERNEL_LOST = 2;
const META_WORDS = 3;

// Per-CPU totals (Float64): events produced (published or dropped), events
// dropped by the capture side, pages dropped.
const T_PRODUCED = 0;
const T_DROPPED_EVENTS = 1;
const T_DROPPED_PAGES = 2;
const TOTAL_WORDS = 3;

/** The shape of a staging ring: queues (one per CPU), slots, and the bytes of each slot (one sub-buffer). */
export interface StagingGeometry {
  readonly cpus: number;
  readonly slots: number;
  readonly slotSize: number;
}

/** Result of StagingRing.reserve(). */
export const NO_SLOT = -1;

/** Shared memory between the capture thread and the output thread: whole sub-buffers in slots, queued per CPU, with exact loss counts. */
export class StagingRing {
  readonly geometry: StagingGeometry;
  readonly memory: SharedArrayBuffer;
  /** The slots' bytes (slot i at i * slotSize). */
  readonly data: Uint8Array;
  readonly view: DataView;
  readonly #ctl: Int32Array;
  readonly #free: Int32Array;
  readonly #queues: Int32Array;
  readonly #cpuWords: Float64Array;
  readonly #meta: Float64Array;
  readonly #totals: Float64Array;
  #policy: StagingPolicy;
  #descriptor: Int32Array | null = null;

  private constructor(memory: SharedArrayBuffer, geometry: StagingGeometry, policy: StagingPolicy) {
    const { cpus, slots, slotSize } = geometry;
    this.geometry = geometry;
    this.memory = memory;
    this.#policy = policy;
    let at = 0;
    const f64 = (n: number) => {
      at = Math.ceil(at / 8) * 8;
      const a = new Float64Array(memory, at, n);
      at += n * 8;
      return a;
    };
    const i32 = (n: number) => {
      const a = new Int32Array(memory, at, n);
      at += n * 4;
      return a;
    };
    this.#meta = f64(slots * META_WORDS);
    this.#totals = f64(cpus * TOTAL_WORDS);
    this.#cpuWords = f64(cpus * CPU_WORDS);
    this.#ctl = i32(CTL_WORDS);
    this.#free = i32(slots);
    this.#queues = i32(cpus * slots);
    at = Math.ceil(at / 4096) * 4096;
    this.data = new Uint8Array(memory, at, slots * slotSize);
    this.view = new DataView(memory, at, slots * slotSize);
  }

  /** Bytes of shared memory a ring of this geometry needs. */
  static bytesFor(geometry: StagingGeometry): number {
    const { cpus, slots, slotSize } = geometry;
    const head = (slots * META_WORDS + cpus * TOTAL_WORDS + cpus * CPU_WORDS) * 8 + (CTL_WORDS + slots + cpus * slots) * 4;
    return Math.ceil((head + 8) / 4096) * 4096 + slots * slotSize;
  }

  /**
   * The most slots of `slotSize` bytes a ring may have: decoders address
   * records by 31-bit offsets into the slots' bytes, so those stay below
   * 2 GiB; and at most 2^20 slots (the per-CPU queues cost 4 bytes per slot
   * and CPU).
   */
  static maxSlots(slotSize: number): number {
    return Math.min(1 << 20, Math.floor((2 ** 31 - 65536) / slotSize));
  }

  /** A new ring; every slot free. */
  static create(geometry: StagingGeometry, policy: StagingPolicy): StagingRing {
    const { cpus, slots, slotSize } = geometry;
    if (!Number.isInteger(cpus) || cpus < 1 || cpus > 4096) throw new InvalidArgumentError('staging ring: cpus must be in 1..4096');
    if (!Number.isInteger(slotSize) || slotSize < 64 || slotSize % 8 !== 0) throw new InvalidArgumentError('staging ring: bad slot size');
    const most = StagingRing.maxSlots(slotSize);
    if (!Number.isInteger(slots) || slots < 2 || slots > most) throw new InvalidArgumentError(`staging ring: slots must be in 2..${most} for ${slotSize}-byte slots`);
    const ring = new StagingRing(new SharedArrayBuffer(StagingRing.bytesFor(geometry)), geometry, policy);
    for (let i = 0; i < slots; i++) ring.#free[i] = i;
    ring.#ctl[FREE_TOP] = slots;
    return ring;
  }

  /** The same ring seen from another thread. */
  static attach(memory: SharedArrayBuffer, geometry: StagingGeometry, policy: StagingPolicy): StagingRing {
    if (memory.byteLength !== StagingRing.bytesFor(geometry)) throw new InvalidArgumentError('staging ring: memory does not match the geometry');
    return new StagingRing(memory, geometry, policy);
  }

  get policy(): StagingPolicy {
    return this.#policy;
  }

  /** The whole shared memory as bytes (what native.stagePages takes with nativeDescriptor). */
  get bytes(): Uint8Array {
    return new Uint8Array(this.memory);
  }

  /**
   * Where everything lives, for native.stagePages (native/stage-pages.c):
   * byte offsets, geometry, then the word indices it uses, in the order
   * that file's D_* enumeration lists them. The layout stays defined here
   * alone.
   */
  get nativeDescriptor(): Int32Array {
    if (this.#descriptor !== null) return this.#descriptor;
    const { cpus, slots, slotSize } = this.geometry;
    this.#descriptor = Int32Array.of(
      this.#ctl.byteOffset, this.#free.byteOffset, this.#queues.byteOffset, this.#cpuWords.byteOffset, this.#meta.byteOffset, this.#totals.byteOffset, this.data.byteOffset,
      slots, slotSize, cpus,
      LOCK, SEQ, CONSUMER_WAITING, WAKE_AT, FREE_TOP, ABORT,
      CPU_WORDS, Q_TAIL,
      META_WORDS, M_BEFORE, M_EVENTS, M_KERNEL_LOST,
      TOTAL_WORDS, T_PRODUCED,
    );
    return this.#descriptor;
  }

  /** Wakes the output thread if it waits for what is published now (after native.stagePages asked for it). */
  wakeConsumer(): void {
    if (Atomics.load(this.#ctl, CONSUMER_WAITING) !== 0) Atomics.notify(this.#ctl, SEQ);
  }

  #lock(): void {
    const ctl = this.#ctl;
    for (let spins = 0; Atomics.compareExchange(ctl, LOCK, 0, 1) !== 0; spins++) {
      // The holder is a few instructions from done unless it was descheduled.
      if (spins > 64) Atomics.wait(ctl, LOCK, 1, 1);
    }
  }

  #unlock(): void {
    Atomics.store(this.#ctl, LOCK, 0);
    Atomics.notify(this.#ctl, LOCK, 1);
  }

  // --- the capture side -----------------------------------------------------

  /**
   * A free slot for a page of `cpu` carrying `events` events, or NO_SLOT
   * when the page must be dropped (counted here). Under 'block' (or during
   * the final drain) waits for the output thread; `shouldStop` ends a wait.
   */
  reserve(cpu: number, events: number, shouldStop: () => boolean = () => false): number {
    for (;;) {
      this.#lock();
      let slot = NO_SLOT;
      const top = this.#ctl[FREE_TOP]!;
      if (top > 0) {
        slot = this.#free[top - 1]!;
        this.#ctl[FREE_TOP] = top - 1;
      } else if (this.#policy === 'drop-oldest' && Atomics.load(this.#ctl, FORCE_BLOCK) === 0) {
        slot = this.#dropOldest(cpu);
        if (slot === NO_SLOT) this.#countDrop(cpu, events);
        this.#unlock();
        return slot;
      }
      const releases = Atomics.load(this.#ctl, RELEASES);
      this.#unlock();
      if (slot !== NO_SLOT) return slot;
      if (shouldStop() || Atomics.load(this.#ctl, ABORT) !== 0) {
        this.#lock();
        this.#countDrop(cpu, events);
        this.#unlock();
        return NO_SLOT;
      }
      Atomics.wait(this.#ctl, RELEASES, releases, 20);
    }
  }

  /** Under the lock: takes the oldest queued slot (this CPU's, else the longest queue's). */
  #dropOldest(cpu: number): number {
    let victim = cpu;
    if (this.#queued(cpu) === 0) {
      let most = 0;
      for (let c = 0; c < this.geometry.cpus; c++) {
        const n = this.#queued(c);
        if (n > most) {
          most = n;
          victim = c;
        }
      }
      if (most === 0) return NO_SLOT;
    }
    const w = victim * CPU_WORDS;
    const head = this.#cpuWords[w + Q_HEAD]!;
    const slot = this.#queues[victim * this.geometry.slots + (head % this.geometry.slots)]!;
    this.#cpuWords[w + Q_HEAD] = head + 1;
    const t = victim * TOTAL_WORDS;
    this.#totals[t + T_DROPPED_EVENTS]! += this.#meta[slot * META_WORDS + M_EVENTS]!;
    this.#totals[t + T_DROPPED_PAGES]! += 1;
    return slot;
  }

  #countDrop(cpu: number, events: number): void {
    const t = cpu * TOTAL_WORDS;
    this.#totals[t + T_PRODUCED]! += events;
    this.#totals[t + T_DROPPED_EVENTS]! += events;
    this.#totals[t + T_DROPPED_PAGES]! += 1;
  }

  #queued(cpu: number): number {
    const w = cpu * CPU_WORDS;
    return this.#cpuWords[w + Q_TAIL]! - this.#cpuWords[w + Q_HEAD]!;
  }

  /** Byte offset of `slot` in `data`. */
  slotOffset(slot: number): number {
    return slot * this.geometry.slotSize;
  }

  /** Queues a filled slot on `cpu` (its page: `events` events, the kernel's `kernelLost` before it). */
  publish(cpu: number, slot: number, events: number, kernelLost: number): void {
    const m = slot * META_WORDS;
    const t = cpu * TOTAL_WORDS;
    this.#lock();
    this.#meta[m + M_BEFORE] = this.#totals[t + T_PRODUCED]!;
    this.#meta[m + M_EVENTS] = events;
    this.#meta[m + M_KERNEL_LOST] = kernelLost;
    this.#totals[t + T_PRODUCED]! += events;
    const w = cpu * CPU_WORDS;
    const tail = this.#cpuWords[w + Q_TAIL]!;
    this.#queues[cpu * this.geometry.slots + (tail % this.geometry.slots)] = slot;
    this.#cpuWords[w + Q_TAIL] = tail + 1;
    this.#unlock();
    const seq = (Atomics.add(this.#ctl, SEQ, 1) + 1) | 0;
    // Waking the output thread costs more than staging a page: wake it once its batch is in.
    if (Atomics.load(this.#ctl, CONSUMER_WAITING) !== 0 && ((seq - Atomics.load(this.#ctl, WAKE_AT)) | 0) >= 0) {
      Atomics.notify(this.#ctl, SEQ);
    }
  }

  /** From now on the capture thread waits instead of dropping (the final drain must lose nothing). */
  forceBlock(): void {
    Atomics.store(this.#ctl, FORCE_BLOCK, 1);
  }

  /** Ends every wait at once (a forced exit). */
  abort(): void {
    Atomics.store(this.#ctl, ABORT, 1);
    Atomics.notify(this.#ctl, RELEASES);
    Atomics.notify(this.#ctl, SEQ);
  }

  get aborted(): boolean {
    return Atomics.load(this.#ctl, ABORT) !== 0;
  }

  /** The capture thread has released the kernel buffers. */
  markClosed(): void {
    Atomics.store(this.#ctl, CLOSED, 1);
    Atomics.notify(this.#ctl, CLOSED);
  }

  get closed(): boolean {
    return Atomics.load(this.#ctl, CLOSED) !== 0;
  }

  /** Blocks this thread until the capture thread has closed its readers, or `timeoutMs` passes. */
  waitClosedSync(timeoutMs: number): boolean {
    return Atomics.wait(this.#ctl, CLOSED, 0, timeoutMs) !== 'timed-out' || this.closed;
  }

  // --- the output side ------------------------------------------------------

  /** Claims up to `max` ready slots of `cpu`, oldest first, into `out`; returns how many. */
  claim(cpu: number, max: number, out: Int32Array | number[], at = 0): number {
    this.#lock();
    const w = cpu * CPU_WORDS;
    const head = this.#cpuWords[w + Q_HEAD]!;
    const n = Math.min(max, this.#cpuWords[w + Q_TAIL]! - head);
    const base = cpu * this.geometry.slots;
    for (let i = 0; i < n; i++) out[at + i] = this.#queues[base + ((head + i) % this.geometry.slots)]!;
    this.#cpuWords[w + Q_HEAD] = head + n;
    this.#unlock();
    return n;
  }

  /**
   * A free slot, its metadata zeroed, for a page the output side writes
   * itself once the capture thread has finished (the loss report that ends
   * a CPU's stream); NO_SLOT when none is free.
   */
  lossSlot(): number {
    this.#lock();
    const top = this.#ctl[FREE_TOP]!;
    let slot = NO_SLOT;
    if (top > 0) {
      slot = this.#free[top - 1]!;
      this.#ctl[FREE_TOP] = top - 1;
      this.#meta.fill(0, slot * META_WORDS, (slot + 1) * META_WORDS);
    }
    this.#unlock();
    return slot;
  }

  /** Returns claimed slots to the pool. */
  release(slots: ArrayLike<number>, count = slots.length): void {
    if (count === 0) return;
    this.#lock();
    let top = this.#ctl[FREE_TOP]!;
    for (let i = 0; i < count; i++) this.#free[top++] = slots[i]!;
    this.#ctl[FREE_TOP] = top;
    this.#unlock();
    Atomics.add(this.#ctl, RELEASES, 1);
    Atomics.notify(this.#ctl, RELEASES);
  }

  /** Events produced on `cpu` before `slot`'s page. */
  eventsBefore(slot: number): number {
    return this.#meta[slot * META_WORDS + M_BEFORE]!;
  }

  /** Events of the page in `slot`. */
  eventsIn(slot: number): number {
    return this.#meta[slot * META_WORDS + M_EVENTS]!;
  }

  /** The kernel's loss report just before the page in `slot` (0, n, or -1 unknown). */
  kernelLostBefore(slot: number): number {
    return this.#meta[slot * META_WORDS + M_KERNEL_LOST]!;
  }

  /** Events of `cpu` produced so far (published or dropped). */
  produced(cpu: number): number {
    this.#lock();
    const v = this.#totals[cpu * TOTAL_WORDS + T_PRODUCED]!;
    this.#unlock();
    return v;
  }

  /** Events and pages of `cpu` the capture side dropped so far. */
  dropped(cpu: number): { events: number; pages: number } {
    this.#lock();
    const t = cpu * TOTAL_WORDS;
    const out = { events: this.#totals[t + T_DROPPED_EVENTS]!, pages: this.#totals[t + T_DROPPED_PAGES]! };
    this.#unlock();
    return out;
  }

  /** Pages queued on `cpu`, not yet claimed. */
  queued(cpu: number): number {
    this.#lock();
    const n = this.#queued(cpu);
    this.#unlock();
    return n;
  }

  /** The share of the pool in use (queued or claimed), 0..1. */
  fill(): number {
    return 1 - Atomics.load(this.#ctl, FREE_TOP) / this.geometry.slots;
  }

  get publishedSeq(): number {
    return Atomics.load(this.#ctl, SEQ);
  }

  /**
   * Settles once `minPages` pages are published after `seen` (publishedSeq
   * read earlier), or after `timeoutMs` with whatever there is. The capture
   * thread wakes this thread only then: one wake-up per batch, not per
   * page. Keeps the event loop alive meanwhile.
   */
  async waitForData(seen: number, timeoutMs: number, minPages = 1): Promise<void> {
    const ctl = this.#ctl;
    const want = Math.max(1, Math.min(minPages, Math.floor(this.geometry.slots / 4)));
    Atomics.store(ctl, WAKE_AT, (seen + want) | 0);
    Atomics.store(ctl, CONSUMER_WAITING, 1);
    const deadline = performance.now() + timeoutMs;
    try {
      for (;;) {
        const seq = Atomics.load(ctl, SEQ);
        if (((seq - seen) | 0) >= want || Atomics.load(ctl, ABORT) !== 0) return;
        const left = deadline - performance.now();
        if (left <= 0) return;
        const wait = Atomics.waitAsync(ctl, SEQ, seq, left);
        if (!wait.async) continue; // published meanwhile: count again
        // waitAsync alone does not keep the event loop alive; a timer does,
        // and a timer a little longer than the wait cannot end it early.
        let timer: NodeJS.Timeout | undefined;
        const woke = await Promise.race([wait.value, new Promise<'timer'>((resolve) => (timer = setTimeout(resolve, left + 5, 'timer')))]);
        clearTimeout(timer);
        if (woke !== 'ok') return;
      }
    } finally {
      Atomics.store(ctl, CONSUMER_WAITING, 0);
    }
  }
}
