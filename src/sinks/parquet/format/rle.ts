// Parquet's RLE / bit-packing hybrid (definition and repetition levels,
// dictionary indices): runs of 8 or more equal values as RLE runs, the rest
// bit-packed in groups of 8, LSB first. Only the last group is padded.

import type { ByteWriter } from './bytes.js';

/** Groups per bit-packed run: one header byte, as parquet-mr writes them. */
const MAX_GROUPS = 63;
/** Widest value packed here (dictionary indices stay far below). */
const MAX_WIDTH = 24;

/** Bits needed for values 0..max. */
export function bitWidthOf(max: number): number {
  return max <= 0 ? 0 : 32 - Math.clz32(max);
}

/** values[at .. at+8) exist and are all equal. */
function runOfEight(values: ArrayLike<number>, at: number, n: number): boolean {
  if (at + 8 > n) return false;
  const v = values[at]!;
  for (let k = at + 1; k < at + 8; k++) if (values[k] !== v) return false;
  return true;
}

function writeRunValue(out: ByteWriter, v: number, byteWidth: number): void {
  for (let b = 0; b < byteWidth; b++) out.u8((v >>> (8 * b)) & 0xff);
}

/** Bit-packs `groups` * 8 values from `at` (zeros past `n`). */
function pack(out: ByteWriter, values: ArrayLike<number>, at: number, groups: number, n: number, width: number): void {
  out.reserve((groups * 8 * width) >> 3);
  packBits(out, values, at, groups * 8, n, width, 0);
}

/**
 * Appends `count` values from `at`, each minus `bias`, LSB first in `width`
 * bits (at most 24, so integer arithmetic holds); zeros past `n`. The caller
 * reserves the room.
 */
export function packBits(out: ByteWriter, values: ArrayLike<number>, at: number, count: number, n: number, width: number, bias: number): void {
  const buf = out.buf;
  let p = out.length;
  let acc = 0;
  let bits = 0;
  for (let k = 0; k < count; k++) {
    const i = at + k;
    const v = i < n ? values[i]! - bias : 0;
    acc |= v << bits;
    bits += width;
    while (bits >= 8) {
      buf[p++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  out.length = p;
}

/** Encodes values[0 .. n) with `width` bits each (0 < width <= 24). */
export function writeHybrid(out: ByteWriter, values: ArrayLike<number>, n: number, width: number): void {
  if (width <= 0 || width > MAX_WIDTH) throw new RangeError(`RLE bit width ${width} out of range`);
  const byteWidth = (width + 7) >> 3;
  let i = 0;
  while (i < n) {
    const v = values[i]!;
    let j = i + 1;
    while (j < n && values[j] === v) j++;
    if (j - i >= 8) {
      out.varint((j - i) * 2);
      writeRunValue(out, v, byteWidth);
      i = j;
      continue;
    }
    // Bit-pack until a run of 8 starts on a group boundary.
    let groups = 0;
    let k = i;
    do {
      k += 8;
      groups++;
    } while (k < n && groups < MAX_GROUPS && !runOfEight(values, k, n));
    out.varint(groups * 2 + 1);
    pack(out, values, i, groups, n, width);
    i = k;
  }
}
