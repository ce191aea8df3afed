// The kernel's printf (lib/vsprintf.c): format_decode() and number(),
// reimplemented for byte-identical output.
//
// Differences from C/glibc printf that matter: precision 0 still prints "0"
// for zero; `%#x` of 0 prints "0x0"; after `%p` every following
// alphanumeric character belongs to the pointer extension ("%pISpc"); an
// unknown conversion stops the output (vsnprintf gives up on the rest).

import { MalformedInputError } from '../../errors.js';
import { decNum, hexNum } from '../int-text.js';
import { type Int, toS32, toS64, toU32, toU64 } from '../int64.js';

export const FLAG_LEFT = 1;
export const FLAG_PLUS = 2;
export const FLAG_SPACE = 4;
export const FLAG_SPECIAL = 8;
export const FLAG_ZEROPAD = 16;

/** Width/precision taken from an argument (`*`). */
export const FROM_ARG = -2;
export const UNSET = -1;

export type Qualifier = '' | 'hh' | 'h' | 'l' | 'll' | 'z' | 't';

export interface Directive {
  readonly flags: number;
  /** UNSET, FROM_ARG or a width. */
  readonly width: number;
  /** UNSET, FROM_ARG or a precision. */
  readonly precision: number;
  readonly qualifier: Qualifier;
  /** d i u o x X c s p, or '!' for an invalid conversion (output stops there). */
  readonly conv: string;
  /** Pointer extension letters after %p ("S", "I4", "ISpc", "x"). */
  readonly ext: string;
  /** The directive as written. */
  readonly text: string;
}

export type FormatPiece = string | Directive;

export const MAX_WIDTH = 4096;

/**
 * Splits a format into literal text and directives (literal pieces are
 * merged, `%%` becomes "%"). The kernel clamps widths and precisions to
 * 4095; we reject larger ones as malformed.
 */
export function parseFormat(fmt: string): FormatPiece[] {
  const out: FormatPiece[] = [];
  let lit = '';
  let i = 0;
  const n = fmt.length;
  while (i < n) {
    const pct = fmt.indexOf('%', i);
    if (pct < 0) {
      lit += fmt.slice(i);
      break;
    }
    lit += fmt.slice(i, pct);
    const start = pct;
    i = pct + 1;
    if (i >= n) {
      // A trailing lone '%' is dropped by vsnprintf.
      break;
    }
    let flags = 0;
    for (;;) {
      const c = fmt[i];
      if (c === '-') flags |= FLAG_LEFT;
      else if (c === '+') flags |= FLAG_PLUS;
      else if (c === ' ') flags |= FLAG_SPACE;
      else if (c === '#') flags |= FLAG_SPECIAL;
      else if (c === '0') flags |= FLAG_ZEROPAD;
      else break;
      i++;
    }
    let width = UNSET;
    if (fmt[i] === '*') {
      width = FROM_ARG;
      i++;
    } else {
      const d0 = i;
      while (i < n && fmt[i]! >= '0' && fmt[i]! <= '9') i++;
      if (i > d0) width = boundedNumber(fmt.slice(d0, i), 'width');
    }
    let precision = UNSET;
    if (fmt[i] === '.') {
      i++;
      if (fmt[i] === '*') {
        precision = FROM_ARG;
        i++;
      } else {
        const d0 = i;
        while (i < n && fmt[i]! >= '0' && fmt[i]! <= '9') i++;
        // "%.s": the kernel leaves the precision unset (C would use 0).
        if (i > d0) precision = boundedNumber(fmt.slice(d0, i), 'precision');
      }
    }
    // Qualifiers the kernel knows: h hh l ll L(=ll) z t.
    let qualifier: Qualifier = '';
    const q = fmt[i];
    if (q === 'h' || q === 'l' || q === 'L' || q === 'z' || q === 't') {
      i++;
      if (q === 'h' && fmt[i] === 'h') {
        qualifier = 'hh';
        i++;
      } else if (q === 'l' && fmt[i] === 'l') {
        qualifier = 'll';
        i++;
      } else if (q === 'L') qualifier = 'll';
      else qualifier = q;
    }
    const conv = fmt[i];
    if (conv === '%') {
      // "%%" (flags and width are ignored by the kernel).
      lit += '%';
      i++;
      continue;
    }
    let ext = '';
    let c: string;
    if (conv === 'd' || conv === 'i' || conv === 'u' || conv === 'o' || conv === 'x' || conv === 'X' || conv === 'c' || conv === 's') {
      c = conv;
      i++;
    } else if (conv === 'p') {
      c = 'p';
      i++;
      const e0 = i;
      while (i < n && /[A-Za-z0-9]/.test(fmt[i]!)) i++;
      ext = fmt.slice(e0, i);
    } else {
      // vsnprintf stops at an unsupported conversion; so do we.
      if (lit.length > 0) out.push(lit);
      out.push({ flags, width, precision, qualifier, conv: '!', ext: '', text: fmt.slice(start, i + 1) });
      return out;
    }
    if (lit.length > 0) {
      out.push(lit);
      lit = '';
    }
    out.push({ flags, width, precision, qualifier, conv: c, ext, text: fmt.slice(start, i) });
  }
  if (lit.length > 0) out.push(lit);
  return out;
}

function boundedNumber(digits: string, what: string): number {
  const v = digits.length > 6 ? Infinity : Number(digits);
  if (v >= MAX_WIDTH) throw new MalformedInputError(`print fmt: ${what} ${digits.slice(0, 12)} is too large`);
  return v;
}

/** Number of argument slots a directive consumes (width/precision stars, then the value). */
export function argCount(d: Directive): number {
  if (d.conv === '!') return 0;
  return (d.width === FROM_ARG ? 1 : 0) + (d.precision === FROM_ARG ? 1 : 0) + 1;
}

/** Integer type a numeric conversion reads its argument as (vsprintf's FORMAT_TYPE_*). */
export function convSize(d: Directive, longSize: 4 | 8): 1 | 2 | 4 | 8 {
  switch (d.qualifier) {
    case 'hh':
      return 1;
    case 'h':
      return 2;
    case 'l':
    case 'z':
    case 't':
      return longSize;
    case 'll':
      return 8;
    default:
      return 4;
  }
}

/** Converts an argument to what a numeric conversion reads: exact value in the conversion's type. */
export function convValue(v: Int, size: 1 | 2 | 4 | 8, signed: boolean): Int {
  switch (size) {
    case 1: {
      const u = toU32(v) & 0xff;
      return signed ? (u << 24) >> 24 : u;
    }
    case 2: {
      const u = toU32(v) & 0xffff;
      return signed ? (u << 16) >> 16 : u;
    }
    case 4:
      return signed ? toS32(v) : toU32(v);
    default:
      return signed ? toS64(v) : toU64(v);
  }
}

const SPACES = ' '.repeat(64);
const ZEROS = '0'.repeat(64);

export function repeat(c: ' ' | '0', n: number): string {
  if (n <= 0) return '';
  const base = c === ' ' ? SPACES : ZEROS;
  return n <= 64 ? base.slice(0, n) : c.repeat(n);
}

/**
 * lib/vsprintf.c number(): `v` already converted to the conversion's type;
 * `signed` is the SIGN flag (d, i).
 */
export function formatNumber(v: Int, base: 8 | 10 | 16, upper: boolean, signed: boolean, flags: number, width: number, precision: number): string {
  let negative = false;
  let digits: string;
  if (typeof v === 'number') {
    if (signed && v < 0) {
      negative = true;
      v = -v;
    }
    digits = base === 16 ? hexNum(v) : base === 10 ? decNum(v) : v.toString(8);
  } else {
    if (signed && v < 0n) {
      negative = true;
      v = -v;
    }
    digits = v.toString(base);
  }
  if (upper) digits = digits.toUpperCase();
  const isZero = digits === '0';
  let fieldWidth = width;
  if (flags & FLAG_LEFT) flags &= ~FLAG_ZEROPAD;
  let sign = '';
  if (signed) {
    if (negative) sign = '-';
    else if (flags & FLAG_PLUS) sign = '+';
    else if (flags & FLAG_SPACE) sign = ' ';
    if (sign !== '') fieldWidth--;
  }
  const needPrefix = (flags & FLAG_SPECIAL) !== 0 && base !== 10;
  if (needPrefix) {
    if (base === 16) fieldWidth -= 2;
    else if (!isZero) fieldWidth--;
  }
  let prec = precision;
  if (digits.length > prec) prec = digits.length;
  fieldWidth -= prec;
  // Each padding step consumes the remaining field width (the kernel's
  // `while (--field_width >= 0)` loops), so at most one of them pads.
  let out = '';
  if (!(flags & (FLAG_ZEROPAD | FLAG_LEFT))) {
    out += repeat(' ', fieldWidth);
    fieldWidth = 0;
  }
  out += sign;
  if (needPrefix) {
    if (base === 16) out += upper ? '0X' : '0x';
    else if (!isZero) out += '0';
  }
  if (!(flags & FLAG_LEFT)) {
    out += repeat(flags & FLAG_ZEROPAD ? '0' : ' ', fieldWidth);
    fieldWidth = 0;
  }
  out += repeat('0', prec - digits.length);
  out += digits;
  out += repeat(' ', fieldWidth);
  return out;
}

/** UTF-8 byte length of a JS string (ASCII fast path). */
export function byteLength(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

/** First `max` bytes of a string (UTF-8), as a string. */
export function truncateBytes(s: string, max: number): string {
  if (s.length <= max && byteLength(s) <= max) return s;
  if (byteLength(s) === s.length) return s.slice(0, max);
  const buf = Buffer.from(s, 'utf8');
  return buf.subarray(0, max).toString('utf8');
}

/** string() + widen_string(): precision limits bytes, width pads with spaces. */
export function formatString(s: string, flags: number, width: number, precision: number): string {
  if (precision >= 0) s = truncateBytes(s, precision);
  if (width <= 0) return s;
  const pad = width - byteLength(s);
  if (pad <= 0) return s;
  return flags & FLAG_LEFT ? s + repeat(' ', pad) : repeat(' ', pad) + s;
}

/** %c: one byte, padded to width. Bytes >= 0x80 alone are not UTF-8: U+FFFD, as a UTF-8 reader shows them. */
export function formatChar(v: Int, flags: number, width: number): string {
  const b = toU32(v) & 0xff;
  const ch = b < 0x80 ? String.fromCharCode(b) : '\ufffd';
  if (width <= 1) return ch;
  return flags & FLAG_LEFT ? ch + repeat(' ', width - 1) : repeat(' ', width - 1) + ch;
}
