// Compiles a parsed print fmt into closures over the record: no eval, no
// generated code. Every expression is typed at compile time (C integer
// type, string, or pointer into the record) and compiled into a closure
// specialised for that type, so rendering does no type dispatch and
// constant sub-expressions (the long masks in sched_switch) are folded.
//
// Integers follow C: usual arithmetic conversions, wrap-around at the
// type's width, 64-bit values exact (int64.ts: Number when safe, else
// BigInt). Strings are read lazily from the record through the string
// table. Anything outside the supported C subset raises
// UnsupportedPrintFmtError at compile time (the renderer then falls back to
// a field listing).

import { MalformedInputError } from '../../errors.js';
import { type IntType, S32, S64, U32, U64, U8, intTypeOfSize, scalarType } from '../ctypes.js';
import type { EventFormat, FieldFormat } from '../format-file.js';
import { type Int, castInt, mul64, neg64, not64, shl64, shr64, toS32, toU64 } from '../int64.js';
import type { SymbolTable } from '../kallsyms.js';
import type { PrintkFormats } from '../printk-formats.js';
import { FixedStringCache, type StringTable } from '../strings.js';
import type { Expr, PrintFmtAst, Stmt, TypeName } from './ast.js';
import { type CompiledPrintFmt, UnknownIdentifierError } from './context.js';
import { type FlagTable, SymbolicTable, printArray, printFlags, printHex, printHexDump } from './helpers.js';
import type { Inline, StringSource } from './codegen.js';
import { type Coerce, type Emit, compileDirective, makeRenderer } from './output.js';
import { cStringTo } from './printk-bytes.js';
import { bitmapString } from './pointer.js';
import { type Directive, FROM_ARG, UNSET, formatString, parseFormat } from './printk.js';
import {
  type CExpr,
  type CInt,
  type CRef,
  type Fn,
  type IntFn,
  type Local,
  type NumFn,
  Ref,
  bitsOf,
  common,
  constInt,
  convert,
  fold,
  op32,
  op64,
  promote,
  readAt,
  readField,
  unsupported,
  withBits,
  withEffects,
} from './values.js';

export { type CompiledPrintFmt, type RenderContext, UnknownIdentifierError, UnsupportedPrintFmtError } from './context.js';

/** Options of compilePrintFmt(). */
export interface InterpreterOptions {
  readonly littleEndian: boolean;
  readonly longSize: 4 | 8;
  readonly symbols: SymbolTable;
  readonly printkFormats: PrintkFormats;
  readonly strings: StringTable;
  /** Cache for comm-like fixed char arrays (shared between events; default: one per compile). */
  readonly fixedStrings?: FixedStringCache;
  /** Kernel HZ for jiffies_to_msecs()/jiffies_to_usecs() (format files do not say). */
  readonly hz: number;
  /** Values of identifiers the format file leaves unresolved (enums, kernel variables such as vmemmap_base). */
  readonly constants?: ReadonlyMap<string, bigint>;
  /** Sizes of types the format file cannot tell (pointer arithmetic on `struct page *`), e.g. "struct page" -> 64. */
  readonly typeSizes?: ReadonlyMap<string, number>;
}

/** Compiles a parsed print fmt for an event format into a renderer of records. */
export function compilePrintFmt(ast: PrintFmtAst, format: EventFormat, options: InterpreterOptions): CompiledPrintFmt {
  return new Compiler(format, options).compile(ast);
}

class Compiler implements Coerce {
  readonly notes = new Set<string>();
  #fixed: FixedStringCache | undefined;
  readonly #format: EventFormat;
  readonly #o: InterpreterOptions;
  readonly #le: boolean;
  readonly #scopes: Map<string, Local>[] = [];
  /** Values of statement-expression locals (one slot per declaration). */
  readonly #frame: (Int | string | Ref)[] = [];
  /** Ref closures of fixed array fields, with the field's payload offset (by identity: derived closures are not in it). */
  readonly #fixedAt = new WeakMap<Fn<Ref>, { offset: number; size: number }>();
  /** Ref closures of __data_loc / __rel_loc fields, with where the loc word is. */
  readonly #dynamicAt = new WeakMap<Fn<Ref>, { offset: number; rel: number }>();

  constructor(format: EventFormat, options: InterpreterOptions) {
    this.#format = format;
    this.#o = options;
    this.#le = options.littleEndian;
  }

  compile(ast: PrintFmtAst): CompiledPrintFmt {
    const pieces = parseFormat(ast.format);
    const args = ast.args;
    let next = 0;
    const take = (d: Directive): Expr => {
      const a = args[next++];
      if (a === undefined) throw new MalformedInputError(`print fmt: not enough arguments for ${JSON.stringify(d.text)}`);
      return a;
    };
    const lits: string[] = [''];
    const fns: Array<Emit | Inline> = [];
    let stopped = false;
    for (const p of pieces) {
      if (typeof p === 'string') {
        lits[lits.length - 1] += p;
        continue;
      }
      if (p.conv === '!') {
        // vsnprintf stops at an unsupported conversion.
        stopped = true;
        break;
      }
      const width = p.width === FROM_ARG ? this.#asNum(this.#expr(take(p))) : null;
      const precision = p.precision === FROM_ARG ? this.#asNum(this.#expr(take(p))) : null;
      const value = this.#expr(take(p));
      const piece = compileDirective(p, value, width, precision, this, this.#o);
      if (typeof piece === 'string') lits[lits.length - 1] += piece;
      else {
        fns.push(piece);
        lits.push('');
      }
    }
    if (!stopped && next < args.length) {
      // Extra arguments are legal C (gcc warns): still check they compile.
      for (let i = next; i < args.length; i++) this.#expr(args[i]!);
    }
    return makeRenderer(ast.format, lits, fns, [...this.notes]);
  }

  // ---- expressions ----------------------------------------------------

  #expr(e: Expr): CExpr {
    switch (e.k) {
      case 'int':
        return constInt(e.type, e.value <= 9007199254740991n ? Number(e.value) : e.value);
      case 'str': {
        const v = e.value;
        return { t: 'str', fn: () => v, k: v };
      }
      case 'ident':
        return this.#ident(e.name);
      case 'field':
        return this.#field(this.#fieldByName(e.name));
      case 'member':
        return unsupported(`member access ".${e.name}" on a non-record value`);
      case 'index':
        return this.#index(e.object, e.index);
      case 'call':
        return this.#call(e.name, e.args);
      case 'cast':
        return this.#cast(e.type, this.#expr(e.expr));
      case 'sizeof':
        return constInt(this.#o.longSize === 8 ? U64 : U32, e.type !== null ? this.#sizeofType(e.type) : this.#sizeofExpr(this.#expr(e.expr!)));
      case 'unary':
        return this.#unary(e.op, e.expr);
      case 'binary':
        return this.#binary(e.op, e.left, e.right);
      case 'cond':
        return this.#cond(e.test, e.then, e.else);
      case 'init':
        return unsupported('brace initializer outside __print_flags/__print_symbolic');
      case 'block':
        return this.#block(e.stmts);
      case 'assign':
        return this.#assign(e.target, e.value);
      case 'comma': {
        const parts = e.exprs.map((x) => this.#expr(x));
        const last = parts[parts.length - 1]!;
        const effects = parts.slice(0, -1).map((p) => p.fn);
        return withEffects(last, effects);
      }
    }
  }

  #fieldByName(name: string): FieldFormat {
    const f = this.#format.byName.get(name);
    if (f === undefined) throw new MalformedInputError(`print fmt: unknown field REC->${name}`);
    return f;
  }

  #field(f: FieldFormat): CExpr {
    const le = this.#le;
    switch (f.kind) {
      case 'int':
      case 'pointer': {
        const it = intTypeOfSize(f.size, f.kind === 'pointer' ? false : f.signed)!;
        return { t: 'int', it, ptr: f.kind === 'pointer', fn: readField(f.offset, f.size, it.signed, le) };
      }
      case 'array':
      case 'blob': {
        const r = new Ref();
        const o = f.offset;
        const size = f.size;
        const fn: Fn<Ref> = (c) => ((r.off = c.base + o), (r.len = size), r);
        this.#fixedAt.set(fn, { offset: o, size });
        return { ...this.#elemOf(f), fn, size };
      }
      case 'flex': {
        const r = new Ref();
        const o = f.offset;
        return { ...this.#elemOf(f), fn: (c) => ((r.off = c.base + o), (r.len = Math.max(0, c.len - o)), r) };
      }
      case 'dynamic':
      case 'relative':
        return { ...this.#elemOf(f), fn: this.#dynamicRef(f) };
    }
  }

  #elemOf(f: FieldFormat): { t: 'ref'; elem: IntType | null; elemSize: number; char: boolean } {
    const elem = f.kind === 'blob' ? null : intTypeOfSize(f.elementSize, f.elementSigned);
    return { t: 'ref', elem, elemSize: elem?.size ?? 1, char: f.isString };
  }

  /** Data of a __data_loc / __rel_loc field, clamped to the payload. */
  #dynamicRef(f: FieldFormat): Fn<Ref> {
    const r = new Ref();
    const o = f.offset;
    const rel = f.kind === 'relative' ? o + 4 : 0;
    const le = this.#le;
    const fn: Fn<Ref> = (c) => {
      const w = c.view.getUint32(c.base + o, le);
      const off = (w & 0xffff) + rel;
      const len = w >>> 16;
      if (off >= c.len) {
        r.off = c.base + c.len;
        r.len = 0;
      } else {
        r.off = c.base + off;
        r.len = Math.min(len, c.len - off);
      }
      return r;
    };
    this.#dynamicAt.set(fn, { offset: o, rel });
    return fn;
  }

  #ident(name: string): CExpr {
    for (let i = this.#scopes.length - 1; i >= 0; i--) {
      const local = this.#scopes[i]!.get(name);
      if (local !== undefined) {
        const frame = this.#frame;
        const slot = local.slot;
        const t = local.type;
        if (t.t === 'int') return { t: 'int', it: t.it, ptr: t.ptr, fn: () => frame[slot] as Int };
        if (t.t === 'str') return { t: 'str', fn: () => frame[slot] as string };
        return { ...t, fn: () => frame[slot] as Ref };
      }
    }
    if (name === 'NULL') return constInt(U64, 0, true);
    if (name === 'true') return constInt(S32, 1);
    if (name === 'false') return constInt(S32, 0);
    const value = this.#o.constants?.get(name);
    if (value !== undefined) {
      const it = value >= -(1n << 31n) && value < 1n << 31n ? S32 : value >= 0n && value < 1n << 32n ? U32 : value < 0n ? S64 : U64;
      return constInt(it, value <= 9007199254740991n && value >= -9007199254740991n ? Number(value) : value);
    }
    throw new UnknownIdentifierError(name);
  }

  asInt(x: CExpr, what: string): CInt {
    if (x.t === 'int') return x;
    if (x.t === 'str' && x.k !== undefined) {
      // A string literal used as a number: its address is unknown.
      return unsupported(`string literal used as a number in ${what}`);
    }
    return unsupported(`pointer into the record used as a number in ${what}`);
  }

  #asNum(x: CExpr): NumFn {
    const i = this.asInt(x, 'a width or precision');
    const fn = i.fn;
    return i.it.size <= 4 ? (fn as NumFn) : (c) => toS32(fn(c));
  }

  /** As a C string (for %s and helpers taking strings). */
  asStr(x: CExpr): Fn<string> {
    if (x.t === 'str') return x.fn;
    if (x.t === 'ref') {
      const fn = x.fn;
      const strings = this.#o.strings;
      const size = x.size;
      if (size !== undefined && FixedStringCache.fits(size)) {
        // Fixed char arrays (comms): keyed by their words, no NUL scan.
        const fixed = this.#o.fixedStrings ?? (this.#fixed ??= new FixedStringCache());
        return (c) => {
          const r = fn(c);
          return fixed.get(c.view, c.bytes, r.off, size);
        };
      }
      return (c) => {
        const r = fn(c);
        if (r.len < 0) return '(efault)';
        return strings.string(c.bytes, r.off, r.len);
      };
    }
    if (x.k !== undefined && x.k == 0) return () => '(null)';
    // A kernel pointer: constant strings (tracepoint_string) are in printk_formats.
    const fn = x.fn;
    const formats = this.#o.printkFormats;
    return (c) => {
      const v = fn(c);
      if (v == 0) return '(null)';
      return formats.get(v) ?? `0x${toU64(v).toString(16)}`;
    };
  }

  asStrEmit(x: CExpr, flags: number, width: number, precision: number): Emit {
    const plain = width === UNSET && precision === UNSET;
    if (x.t === 'ref') {
      // The record's bytes, as asStr() reads them.
      const fn = x.fn;
      const size = x.size;
      if (size !== undefined && FixedStringCache.fits(size)) {
        if (plain) return (c, out) => out.cString(c.bytes, c.view, fn(c).off, size);
        return (c, out) => cStringTo(out, c.bytes, c.view, fn(c).off, size, flags, width, precision);
      }
      const efault = formatString('(efault)', flags, width, precision);
      if (plain) {
        return (c, out) => {
          const r = fn(c);
          if (r.len < 0) out.str(efault);
          else out.cString(c.bytes, c.view, r.off, r.len);
        };
      }
      return (c, out) => {
        const r = fn(c);
        if (r.len < 0) out.str(efault);
        else cStringTo(out, c.bytes, c.view, r.off, r.len, flags, width, precision);
      };
    }
    if (plain && x.t === 'str' && x.emit !== undefined) return x.emit;
    const s = this.asStr(x);
    if (plain) return (c, out) => out.str(s(c));
    return (c, out) => out.str(formatString(s(c), flags, width, precision));
  }

  stringSource(x: CExpr): StringSource | undefined {
    if (x.t !== 'ref') return undefined;
    // Both of asStr()'s paths read a fixed array as the C string in its bytes.
    const fixed = this.#fixedAt.get(x.fn);
    if (fixed !== undefined) return { kind: 'fixed', offset: fixed.offset, size: fixed.size };
    const loc = this.#dynamicAt.get(x.fn);
    return loc !== undefined ? { kind: 'dynamic', offset: loc.offset, rel: loc.rel } : undefined;
  }

  asRef(x: CExpr, what: string): Fn<Ref> {
    if (x.t === 'ref') return x.fn;
    if (x.t === 'int') {
      // A kernel address: its memory is not in the record.
      const r = new Ref();
      r.len = -1;
      return () => r;
    }
    return unsupported(`string used as a buffer in ${what}`);
  }

  #truthy(x: CExpr): Fn<boolean> {
    if (x.t === 'int') {
      if (x.k !== undefined) {
        const b = x.k != 0;
        return () => b;
      }
      const fn = x.fn;
      return (c) => fn(c) != 0;
    }
    return () => true;
  }

  #index(objectExpr: Expr, indexExpr: Expr): CExpr {
    const obj = this.#expr(objectExpr);
    const idx = this.asInt(this.#expr(indexExpr), 'an array index');
    const idxFn = idx.fn;
    if (obj.t === 'str') {
      const s = obj.fn;
      return { t: 'int', it: S32, ptr: false, fn: (c) => {
        const i = toS32(idxFn(c));
        const str = s(c);
        return i >= 0 && i < str.length ? (str.charCodeAt(i) << 24) >> 24 : 0;
      } };
    }
    if (obj.t === 'int') return unsupported('indexing a kernel pointer');
    const elem = obj.elem ?? U8;
    const size = elem.size;
    const refFn = obj.fn;
    const le = this.#le;
    const fixed = this.#fixedAt.get(refFn);
    if (fixed !== undefined && idx.k !== undefined) {
      // A constant index into a fixed array field: a plain read of the record.
      const i = toS32(idx.k);
      if (i >= 0 && (i + 1) * size <= fixed.size) return { t: 'int', it: elem, ptr: false, fn: readField(fixed.offset + i * size, size, elem.signed, le) };
    }
    return {
      t: 'int',
      it: elem,
      ptr: false,
      fn: (c) => {
        const r = refFn(c);
        const i = toS32(idxFn(c));
        if (i < 0 || (i + 1) * size > r.len) return 0;
        return readAt(c.view, r.off + i * size, elem, le);
      },
    };
  }

  #cast(type: TypeName, x: CExpr): CExpr {
    if (type.typeofExpr !== null) {
      const t = this.#expr(type.typeofExpr);
      if (t.t === 'int') return x.t === 'int' ? this.#convertTo(x, t.it, t.ptr) : x;
      return x;
    }
    if (type.pointers > 0) {
      const pointee = type.pointers === 1 ? type.base : '';
      if (x.t === 'int') {
        const pt = this.#o.longSize === 8 ? U64 : U32;
        const scale = this.#pointeeSize(type.base, type.pointers);
        // Same width: the same bits (what %p and %lx print).
        const fn = withBits(convert(x.fn, x.it, pt), x.it.size === pt.size ? bitsOf(x.fn) : undefined);
        const c: CInt = { t: 'int', it: pt, ptr: true, fn, ...(scale !== undefined ? { scale } : {}) };
        return x.k !== undefined ? { ...c, fn: () => castInt(x.k!, pt), k: castInt(x.k, pt) } : c;
      }
      if (x.t === 'ref') {
        const elem = pointee === 'void' ? null : scalarType(pointee, this.#o.longSize);
        const isChar = /(^|\s)char$/.test(pointee);
        return { t: 'ref', elem, elemSize: elem?.size ?? 1, char: isChar || x.char, fn: x.fn };
      }
      return x;
    }
    if (type.base === 'void') return x;
    if (type.base === 'bool' || type.base === '_Bool') {
      const b = this.#truthy(x);
      return fold({ t: 'int', it: U8, ptr: false, fn: (c) => (b(c) ? 1 : 0) }, [x]);
    }
    const it = scalarType(type.base, this.#o.longSize);
    if (it === null) return x; // unknown typedef or struct: keep the value's own type
    if (x.t !== 'int') {
      if (x.t === 'str') return x;
      return unsupported(`cast of a pointer into the record to ${type.base}`);
    }
    return this.#convertTo(x, it, false);
  }

  #convertTo(x: CInt, it: IntType, ptr: boolean): CInt {
    const fn = withBits(convert(x.fn, x.it, it), x.it.size === it.size ? bitsOf(x.fn) : undefined);
    return fold({ t: 'int', it, ptr, fn }, [x]);
  }

  /** Size of what a `base` + `pointers` stars pointer points to, if known. */
  #pointeeSize(base: string, pointers: number): number | undefined {
    if (pointers > 1) return this.#o.longSize;
    if (base === 'void') return 1; // GNU C: void * arithmetic in bytes
    return scalarType(base, this.#o.longSize)?.size ?? this.#o.typeSizes?.get(base);
  }

  #sizeofType(type: TypeName): number {
    if (type.typeofExpr !== null) return this.#sizeofExpr(this.#expr(type.typeofExpr));
    if (type.pointers > 0) return this.#o.longSize;
    const size = scalarType(type.base, this.#o.longSize)?.size ?? this.#o.typeSizes?.get(type.base);
    if (size === undefined) return unsupported(`sizeof(${type.base}) is unknown (see the typeSizes option)`);
    return size;
  }

  #sizeofExpr(x: CExpr): number {
    if (x.t === 'int') return x.it.size;
    if (x.t === 'ref') {
      if (x.size !== undefined) return x.size;
      return unsupported('sizeof of a dynamic array');
    }
    if (x.k !== undefined) return Buffer.byteLength(x.k) + 1;
    return this.#o.longSize;
  }

  #unary(op: string, operand: Expr): CExpr {
    const x = this.#expr(operand);
    if (op === '!') {
      const b = this.#truthy(x);
      return fold({ t: 'int', it: S32, ptr: false, fn: (c) => (b(c) ? 0 : 1) }, [x]);
    }
    if (op === '*') {
      if (x.t !== 'ref') return unsupported('dereference of a kernel pointer');
      const elem = x.elem ?? U8;
      const fn = x.fn;
      const le = this.#le;
      return { t: 'int', it: elem, ptr: false, fn: (c) => {
        const r = fn(c);
        return r.len >= elem.size ? readAt(c.view, r.off, elem, le) : 0;
      } };
    }
    if (op === '&') {
      if (operand.k === 'field') {
        const f = this.#fieldByName(operand.name);
        const r = new Ref();
        const o = f.offset;
        const size = f.size;
        const elem = intTypeOfSize(f.elementSize, f.elementSigned);
        return { t: 'ref', elem, elemSize: elem?.size ?? 1, char: f.isString, fn: (c) => ((r.off = c.base + o), (r.len = size), r), size };
      }
      if (x.t === 'ref') return x;
      return unsupported('address of a non-field value');
    }
    const v = this.asInt(x, `unary ${op}`);
    const it = promote(v.it);
    const fn = convert(v.fn, v.it, it);
    const signed = it.signed;
    let out: IntFn;
    if (op === '+') out = fn;
    else if (it.size <= 4) {
      const f = fn as NumFn;
      if (op === '-') out = signed ? (c) => -f(c) | 0 : (c) => -f(c) >>> 0;
      else out = signed ? (c) => ~f(c) : (c) => ~f(c) >>> 0;
    } else if (op === '-') out = (c) => neg64(fn(c), signed);
    else out = (c) => not64(fn(c), signed);
    return fold({ t: 'int', it, ptr: false, fn: out }, [v]);
  }

  #binary(op: string, left: Expr, right: Expr): CExpr {
    const a = this.#expr(left);
    const b = this.#expr(right);
    if (op === '&&' || op === '||') {
      const ta = this.#truthy(a);
      const tb = this.#truthy(b);
      const fn: IntFn = op === '&&' ? (c) => (ta(c) && tb(c) ? 1 : 0) : (c) => (ta(c) || tb(c) ? 1 : 0);
      return fold({ t: 'int', it: S32, ptr: false, fn }, [a, b]);
    }
    // Pointer arithmetic on pointers into the record.
    if (a.t === 'ref' && b.t === 'int' && (op === '+' || op === '-')) return this.#refOffset(a, b, op === '-');
    if (b.t === 'ref' && a.t === 'int' && op === '+') return this.#refOffset(b, a, false);
    let x = this.asInt(a, `operator ${op}`);
    let y = this.asInt(b, `operator ${op}`);
    if ((op === '+' || op === '-') && x.ptr !== y.ptr) {
      // Pointer arithmetic on a kernel address: scale the integer by the pointee size.
      const p = x.ptr ? x : y;
      if (p.scale === undefined) return unsupported('pointer arithmetic on a pointer to a type of unknown size (see the typeSizes option)');
      if (p.scale !== 1) {
        const n = x.ptr ? y : x;
        const scaled = this.#binaryInts('*', this.#convertTo(n, S64, false), constInt(S64, p.scale));
        if (x.ptr) y = scaled;
        else x = scaled;
      }
    }
    return this.#binaryInts(op, x, y);
  }

  #binaryInts(op: string, x: CInt, y: CInt): CInt {
    if (op === '<<' || op === '>>') {
      const it = promote(x.it);
      const fx = convert(x.fn, x.it, it);
      const fy = y.fn;
      const count: NumFn = y.it.size <= 4 ? (fy as NumFn) : (c) => toS32(fy(c));
      const signed = it.signed;
      let fn: IntFn;
      if (it.size <= 4) {
        const f = fx as NumFn;
        if (op === '<<') fn = signed ? (c) => f(c) << count(c) : (c) => (f(c) << count(c)) >>> 0;
        else fn = signed ? (c) => f(c) >> count(c) : (c) => f(c) >>> count(c);
      } else fn = op === '<<' ? (c) => shl64(fx(c), count(c), signed) : (c) => shr64(fx(c), count(c));
      return fold({ t: 'int', it, ptr: false, fn }, [x, y]);
    }
    const it = common(x.it, y.it);
    const fa = convert(x.fn, x.it, it);
    const fb = convert(y.fn, y.it, it);
    const fn = it.size <= 4 ? op32(op, fa as NumFn, fb as NumFn, it.signed) : op64(op, fa, fb, it.signed);
    const isCompare = op === '<' || op === '>' || op === '<=' || op === '>=' || op === '==' || op === '!=';
    const ptr = !isCompare && (x.ptr || y.ptr);
    const scale = x.ptr ? x.scale : y.scale;
    return fold({ t: 'int', it: isCompare ? S32 : it, ptr, fn, ...(ptr && scale !== undefined ? { scale } : {}) }, [x, y]);
  }

  #refOffset(r: CRef, n: CInt, negate: boolean): CRef {
    const out = new Ref();
    const rf = r.fn;
    const nf = n.fn;
    const scale = r.elemSize;
    return {
      t: 'ref',
      elem: r.elem,
      elemSize: r.elemSize,
      char: r.char,
      fn: (c) => {
        const src = rf(c);
        const d = (negate ? -1 : 1) * toS32(nf(c)) * scale;
        out.off = src.off + d;
        // Unreadable stays unreadable; moving outside the known extent leaves nothing readable.
        out.len = src.len < 0 ? -1 : d < 0 || d > src.len ? 0 : src.len - d;
        return out;
      },
    };
  }

  #cond(testExpr: Expr, thenExpr: Expr, elseExpr: Expr): CExpr {
    const test = this.#truthy(this.#expr(testExpr));
    const a = this.#expr(thenExpr);
    const b = this.#expr(elseExpr);
    if (a.t === 'int' && b.t === 'int') {
      const it = common(a.it, b.it);
      const fa = convert(a.fn, a.it, it);
      const fb = convert(b.fn, b.it, it);
      return { t: 'int', it, ptr: a.ptr || b.ptr, fn: (c) => (test(c) ? fa(c) : fb(c)) };
    }
    if (a.t === 'ref' && b.t === 'ref') {
      const fa = a.fn;
      const fb = b.fn;
      return { ...a, fn: (c) => (test(c) ? fa(c) : fb(c)) };
    }
    const sa = this.asStr(a);
    const sb = this.asStr(b);
    return { t: 'str', fn: (c) => (test(c) ? sa(c) : sb(c)) };
  }

  #block(stmts: readonly Stmt[]): CExpr {
    const scope = new Map<string, Local>();
    this.#scopes.push(scope);
    try {
      const effects: Fn<unknown>[] = [];
      let last: CExpr | null = null;
      for (let i = 0; i < stmts.length; i++) {
        const s = stmts[i]!;
        const isLast = i === stmts.length - 1;
        if (s.k === 'decl') {
          if (s.isStatic || s.isArray) unsupported(`static or array declaration "${s.name}" in a statement expression`);
          const slot = this.#frame.length;
          this.#frame.push(0);
          const init = s.init !== null ? this.#expr(s.init) : null;
          let type: CExpr;
          if (s.type.typeofExpr !== null || s.type.base === '__auto_type') {
            if (init === null) unsupported(`"${s.name}" needs an initializer`);
            type = s.type.typeofExpr !== null ? this.#expr(s.type.typeofExpr) : init;
          } else if (s.type.pointers > 0) {
            type = init ?? unsupported(`pointer "${s.name}" without initializer`);
          } else {
            const it = scalarType(s.type.base, this.#o.longSize);
            if (it === null) unsupported(`declaration of "${s.name}" with type ${s.type.base}`);
            type = constInt(it, 0);
          }
          scope.set(s.name, { slot, type });
          if (init !== null) {
            const frame = this.#frame;
            if (type.t === 'int') {
              const v = this.asInt(init, `initializer of ${s.name}`);
              const f = convert(v.fn, v.it, type.it);
              effects.push((c) => (frame[slot] = f(c)));
            } else if (type.t === 'str') {
              const f = this.asStr(init);
              effects.push((c) => (frame[slot] = f(c)));
            } else {
              const f = this.asRef(init, `initializer of ${s.name}`);
              effects.push((c) => (frame[slot] = f(c)));
            }
          }
          if (isLast) unsupported('statement expression ends with a declaration');
        } else {
          const x = this.#expr(s.expr);
          if (isLast) last = x;
          else effects.push(x.fn);
        }
      }
      if (last === null) return unsupported('empty statement expression');
      return withEffects(last, effects);
    } finally {
      this.#scopes.pop();
    }
  }

  #assign(target: Expr, valueExpr: Expr): CExpr {
    if (target.k !== 'ident') return unsupported('assignment to something other than a local variable');
    let local: Local | undefined;
    for (let i = this.#scopes.length - 1; i >= 0 && local === undefined; i--) local = this.#scopes[i]!.get(target.name);
    if (local === undefined) return unsupported(`assignment to unknown variable "${target.name}"`);
    const v = this.#expr(valueExpr);
    const frame = this.#frame;
    const slot = local.slot;
    if (local.type.t === 'int') {
      const x = this.asInt(v, 'an assignment');
      const f = convert(x.fn, x.it, local.type.it);
      return { t: 'int', it: local.type.it, ptr: local.type.ptr, fn: (c) => (frame[slot] = f(c)) };
    }
    if (local.type.t === 'str') {
      const f = this.asStr(v);
      return { t: 'str', fn: (c) => (frame[slot] = f(c)) };
    }
    const f = this.asRef(v, 'an assignment');
    return { ...local.type, fn: (c) => (frame[slot] = f(c)) };
  }

  // ---- helper macros and functions -----------------------------------

  #fieldArg(args: readonly Expr[], i: number, helper: string): FieldFormat {
    const a = args[i];
    if (a === undefined || a.k !== 'ident') throw new MalformedInputError(`print fmt: ${helper}() needs a field name as argument ${i + 1}`);
    return this.#fieldByName(a.name);
  }

  #arity(name: string, args: readonly Expr[], min: number, max = min): void {
    if (args.length < min || args.length > max) {
      throw new MalformedInputError(`print fmt: ${name}() takes ${min === max ? min : `${min}-${max}`} arguments, got ${args.length}`);
    }
  }

  #dataRef(f: FieldFormat): CRef {
    const x = this.#field(f);
    if (x.t !== 'ref') throw new MalformedInputError(`print fmt: field ${f.name} is not an array`);
    return x;
  }

  #call(name: string, args: readonly Expr[]): CExpr {
    const o = this.#o;
    const le = this.#le;
    switch (name) {
      case '__get_str':
      case '__get_rel_str': {
        this.#arity(name, args, 1);
        const r = this.#dataRef(this.#fieldArg(args, 0, name));
        return { ...r, char: true };
      }
      case '__get_dynamic_array':
      case '__get_rel_dynamic_array':
      case '__get_sockaddr':
      case '__get_rel_sockaddr':
        this.#arity(name, args, 1);
        return this.#dataRef(this.#fieldArg(args, 0, name));
      case '__get_dynamic_array_len':
      case '__get_rel_dynamic_array_len': {
        this.#arity(name, args, 1);
        const f = this.#fieldArg(args, 0, name);
        if (f.kind !== 'dynamic' && f.kind !== 'relative') throw new MalformedInputError(`print fmt: ${name}(${f.name}) needs a __data_loc/__rel_loc field`);
        const at = f.offset;
        return { t: 'int', it: U32, ptr: false, fn: (c) => c.view.getUint32(c.base + at, le) >>> 16 };
      }
      case '__get_bitmask':
      case '__get_rel_bitmask':
      case '__get_cpumask':
      case '__get_rel_cpumask': {
        this.#arity(name, args, 1);
        const r = this.#dataRef(this.#fieldArg(args, 0, name)).fn;
        const longSize = o.longSize;
        return { t: 'str', fn: (c) => {
          const ref = r(c);
          return bitmapString(c.bytes, ref.off, ref.len, ref.len * 8, longSize, le);
        } };
      }
      case '__print_flags':
      case '__print_flags_u64': {
        if (args.length < 2) throw new MalformedInputError(`print fmt: ${name}() needs a value and a delimiter`);
        const vt = name === '__print_flags_u64' ? U64 : o.longSize === 8 ? U64 : U32;
        const v = this.asInt(this.#expr(args[0]!), name);
        const value = convert(v.fn, v.it, vt);
        const delimExpr = this.#expr(args[1]!);
        if (delimExpr.t !== 'str' || delimExpr.k === undefined) throw new MalformedInputError(`print fmt: ${name}() delimiter must be a string literal`);
        const delim = delimExpr.k;
        const table = this.#table(name, args.slice(2), vt);
        const flags: FlagTable = { masks: table.values, names: table.names };
        return { t: 'str', fn: (c) => printFlags(value(c), delim, flags) };
      }
      case '__print_symbolic':
      case '__print_symbolic_u64': {
        if (args.length < 1) throw new MalformedInputError(`print fmt: ${name}() needs a value`);
        const vt = name === '__print_symbolic_u64' ? U64 : o.longSize === 8 ? U64 : U32;
        const v = this.asInt(this.#expr(args[0]!), name);
        const value = convert(v.fn, v.it, vt);
        const table = this.#table(name, args.slice(1), vt);
        const symbolic = new SymbolicTable(table.values, table.names);
        return { t: 'str', fn: (c) => symbolic.print(value(c)) };
      }
      case '__print_hex':
      case '__print_hex_str': {
        this.#arity(name, args, 2);
        const buf = this.asRef(this.#expr(args[0]!), name);
        const len = this.#asNum(this.#expr(args[1]!));
        const concat = name === '__print_hex_str';
        return { t: 'str', fn: (c) => {
          const r = buf(c);
          const n = Math.min(len(c), r.len);
          return n > 0 ? printHex(c.bytes, r.off, n, concat) : '';
        } };
      }
      case '__print_array': {
        this.#arity(name, args, 3);
        const buf = this.asRef(this.#expr(args[0]!), name);
        const count = this.#asNum(this.#expr(args[1]!));
        const elSize = this.#asNum(this.#expr(args[2]!));
        return { t: 'str', fn: (c) => {
          const r = buf(c);
          return printArray(c.view, r.off, Math.max(0, r.len), count(c), elSize(c), le);
        } };
      }
      case '__print_dynamic_array': {
        this.#arity(name, args, 2);
        const r = this.#dataRef(this.#fieldArg(args, 0, name)).fn;
        const elSize = this.#asNum(this.#expr(args[1]!));
        return { t: 'str', fn: (c) => {
          const ref = r(c);
          const es = elSize(c);
          return printArray(c.view, ref.off, ref.len, es > 0 ? Math.trunc(ref.len / es) : 0, es, le);
        } };
      }
      case '__print_hex_dump': {
        this.#arity(name, args, 7);
        const prefix = this.asStr(this.#expr(args[0]!));
        const type = this.#asNum(this.#expr(args[1]!));
        const rowsize = this.#asNum(this.#expr(args[2]!));
        const groupsize = this.#asNum(this.#expr(args[3]!));
        const buf = this.asRef(this.#expr(args[4]!), name);
        const len = this.#asNum(this.#expr(args[5]!));
        const ascii = this.#truthy(this.#expr(args[6]!));
        const longSize = o.longSize;
        return { t: 'str', fn: (c) => {
          const r = buf(c);
          const n = Math.max(0, Math.min(len(c), r.len));
          return printHexDump(c.view, r.off, n, prefix(c), type(c), rowsize(c), groupsize(c), ascii(c), le, longSize);
        } };
      }
      case '__get_buf': {
        // Scratch space for C helpers we do not run: an empty buffer.
        this.#arity(name, args, 1);
        const r = new Ref();
        return { t: 'ref', elem: U8, elemSize: 1, char: true, fn: (c) => ((r.off = c.base + c.len), (r.len = 0), r) };
      }
      case '__builtin_expect':
        this.#arity(name, args, 2);
        return this.#expr(args[0]!);
      case '__builtin_constant_p':
        this.#arity(name, args, 1);
        return constInt(S32, 0);
      case 'jiffies_to_msecs':
      case 'jiffies_to_usecs': {
        this.#arity(name, args, 1);
        const v = this.asInt(this.#expr(args[0]!), name);
        const j = convert(v.fn, v.it, o.longSize === 8 ? U64 : U32);
        const per = (name === 'jiffies_to_msecs' ? 1000 : 1000000) / o.hz;
        const outType = name === 'jiffies_to_msecs' ? U32 : U32;
        // The kernel computes in unsigned int (u64 for large HZ ratios); wrap like it.
        return { t: 'int', it: outType, ptr: false, fn: (c) => castInt(mul64(j(c), Math.round(per), false), outType) };
      }
      case 'mc_event_error_type': {
        // include/ras/ras_event.h (enum hw_event_mc_err_type order).
        this.#arity(name, args, 1);
        const v = this.asInt(this.#expr(args[0]!), name);
        const u = convert(v.fn, v.it, U32) as NumFn;
        const names = ['Corrected', 'Uncorrected', 'Deferred', 'Fatal'];
        return { t: 'str', fn: (c) => names[u(c)] ?? 'Info' };
      }
      default:
        return unsupported(`unknown function ${name}()`);
    }
  }

  /**
   * `{ value, "name" }` entries: constant integers (converted to `vt`) and
   * string literals. A NULL name (or `{ }`) ends the table, as in the
   * kernel. An entry whose value names an enum the kernel did not resolve
   * (no TRACE_DEFINE_ENUM) and that `constants` does not give is skipped
   * and noted: the value then prints as hex.
   */
  #table(helper: string, entries: readonly Expr[], vt: IntType): { values: Int[]; names: string[] } {
    const values: Int[] = [];
    const names: string[] = [];
    for (const e of entries) {
      if (e.k !== 'init') throw new MalformedInputError(`print fmt: ${helper}() entries must be { value, "name" }`);
      if (e.items.length === 0) break;
      if (e.items.length !== 2) throw new MalformedInputError(`print fmt: ${helper}() entries must be { value, "name" }`);
      const n = this.#expr(e.items[1]!);
      if (n.t === 'int' && n.k !== undefined && n.k == 0) break; // NULL name: end of table
      if (n.t !== 'str' || n.k === undefined) throw new MalformedInputError(`print fmt: ${helper}() name must be a string literal`);
      let v: CExpr;
      try {
        v = this.#expr(e.items[0]!);
      } catch (error) {
        if (error instanceof UnknownIdentifierError) {
          this.notes.add(`${helper}(): no value for ${error.identifier} (entry "${n.k}" skipped)`);
          continue;
        }
        throw error;
      }
      if (v.t !== 'int' || v.k === undefined) throw new MalformedInputError(`print fmt: ${helper}() value must be a constant`);
      values.push(castInt(v.k, vt));
      names.push(n.k);
    }
    return { values, names };
  }

}

