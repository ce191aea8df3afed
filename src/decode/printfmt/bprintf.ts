// bstr_printf(): formats the arguments that vbin_printf() packed into a
// bprint event's buf[] (kernel-abi.md §7.4):
//   8-byte values (%ll, %l/%z/%t on 64-bit, %p) as two u32, 4-byte aligned;
//   smaller integers at their natural size and alignment (%c 1, %h 2, int 4);
//   %s strings inline with their NUL, unaligned; `*` width/precision as int;
//   %p extensions that dereference (%pI4, %pM...) were rendered at record
//   time and stored as strings.
// Offsets align relative to buf[], which is 4-byte aligned in the record.

import { fromHiLo, type Int } from '../int64.js';
import type { SymbolTable } from '../kallsyms.js';
import { decodeCString } from '../strings.js';
import { rawPointer, symbolString, widen } from './pointer.js';
import {
  type Directive,
  FLAG_LEFT,
  type FormatPiece,
  FROM_ARG,
  convSize,
  convValue,
  formatChar,
  formatNumber,
  formatString,
  parseFormat,
} from './printk.js';

export interface BprintfOptions {
  readonly littleEndian: boolean;
  readonly longSize: 4 | 8;
  readonly symbols: SymbolTable;
}

/** Parsed formats, keyed by format text (trace_printk formats repeat). */
const cache = new Map<string, FormatPiece[]>();
const CACHE_MAX = 4096;

function pieces(fmt: string): FormatPiece[] {
  let p = cache.get(fmt);
  if (p === undefined) {
    p = parseFormat(fmt);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(fmt, p);
  }
  return p;
}

/** Pointer extensions whose value (not a pre-rendered string) is stored. */
function storesValue(ext: string): boolean {
  const c = ext[0];
  return c === undefined || c === 'S' || c === 's' || c === 'x' || c === 'K' || c === 'e' || !/[A-Za-z0-9]/.test(c);
}

/**
 * Formats `fmt` with the arguments packed at bytes[start, end). Reading
 * stops (silently, like the kernel's bounds) at the end of the buffer.
 */
export function bprintf(fmt: string, view: DataView, bytes: Uint8Array, start: number, end: number, o: BprintfOptions): string {
  const le = o.littleEndian;
  let p = start;
  const align = (n: number): void => {
    p = start + Math.ceil((p - start) / n) * n;
  };
  const getInt = (size: 1 | 2 | 4 | 8, signed: boolean): Int => {
    if (size === 8) {
      align(4);
      if (p + 8 > end) {
        p = end;
        return 0;
      }
      const lo = view.getUint32(le ? p : p + 4, le);
      const hi = view.getUint32(le ? p + 4 : p, le);
      p += 8;
      return fromHiLo(hi, lo, signed);
    }
    align(size);
    if (p + size > end) {
      p = end;
      return 0;
    }
    let v: number;
    if (size === 1) v = signed ? view.getInt8(p) : view.getUint8(p);
    else if (size === 2) v = signed ? view.getInt16(p, le) : view.getUint16(p, le);
    else v = signed ? view.getInt32(p, le) : view.getUint32(p, le);
    p += size;
    return v;
  };
  const getString = (): string => {
    const s = decodeCString(bytes, p, end - p);
    let q = p;
    while (q < end && bytes[q] !== 0) q++;
    p = Math.min(end, q + 1);
    return s;
  };

  let out = '';
  for (const piece of pieces(fmt)) {
    if (typeof piece === 'string') {
      out += piece;
      continue;
    }
    const d: Directive = piece;
    if (d.conv === '!') break;
    let flags = d.flags;
    let width = d.width;
    let precision = d.precision;
    if (width === FROM_ARG) {
      width = Number(getInt(4, true));
      if (width < 0) {
        width = -width;
        flags |= FLAG_LEFT;
      }
      width = Math.min(width, 4095);
    }
    if (precision === FROM_ARG) precision = Math.min(Math.max(0, Number(getInt(4, true))), 4095);
    switch (d.conv) {
      case 'c':
        out += formatChar(getInt(1, false), flags, width);
        break;
      case 's':
        out += formatString(getString(), flags, width, precision);
        break;
      case 'p': {
        if (storesValue(d.ext)) {
          const v = getInt(o.longSize, false);
          const c = d.ext[0];
          if (c === 'S' || c === 's') out += widen(symbolString(o.symbols, v, d.ext), flags, width, precision);
          else out += rawPointer(v, o.longSize, flags, width, precision);
        } else out += getString();
        break;
      }
      default: {
        const size = convSize(d, o.longSize);
        const signed = d.conv === 'd' || d.conv === 'i';
        // Stored at the qualifier's size; h/hh are stored as short/char.
        const raw = getInt(size, signed);
        const base = d.conv === 'o' ? 8 : d.conv === 'x' || d.conv === 'X' ? 16 : 10;
        out += formatNumber(convValue(raw, size, signed), base, d.conv === 'X', signed, flags, width, precision);
      }
    }
  }
  return out;
}
