// Exact integers up to 64 bits without paying for BigInt on common values.
//
// Representation ("Int"): a Number when the value is a safe integer
// (|v| < 2^53), a BigInt otherwise. Every function returns the normalised
// form, so equal values always have the same representation. Kernel
// addresses (0xffffffff8...) are BigInts; pids, sizes and flags stay
// Numbers, which keeps the hot paths free of BigInt (~1.5 ns vs ~27 ns).

import type { IntType } from './ctypes.js';

/** An exact integer: a Number when it is safe, else a BigInt. */
export type Int = number | bigint;

const TWO32 = 4294967296;
/** hi values in [-2^21, 2^21) give |hi * 2^32 + lo| < 2^53. */
const SAFE_HI = 2097152;

export function norm(v: bigint): Int {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

export function big(v: Int): bigint {
  return typeof v === 'bigint' ? v : BigInt(v);
}

/** Value of a 64-bit word given as two 32-bit halves (hi signed when `signed`). */
export function fromHiLo(hi: number, lo: number, signed: boolean): Int {
  if (signed) {
    hi |= 0;
    if (hi >= -SAFE_HI && hi < SAFE_HI) return hi * TWO32 + lo;
    return (BigInt(hi) << 32n) + BigInt(lo);
  }
  hi >>>= 0;
  if (hi < SAFE_HI) return hi * TWO32 + lo;
  return (BigInt(hi) << 32n) + BigInt(lo);
}

/** Reads an integer of `size` bytes at `at`. */
export function readInt(view: DataView, at: number, size: number, signed: boolean, le: boolean): Int {
  switch (size) {
    case 1:
      return signed ? view.getInt8(at) : view.getUint8(at);
    case 2:
      return signed ? view.getInt16(at, le) : view.getUint16(at, le);
    case 4:
      return signed ? view.getInt32(at, le) : view.getUint32(at, le);
    case 8: {
      const lo = view.getUint32(le ? at : at + 4, le);
      const hi = view.getUint32(le ? at + 4 : at, le);
      return fromHiLo(hi, lo, signed);
    }
    default:
      return 0;
  }
}

/** Converts (C cast) an Int to the given type: wraps to its width. */
export function castInt(v: Int, t: IntType): Int {
  switch (t.size) {
    case 1:
      if (typeof v === 'bigint') v = Number(BigInt.asUintN(8, v));
      return t.signed ? (v << 24) >> 24 : v & 0xff;
    case 2:
      if (typeof v === 'bigint') v = Number(BigInt.asUintN(16, v));
      return t.signed ? (v << 16) >> 16 : v & 0xffff;
    case 4:
      if (typeof v === 'bigint') v = Number(BigInt.asUintN(32, v));
      return t.signed ? v | 0 : v >>> 0;
    default:
      return t.signed ? toS64(v) : toU64(v);
  }
}

export function toS32(v: Int): number {
  return typeof v === 'number' ? v | 0 : Number(BigInt.asIntN(32, v));
}

export function toU32(v: Int): number {
  return typeof v === 'number' ? v >>> 0 : Number(BigInt.asUintN(32, v));
}

export function toS64(v: Int): Int {
  if (typeof v === 'number') return v;
  return norm(BigInt.asIntN(64, v));
}

export function toU64(v: Int): Int {
  if (typeof v === 'number') return v >= 0 ? v : BigInt.asUintN(64, BigInt(v));
  return norm(BigInt.asUintN(64, v));
}

/** Wraps an exact result to 64 bits of the given signedness. */
function wrap64(v: bigint, signed: boolean): Int {
  return norm(signed ? BigInt.asIntN(64, v) : BigInt.asUintN(64, v));
}

// 64-bit arithmetic: Number fast path when the exact result is safe, else BigInt.

export function add64(a: Int, b: Int, signed: boolean): Int {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a + b;
    if (Number.isSafeInteger(r) && (signed || r >= 0)) return r;
  }
  return wrap64(big(a) + big(b), signed);
}

export function sub64(a: Int, b: Int, signed: boolean): Int {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a - b;
    if (Number.isSafeInteger(r) && (signed || r >= 0)) return r;
  }
  return wrap64(big(a) - big(b), signed);
}

export function mul64(a: Int, b: Int, signed: boolean): Int {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a * b;
    if (Number.isSafeInteger(r) && (signed || r >= 0)) return r === 0 ? 0 : r;
  }
  return wrap64(big(a) * big(b), signed);
}

/** C division truncates toward zero; division by zero yields 0 (the kernel would fault). */
export function div64(a: Int, b: Int, signed: boolean): Int {
  if (b == 0) return 0;
  if (typeof a === 'number' && typeof b === 'number') {
    const r = Math.trunc(a / b);
    return r === 0 ? 0 : r;
  }
  return wrap64(big(a) / big(b), signed);
}

export function mod64(a: Int, b: Int, signed: boolean): Int {
  if (b == 0) return 0;
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a % b;
    return r === 0 ? 0 : r;
  }
  return wrap64(big(a) % big(b), signed);
}

function isInt32(v: number): boolean {
  return (v | 0) === v;
}

function isUint32(v: number): boolean {
  return v >>> 0 === v;
}

// Bitwise operators: sign-extended 32-bit values combine like their 64-bit
// forms, so values in int32 (or uint32) range stay on the Number path.

export function and64(a: Int, b: Int, signed: boolean): Int {
  if (typeof a === 'number' && typeof b === 'number') {
    if (isInt32(a) && isInt32(b)) return a & b;
    if (isUint32(a) && isUint32(b)) return (a & b) >>> 0;
    if (a >= 0 && isUint32(b)) return (lo32(a) & b) >>> 0;
    if (b >= 0 && isUint32(a)) return (lo32(b) & a) >>> 0;
  }
  return wrap64(big(a) & big(b), signed);
}

export function or64(a: Int, b: Int, signed: boolean): Int {
  if (typeof a === 'number' && typeof b === 'number') {
    if (isInt32(a) && isInt32(b)) return a | b;
    if (isUint32(a) && isUint32(b)) return (a | b) >>> 0;
  }
  return wrap64(big(a) | big(b), signed);
}

export function xor64(a: Int, b: Int, signed: boolean): Int {
  if (typeof a === 'number' && typeof b === 'number') {
    if (isInt32(a) && isInt32(b)) return a ^ b;
    if (isUint32(a) && isUint32(b)) return (a ^ b) >>> 0;
  }
  return wrap64(big(a) ^ big(b), signed);
}

export function not64(a: Int, signed: boolean): Int {
  if (signed && typeof a === 'number') return -a - 1;
  return wrap64(~big(a), signed);
}

export function neg64(a: Int, signed: boolean): Int {
  if (typeof a === 'number' && (signed || a === 0)) return a === 0 ? 0 : -a;
  return wrap64(-big(a), signed);
}

/** Low 32 bits of a non-negative safe integer. */
function lo32(v: number): number {
  return v % TWO32 >>> 0;
}

/** Shift counts are taken modulo 64 (what x86 does for 64-bit operands). */
export function shl64(a: Int, n: number, signed: boolean): Int {
  n &= 63;
  if (typeof a === 'number') {
    const r = a * 2 ** n;
    if (Number.isSafeInteger(r) && (signed || r >= 0)) return r;
  }
  return wrap64(big(a) << BigInt(n), signed);
}

/** Right shift: arithmetic for signed values, logical for unsigned (which are never negative here). */
export function shr64(a: Int, n: number): Int {
  n &= 63;
  if (typeof a === 'number') return Math.floor(a / 2 ** n);
  // BigInt >> is arithmetic, which is right for both.
  return norm(a >> BigInt(n));
}
