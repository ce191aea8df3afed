// Output side of a compiled print fmt: each printk directive with its
// argument becomes a closure writing its bytes into a TextOut, specialised
// for the conversion (or a constant string), and the pieces are written in
// sequence by an unrolled emitter. Integer conversions of plain 8-byte
// field reads format the record's two words (no BigInt); strings of the
// record are copied when ASCII.

import { MalformedInputError } from '../../errors.js';
import { type IntType, intTypeOfSize } from '../ctypes.js';
import { toU64 } from '../int64.js';
import { type SymbolTable, split } from '../kallsyms.js';
import type { StringTable } from '../strings.js';
import { Lit, TextOut } from '../text-out.js';
import type { CompiledPrintFmt, Emit, RenderContext } from './context.js';
import {
  addressValue,
  bitmapListString,
  bitmapString,
  hexString,
  ipString,
  macString,
  pointerArgKind,
  rawPointer,
  symbolString,
  uuidString,
  widen,
} from './pointer.js';
import {
  type Directive,
  FLAG_ZEROPAD,
  UNSET,
  convSize,
  convValue,
  formatChar,
  formatNumber,
  formatString,
} from './printk.js';
import { type Inline, type StringSource, assemble, intInline, rawPointerInline, stringInline, wordsWriterInline } from './codegen.js';
import { hex64To, numberTo } from './printk-bytes.js';
import { type CExpr, type CInt, type Fn, type NumFn, type Ref, bitsOf, convert } from './values.js';

export type { Emit } from './context.js';

/** How directives get their arguments in the form they need (the expression compiler). */
export interface Coerce {
  asInt(x: CExpr, what: string): CInt;
  asStr(x: CExpr): Fn<string>;
  /** asStr() as bytes, with a constant width and precision applied (UNSET: none). */
  asStrEmit(x: CExpr, flags: number, width: number, precision: number): Emit;
  /** Where the string of `x` is when it is a plain string field of the record. */
  stringSource(x: CExpr): StringSource | undefined;
  asRef(x: CExpr, what: string): Fn<Ref>;
}

export interface OutputOptions {
  readonly littleEndian: boolean;
  readonly longSize: 4 | 8;
  readonly symbols: SymbolTable;
  readonly strings: StringTable;
}

/** Writes a string built per record (the less common conversions). */
function viaString(fn: Fn<string>): Emit {
  return (c, out) => out.str(fn(c));
}

/**
 * Output of one directive with its argument: a constant string when the
 * argument is constant, inline code for plain field reads, else a closure
 * specialised for the conversion.
 */
export function compileDirective(d: Directive, x: CExpr, widthFn: NumFn | null, precFn: NumFn | null, coerce: Coerce, o: OutputOptions): Emit | string | Inline {
  const dyn = widthFn !== null || precFn !== null;
  const w = d.width;
  const p = d.precision;
  // Resolves a run-time width (negative: left-justify) and precision (negative: 0).
  const spec = (c: RenderContext): [number, number, number] => {
    let flags = d.flags;
    let width = w;
    if (widthFn !== null) {
      width = widthFn(c);
      if (width < 0) {
        width = -width;
        flags |= 1;
      }
      width = Math.min(width, 4095);
    }
    let prec = p;
    if (precFn !== null) prec = Math.min(Math.max(0, precFn(c)), 4095);
    return [flags, width, prec];
  };
  switch (d.conv) {
    case 'd':
    case 'i':
    case 'u':
    case 'o':
    case 'x':
    case 'X': {
      const v = coerce.asInt(x, JSON.stringify(d.text));
      const size = convSize(d, o.longSize);
      const signed = d.conv === 'd' || d.conv === 'i';
      const base = d.conv === 'o' ? 8 : d.conv === 'x' || d.conv === 'X' ? 16 : 10;
      const upper = d.conv === 'X';
      const it: IntType = intTypeOfSize(size, signed)!;
      const fn = convert(v.fn, v.it, it);
      if (v.k !== undefined && !dyn) {
        return formatNumber(convValue(v.k, size, signed), base, upper, signed, d.flags, w, p);
      }
      if (dyn) {
        return (c, out) => {
          const [flags, width, prec] = spec(c);
          numberTo(out, fn(c), base, upper, signed, flags, width, prec);
        };
      }
      const flags = d.flags;
      const plain = flags === 0 && w === UNSET && p === UNSET;
      const closure = ((): Emit => {
        if (plain && base === 10) {
          if (size <= 4) {
            const f = fn as NumFn;
            return (c, out) => out.int(f(c));
          }
          return (c, out) => {
            const value = fn(c);
            if (typeof value === 'number') out.int(value);
            else out.str(value.toString());
          };
        }
        if (plain && base === 16 && !upper) {
          return (c, out) => {
            const value = fn(c);
            if (typeof value === 'number' && value >= 0 && value < 4294967296) out.hex32(value);
            else numberTo(out, value, 16, false, false, 0, UNSET, UNSET);
          };
        }
        return (c, out) => numberTo(out, fn(c), base, upper, signed, flags, w, p);
      })();
      const bits = bitsOf(v.fn);
      const inline = bits === undefined ? null : intInline(bits, v.it, it, { base, upper, signed, flags, width: w, precision: p }, o.littleEndian, closure);
      return inline ?? closure;
    }
    case 'c': {
      const v = coerce.asInt(x, JSON.stringify(d.text));
      const fn = v.fn;
      if (!dyn) {
        const flags = d.flags;
        return viaString((c) => formatChar(fn(c), flags, w));
      }
      return viaString((c) => {
        const [flags, width] = spec(c);
        return formatChar(fn(c), flags, width);
      });
    }
    case 's': {
      if (x.t === 'str' && x.k !== undefined && !dyn) return formatString(x.k, d.flags, w, p);
      if (!dyn) {
        const src = w === UNSET && p === UNSET ? coerce.stringSource(x) : undefined;
        return src !== undefined ? stringInline(src, o.littleEndian) : coerce.asStrEmit(x, d.flags, w, p);
      }
      const s = coerce.asStr(x);
      return viaString((c) => {
        const [flags, width, prec] = spec(c);
        return formatString(s(c), flags, width, prec);
      });
    }
    case 'p':
      return compilePointer(d, x, dyn, spec, coerce, o);
    default:
      throw new MalformedInputError(`print fmt: unsupported conversion ${JSON.stringify(d.text)}`);
  }
}

const SYMBOL_SLOTS = 4096; // power of two

/**
 * %ps/%pS/... text per address (call sites and handlers repeat), as bytes:
 * a direct-mapped cache keyed by the address words.
 */
class SymbolTextCache {
  readonly #symbols: SymbolTable;
  readonly #ext: string;
  readonly #hi = new Uint32Array(SYMBOL_SLOTS);
  readonly #lo = new Uint32Array(SYMBOL_SLOTS);
  readonly #text: Array<Lit | undefined> = new Array<Lit | undefined>(SYMBOL_SLOTS);

  constructor(symbols: SymbolTable, ext: string) {
    this.#symbols = symbols;
    this.#ext = ext;
  }

  /** The address as its two words' bits (int32 or uint32 alike). */
  write(out: TextOut, hi: number, lo: number): void {
    hi >>>= 0;
    lo >>>= 0;
    const slot = (lo ^ (lo >>> 12) ^ hi) & (SYMBOL_SLOTS - 1);
    let text = this.#text[slot];
    if (text === undefined || this.#hi[slot] !== hi || this.#lo[slot] !== lo) {
      text = new Lit(symbolString(this.#symbols, hi < 2097152 ? hi * 4294967296 + lo : (BigInt(hi) << 32n) | BigInt(lo), this.#ext));
      this.#text[slot] = text;
      this.#hi[slot] = hi;
      this.#lo[slot] = lo;
    }
    out.lit(text);
  }
}

function compilePointer(d: Directive, x: CExpr, dyn: boolean, spec: (c: RenderContext) => [number, number, number], coerce: Coerce, o: OutputOptions): Emit | Inline {
  const le = o.littleEndian;
  const ext = d.ext;
  const kind = pointerArgKind(ext);
  const c0 = ext[0] ?? '';
  if (kind === 'address') {
    if (x.t === 'ref') {
      // The record's own address in kernel memory is unknown.
      const text = new Lit('(record pointer)');
      return (_c, out) => out.lit(text);
    }
    if (x.t === 'str') {
      const text = new Lit('(string pointer)');
      return (_c, out) => out.lit(text);
    }
    const fn = x.fn;
    const bits = bitsOf(fn);
    const wide = bits !== undefined && bits.size === 8 ? bits : undefined;
    if (c0 === 'S' || c0 === 's' || c0 === 'B' || c0 === 'F' || c0 === 'f') {
      const symbols = o.symbols;
      const cache = new SymbolTextCache(symbols, ext);
      if (!dyn && d.width === UNSET && d.precision === UNSET) {
        if (wide !== undefined) return wordsWriterInline(cache, wide, le);
        return (c, out) => {
          const [hi, lo] = split(fn(c));
          cache.write(out, hi, lo);
        };
      }
      return viaString((c) => {
        const [flags, width, prec] = spec(c);
        return widen(symbolString(symbols, fn(c), ext), flags, width, prec);
      });
    }
    // %p (hash-ptr off: printed like %px), %px, %pK, %pe and unknown extensions.
    const longSize = o.longSize;
    if (!dyn && wide !== undefined && longSize === 8) return rawPointerInline(wide, d.flags, d.width, d.precision, le);
    return (c, out) => {
      const [flags, width, prec] = spec(c);
      const v = toU64(fn(c));
      if (width < 0) numberTo(out, v, 16, false, false, flags | FLAG_ZEROPAD, longSize * 2, prec);
      else numberTo(out, v, 16, false, false, flags, width, prec);
    };
  }
  if (c0 === 'V') {
    // struct va_format cannot be recorded; print the string argument if there is one.
    return viaString(coerce.asStr(x));
  }
  const buf = coerce.asRef(x, JSON.stringify(d.text));
  const longSize = o.longSize;
  const render = (c: RenderContext, width: number): string => {
    const r = buf(c);
    if (r.len < 0) return '(efault)';
    switch (c0) {
      case 'I':
      case 'i':
        return ipString(c.bytes, r.off, r.len, ext, le);
      case 'M':
      case 'm':
        return macString(c.bytes, r.off, r.len, ext);
      case 'U':
        return uuidString(c.bytes, r.off, r.len, ext);
      case 'h':
        return hexString(c.bytes, r.off, r.len, ext, width);
      case 'b':
        return ext[1] === 'l'
          ? bitmapListString(c.bytes, r.off, r.len, Math.max(0, width), longSize, le)
          : bitmapString(c.bytes, r.off, r.len, Math.max(0, width), longSize, le);
      case 'a':
        return addressValue(c.view, r.off, r.len, longSize, le);
      default:
        // %pE (escaped string) and others: the bytes as a C string.
        return o.strings.string(c.bytes, r.off, r.len);
    }
  };
  // For %ph and %pb the width is the length, not padding.
  const widthIsLength = c0 === 'h' || c0 === 'b';
  return viaString((c) => {
    const [flags, width, prec] = spec(c);
    const s = render(c, width);
    return widthIsLength ? s : widen(s, flags, width, prec);
  });
}

/** A compiled format from its literal pieces and directives (lits.length === pieces.length + 1). */
export function makeRenderer(format: string, lits: string[], pieces: Array<Emit | Inline>, notes: string[]): CompiledPrintFmt {
  const emit = assemble(lits.map((l) => new Lit(l)), pieces);
  let scratch: TextOut | null = null;
  const render = (c: RenderContext): string => {
    const out = (scratch ??= new TextOut(256));
    out.reset();
    emit(c, out);
    return out.toString();
  };
  return { format, notes, render, emit };
}
