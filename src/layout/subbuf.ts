// Sub-buffer (struct buffer_data_page) layout: kernel-abi.md §5.
//
//   offset 0           u64  time_stamp   base timestamp of the sub-buffer
//   offset 8           long commit       committed data bytes | MISSED flags
//   offset dataOffset  data area         records, then (optionally) a lost count
//
// 32-bit kernels use a 4-byte commit and data at offset 12; recordings carry
// their layout (from events/header_page), live buffers use the host's.

import { MalformedInputError } from '../errors.js';

/** Events were lost between the previous sub-buffer and this one. */
export const RB_MISSED_EVENTS = 0x80000000;
/** The number of lost events is stored as a `long` right after the data. */
export const RB_MISSED_STORED = 0x40000000;
export const COMMIT_SIZE_MASK = 0x3fffffff;

/** Lost-event count of a sub-buffer whose MISSED flag has no stored count. */
export const LOST_UNKNOWN = -1;

/** The layout of a sub-buffer: its size, the data offset, the commit field and the byte order. */
export interface SubbufLayout {
  /** Bytes per sub-buffer, header included (power of two, PAGE_SIZE << order). */
  readonly subbufSize: number;
  /** Offset of the data area (16 on 64-bit kernels, 12 on 32-bit). */
  readonly dataOffset: number;
  /** Size of `commit` and of the stored lost count: the kernel's `long`. */
  readonly longSize: 4 | 8;
  readonly littleEndian: boolean;
}

export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Layout of sub-buffers of the running (64-bit) kernel. */
export function hostSubbufLayout(subbufSize: number): SubbufLayout {
  return { subbufSize, dataOffset: 16, longSize: 8, littleEndian: HOST_LITTLE_ENDIAN };
}

/** Bytes of the data area of a sub-buffer. */
export function dataSize(layout: SubbufLayout): number {
  return layout.subbufSize - layout.dataOffset;
}

export function checkSubbufLayout(layout: SubbufLayout): void {
  const { subbufSize, dataOffset, longSize } = layout;
  if (!(subbufSize >= 64 && (subbufSize & (subbufSize - 1)) === 0 && subbufSize <= 1 << 30)) {
    throw new MalformedInputError(`sub-buffer size ${subbufSize} is not a power of two in [64, 2^30]`);
  }
  if (longSize !== 4 && longSize !== 8) throw new MalformedInputError(`commit size ${longSize} is neither 4 nor 8`);
  if (dataOffset !== 8 + longSize) {
    throw new MalformedInputError(`data offset ${dataOffset} does not follow an 8-byte timestamp and ${longSize}-byte commit`);
  }
}

/** Decoded sub-buffer header. */
export interface SubbufHeader {
  tsHi: number;
  tsLo: number;
  /** Committed bytes of the data area. */
  commitSize: number;
  missedEvents: boolean;
  /** Lost events before this sub-buffer: 0 none, n, or LOST_UNKNOWN. */
  lost: number;
}

/** The low 32 bits of the commit field of the sub-buffer at `start`: its data size and MISSED flags. */
export function commitWord(view: DataView, start: number, layout: SubbufLayout): number {
  // First word on little endian, second on big endian.
  return view.getUint32(start + 8 + (layout.littleEndian || layout.longSize === 4 ? 0 : 4), layout.littleEndian);
}

/**
 * Reads the header at `start`. The commit word is truncated to its low 32
 * bits first: on 64-bit kernels the flags sign-extend into the high half
 * (0xffffffff80000ff0). Throws MalformedInputError when the commit size does
 * not fit the data area.
 */
export function readSubbufHeader(view: DataView, start: number, layout: SubbufLayout, out: SubbufHeader): SubbufHeader {
  const le = layout.littleEndian;
  out.tsLo = view.getUint32(start + (le ? 0 : 4), le);
  out.tsHi = view.getUint32(start + (le ? 4 : 0), le);
  const commit = commitWord(view, start, layout);
  const size = commit & COMMIT_SIZE_MASK;
  const limit = layout.subbufSize - layout.dataOffset;
  if (size > limit) {
    throw new MalformedInputError(`sub-buffer commit size ${size} exceeds the data area (${limit} bytes)`);
  }
  out.commitSize = size;
  out.missedEvents = (commit & RB_MISSED_EVENTS) !== 0;
  out.lost = 0;
  if (out.missedEvents) {
    out.lost = LOST_UNKNOWN;
    if ((commit & RB_MISSED_STORED) !== 0 && size + layout.longSize <= limit) {
      const at = start + layout.dataOffset + size;
      if (layout.longSize === 4) {
        out.lost = view.getUint32(at, le);
      } else {
        const lo = view.getUint32(at + (le ? 0 : 4), le);
        const hi = view.getUint32(at + (le ? 4 : 0), le);
        out.lost = hi * 4294967296 + lo;
      }
    }
  }
  return out;
}

/** A header to be filled by readSubbufHeader(). */
export function newSubbufHeader(): SubbufHeader {
  return { tsHi: 0, tsLo: 0, commitSize: 0, missedEvents: false, lost: 0 };
}
