// Typed access to a ring's control trailer (layout in
// src/layout/ring-control.ts). Words shared between the writer and the
// reader go through Atomics; words owned by one side are plain.

import fs from 'node:fs';
import { RingCorruptError } from '../errors.js';
import { CTRL, HEAD_SHIFT, HEAD_UPDATING, type RingGeometry, ctrlArrays, ctrlOffset } from '../layout/ring-control.js';
import type { RingMemory } from './memory.js';

/** Whether a claimed role's holder (process pid, thread tid) still exists. */
export function holderAlive(pid: number, tid: number): boolean {
  if (pid <= 0 || tid < 0) return false;
  try {
    return fs.existsSync(`/proc/${pid}/task/${tid > 0 ? tid : pid}`);
  } catch {
    return true;
  }
}

export class RingControl {
  readonly memory: RingMemory;
  readonly geometry: RingGeometry;
  /** Ring slots (nrSubbufs - 1): the writer's and reader's circular order. */
  readonly slotCount: number;
  /** Byte offset of sub-buffer 0. */
  readonly subbufBase: number;
  readonly #base: number;
  readonly #i32: Int32Array;
  readonly #i64: BigInt64Array;
  readonly #slots: number;
  readonly #pageEntries: number;
  readonly #realEnd: number;
  /**
   * Ring positions count pages forever but wrap at a multiple of the slot
   * count, so position % slotCount stays continuous across the wrap.
   */
  readonly positionWrap: number;
  /** A label for messages. */
  label = 'application ring';

  constructor(memory: RingMemory, geometry: RingGeometry) {
    this.memory = memory;
    this.geometry = geometry;
    this.slotCount = geometry.nrSubbufs - 1;
    this.subbufBase = geometry.subbufSize;
    this.#base = ctrlOffset(geometry);
    this.#i32 = memory.i32;
    this.#i64 = memory.i64;
    const arrays = ctrlArrays(geometry.nrSubbufs);
    this.#slots = (this.#base + arrays.slots) >> 2;
    this.#pageEntries = (this.#base + arrays.pageEntries) >> 2;
    this.#realEnd = (this.#base + arrays.realEnd) >> 2;
    this.positionWrap = this.slotCount * Math.floor(2 ** (31 - HEAD_SHIFT) / this.slotCount);
  }

  nextPosition(pos: number): number {
    return pos + 1 === this.positionWrap ? 0 : pos + 1;
  }

  previousPosition(pos: number): number {
    return pos === 0 ? this.positionWrap - 1 : pos - 1;
  }

  /** The ring position in a head or tail word; a position past the wrap is corruption. */
  position(word: number): number {
    const pos = word >>> HEAD_SHIFT;
    if (pos >= this.positionWrap) throw this.corrupt(`ring position ${pos} is past its wrap (${this.positionWrap})`);
    return pos;
  }

  corrupt(what: string): RingCorruptError {
    return new RingCorruptError(`${this.label} is corrupt: ${what}`);
  }

  /** Whether the thread holding the writer claim exists (false: no writer, or it died). */
  writerAlive(): boolean {
    const tid = this.load(CTRL.writer);
    return tid !== 0 && holderAlive(this.load(CTRL.writerPid), tid);
  }

  /**
   * Finishes the head push of a writer that died in it (HEAD_UPDATING left
   * set in `head`): publishes the overrun the writer announced before the
   * push, then clears the bit. Only for a dead writer. Returns false when the
   * announcement does not match the pushed page (the overrun then stays as
   * it was and the loss count is not exact).
   */
  finishDeadPush(head: number): boolean {
    const headPos = this.position(head);
    const lo = this.low32(CTRL.overrun);
    const announced = this.load(CTRL.pushOverrun);
    let exact = true;
    if (lo !== announced) {
      const delta = (announced - lo) >>> 0;
      const pushed = this.slot(this.previousPosition(headPos) % this.slotCount);
      if (delta === this.pageEntries(pushed) >>> 0) this.store64(CTRL.overrun, this.load64(CTRL.overrun) + delta);
      else exact = false;
    }
    this.cas(CTRL.head, head, head & ~HEAD_UPDATING);
    return exact;
  }

  /** to - from in ring positions, in [-wrap/2, wrap/2). */
  distance(from: number, to: number): number {
    let d = to - from;
    const wrap = this.positionWrap;
    if (d >= wrap / 2) d -= wrap;
    else if (d < -wrap / 2) d += wrap;
    return d;
  }

  /** Int32 index of a fixed control word. */
  word(offset: number): number {
    return (this.#base + offset) >> 2;
  }

  load(offset: number): number {
    return Atomics.load(this.#i32, this.word(offset));
  }

  store(offset: number, value: number): void {
    Atomics.store(this.#i32, this.word(offset), value);
  }

  cas(offset: number, expected: number, value: number): boolean {
    return Atomics.compareExchange(this.#i32, this.word(offset), expected, value) === expected;
  }

  load64(offset: number): number {
    return Number(Atomics.load(this.#i64, (this.#base + offset) >> 3));
  }

  /** Low 32 bits of a 64-bit counter (little-endian host), without a BigInt. */
  low32(offset: number): number {
    return Atomics.load(this.#i32, (this.#base + offset) >> 2);
  }

  store64(offset: number, value: number): void {
    Atomics.store(this.#i64, (this.#base + offset) >> 3, BigInt(value));
  }

  /** The sub-buffer id at ring slot `index`; an id outside the ring is corruption. */
  slot(index: number): number {
    const id = Atomics.load(this.#i32, this.#slots + index);
    if (!(id >= 0 && id < this.geometry.nrSubbufs)) throw this.corrupt(`ring slot ${index} names sub-buffer ${id} of ${this.geometry.nrSubbufs}`);
    return id;
  }

  setSlot(index: number, id: number): void {
    Atomics.store(this.#i32, this.#slots + index, id);
  }

  pageEntries(id: number): number {
    return Atomics.load(this.#i32, this.#pageEntries + id);
  }

  setPageEntries(id: number, n: number): void {
    Atomics.store(this.#i32, this.#pageEntries + id, n);
  }

  realEnd(id: number): number {
    return Atomics.load(this.#i32, this.#realEnd + id);
  }

  setRealEnd(id: number, end: number): void {
    Atomics.store(this.#i32, this.#realEnd + id, end);
  }

  /** Byte offset of sub-buffer `id`. */
  subbufStart(id: number): number {
    return this.subbufBase + id * this.geometry.subbufSize;
  }

  /** Int32 index of the low word of sub-buffer `id`'s commit. */
  commitWord(id: number): number {
    return (this.subbufStart(id) + 8) >> 2;
  }

  /** Committed bytes of sub-buffer `id` (flags masked off). */
  commitSize(id: number): number {
    return Atomics.load(this.#i32, this.commitWord(id)) & 0x3fffffff;
  }

  /** Sets the whole 8-byte commit word (flags cleared, no sign extension). */
  setCommit(id: number, size: number): void {
    const w = this.commitWord(id);
    Atomics.store(this.#i32, w + 1, 0);
    Atomics.store(this.#i32, w, size);
  }
}
