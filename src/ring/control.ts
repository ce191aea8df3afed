// Typed access to a ring's control trailer (layout in
// src/layout/ring-control.ts). Words shared between the writer and the
// reader go through Atomics; words owned by one side are plain.

import { CTRL, HEAD_SHIFT, type RingGeometry, ctrlArrays, ctrlOffset } from '../layout/ring-control.js';
import type { RingMemory } from './memory.js';

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

  /** Waits (briefly) for a head word to change from `value`: the other side is mid-update. */
  awaitHeadChange(value: number, spins: number): void {
    if (spins < 200) return;
    this.memory.wait(this.word(CTRL.head), value, 1);
  }

  nextPosition(pos: number): number {
    return pos + 1 === this.positionWrap ? 0 : pos + 1;
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

  slot(index: number): number {
    return Atomics.load(this.#i32, this.#slots + index);
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
