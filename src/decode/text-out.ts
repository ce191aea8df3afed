// Text written as UTF-8 bytes straight into a growable buffer: the hot path
// of kernel text. Building a JS string per piece, concatenating, then
// encoding whole chunks cost more than the formatting itself; writing bytes
// (digits from tables, literals and record strings copied) does not.
//
// Writers reserve what they need first; the buffer grows (doubling) when an
// event is larger than the room left, so any text fits.

import { decodeCString } from './strings.js';

/** Whole chunks of already-decoded text: a leading U+FEFF is text, not a BOM. */
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const encoder = new TextEncoder();

/** Two ASCII digits of 0..99 as a little-endian 16-bit store (tens first). */
const PAIRS = new Uint16Array(100);
for (let i = 0; i < 100; i++) PAIRS[i] = (48 + Math.floor(i / 10)) | ((48 + (i % 10)) << 8);
/** Lowercase, then uppercase hex digits as bytes. */
const HEX_LOWER = new Uint8Array([...'0123456789abcdef'].map((c) => c.charCodeAt(0)));
const HEX_UPPER = new Uint8Array([...'0123456789ABCDEF'].map((c) => c.charCodeAt(0)));
/** Two hex digits of 0..255 as a little-endian 16-bit store (high nibble first); uppercase after 256. */
const HEX_PAIRS = new Uint16Array(512);
for (let i = 0; i < 256; i++) {
  HEX_PAIRS[i] = HEX_LOWER[i >>> 4]! | (HEX_LOWER[i & 15]! << 8);
  HEX_PAIRS[256 + i] = HEX_UPPER[i >>> 4]! | (HEX_UPPER[i & 15]! << 8);
}

/** Decimal digits of a uint32. */
function digits32(v: number): number {
  if (v < 100000) return v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : 5;
  return v < 1000000 ? 6 : v < 10000000 ? 7 : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
}

/** UTF-8 bytes of `s`. */
export function utf8Bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Longest Lit copied word by word; longer ones are copied with set(). */
const WORD_COPY_MAX = 32;

/**
 * Constant text prepared for copying: a byte loop costs ~1.5 ns per byte,
 * a 32-bit store per 4 bytes a third of that, and set() ~10 ns flat.
 */
export class Lit {
  readonly bytes: Uint8Array;
  /** The bytes as little-endian int32 words, the last one zero-padded. */
  readonly words: Int32Array;
  readonly length: number;
  readonly ascii: boolean;

  constructor(text: string | Uint8Array) {
    const bytes = typeof text === 'string' ? utf8Bytes(text) : text;
    this.bytes = bytes;
    this.length = bytes.length;
    // At least two words: lit() stores up to 8 bytes without looking at the length.
    const words = new Int32Array(Math.max(2, (bytes.length + 3) >>> 2));
    for (let i = 0; i < bytes.length; i++) words[i >>> 2]! |= bytes[i]! << (8 * (i & 3));
    this.words = words;
    let ascii = true;
    for (const b of bytes) if (b >= 0x80) ascii = false;
    this.ascii = ascii;
  }
}

export class TextOut {
  buf: Uint8Array;
  /** A view of `buf` for 32-bit stores. */
  dv: DataView;
  pos = 0;
  /** A byte >= 0x80 was written since the last reset() (else the text is ASCII). */
  nonAscii = false;

  constructor(capacity = 1 << 16) {
    this.buf = new Uint8Array(Math.max(64, capacity));
    this.dv = new DataView(this.buf.buffer);
  }

  /** Room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n > this.buf.length) this.#grow(n);
  }

  #grow(n: number): void {
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n + 64));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }

  reset(): void {
    this.pos = 0;
    this.nonAscii = false;
  }

  /** The text written from `start` (default: everything) as a string. */
  toString(start = 0, end = this.pos): string {
    if (end <= start) return '';
    const b = this.buf;
    if (!this.nonAscii) return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
    return utf8.decode(b.subarray(start, end));
  }

  byte(c: number): void {
    if (this.pos + 1 > this.buf.length) this.#grow(1);
    this.buf[this.pos++] = c;
  }

  /** Bytes known to be valid UTF-8 (literals, pre-encoded text). */
  bytes(src: Uint8Array): void {
    const n = src.length;
    if (this.pos + n > this.buf.length) this.#grow(n);
    const b = this.buf;
    let p = this.pos;
    if (n > 48) {
      b.set(src, p);
      p += n;
    } else for (let i = 0; i < n; i++) b[p++] = src[i]!;
    this.pos = p;
  }

  /** Constant text. */
  lit(l: Lit): void {
    const n = l.length;
    // Word stores may write up to 7 bytes past the text (overwritten next).
    if (this.pos + n + 8 > this.buf.length) this.#grow(n + 8);
    const p = this.pos;
    const w = l.words;
    const dv = this.dv;
    if (n <= 4) dv.setInt32(p, w[0]!, true);
    else if (n <= 8) {
      dv.setInt32(p, w[0]!, true);
      dv.setInt32(p + 4, w[1]!, true);
    } else if (n > WORD_COPY_MAX) this.buf.set(l.bytes, p);
    else for (let i = 0; i < (n + 3) >>> 2; i++) dv.setInt32(p + 4 * i, w[i]!, true);
    this.pos = p + n;
    if (!l.ascii) this.nonAscii = true;
  }

  /** Marks pre-encoded bytes written with bytes() as possibly non-ASCII. */
  markNonAscii(): void {
    this.nonAscii = true;
  }

  /** A JS string, as UTF-8. */
  str(s: string): void {
    const n = s.length;
    if (this.pos + n > this.buf.length) this.#grow(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.pos = p;
        this.#utf8(s, i);
        return;
      }
      b[p++] = c;
    }
    this.pos = p;
  }

  #utf8(s: string, from: number): void {
    const rest = from === 0 ? s : s.slice(from);
    // At most 3 bytes per UTF-16 unit.
    this.reserve(rest.length * 3);
    const r = encoder.encodeInto(rest, this.buf.subarray(this.pos));
    this.pos += r.written;
    this.nonAscii = true;
  }

  /** `n` copies of the byte `c` (n <= 0: nothing). */
  repeat(c: number, n: number): void {
    if (n <= 0) return;
    if (this.pos + n > this.buf.length) this.#grow(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = c;
    this.pos = p;
  }

  /** Decimal of a uint32 (0 <= v < 2^32). */
  u32(v: number): void {
    if (v < 10) {
      this.byte(48 + v);
      return;
    }
    if (this.pos + 10 > this.buf.length) this.#grow(10);
    const dv = this.dv;
    const n = digits32(v);
    let p = this.pos + n;
    this.pos = p;
    while (v >= 100) {
      const q = (v / 100) >>> 0;
      p -= 2;
      dv.setUint16(p, PAIRS[v - q * 100]!, true);
      v = q;
    }
    if (v >= 10) dv.setUint16(p - 2, PAIRS[v]!, true);
    else this.buf[p - 1] = 48 + v;
  }

  /** Six digits of 0 <= v < 10^6, zero-padded (microseconds). */
  digits6(v: number): void {
    if (this.pos + 6 > this.buf.length) this.#grow(6);
    const dv = this.dv;
    const p = this.pos;
    const a = (v / 10000) | 0;
    const r = v - a * 10000;
    const b = (r / 100) | 0;
    dv.setUint16(p, PAIRS[a]!, true);
    dv.setUint16(p + 2, PAIRS[b]!, true);
    dv.setUint16(p + 4, PAIRS[r - b * 100]!, true);
    this.pos = p + 6;
  }

  /** Decimal of a uint32 given as its bits (int32 or uint32): stays a small integer across calls. */
  u32Bits(v: number): void {
    this.u32(v >>> 0);
  }

  /** Decimal of a non-negative safe integer. */
  uint(v: number): void {
    if (v < 4294967296) {
      this.u32(v);
      return;
    }
    // Below 2^53: the part above 10^9 fits a uint32 (no recursion, so this inlines).
    const hi = Math.floor(v / 1e9);
    this.u32(hi);
    this.zeroPadded(v - hi * 1e9, 9);
  }

  /**
   * Decimal of the 64-bit integer of words hi:lo, given as their bits
   * (int32 or uint32; hi read as signed when `signed`); the caller ensures
   * |value| < 2^53. Words rather than the Number: a value beyond the small
   * integers passed to a function that is not inlined is boxed.
   */
  int64(hi: number, lo: number, signed: boolean): void {
    this.int((signed ? hi | 0 : hi >>> 0) * 4294967296 + (lo >>> 0));
  }

  /** Decimal of a safe integer (String(v) for integers). */
  int(v: number): void {
    if (v < 0) {
      this.byte(45);
      v = -v;
    }
    this.uint(v);
  }

  /** `width` decimal digits of 0 <= v < 10^width (width <= 10), zero-padded. */
  zeroPadded(v: number, width: number): void {
    if (this.pos + width > this.buf.length) this.#grow(width);
    const b = this.buf;
    let p = this.pos + width;
    this.pos = p;
    for (let i = 0; i < width; i++) {
      const q = Math.floor(v / 10);
      b[--p] = 48 + (v - q * 10);
      v = q;
    }
  }

  /** Unpadded hex of a uint32. */
  hex32(v: number, upper = false): void {
    v >>>= 0;
    const n = v === 0 ? 1 : (35 - Math.clz32(v)) >>> 2;
    this.#hexDigits(v | 0, n, upper);
  }

  /**
   * Exactly `n` (1..8) hex digits of the low bits of `v`, a word's bits as
   * int32 (callers pass `x | 0`: a uint32 above 2^31 would be boxed).
   */
  #hexDigits(v: number, n: number, upper: boolean): void {
    if (this.pos + n > this.buf.length) this.#grow(n);
    const dv = this.dv;
    const u = upper ? 256 : 0;
    let p = this.pos + n;
    this.pos = p;
    // Two digits per store, from the low end.
    for (; n >= 2; n -= 2) {
      p -= 2;
      dv.setUint16(p, HEX_PAIRS[u + (v & 255)]!, true);
      v >>>= 8;
    }
    if (n === 1) this.buf[p - 1] = (upper ? HEX_UPPER : HEX_LOWER)[v & 15]!;
  }

  /** Eight hex digits of a uint32. */
  hex32Padded(v: number, upper = false): void {
    this.#hexDigits(v | 0, 8, upper);
  }

  /** Unpadded hex of the unsigned 64-bit value hi * 2^32 + lo. */
  hex64(hi: number, lo: number, upper = false): void {
    hi >>>= 0;
    if (hi === 0) this.hex32(lo, upper);
    else {
      this.hex32(hi, upper);
      this.#hexDigits(lo | 0, 8, upper);
    }
  }

  /** Sixteen hex digits of the 64-bit value hi * 2^32 + lo (a zero-padded %px). */
  hex64Fixed(hi: number, lo: number): void {
    this.#hexDigits(hi | 0, 8, false);
    this.#hexDigits(lo | 0, 8, false);
  }

  /** Two hex digits of a byte. */
  hexByte(v: number): void {
    this.#hexDigits(v & 255, 2, false);
  }

  /**
   * UTF-8 bytes of a record's C string (at most `max` bytes, up to a NUL),
   * as decodeCString() gives them: copied when ASCII; otherwise decoded
   * (invalid sequences become U+FFFD) and re-encoded. `view` is a view of
   * `src` with the same offsets.
   */
  cString(src: Uint8Array, view: DataView, start: number, max: number): void {
    if (!this.asciiCString(src, view, start, max)) this.#utf8(decodeCString(src, start, max), 0);
  }

  /** Copies the C string and returns true if it is ASCII; else writes nothing and returns false. */
  asciiCString(src: Uint8Array, view: DataView, start: number, max: number): boolean {
    const end = Math.min(start + Math.max(0, max), src.length);
    if (this.pos + (end - start) > this.buf.length) this.#grow(end - start);
    let p = this.pos;
    let i = start;
    if (i >= 0) {
      // Four bytes at a time while none is NUL or >= 0x80.
      const dv = this.dv;
      while (i + 4 <= end) {
        const w = view.getInt32(i, true);
        if ((((w - 0x01010101) & ~w) | w) & 0x80808080) break;
        dv.setInt32(p, w, true);
        p += 4;
        i += 4;
      }
    }
    const b = this.buf;
    for (; i < end; i++) {
      const c = src[i]!;
      if (c === 0) break;
      if (c >= 0x80) return false;
      b[p++] = c;
    }
    this.pos = p;
    return true;
  }
}
