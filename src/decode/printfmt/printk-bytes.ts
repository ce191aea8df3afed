// printk.ts's number() and string widening written as bytes into a TextOut
// (same output as formatNumber() / formatString() encoded as UTF-8).

import type { Int } from '../int64.js';
import { decodeCString } from '../strings.js';
import type { TextOut } from '../text-out.js';
import { FLAG_LEFT, FLAG_PLUS, FLAG_SPACE, FLAG_SPECIAL, FLAG_ZEROPAD, formatString } from './printk.js';

/** Digits of the value being formatted, right-aligned at DIGITS_END. */
const DIGITS = new Uint8Array(1200); // any toString(base) of an Int fits
const DIGITS_END = 1200;
const HEX_LOWER = '0123456789abcdef';
const HEX_UPPER = '0123456789ABCDEF';
const LOWER = Uint8Array.from(HEX_LOWER, (c) => c.charCodeAt(0));
const UPPER = Uint8Array.from(HEX_UPPER, (c) => c.charCodeAt(0));

/** Digits of a non-negative safe integer in DIGITS; returns where they start. */
function numberDigits(v: number, base: number, upper: boolean): number {
  const table = upper ? UPPER : LOWER;
  let p = DIGITS_END;
  if (v === 0) {
    DIGITS[--p] = 48;
    return p;
  }
  while (v > 0) {
    // Exact for safe integers and bases 8, 10, 16.
    const q = Math.floor(v / base);
    DIGITS[--p] = table[v - q * base]!;
    v = q;
  }
  return p;
}

/** Hex digits of the unsigned 64-bit hi:lo in DIGITS; returns where they start. */
function hexDigits(hi: number, lo: number, upper: boolean): number {
  const table = upper ? UPPER : LOWER;
  let p = DIGITS_END;
  hi >>>= 0;
  lo >>>= 0;
  if (hi === 0) {
    do {
      DIGITS[--p] = table[lo & 15]!;
      lo >>>= 4;
    } while (lo !== 0);
    return p;
  }
  for (let i = 0; i < 8; i++) {
    DIGITS[--p] = table[lo & 15]!;
    lo >>>= 4;
  }
  do {
    DIGITS[--p] = table[hi & 15]!;
    hi >>>= 4;
  } while (hi !== 0);
  return p;
}

/** Digits as toString(base) gives them (rare: bigints, values that are not safe non-negative integers). */
function stringDigits(v: number | bigint, base: number, upper: boolean): number {
  let s = v.toString(base);
  if (upper) s = s.toUpperCase();
  let p = DIGITS_END - s.length;
  for (let i = 0; i < s.length; i++) DIGITS[p++] = s.charCodeAt(i);
  return DIGITS_END - s.length;
}

/**
 * lib/vsprintf.c number() for the digits at DIGITS[start..]: sign, 0x/0
 * prefix, padding, precision (as formatNumber()).
 */
function putNumber(out: TextOut, start: number, negative: boolean, base: number, upper: boolean, signed: boolean, flags: number, width: number, precision: number): void {
  const nd = DIGITS_END - start;
  const isZero = nd === 1 && DIGITS[start] === 48;
  let fieldWidth = width;
  if (flags & FLAG_LEFT) flags &= ~FLAG_ZEROPAD;
  let sign = 0;
  if (signed) {
    if (negative) sign = 45;
    else if (flags & FLAG_PLUS) sign = 43;
    else if (flags & FLAG_SPACE) sign = 32;
    if (sign !== 0) fieldWidth--;
  }
  const needPrefix = (flags & FLAG_SPECIAL) !== 0 && base !== 10;
  if (needPrefix) {
    if (base === 16) fieldWidth -= 2;
    else if (!isZero) fieldWidth--;
  }
  let prec = precision;
  if (nd > prec) prec = nd;
  fieldWidth -= prec;
  if (!(flags & (FLAG_ZEROPAD | FLAG_LEFT))) {
    out.repeat(32, fieldWidth);
    fieldWidth = 0;
  }
  if (sign !== 0) out.byte(sign);
  if (needPrefix) {
    if (base === 16) {
      out.byte(48);
      out.byte(upper ? 88 : 120);
    } else if (!isZero) out.byte(48);
  }
  if (!(flags & FLAG_LEFT)) {
    out.repeat(flags & FLAG_ZEROPAD ? 48 : 32, fieldWidth);
    fieldWidth = 0;
  }
  out.repeat(48, prec - nd);
  out.reserve(nd);
  const b = out.buf;
  let p = out.pos;
  for (let i = start; i < DIGITS_END; i++) b[p++] = DIGITS[i]!;
  out.pos = p;
  out.repeat(32, fieldWidth);
}

/** formatNumber() as bytes: `v` already converted to the conversion's type. */
export function numberTo(out: TextOut, v: Int, base: 8 | 10 | 16, upper: boolean, signed: boolean, flags: number, width: number, precision: number): void {
  let negative = false;
  let start: number;
  if (typeof v === 'number') {
    if (signed && v < 0) {
      negative = true;
      v = -v;
    }
    start = v >= 0 && v <= Number.MAX_SAFE_INTEGER ? numberDigits(v, base, upper) : stringDigits(v, base, upper);
  } else {
    if (signed && v < 0n) {
      negative = true;
      v = -v;
    }
    start = stringDigits(v, base, upper);
  }
  putNumber(out, start, negative, base, upper, signed, flags, width, precision);
}

/** numberTo() of an unsigned 64-bit value given as hi:lo, in hex. */
export function hex64To(out: TextOut, hi: number, lo: number, upper: boolean, flags: number, width: number, precision: number): void {
  putNumber(out, hexDigits(hi, lo, upper), false, 16, upper, false, flags, width, precision);
}

/**
 * formatString() of the record's C string at `start` (at most `max`
 * bytes) as bytes: widened in place when ASCII, else through the string.
 */
export function cStringTo(out: TextOut, src: Uint8Array, view: DataView, start: number, max: number, flags: number, width: number, precision: number): void {
  const s0 = out.pos;
  if (!out.asciiCString(src, view, start, max)) {
    out.pos = s0;
    out.str(formatString(decodeCString(src, start, max), flags, width, precision));
    return;
  }
  widenAt(out, s0, flags, width, precision);
}

/** Applies formatString()'s precision and width to the ASCII text written since `s0`. */
export function widenAt(out: TextOut, s0: number, flags: number, width: number, precision: number): void {
  if (precision >= 0 && out.pos - s0 > precision) out.pos = s0 + precision;
  if (width <= 0) return;
  const pad = width - (out.pos - s0);
  if (pad <= 0) return;
  if (flags & FLAG_LEFT) {
    out.repeat(32, pad);
    return;
  }
  const n = out.pos - s0;
  out.reserve(pad);
  const b = out.buf;
  b.copyWithin(s0 + pad, s0, s0 + n);
  b.fill(32, s0, s0 + pad);
  out.pos = s0 + pad + n;
}
