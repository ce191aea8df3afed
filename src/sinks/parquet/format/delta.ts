// DELTA_BINARY_PACKED for 64-bit values (the ts column): blocks of 128
// deltas in 4 miniblocks of 32, each bit-packed at its own width after
// subtracting the block's smallest delta. Timestamps in a file are nearly
// sorted, so their deltas take a few bytes instead of eight.
//
// Deltas are computed exactly from the (low, high) halves and held as
// Numbers; a column with a delta beyond ±2^52 is not delta-encoded
// (returns false: the caller writes it PLAIN).

import type { ByteWriter } from './bytes.js';
import { packBits } from './rle.js';

const BLOCK = 128;
const MINIBLOCKS = 4;
const MINI = BLOCK / MINIBLOCKS;
const TWO32 = 4294967296;
const LIMIT = 2 ** 52;

function bitsOf(v: number): number {
  if (v < TWO32) return v === 0 ? 0 : 32 - Math.clz32(v);
  return 32 + 32 - Math.clz32(Math.floor(v / TWO32));
}

/** Zigzag varint of the 64-bit value (lo, hi). */
function zigzag64(out: ByteWriter, lo: number, hi: number): void {
  const v = BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
  let z = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
  while (z >= 0x80n) {
    out.u8(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.u8(Number(z));
}

let deltas = new Float64Array(1024);

/** Encodes n values (pairs in `values`, rows where present). */
export function writeDelta64(out: ByteWriter, values: Int32Array, present: Uint8Array | null, n: number): boolean {
  // The present values, as deltas from their predecessor.
  if (deltas.length < n) deltas = new Float64Array(n * 2);
  let m = 0;
  let firstLo = 0;
  let firstHi = 0;
  let prevLo = 0;
  let prevHi = 0;
  for (let r = 0; r < n; r++) {
    if (present !== null && present[r] === 0) continue;
    const lo = values[2 * r]! >>> 0;
    const hi = values[2 * r + 1]!;
    if (m === 0) {
      firstLo = lo;
      firstHi = hi;
    } else {
      const d = (hi - prevHi) * TWO32 + (lo - prevLo);
      if (d >= LIMIT || d <= -LIMIT) return false;
      deltas[m - 1] = d;
    }
    prevLo = lo;
    prevHi = hi;
    m++;
  }
  const count = Math.max(0, m - 1);
  out.varint(BLOCK);
  out.varint(MINIBLOCKS);
  out.varint(m);
  zigzag64(out, firstLo, firstHi);
  for (let b = 0; b < count; b += BLOCK) {
    const end = Math.min(count, b + BLOCK);
    let min = deltas[b]!;
    for (let i = b + 1; i < end; i++) if (deltas[i]! < min) min = deltas[i]!;
    out.zigzag(min);
    const widthsAt = out.length;
    out.reserve(MINIBLOCKS);
    out.length += MINIBLOCKS;
    for (let k = 0; k < MINIBLOCKS; k++) {
      const from = b + k * MINI;
      if (from >= end) {
        out.buf[widthsAt + k] = 0;
        continue;
      }
      const to = Math.min(end, from + MINI);
      let max = 0;
      for (let i = from; i < to; i++) {
        const a = deltas[i]! - min;
        if (a > max) max = a;
      }
      const width = bitsOf(max);
      out.buf[widthsAt + k] = width;
      packMiniblock(out, from, to, min, width);
    }
  }
  return true;
}

/** 32 values (zeros past `to`) of `width` bits, LSB first. */
function packMiniblock(out: ByteWriter, from: number, to: number, min: number, width: number): void {
  if (width === 0) return;
  out.reserve(width * 4 + 8);
  if (width <= 24) {
    packBits(out, deltas, from, MINI, to, width, min);
    return;
  }
  const buf = out.buf;
  let p = out.length;
  let acc = 0;
  let bits = 0;
  for (let k = 0; k < MINI; k++) {
    const i = from + k;
    const a = i < to ? deltas[i]! - min : 0;
    let lo = a % TWO32;
    let hi = (a - lo) / TWO32;
    let left = width;
    // Up to 24 bits at a time into the accumulator (it holds fewer than 8 pending).
    while (left > 0) {
      const take = left < 24 ? left : 24;
      const part = lo % (1 << take);
      acc += part * 2 ** bits;
      bits += take;
      left -= take;
      lo = (lo - part) / (1 << take) + (hi % (1 << take)) * 2 ** (32 - take);
      hi = Math.floor(hi / (1 << take));
      while (bits >= 8) {
        buf[p++] = acc & 0xff;
        acc = Math.floor(acc / 256);
        bits -= 8;
      }
    }
  }
  if (bits > 0) buf[p++] = acc & 0xff;
  out.length = p;
}
