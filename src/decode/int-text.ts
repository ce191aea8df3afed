// Integer -> text without V8's slow paths. Number.prototype.toString(16)
// of a heap number (any value outside the small-integer range: uint32 values
// >= 2^30, user-space addresses) costs ~130-220 ns, String() of one ~70 ns;
// digit tables and splitting into small integers cost ~5-20 ns.

import type { Int } from './int64.js';

const TWO32 = 4294967296;
/** Unpadded hex of 0..255, and two-digit hex of 0..255. */
const HEX1: string[] = [];
const HEX2: string[] = [];
for (let i = 0; i < 256; i++) {
  HEX1.push(i.toString(16));
  HEX2.push(i.toString(16).padStart(2, '0'));
}
const ZEROS9 = '000000000';

/** Unpadded lowercase hex of a uint32. */
export function hex32(x: number): string {
  x >>>= 0;
  if (x < 256) return HEX1[x]!;
  if (x < 65536) return HEX1[x >>> 8]! + HEX2[x & 255]!;
  if (x < 16777216) return HEX1[x >>> 16]! + HEX2[(x >>> 8) & 255]! + HEX2[x & 255]!;
  return HEX1[x >>> 24]! + HEX2[(x >>> 16) & 255]! + HEX2[(x >>> 8) & 255]! + HEX2[x & 255]!;
}

/** Eight hex digits of a uint32. */
export function hex32Padded(x: number): string {
  return HEX2[x >>> 24]! + HEX2[(x >>> 16) & 255]! + HEX2[(x >>> 8) & 255]! + HEX2[x & 255]!;
}

/** Unpadded hex of the 64-bit value hi * 2^32 + lo (both uint32). */
export function hex64(hi: number, lo: number): string {
  return hi === 0 ? hex32(lo) : hex32(hi) + hex32Padded(lo >>> 0);
}

/** Hex of a Number as toString(16) gives it (fast for non-negative integers). */
export function hexNum(v: number): string {
  if (v >= 0 && v < TWO32 && (v >>> 0) === v) return hex32(v);
  if (v < 0 || !Number.isSafeInteger(v)) return v.toString(16);
  const hi = Math.floor(v / TWO32);
  return hex32(hi) + hex32Padded((v - hi * TWO32) >>> 0);
}

/** Decimal of a Number as String() gives it. */
export function decNum(v: number): string {
  // Small integers: V8's Smi fast path.
  if (v >= -1073741824 && v <= 1073741823 && (v | 0) === v) return String(v | 0);
  if (!Number.isSafeInteger(v)) return String(v);
  let sign = '';
  if (v < 0) {
    sign = '-';
    v = -v;
  }
  const q = Math.floor(v / 1e9);
  const r = String((v - q * 1e9) | 0);
  if (q === 0) return sign + r;
  return sign + String(q) + ZEROS9.slice(r.length) + r;
}

/** Hex of an Int (as toString(16)). */
export function hexInt(v: Int): string {
  return typeof v === 'number' ? hexNum(v) : v.toString(16);
}
