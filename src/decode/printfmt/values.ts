// Building blocks of the compiled print fmt: the static types of
// expressions (C integer, string, pointer into the record), conversions
// between integer types, and the closures for C operators.

import { type IntType, S32, S64, U32, U64 } from '../ctypes.js';
import {
  type Int,
  add64,
  and64,
  castInt,
  div64,
  fromHiLo,
  mod64,
  mul64,
  or64,
  sub64,
  toU64,
  xor64,
} from '../int64.js';
import type { TextOut } from '../text-out.js';
import { type RenderContext, UnsupportedPrintFmtError } from './context.js';

/** A pointer into the record: absolute offset and readable length (-1: a kernel address we cannot read). */
export class Ref {
  off = 0;
  len = 0;
}

export type Fn<T> = (c: RenderContext) => T;
export type IntFn = Fn<Int>;
export type NumFn = Fn<number>;

export interface CInt {
  readonly t: 'int';
  readonly it: IntType;
  /** The value is a pointer (prints sensibly with %p, %s looks it up in printk_formats). */
  readonly ptr: boolean;
  readonly fn: IntFn;
  readonly k?: Int;
  /** Pointers: size of the pointee for pointer arithmetic (undefined: unknown). */
  readonly scale?: number;
}
export interface CStr {
  readonly t: 'str';
  readonly fn: Fn<string>;
  readonly k?: string;
  /** Writes the same text as bytes (helpers with pre-encoded output). */
  readonly emit?: (c: RenderContext, out: TextOut) => void;
}
export interface CRef {
  readonly t: 'ref';
  /** Element type (null: bytes of unknown type). */
  readonly elem: IntType | null;
  readonly elemSize: number;
  readonly char: boolean;
  readonly fn: Fn<Ref>;
  /** sizeof() of a fixed array, if known. */
  readonly size?: number;
}
export type CExpr = CInt | CStr | CRef;

/**
 * Integer closures that are plain reads of the record: the value's bits
 * are the `size` bytes at payload offset `offset`. Output can then format
 * 64-bit values from their two words (no BigInt). Keyed by the closure
 * itself, so an expression built around it (another closure) never
 * inherits it.
 */
export interface FieldBits {
  readonly offset: number;
  readonly size: number;
}
const BITS = new WeakMap<IntFn, FieldBits>();

export function bitsOf(fn: IntFn): FieldBits | undefined {
  return BITS.get(fn);
}

/** Registers `fn` as reading `bits` (when given) and returns it. */
export function withBits(fn: IntFn, bits: FieldBits | undefined): IntFn {
  if (bits !== undefined) BITS.set(fn, bits);
  return fn;
}

export interface Local {
  readonly slot: number;
  type: CExpr;
}

const TWO32 = 4294967296;
const SAFE_HI = 2097152;
const DUMMY: RenderContext = { view: new DataView(new ArrayBuffer(8)), bytes: new Uint8Array(8), base: 0, len: 0 };

export function unsupported(message: string): never {
  throw new UnsupportedPrintFmtError(`print fmt: ${message}`);
}

export function promote(t: IntType): IntType {
  return t.size < 4 ? S32 : t;
}

/** Usual arithmetic conversions (LP64 / ILP32 by the type sizes). */
export function common(a: IntType, b: IntType): IntType {
  const pa = promote(a);
  const pb = promote(b);
  if (pa.size === 8 || pb.size === 8) {
    if ((pa.size === 8 && !pa.signed) || (pb.size === 8 && !pb.signed)) return U64;
    return S64;
  }
  return pa.signed && pb.signed ? S32 : U32;
}

function sameType(a: IntType, b: IntType): boolean {
  return a.size === b.size && a.signed === b.signed;
}

/** Conversion closure from one integer type to another. */
export function convert(fn: IntFn, from: IntType, to: IntType): IntFn {
  if (sameType(from, to)) return fn;
  if (to.size === 8 && from.size < 8) {
    if (to.signed || !from.signed) return fn; // value preserved
    return (c) => {
      const v = fn(c) as number;
      return v >= 0 ? v : toU64(v);
    };
  }
  if (to.size === 4 && from.size <= 4) {
    const f = fn as NumFn;
    return to.signed ? (c) => f(c) | 0 : (c) => f(c) >>> 0;
  }
  return (c) => castInt(fn(c), to);
}

export function constInt(it: IntType, value: Int, ptr = false): CInt {
  return { t: 'int', it, ptr, fn: () => value, k: value };
}

/** Folds `e` to a constant when all inputs were constants. */
export function fold(e: CInt, inputs: readonly CExpr[]): CInt {
  if (inputs.every((x) => x.t === 'int' && x.k !== undefined)) {
    const value = e.fn(DUMMY);
    const c = constInt(e.it, value, e.ptr);
    return e.scale !== undefined ? { ...c, scale: e.scale } : c;
  }
  return e;
}

/** Reads a field's integer value (1, 2, 4 or 8 bytes); the closure carries its FieldBits. */
export function readField(offset: number, size: number, signed: boolean, le: boolean): IntFn {
  return withBits(readFieldFn(offset, size, signed, le), { offset, size });
}

function readFieldFn(offset: number, size: number, signed: boolean, le: boolean): IntFn {
  // Constant byte order in the common little-endian case: DataView loads inline better.
  if (le && size === 4) return signed ? (c) => c.view.getInt32(c.base + offset, true) : (c) => c.view.getUint32(c.base + offset, true);
  if (le && size === 2) return signed ? (c) => c.view.getInt16(c.base + offset, true) : (c) => c.view.getUint16(c.base + offset, true);
  switch (size) {
    case 1:
      return signed ? (c) => c.view.getInt8(c.base + offset) : (c) => c.view.getUint8(c.base + offset);
    case 2:
      return signed ? (c) => c.view.getInt16(c.base + offset, le) : (c) => c.view.getUint16(c.base + offset, le);
    case 4:
      return signed ? (c) => c.view.getInt32(c.base + offset, le) : (c) => c.view.getUint32(c.base + offset, le);
    default: {
      const loOff = le ? offset : offset + 4;
      const hiOff = le ? offset + 4 : offset;
      if (signed) {
        return (c) => {
          const hi = c.view.getInt32(c.base + hiOff, le);
          const lo = c.view.getUint32(c.base + loOff, le);
          return hi >= -SAFE_HI && hi < SAFE_HI ? hi * TWO32 + lo : fromHiLo(hi, lo, true);
        };
      }
      return (c) => {
        const hi = c.view.getUint32(c.base + hiOff, le);
        const lo = c.view.getUint32(c.base + loOff, le);
        return hi < SAFE_HI ? hi * TWO32 + lo : fromHiLo(hi, lo, false);
      };
    }
  }
}

/** Reads element `i` (size 1/2/4/8) at an absolute offset. */
export function readAt(view: DataView, at: number, t: IntType, le: boolean): Int {
  switch (t.size) {
    case 1:
      return t.signed ? view.getInt8(at) : view.getUint8(at);
    case 2:
      return t.signed ? view.getInt16(at, le) : view.getUint16(at, le);
    case 4:
      return t.signed ? view.getInt32(at, le) : view.getUint32(at, le);
    default: {
      const lo = view.getUint32(le ? at : at + 4, le);
      const hi = view.getUint32(le ? at + 4 : at, le);
      return fromHiLo(hi, lo, t.signed);
    }
  }
}

export function op32(op: string, a: NumFn, b: NumFn, signed: boolean): IntFn {
  switch (op) {
    case '+':
      return signed ? (c) => (a(c) + b(c)) | 0 : (c) => (a(c) + b(c)) >>> 0;
    case '-':
      return signed ? (c) => (a(c) - b(c)) | 0 : (c) => (a(c) - b(c)) >>> 0;
    case '*':
      return signed ? (c) => Math.imul(a(c), b(c)) : (c) => Math.imul(a(c), b(c)) >>> 0;
    case '/':
      return (c) => {
        const y = b(c);
        if (y === 0) return 0;
        const q = Math.trunc(a(c) / y);
        return signed ? q | 0 : q >>> 0;
      };
    case '%':
      return (c) => {
        const y = b(c);
        if (y === 0) return 0;
        const r = a(c) % y;
        return signed ? r | 0 : r >>> 0;
      };
    case '&':
      return signed ? (c) => a(c) & b(c) : (c) => (a(c) & b(c)) >>> 0;
    case '|':
      return signed ? (c) => a(c) | b(c) : (c) => (a(c) | b(c)) >>> 0;
    case '^':
      return signed ? (c) => a(c) ^ b(c) : (c) => (a(c) ^ b(c)) >>> 0;
    case '<':
      return (c) => (a(c) < b(c) ? 1 : 0);
    case '>':
      return (c) => (a(c) > b(c) ? 1 : 0);
    case '<=':
      return (c) => (a(c) <= b(c) ? 1 : 0);
    case '>=':
      return (c) => (a(c) >= b(c) ? 1 : 0);
    case '==':
      return (c) => (a(c) === b(c) ? 1 : 0);
    case '!=':
      return (c) => (a(c) !== b(c) ? 1 : 0);
    default:
      return unsupported(`operator ${op}`);
  }
}

export function op64(op: string, a: IntFn, b: IntFn, signed: boolean): IntFn {
  switch (op) {
    case '+':
      return (c) => add64(a(c), b(c), signed);
    case '-':
      return (c) => sub64(a(c), b(c), signed);
    case '*':
      return (c) => mul64(a(c), b(c), signed);
    case '/':
      return (c) => div64(a(c), b(c), signed);
    case '%':
      return (c) => mod64(a(c), b(c), signed);
    case '&':
      return (c) => and64(a(c), b(c), signed);
    case '|':
      return (c) => or64(a(c), b(c), signed);
    case '^':
      return (c) => xor64(a(c), b(c), signed);
    case '<':
      return (c) => (a(c) < b(c) ? 1 : 0);
    case '>':
      return (c) => (a(c) > b(c) ? 1 : 0);
    case '<=':
      return (c) => (a(c) <= b(c) ? 1 : 0);
    case '>=':
      return (c) => (a(c) >= b(c) ? 1 : 0);
    case '==':
      // Normalised Ints compare with loose equality across number/bigint.
      return (c) => (a(c) == b(c) ? 1 : 0);
    case '!=':
      return (c) => (a(c) != b(c) ? 1 : 0);
    default:
      return unsupported(`operator ${op}`);
  }
}

export function withEffects(last: CExpr, effects: Fn<unknown>[]): CExpr {
  if (effects.length === 0) return last;
  const run = (c: RenderContext): void => {
    for (let i = 0; i < effects.length; i++) effects[i]!(c);
  };
  if (last.t === 'int') {
    const f = last.fn;
    return { t: 'int', it: last.it, ptr: last.ptr, fn: (c) => (run(c), f(c)) };
  }
  if (last.t === 'str') {
    const f = last.fn;
    return { t: 'str', fn: (c) => (run(c), f(c)) };
  }
  const f = last.fn;
  return { ...last, fn: (c) => (run(c), f(c)) };
}

