// One generated function per print fmt: literals and directives written in
// sequence, the common directives (plain field reads formatted as numbers,
// pointers, record strings) as inline code, the others as calls of their
// closures. One function per event keeps every call site monomorphic and
// lets the JIT inline the TextOut writes; a closure per directive measured
// ~3x slower per directive.
//
// Safety: the generated code embeds only integers checked by num(), the
// literals true/false, fixed identifiers, and indexes into the arrays of
// constants and closures it receives. No text of the format file reaches
// it (literals are Lit objects passed by index).

import { MalformedInputError } from '../../errors.js';
import type { IntType } from '../ctypes.js';
import type { Lit } from '../text-out.js';
import type { Emit } from './context.js';
import { UNSET } from './printk.js';
import { hex64To, numberTo } from './printk-bytes.js';
import type { FieldBits } from './values.js';

/** Collects the values generated code refers to (F[i]). */
export class CodeGen {
  readonly refs: unknown[] = [];

  ref(value: unknown): string {
    this.refs.push(value);
    return `F[${this.refs.length - 1}]`;
  }
}

/** A directive as inline code (statements over c, out, view, b, L). */
export interface Inline {
  readonly inline: (g: CodeGen) => string;
}

/** Where a record string is: a fixed array field, or a __data_loc / __rel_loc field. */
export type StringSource =
  | { readonly kind: 'fixed'; readonly offset: number; readonly size: number }
  | { readonly kind: 'dynamic'; readonly offset: number; readonly rel: number };

const MAX_LITERAL = 2 ** 32;

/** An integer as code, refusing anything else. */
export function num(n: number): string {
  if (!Number.isSafeInteger(n) || n < -MAX_LITERAL || n > MAX_LITERAL) throw new MalformedInputError(`refusing to generate code for value ${n}`);
  return String(n);
}

function bool(b: boolean): string {
  return b ? 'true' : 'false';
}

/** A read of `size` (1, 2, 4) bytes at payload offset `offset`. */
function readCode(offset: number, size: number, signed: boolean, le: boolean): string {
  const at = `b + ${num(offset)}`;
  if (size === 1) return `view.${signed ? 'getInt8' : 'getUint8'}(${at})`;
  if (size === 2) return `view.${signed ? 'getInt16' : 'getUint16'}(${at}, ${bool(le)})`;
  if (size === 4) return `view.${signed ? 'getInt32' : 'getUint32'}(${at}, ${bool(le)})`;
  throw new MalformedInputError(`refusing to generate a read of ${size} bytes`);
}

/** The high and low words of an 8-byte field (high signed if asked). */
function wordsCode(bits: FieldBits, hiSigned: boolean, le: boolean): { hi: string; lo: string } {
  const hiAt = le ? bits.offset + 4 : bits.offset;
  const loAt = le ? bits.offset : bits.offset + 4;
  return {
    hi: `view.${hiSigned ? 'getInt32' : 'getUint32'}(b + ${num(hiAt)}, ${bool(le)})`,
    lo: `view.getUint32(b + ${num(loAt)}, ${bool(le)})`,
  };
}

/**
 * The two words of an 8-byte field read as int32, for calls that take the
 * words' bits (and normalize them with >>> 0): a uint32 of 2^31 or more
 * passed to a function that is not inlined is boxed, an allocation per
 * value printed.
 */
function wordBitsCode(bits: FieldBits, le: boolean): { hi: string; lo: string } {
  const hiAt = le ? bits.offset + 4 : bits.offset;
  const loAt = le ? bits.offset : bits.offset + 4;
  return { hi: `view.getInt32(b + ${num(hiAt)}, ${bool(le)})`, lo: `view.getInt32(b + ${num(loAt)}, ${bool(le)})` };
}

export interface IntDirective {
  readonly base: 8 | 10 | 16;
  readonly upper: boolean;
  readonly signed: boolean;
  readonly flags: number;
  readonly width: number;
  readonly precision: number;
}

/**
 * An integer conversion of a plain field read as inline code, or null when
 * the value needs more than the field's words (a signed value widened to
 * an unsigned 64-bit type, 1- and 2-byte conversions, octal of 8 bytes).
 * `from` is the read's type, `to` the conversion's; `fallback` renders
 * values beyond 2^53 (decimal of 8-byte fields).
 */
export function intInline(bits: FieldBits, from: IntType, to: IntType, d: IntDirective, le: boolean, fallback: Emit): Inline | null {
  if (bits.size !== from.size) return null;
  const { base, upper, signed, flags, width, precision } = d;
  const plain = flags === 0 && width === UNSET && precision === UNSET;
  const general = (g: CodeGen, x: string) =>
    `${g.ref(numberTo)}(out, ${x}, ${num(base)}, ${bool(upper)}, ${bool(signed)}, ${num(flags)}, ${num(width)}, ${num(precision)});`;
  if (from.size <= 4) {
    let x = readCode(bits.offset, from.size, from.signed, le);
    if (to.size === 4) x = to.signed ? `(${x} | 0)` : `(${x} >>> 0)`;
    else if (to.size !== 8 || (!to.signed && from.signed)) return null;
    // x is a safe integer, non-negative for unsigned `to` (below 2^32).
    if (plain && base === 10) {
      // An unsigned 4-byte value goes as its bits (a uint32 above 2^31 would be boxed).
      if (to.size === 4 && !to.signed) return { inline: () => `out.u32Bits(${readCode(bits.offset, from.size, from.signed, le)} | 0);` };
      return { inline: () => `out.int(${x});` };
    }
    // hex32 takes the bits: a 4-byte value as int32 stays unboxed.
    if (plain && base === 16) return { inline: () => `out.hex32(${to.size === 4 ? `(${readCode(bits.offset, from.size, from.signed, le)} | 0)` : x}, ${bool(upper)});` };
    return { inline: (g) => general(g, x) };
  }
  if (to.size !== 8) return null;
  if (base === 16) {
    // The 64 bits as unsigned hex, whatever the field's signedness.
    const { hi, lo } = wordBitsCode(bits, le);
    if (plain) return { inline: () => `out.hex64(${hi}, ${lo}, ${bool(upper)});` };
    return { inline: (g) => `${g.ref(hex64To)}(out, ${hi}, ${lo}, ${bool(upper)}, ${num(flags)}, ${num(width)}, ${num(precision)});` };
  }
  if (base !== 10) return null;
  const { hi, lo } = wordsCode(bits, to.signed, le);
  const safe = to.signed ? 'h >= -2097152 && h < 2097152' : 'h < 2097152';
  if (plain) {
    // The words' bits to int64() (no boxed Number per value); hi as read decides the range check.
    const w = wordBitsCode(bits, le);
    const h = to.signed ? w.hi : hi;
    return { inline: (g) => `{ const h = ${h}; if (${safe}) out.int64(h, ${w.lo}, ${bool(to.signed)}); else ${g.ref(fallback)}(c, out); }` };
  }
  return {
    inline: (g) => `{ const h = ${hi}, l = ${lo}; if (${safe}) ${general(g, 'h * 4294967296 + l')} else ${g.ref(fallback)}(c, out); }`,
  };
}

/** %p (printed like %px) of an 8-byte field: 16 zero-padded hex digits unless flags say otherwise. */
export function rawPointerInline(bits: FieldBits, flags: number, width: number, precision: number, le: boolean): Inline {
  const { hi, lo } = wordBitsCode(bits, le);
  if (flags === 0 && width < 0 && precision === UNSET) return { inline: () => `out.hex64Fixed(${hi}, ${lo});` };
  // FLAG_ZEROPAD (16) and 2 * sizeof(long) digits when no width is given.
  const f = width < 0 ? flags | 16 : flags;
  const w = width < 0 ? 16 : width;
  return { inline: (g) => `${g.ref(hex64To)}(out, ${hi}, ${lo}, false, ${num(f)}, ${num(w)}, ${num(precision)});` };
}

/** Something with write(out, hi, lo) (cached symbol text) applied to an 8-byte field. */
export function wordsWriterInline(writer: { write(out: unknown, hi: number, lo: number): void }, bits: FieldBits, le: boolean): Inline {
  const { hi, lo } = wordBitsCode(bits, le);
  return { inline: (g) => `${g.ref(writer)}.write(out, ${hi}, ${lo});` };
}

/** %s of a record string (no width or precision), as asStr() reads it. */
export function stringInline(src: StringSource, le: boolean): Inline {
  if (src.kind === 'fixed') return { inline: () => `out.cString(c.bytes, view, b + ${num(src.offset)}, ${num(src.size)});` };
  return {
    inline: () =>
      `{ const w = view.getUint32(b + ${num(src.offset)}, ${bool(le)}); const p = (w & 65535) + ${num(src.rel)};` +
      ` if (p < L) { const n = w >>> 16; out.cString(c.bytes, view, b + p, n < L - p ? n : L - p); } }`,
  };
}

/**
 * The emitter of a whole format: lits[0], piece 0, lits[1], ... (lits has
 * one more entry than pieces; empty literals are left out).
 */
export function assemble(lits: readonly Lit[], pieces: ReadonlyArray<Emit | Inline>): Emit {
  if (lits.length !== pieces.length + 1) throw new RangeError('assemble: lits must have one more entry than pieces');
  const g = new CodeGen();
  const body: string[] = [];
  const lit = (i: number) => {
    const l = lits[i]!;
    if (l.length === 0) return;
    if (l.length > 12 || !l.ascii) {
      body.push(`out.lit(${g.ref(l)});`);
      return;
    }
    // Short literals as word stores of their bytes (integers), no call.
    const stores: string[] = [];
    for (let k = 0; k < (l.length + 3) >>> 2; k++) stores.push(`d.setInt32(p + ${num(4 * k)}, ${num(l.words[k]!)}, true);`);
    body.push(`{ out.reserve(${num(l.length + 8)}); const p = out.pos, d = out.dv; ${stores.join(' ')} out.pos = p + ${num(l.length)}; }`);
  };
  lit(0);
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i]!;
    body.push(typeof p === 'function' ? `${g.ref(p)}(c, out);` : p.inline(g));
    lit(i + 1);
  }
  // Constants as locals of the outer function: the emitter sees them as closure constants.
  const decl = g.refs.map((_, i) => `const F${i} = F[${i}];`).join(' ');
  const code = body.join('\n  ').replace(/F\[(\d+)\]/g, 'F$1');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- only checked integers, fixed names and indexes shape this code
  const make = new Function('F', `"use strict"; ${decl}\nreturn function emit(c, out) {\n  const view = c.view, b = c.base, L = c.len;\n  ${code}\n};`) as (
    refs: readonly unknown[],
  ) => Emit;
  return make(g.refs);
}
