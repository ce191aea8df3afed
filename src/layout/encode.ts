// The write side of the record layout: how the kernel sizes and encodes
// records (kernel/trace/ring_buffer.c: rb_calculate_event_length,
// rb_update_event, rb_add_time_stamp, rb_reset_tail). A userspace ring that
// writes with these functions produces pages the kernel-data decoder reads.

import { MalformedInputError } from '../errors.js';
import {
  SMALL_PAYLOAD_MAX,
  TIME_DELTA_BITS,
  TYPE_PADDING,
  TYPE_TIME_EXTEND,
  TYPE_TIME_STAMP,
} from './record.js';
import { RB_MISSED_EVENTS, RB_MISSED_STORED, type SubbufLayout } from './subbuf.js';

/** Largest delta a record header holds: 2^27 - 1. Larger ones need a TIME_EXTEND. */
export const MAX_HEADER_DELTA = (1 << TIME_DELTA_BITS) - 1;
/** TIME_EXTEND and TIME_STAMP records are two words. */
export const TIME_RECORD_LENGTH = 8;
/** Smallest padding record; less room than this at a page end stays unused. */
export const MIN_PADDING_LENGTH = 8;

/**
 * Total record length (header included) for a payload of `payloadLength`
 * bytes: 4-byte aligned; payloads above 112 bytes carry their length in an
 * extra word; a 12-byte record becomes 16 so it could later be turned into a
 * TIME_EXTEND plus a minimal padding.
 */
export function recordLength(payloadLength: number): number {
  let len = payloadLength === 0 ? 1 : payloadLength;
  len += len > SMALL_PAYLOAD_MAX ? 8 : 4;
  len = (len + 3) & ~3;
  if (len === TIME_RECORD_LENGTH + 4) len += 4;
  return len;
}

function headerWord(type: number, delta: number, le: boolean): number {
  return le ? ((delta << 5) | type) >>> 0 : ((type << 27) | delta) >>> 0;
}

/**
 * Writes the header of a data record of total length `length` (from
 * recordLength) at byte `at`; returns the payload's byte offset.
 */
export function writeDataHeader(view: DataView, at: number, length: number, delta: number, le: boolean): number {
  if (delta < 0 || delta > MAX_HEADER_DELTA) throw new MalformedInputError(`record delta ${delta} needs a time extend`);
  const body = length - 4;
  if (body > SMALL_PAYLOAD_MAX) {
    view.setUint32(at, headerWord(0, delta, le), le);
    view.setUint32(at + 4, body, le);
    return at + 8;
  }
  view.setUint32(at, headerWord(body >>> 2, delta, le), le);
  return at + 4;
}

/** Writes a TIME_EXTEND adding the 64-bit delta (hi, lo) (below 2^59). */
export function writeTimeExtend(view: DataView, at: number, deltaHi: number, deltaLo: number, le: boolean): void {
  view.setUint32(at, headerWord(TYPE_TIME_EXTEND, deltaLo & MAX_HEADER_DELTA, le), le);
  view.setUint32(at + 4, ((deltaHi << 5) | (deltaLo >>> TIME_DELTA_BITS)) >>> 0, le);
}

/** Writes an absolute TIME_STAMP of (hi, lo); the top 5 bits are not stored. */
export function writeTimeStamp(view: DataView, at: number, tsHi: number, tsLo: number, le: boolean): void {
  view.setUint32(at, headerWord(TYPE_TIME_STAMP, tsLo & MAX_HEADER_DELTA, le), le);
  view.setUint32(at + 4, (((tsHi & 0x07ffffff) << 5) | (tsLo >>> TIME_DELTA_BITS)) >>> 0, le);
}

/** Writes the end-of-page padding record covering `length` (>= 8) bytes. */
export function writePadding(view: DataView, at: number, length: number, le: boolean): void {
  view.setUint32(at, headerWord(TYPE_PADDING, 1, le), le);
  view.setUint32(at + 4, length - 4, le);
}

/**
 * Writes a sub-buffer header. `lost` > 0 sets RB_MISSED_EVENTS and, when a
 * `long` fits after the data, stores the count there with RB_MISSED_STORED;
 * lost < 0 sets the flag without a count. The commit word is stored
 * sign-extended as the kernel's local_t arithmetic leaves it.
 */
export function writeSubbufHeader(
  view: DataView,
  start: number,
  layout: SubbufLayout,
  tsHi: number,
  tsLo: number,
  commitSize: number,
  lost = 0,
): void {
  const le = layout.littleEndian;
  view.setUint32(start + (le ? 0 : 4), tsLo, le);
  view.setUint32(start + (le ? 4 : 0), tsHi, le);
  let flags = 0;
  if (lost !== 0) {
    flags = RB_MISSED_EVENTS;
    if (lost > 0 && commitSize + layout.longSize <= layout.subbufSize - layout.dataOffset) {
      flags |= RB_MISSED_STORED;
      const at = start + layout.dataOffset + commitSize;
      if (layout.longSize === 4) view.setUint32(at, lost, le);
      else {
        view.setUint32(at + (le ? 0 : 4), lost % 4294967296, le);
        view.setUint32(at + (le ? 4 : 0), Math.floor(lost / 4294967296), le);
      }
    }
  }
  const word = (commitSize | flags) >>> 0;
  if (layout.longSize === 4) {
    view.setUint32(start + 8, word, le);
  } else {
    const high = flags !== 0 ? 0xffffffff : 0;
    view.setUint32(start + 8 + (le ? 0 : 4), word, le);
    view.setUint32(start + 8 + (le ? 4 : 0), high, le);
  }
}
