// Output side of a compiled print fmt: each printk directive with its
// argument becomes a closure specialised for the conversion (or a constant
// string), and the pieces are concatenated by an unrolled renderer.

import { MalformedInputError } from '../../errors.js';
import { type IntType, intTypeOfSize } from '../ctypes.js';
import { hexInt } from '../int-text.js';
import type { Int } from '../int64.js';
import type { SymbolTable } from '../kallsyms.js';
import type { StringTable } from '../strings.js';
import type { CompiledPrintFmt, RenderContext } from './context.js';
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
  UNSET,
  convSize,
  convValue,
  formatChar,
  formatNumber,
  formatString,
} from './printk.js';
import { type CExpr, type CInt, type Fn, type NumFn, type Ref, convert } from './values.js';

/** How directives get their arguments in the form they need (the expression compiler). */
export interface Coerce {
  asInt(x: CExpr, what: string): CInt;
  asStr(x: CExpr): Fn<string>;
  asRef(x: CExpr, what: string): Fn<Ref>;
}

export interface OutputOptions {
  readonly littleEndian: boolean;
  readonly longSize: 4 | 8;
  readonly symbols: SymbolTable;
  readonly strings: StringTable;
}

/**
 * Output of one directive with its argument: a constant string when the
 * argument is constant, else a closure specialised for the conversion.
 */
export function compileDirective(d: Directive, x: CExpr, widthFn: NumFn | null, precFn: NumFn | null, coerce: Coerce, o: OutputOptions): Fn<string> | string {
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
      if (!dyn && d.flags === 0 && w === UNSET && p === UNSET) {
        if (base === 10) return (c) => String(fn(c));
        if (base === 16 && !upper) return (c) => hexInt(fn(c));
      }
      if (!dyn) {
        const flags = d.flags;
        return (c) => formatNumber(fn(c), base, upper, signed, flags, w, p);
      }
      return (c) => {
        const [flags, width, prec] = spec(c);
        return formatNumber(fn(c), base, upper, signed, flags, width, prec);
      };
    }
    case 'c': {
      const v = coerce.asInt(x, JSON.stringify(d.text));
      const fn = v.fn;
      if (!dyn) {
        const flags = d.flags;
        return (c) => formatChar(fn(c), flags, w);
      }
      return (c) => {
        const [flags, width] = spec(c);
        return formatChar(fn(c), flags, width);
      };
    }
    case 's': {
      const s = coerce.asStr(x);
      if (x.t === 'str' && x.k !== undefined && !dyn) return formatString(x.k, d.flags, w, p);
      if (!dyn && w === UNSET && p === UNSET) return s;
      if (!dyn) {
        const flags = d.flags;
        return (c) => formatString(s(c), flags, w, p);
      }
      return (c) => {
        const [flags, width, prec] = spec(c);
        return formatString(s(c), flags, width, prec);
      };
    }
    case 'p':
      return compilePointer(d, x, spec, coerce, o);
    default:
      throw new MalformedInputError(`print fmt: unsupported conversion ${JSON.stringify(d.text)}`);
  }
}

function compilePointer(d: Directive, x: CExpr, spec: (c: RenderContext) => [number, number, number], coerce: Coerce, o: OutputOptions): Fn<string> {
  const le = o.littleEndian;
  const ext = d.ext;
  const kind = pointerArgKind(ext);
  const c0 = ext[0] ?? '';
  if (kind === 'address') {
    if (x.t === 'ref') {
      // The record's own address in kernel memory is unknown.
      return () => '(record pointer)';
    }
    if (x.t === 'str') {
      return () => '(string pointer)';
    }
    const fn = x.fn;
    if (c0 === 'S' || c0 === 's' || c0 === 'B' || c0 === 'F' || c0 === 'f') {
      const symbols = o.symbols;
      // Call sites and handlers repeat: remember their text (bounded).
      const cache = new Map<Int, string>();
      return (c) => {
        const [flags, width, prec] = spec(c);
        const v = fn(c);
        let s = cache.get(v);
        if (s === undefined) {
          s = symbolString(symbols, v, ext);
          if (cache.size >= 4096) cache.clear();
          cache.set(v, s);
        }
        return widen(s, flags, width, prec);
      };
    }
    // %p (hash-ptr off: printed like %px), %px, %pK, %pe and unknown extensions.
    const longSize = o.longSize;
    return (c) => {
      const [flags, width, prec] = spec(c);
      return rawPointer(fn(c), longSize, flags, width, prec);
    };
  }
  if (c0 === 'V') {
    // struct va_format cannot be recorded; print the string argument if there is one.
    const s = coerce.asStr(x);
    return (c) => s(c);
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
  return (c) => {
    const [flags, width, prec] = spec(c);
    const s = render(c, width);
    return widthIsLength ? s : widen(s, flags, width, prec);
  };
}

export function makeRenderer(format: string, lits: string[], fns: Fn<string>[], notes: string[]): CompiledPrintFmt {
  const l0 = lits[0]!;
  const n = fns.length;
  if (n === 0) return { format, notes, render: () => l0 };
  if (n <= MAX_UNROLLED) return { format, notes, render: unrolled(n)(lits, fns) };
  return {
    format,
    notes,
    render: (c) => {
      let s = l0;
      for (let i = 0; i < n; i++) s += fns[i]!(c) + lits[i + 1]!;
      return s;
    },
  };
}

/** Pieces up to which the concatenation is unrolled (one call site per piece). */
const MAX_UNROLLED = 64;
type Skeleton = (lits: readonly string[], fns: readonly Fn<string>[]) => Fn<string>;

/**
 * A renderer for n pieces: `l0 + f0(c) + l1 + ... + fn-1(c) + ln`. Each
 * call site then sees a single closure (monomorphic, inlinable), where a
 * loop over `fns` would be megamorphic. The generated code depends only on
 * the integer n: no text of the format file is embedded.
 */
function unrolled(n: number): Skeleton {
  if (!Number.isInteger(n) || n < 0 || n > MAX_UNROLLED) throw new RangeError(`unrolled(${n})`);
  // Not cached: closures from one function literal share type feedback, and
  // each event's renderer should see only its own pieces.
  const decl: string[] = [];
  const expr: string[] = ['l0'];
  for (let i = 0; i < n; i++) {
    decl.push(`const f${i} = fns[${i}], l${i + 1} = lits[${i + 1}];`);
    expr.push(`f${i}(c)`, `l${i + 1}`);
  }
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- only the integer n shapes this code
  return new Function('lits', 'fns', `"use strict"; const l0 = lits[0]; ${decl.join(' ')} return (c) => ${expr.join(' + ')};`) as Skeleton;
}

