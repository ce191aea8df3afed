// struct trace_buffer_meta (include/uapi/linux/trace_mmap.h, 6.10 and later):
// the first bytes of a mapped per-CPU buffer. Layout in kernel-abi.md §2.1.
// Every field is fixed-width and in the kernel's byte order.

import { MalformedInputError } from '../errors.js';
import { TWO_POW_32 } from './timestamp.js';

/** Offsets of the meta page fields (struct trace_buffer_meta). */
export const META = {
  metaPageSize: 0, // u32: bytes of meta region at the start of the mapping (= subbuf_size)
  metaStructLen: 4, // u32: sizeof(struct trace_buffer_meta) in the kernel
  subbufSize: 8, // u32: bytes per sub-buffer, header included
  nrSubbufs: 12, // u32: sub-buffers in the mapping, reader included
  readerLostEvents: 16, // u64
  readerId: 24, // u32: sub-buffer id of the current reader page
  readerRead: 28, // u32: consumed end offset in the reader page's data area
  flags: 32, // u64: always 0
  entries: 40, // u64: events committed since reset
  overrun: 48, // u64: events overwritten since reset
  read: 56, // u64: events consumed since reset
  reserved1: 64, // u64
  reserved2: 72, // u64
} as const;

/** sizeof(struct trace_buffer_meta) on 6.10 .. 6.18. */
export const META_STRUCT_LEN = 80;
/** Bytes needed to read the size fields that locate everything else. */
export const META_HEADER_LEN = 16;

/** _IO('R', 0x20): swap in the next reader sub-buffer, publish the meta page. */
export const TRACE_MMAP_IOCTL_GET_READER = 0x5220;
/** ioctl command 0: wake every waiter of the per-CPU buffer. */
export const TRACE_IOCTL_WAKE_WAITERS = 0;

/** A copy of every meta-page field, counters as Numbers (exact below 2^53 events). */
export interface MetaSnapshot {
  metaPageSize: number;
  metaStructLen: number;
  subbufSize: number;
  nrSubbufs: number;
  readerLostEvents: number;
  readerId: number;
  readerRead: number;
  flags: number;
  entries: number;
  overrun: number;
  read: number;
}

/**
 * Live view of a meta page. Reads go to the mapping each time: the kernel
 * republishes the page on GET_READER and on buffer resets. Fields beyond
 * `meta_struct_len` read as 0.
 */
export class MetaPage {
  readonly #view: DataView;
  readonly #le: boolean;
  readonly #structLen: number;

  constructor(view: DataView, littleEndian = true) {
    if (view.byteLength < META_HEADER_LEN) {
      throw new MalformedInputError(`meta page needs at least ${META_HEADER_LEN} bytes, got ${view.byteLength}`);
    }
    this.#view = view;
    this.#le = littleEndian;
    this.#structLen = Math.min(view.getUint32(META.metaStructLen, littleEndian), view.byteLength);
  }

  #u32(offset: number): number {
    return offset + 4 <= this.#structLen ? this.#view.getUint32(offset, this.#le) : 0;
  }

  #u64(offset: number): number {
    if (offset + 8 > this.#structLen) return 0;
    const lo = this.#view.getUint32(offset + (this.#le ? 0 : 4), this.#le);
    const hi = this.#view.getUint32(offset + (this.#le ? 4 : 0), this.#le);
    return hi * TWO_POW_32 + lo;
  }

  get metaPageSize(): number {
    return this.#view.getUint32(META.metaPageSize, this.#le);
  }
  get metaStructLen(): number {
    return this.#view.getUint32(META.metaStructLen, this.#le);
  }
  get subbufSize(): number {
    return this.#view.getUint32(META.subbufSize, this.#le);
  }
  get nrSubbufs(): number {
    return this.#view.getUint32(META.nrSubbufs, this.#le);
  }
  get readerLostEvents(): number {
    return this.#u64(META.readerLostEvents);
  }
  get readerId(): number {
    return this.#u32(META.readerId);
  }
  get readerRead(): number {
    return this.#u32(META.readerRead);
  }
  get flags(): number {
    return this.#u64(META.flags);
  }
  get entries(): number {
    return this.#u64(META.entries);
  }
  get overrun(): number {
    return this.#u64(META.overrun);
  }
  get read(): number {
    return this.#u64(META.read);
  }

  /** A copy of every field. */
  snapshot(): MetaSnapshot {
    return {
      metaPageSize: this.metaPageSize,
      metaStructLen: this.metaStructLen,
      subbufSize: this.subbufSize,
      nrSubbufs: this.nrSubbufs,
      readerLostEvents: this.readerLostEvents,
      readerId: this.readerId,
      readerRead: this.readerRead,
      flags: this.flags,
      entries: this.entries,
      overrun: this.overrun,
      read: this.read,
    };
  }
}

/** Validates the size fields of a meta page against the mapping that holds it. */
export function checkMetaGeometry(meta: MetaSnapshot | MetaPage, pageSize: number): void {
  const { metaPageSize, subbufSize, nrSubbufs, metaStructLen } = meta;
  const pow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;
  if (!pow2(subbufSize) || subbufSize < pageSize || subbufSize > 128 * pageSize * 2) {
    throw new MalformedInputError(`meta page: implausible subbuf_size ${subbufSize}`);
  }
  if (metaPageSize < pageSize || metaPageSize % pageSize !== 0) {
    throw new MalformedInputError(`meta page: implausible meta_page_size ${metaPageSize}`);
  }
  if (nrSubbufs < 2) throw new MalformedInputError(`meta page: implausible nr_subbufs ${nrSubbufs}`);
  if (metaStructLen < META_HEADER_LEN) {
    throw new MalformedInputError(`meta page: implausible meta_struct_len ${metaStructLen}`);
  }
}
