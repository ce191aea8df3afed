// JSON values written as UTF-8 bytes into a TextOut (the hot path of JSON
// Lines): exact 64-bit values from two 32-bit halves (numbers, or strings
// beyond 2^53: putJson*64), record C strings JSON-escaped in place, hex
// strings, number arrays. Each writer gives exactly what JSON.stringify /
// jsonInt64Text gives for the object form (EventDecoder.value): only the
// per-event strings and BigInts are gone.

import { decodeCString } from '../decode/strings.js';
import type { TextOut } from '../decode/text-out.js';

const TWO32 = 4294967296;

/** Two ASCII digits of 0..99 as a little-endian 16-bit store (tens first). */
const PAIRS = new Uint16Array(100);
for (let i = 0; i < 100; i++) PAIRS[i] = (48 + Math.floor(i / 10)) | ((48 + (i % 10)) << 8);

/** Two lowercase hex digits of 0..255 as a little-endian 16-bit store (high nibble first). */
const HEX_PAIRS = new Uint16Array(256);
const HEX = '0123456789abcdef';
for (let i = 0; i < 256; i++) HEX_PAIRS[i] = HEX.charCodeAt(i >>> 4) | (HEX.charCodeAt(i & 15) << 8);

/**
 * How JSON.stringify writes each ASCII byte: 0 as is, 1 the NUL (ends a C
 * string), else the length of its escape (\n: 2, \u001f: 6).
 */
const ESCAPE_LEN = new Uint8Array(128);
for (let c = 1; c < 32; c++) ESCAPE_LEN[c] = 6;
for (const c of [8, 9, 10, 12, 13, 34, 92]) ESCAPE_LEN[c] = 2;
ESCAPE_LEN[0] = 1;
/** The letter after the backslash of the two-byte escapes. */
const ESCAPE_CHAR = new Uint8Array(128);
ESCAPE_CHAR[8] = 98; // b
ESCAPE_CHAR[9] = 116; // t
ESCAPE_CHAR[10] = 110; // n
ESCAPE_CHAR[12] = 102; // f
ESCAPE_CHAR[13] = 114; // r
ESCAPE_CHAR[34] = 34; // "
ESCAPE_CHAR[92] = 92; // \

// Number writers come in two forms: put*(buf, dv, p, …) store at `p` with
// no bounds check and return the end (generated code reserves once for a
// run of fields), write*(out, …) reserve and advance out.pos.

/** Most bytes a put*() of a 64-bit value stores ("-9223372036854775808"). */
export const MAX_INT_TEXT = 20;

/** Decimal digits of a uint32. */
function digits32(v: number): number {
  if (v < 100000) return v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : 5;
  return v < 1000000 ? 6 : v < 10000000 ? 7 : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
}

// Digits are computed in int32 arithmetic (`| 0` on every quotient and
// remainder): V8 then divides by constants with multiplies, about twice as
// fast as the double divisions it uses otherwise.

/** Decimal of a uint32. */
export function putU32(buf: Uint8Array, dv: DataView, p: number, v: number): number {
  if (v < 10) {
    buf[p] = 48 + v;
    return p + 1;
  }
  if (v > 0x7fffffff) {
    // Ten digits: the first, then nine in int32 range.
    const top = Math.floor(v / 1e9);
    buf[p] = 48 + top;
    return put9(buf, dv, p + 1, v - top * 1e9);
  }
  let x = v | 0;
  const n = digits32(x);
  let e = p + n;
  while (x >= 100) {
    const q = (x / 100) | 0;
    e -= 2;
    dv.setUint16(e, PAIRS[(x - q * 100) | 0]!, true);
    x = q;
  }
  if (x >= 10) dv.setUint16(e - 2, PAIRS[x]!, true);
  else buf[e - 1] = 48 + x;
  return p + n;
}

/** Decimal of an int32. */
export function putI32(buf: Uint8Array, dv: DataView, p: number, v: number): number {
  if (v < 0) {
    buf[p++] = 45;
    v = -v;
  }
  return putU32(buf, dv, p, v);
}

/** Eight digits of 0 <= v < 10^8, zero-padded. */
function put8(dv: DataView, p: number, v: number): number {
  const x = v | 0;
  const h = (x / 10000) | 0;
  const l = (x - h * 10000) | 0;
  const h1 = (h / 100) | 0;
  const l1 = (l / 100) | 0;
  dv.setUint16(p, PAIRS[h1]!, true);
  dv.setUint16(p + 2, PAIRS[(h - h1 * 100) | 0]!, true);
  dv.setUint16(p + 4, PAIRS[l1]!, true);
  dv.setUint16(p + 6, PAIRS[(l - l1 * 100) | 0]!, true);
  return p + 8;
}

/** Nine digits of 0 <= v < 10^9, zero-padded. */
export function put9(buf: Uint8Array, dv: DataView, p: number, v: number): number {
  const x = v | 0;
  const top = (x / 100000000) | 0;
  buf[p] = 48 + top;
  return put8(dv, p + 1, (x - top * 100000000) | 0);
}

/** Decimal of a non-negative safe integer. */
export function putUint(buf: Uint8Array, dv: DataView, p: number, v: number): number {
  if (v < TWO32) return putU32(buf, dv, p, v);
  // Below 2^53 the quotient fits a uint32.
  const q = Math.floor(v / 1e8);
  return put8(dv, putU32(buf, dv, p, q), v - q * 1e8);
}

/** Decimal of the unsigned 64-bit value hi * 2^32 + lo (both uint32). */
export function putU64(buf: Uint8Array, dv: DataView, p: number, hi: number, lo: number): number {
  if (hi === 0) return putU32(buf, dv, p, lo);
  if (hi < 0x200000) return putUint(buf, dv, p, hi * TWO32 + lo);
  // Long division by 10^9 in 32 + 16 + 16-bit steps: every partial value
  // stays below 2^53, so the doubles are exact.
  const qh = Math.floor(hi / 1e9);
  let r = hi - qh * 1e9;
  let cur = r * 65536 + (lo >>> 16);
  const q1 = Math.floor(cur / 1e9);
  r = cur - q1 * 1e9;
  cur = r * 65536 + (lo & 0xffff);
  const q0 = Math.floor(cur / 1e9);
  r = cur - q0 * 1e9;
  return put9(buf, dv, putUint(buf, dv, p, qh * TWO32 + q1 * 65536 + q0), r);
}

/** Decimal of the signed 64-bit value hi * 2^32 + lo (hi int32, lo uint32). */
export function putS64(buf: Uint8Array, dv: DataView, p: number, hi: number, lo: number): number {
  if (hi >= 0) return putU64(buf, dv, p, hi, lo);
  buf[p] = 45;
  // -1 .. -2^32 + 1: the magnitude is a uint32.
  if (hi === -1 && lo !== 0) return putU32(buf, dv, p + 1, TWO32 - lo);
  if (hi >= -0x200000) return putUint(buf, dv, p + 1, -(hi * TWO32 + lo));
  // Two's complement magnitude.
  const nlo = (~lo + 1) >>> 0;
  const nhi = (~hi + (nlo === 0 ? 1 : 0)) >>> 0;
  return putU64(buf, dv, p + 1, nhi, nlo);
}

// ---- 64-bit values as JSON that every reader keeps exact ---------------
//
// The protobuf JSON mapping's rule, relaxed for small values: a 64-bit
// integer is a JSON number while a double holds it exactly (|v| <= 2^53 - 1,
// Number.MAX_SAFE_INTEGER), else a string: "0x…" (lowercase, unpadded) for
// pointers and fields the kernel prints in hex, decimal digits otherwise.
// JSON.parse and jq then keep every value exactly.

/** Most bytes a putJson*64() stores ("\"-9223372036854775808\"", or "\"0xffffffffffffffff\""). */
export const MAX_JSON_INT_TEXT = 22;

const HEX_CODES = Uint8Array.from(HEX, (c) => c.charCodeAt(0));

/** Unpadded lowercase hex of a uint32, at least one digit. */
function putHex32(buf: Uint8Array, p: number, v: number): number {
  let n = 1;
  while (n < 8 && v >>> (4 * n) !== 0) n++;
  for (let k = n - 1; k >= 0; k--) buf[p++] = HEX_CODES[(v >>> (4 * k)) & 15]!;
  return p;
}

/** Eight lowercase hex digits of a uint32. */
function putHex32Fixed(dv: DataView, p: number, v: number): number {
  dv.setUint16(p, HEX_PAIRS[v >>> 24]!, true);
  dv.setUint16(p + 2, HEX_PAIRS[(v >>> 16) & 255]!, true);
  dv.setUint16(p + 4, HEX_PAIRS[(v >>> 8) & 255]!, true);
  dv.setUint16(p + 6, HEX_PAIRS[v & 255]!, true);
  return p + 8;
}

/** "0x…" of the unsigned 64-bit value hi * 2^32 + lo, quotes included. */
function putQuotedHex64(buf: Uint8Array, dv: DataView, p: number, hi: number, lo: number): number {
  buf[p] = 34;
  buf[p + 1] = 48;
  buf[p + 2] = 120;
  p += 3;
  if (hi === 0) p = putHex32(buf, p, lo);
  else p = putHex32Fixed(dv, putHex32(buf, p, hi), lo);
  buf[p] = 34;
  return p + 1;
}

/** Unsigned 64-bit hi * 2^32 + lo: a number below 2^53, else a decimal string. */
export function putJsonU64(buf: Uint8Array, dv: DataView, p: number, hi: number, lo: number): number {
  if (hi < 0x200000) return putU64(buf, dv, p, hi, lo);
  buf[p] = 34;
  p = putU64(buf, dv, p + 1, hi, lo);
  buf[p] = 34;
  return p + 1;
}

/** Whether the signed 64-bit value hi * 2^32 + lo (hi int32) is within ±(2^53 - 1). */
function safeS64(hi: number, lo: number): boolean {
  return hi < 0x200000 && (hi > -0x200000 || (hi === -0x200000 && lo !== 0));
}

/** Signed 64-bit hi * 2^32 + lo (hi int32): a number within ±(2^53 - 1), else a decimal string. */
export function putJsonS64(buf: Uint8Array, dv: DataView, p: number, hi: number, lo: number): number {
  if (safeS64(hi, lo)) return putS64(buf, dv, p, hi, lo);
  buf[p] = 34;
  p = putS64(buf, dv, p + 1, hi, lo);
  buf[p] = 34;
  return p + 1;
}

/** Unsigned 64-bit value of a hex field: a number below 2^53, else "0x…". */
export function putJsonHexU64(buf: Uint8Array, dv: DataView, p: number, hi: number, lo: number): number {
  if (hi < 0x200000) return putU64(buf, dv, p, hi, lo);
  return putQuotedHex64(buf, dv, p, hi, lo);
}

/** Signed 64-bit value of a hex field (hi int32): a number within ±(2^53 - 1), else "0x…" of its 64 bits. */
export function putJsonHexS64(buf: Uint8Array, dv: DataView, p: number, hi: number, lo: number): number {
  if (safeS64(hi, lo)) return putS64(buf, dv, p, hi, lo);
  return putQuotedHex64(buf, dv, p, hi >>> 0, lo);
}

/** A 64-bit value given as a bigint, by the same rule (the object form's values). */
export function jsonInt64Text(v: bigint, hex: boolean): string {
  if (v <= 9007199254740991n && v >= -9007199254740991n) return String(v);
  return hex ? `"0x${BigInt.asUintN(64, v).toString(16)}"` : `"${v}"`;
}

/** Decimal of a safe integer. */
export function writeInt(out: TextOut, v: number): void {
  out.reserve(MAX_INT_TEXT);
  if (v < 0) {
    out.buf[out.pos++] = 45;
    v = -v;
  }
  out.pos = putUint(out.buf, out.dv, out.pos, v);
}

/** Decimal of the unsigned 64-bit value hi * 2^32 + lo. */
export function writeU64(out: TextOut, hi: number, lo: number): void {
  out.reserve(MAX_INT_TEXT);
  out.pos = putU64(out.buf, out.dv, out.pos, hi, lo);
}

/** Decimal of the signed 64-bit value hi * 2^32 + lo. */
export function writeS64(out: TextOut, hi: number, lo: number): void {
  out.reserve(MAX_INT_TEXT);
  out.pos = putS64(out.buf, out.dv, out.pos, hi, lo);
}

/**
 * The record's C string at `start` (at most `max` bytes, up to a NUL) as a
 * JSON string, as JSON.stringify(decodeCString(bytes, start, max)) gives
 * it: ASCII is copied (escaping what JSON needs), other text goes through
 * the decoder (invalid UTF-8 becomes U+FFFD). `view` is a view of `bytes`
 * with the same offsets.
 */
export function writeJsonCString(out: TextOut, bytes: Uint8Array, view: DataView, start: number, max: number): void {
  const end = Math.min(start + (max > 0 ? max : 0), bytes.length);
  const open = out.pos;
  // Quotes and the plain-copy case.
  out.reserve(end - start + 10);
  let b = out.buf;
  let p = open;
  b[p++] = 34;
  let i = start;
  if (i >= 0) {
    // Four bytes at a time while none is a control byte, >= 0x80, '"' or '\'.
    const dv = out.dv;
    while (i + 4 <= end) {
      const w = view.getInt32(i, true);
      const q = w ^ 0x22222222;
      const s = w ^ 0x5c5c5c5c;
      if (((((w - 0x20202020) & ~w) | w | ((q - 0x01010101) & ~q) | ((s - 0x01010101) & ~s)) & 0x80808080) !== 0) break;
      dv.setInt32(p, w, true);
      p += 4;
      i += 4;
    }
  }
  for (; i < end; i++) {
    const c = bytes[i]!;
    if (c >= 0x80) {
      out.pos = open;
      out.str(JSON.stringify(decodeCString(bytes, start, max)));
      return;
    }
    const e = ESCAPE_LEN[c]!;
    if (e === 0) {
      b[p++] = c;
      continue;
    }
    if (e === 1) break;
    // Escapes: room for the longest one, and the rest copied plainly.
    out.pos = p;
    out.reserve(end - i + 10);
    b = out.buf;
    b[p++] = 92;
    if (e === 2) b[p++] = ESCAPE_CHAR[c]!;
    else {
      // \u00XX, lowercase hex as JSON.stringify writes it.
      b[p] = 117;
      b[p + 1] = 48;
      b[p + 2] = 48;
      out.dv.setUint16(p + 3, HEX_PAIRS[c]!, true);
      p += 5;
    }
  }
  b[p++] = 34;
  out.pos = p;
}

/** `n` bytes at `start` as a JSON string of lowercase hex pairs. */
export function writeHexString(out: TextOut, bytes: Uint8Array, start: number, n: number): void {
  // Clamped to the bytes there are, as subarray() / slice() did.
  if (n > bytes.length - start) n = bytes.length - start;
  if (n < 0) n = 0;
  out.reserve(2 * n + 2);
  const dv = out.dv;
  let p = out.pos;
  out.buf[p++] = 34;
  for (let i = 0; i < n; i++) {
    dv.setUint16(p, HEX_PAIRS[bytes[start + i]!]!, true);
    p += 2;
  }
  out.buf[p++] = 34;
  out.pos = p;
}

/**
 * `n` integers of `size` (2, 4 or 8) bytes from `start` as a JSON array
 * (8-byte ones by the putJson*64 rule; `hex`: a hex field's).
 */
export function writeIntArray(out: TextOut, view: DataView, start: number, n: number, size: number, signed: boolean, le: boolean, hex = false): void {
  out.byte(91);
  for (let k = 0; k < n; k++) {
    out.reserve(MAX_JSON_INT_TEXT + 1);
    const buf = out.buf;
    const dv = out.dv;
    let p = out.pos;
    if (k > 0) buf[p++] = 44;
    const at = start + k * size;
    if (size === 8) {
      // Direct calls (a chosen function value would keep V8 from inlining).
      const lo = view.getUint32(le ? at : at + 4, le);
      if (signed) {
        const hi = view.getInt32(le ? at + 4 : at, le);
        p = hex ? putJsonHexS64(buf, dv, p, hi, lo) : putJsonS64(buf, dv, p, hi, lo);
      } else {
        const hi = view.getUint32(le ? at + 4 : at, le);
        p = hex ? putJsonHexU64(buf, dv, p, hi, lo) : putJsonU64(buf, dv, p, hi, lo);
      }
    } else if (size === 4) p = signed ? putI32(buf, dv, p, view.getInt32(at, le)) : putU32(buf, dv, p, view.getUint32(at, le));
    else p = signed ? putI32(buf, dv, p, view.getInt16(at, le)) : putU32(buf, dv, p, view.getUint16(at, le));
    out.pos = p;
  }
  out.byte(93);
}

/** Indices of the set bits of a bitmap of `longSize`-byte words, as a JSON array. */
export function writeBitIndices(out: TextOut, bytes: Uint8Array, start: number, len: number, longSize: number, le: boolean): void {
  out.byte(91);
  let first = true;
  const words = Math.floor(len / longSize);
  for (let w = 0; w < words; w++) {
    for (let b = 0; b < longSize; b++) {
      const byte = bytes[start + w * longSize + (le ? b : longSize - 1 - b)]!;
      if (byte === 0) continue;
      for (let k = 0; k < 8; k++) {
        if ((byte & (1 << k)) === 0) continue;
        if (!first) out.byte(44);
        first = false;
        out.reserve(MAX_INT_TEXT);
        out.pos = putUint(out.buf, out.dv, out.pos, w * longSize * 8 + b * 8 + k);
      }
    }
  }
  out.byte(93);
}
