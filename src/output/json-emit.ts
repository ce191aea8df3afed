// One generated JSON writer per event format: the `"system"`, `"event"`
// and `"fields"` part of a JSON Lines line, each field's key as constant
// bytes (JSON-escaped once per format) followed by its value read straight
// from the record and written as bytes (json-out.ts). No object, string or
// BigInt per event; one function per format keeps call sites monomorphic.
//
// Values are exactly those of the object form (EventDecoder.value) as
// JSON: integers beyond the payload are left out, 8-byte integers are
// numbers while exact in a double and strings beyond (json-out.ts: "0x…"
// for hex fields, json-fields.ts), char data is a string, bitmasks are bit
// indices, arrays of 2/4/8-byte elements are number arrays, other data is
// hex. Symbol and flag fields are followed by their text (NAME_sym,
// NAME_str: json-fields.ts).
//
// Safety: the generated code embeds only integers checked by num(), the
// literals true/false, fixed identifiers, and indexes into the array of
// constants it receives. Keys and names (format-file text) reach it only
// as bytes of Lit objects: short ASCII ones as int32 word stores.

import type { EventFormat, FieldFormat } from '../decode/format-file.js';
import { EventDecoder, type FieldValue } from '../decode/field-decoder.js';
import { CodeGen, num } from '../decode/printfmt/codegen.js';
import { Lit, type TextOut } from '../decode/text-out.js';
import type { EventRenderer } from '../decode/renderer.js';
import { type JsonFieldPlan, jsonFieldPlan } from './json-fields.js';
import {
  MAX_JSON_INT_TEXT,
  jsonInt64Text,
  putI32,
  putJsonHexS64,
  putJsonHexU64,
  putJsonS64,
  putJsonU64,
  putU32,
  writeBitIndices,
  writeHexString,
  writeIntArray,
  writeJsonCString,
} from './json-out.js';

/**
 * Writes `","system":…,"event":…,"fields":{…}}` and the newline for the
 * record whose payload is the `len` bytes at `base` (the caller has
 * written the line up to the flags, without their closing quote).
 */
export type JsonEmit = (out: TextOut, view: DataView, bytes: Uint8Array, base: number, len: number) => void;

/** Longest ASCII constant written as word stores; longer ones go through out.lit(). */
const INLINE_LIT_MAX = 128;

function bool(b: boolean): string {
  return b ? 'true' : 'false';
}

/**
 * A piece of the generated writer. 'fixed' code stores at `p` into `u`
 * (bytes) / `d` (DataView) at most `max` bytes (word stores may touch 3
 * more) with no bounds checks: a run of them is preceded by one reserve.
 * 'call' code writes through `out` (out.pos is synced around it).
 */
type Piece = { readonly kind: 'fixed'; readonly max: number; readonly code: string } | { readonly kind: 'call'; readonly code: string };

/** A constant: word stores of its bytes (integers), or out.lit() of a reference when long or not ASCII. */
function litPiece(g: CodeGen, l: Lit): Piece {
  if (!l.ascii || l.length > INLINE_LIT_MAX) return { kind: 'call', code: `out.lit(${g.ref(l)});` };
  return { kind: 'fixed', max: l.length, code: litStores(l) };
}

function litStores(l: Lit): string {
  const stores: string[] = [];
  for (let k = 0; k < (l.length + 3) >>> 2; k++) stores.push(`d.setInt32(p + ${num(4 * k)}, ${num(l.words[k]!)}, true);`);
  return `${stores.join(' ')} p += ${num(l.length)};`;
}

/** An integer field's value (1, 2, 4 or 8 bytes at payload offset `f.offset`) as a store at p; `hex`: a hex field's rule for 8 bytes. */
function intCode(g: CodeGen, f: FieldFormat, le: boolean, hex: boolean): string {
  const signed = f.kind === 'int' && f.signed;
  const at = (k: number) => `b + ${num(f.offset + k)}`;
  const put = (fn: unknown, read: string) => `p = ${g.ref(fn)}(u, d, p, ${read});`;
  switch (f.size) {
    case 1:
      return put(signed ? putI32 : putU32, `view.${signed ? 'getInt8' : 'getUint8'}(${at(0)})`);
    case 2:
      return put(signed ? putI32 : putU32, `view.${signed ? 'getInt16' : 'getUint16'}(${at(0)}, ${bool(le)})`);
    case 4:
      return put(signed ? putI32 : putU32, `view.${signed ? 'getInt32' : 'getUint32'}(${at(0)}, ${bool(le)})`);
    default: {
      const hi = `view.${signed ? 'getInt32' : 'getUint32'}(${at(le ? 4 : 0)}, ${bool(le)})`;
      const lo = `view.getUint32(${at(le ? 0 : 4)}, ${bool(le)})`;
      const put64 = hex ? (signed ? putJsonHexS64 : putJsonHexU64) : signed ? putJsonS64 : putJsonU64;
      return put(put64, `${hi}, ${lo}`);
    }
  }
}

/**
 * Statements setting `s` (absolute offset) and `n` (length) to where a
 * field's data lies, clamped to the payload (as field-decoder's spanOf()).
 */
function spanCode(f: FieldFormat, le: boolean): string {
  const off = num(f.offset);
  switch (f.kind) {
    case 'dynamic':
    case 'relative': {
      const rel = num(f.kind === 'relative' ? f.offset + 4 : 0);
      return (
        `let s = b + L, n = 0;` +
        ` if (L >= ${num(f.offset + 4)}) { const w = view.getUint32(b + ${off}, ${bool(le)}); const q = (w & 65535) + ${rel};` +
        ` if (q < L) { s = b + q; n = w >>> 16; if (n > L - q) n = L - q; } }`
      );
    }
    case 'flex':
      return `const s = b + (L < ${off} ? L : ${off}); const n = L > ${off} ? L - ${off} : 0;`;
    default:
      return `const s = b + ${off}; let n = L - ${off}; if (n > ${num(f.size)}) n = ${num(f.size)}; if (n < 0) n = 0;`;
  }
}

/** A non-integer field's value, given its span (s, n), written through out. */
function dataCode(g: CodeGen, f: FieldFormat, longSize: number, le: boolean, hex: boolean): string {
  if (f.isString) return `${g.ref(writeJsonCString)}(out, bytes, view, s, n);`;
  if (f.isBitmask) return `${g.ref(writeBitIndices)}(out, bytes, s, n, ${num(longSize)}, ${bool(le)});`;
  const es = f.elementSize;
  if (f.kind === 'blob' || (es !== 2 && es !== 4 && es !== 8)) return `${g.ref(writeHexString)}(out, bytes, s, n);`;
  return `${g.ref(writeIntArray)}(out, view, s, (n / ${num(es)}) | 0, ${num(es)}, ${bool(f.elementSigned)}, ${bool(le)}, ${bool(hex)});`;
}

/** Whether the generated writer covers every field (the parser guarantees it; other formats fall back). */
function generated(fields: readonly FieldFormat[]): boolean {
  const names = new Set<string>();
  for (const f of fields) {
    if (names.has(f.name)) return false;
    names.add(f.name);
    if ((f.kind === 'int' || f.kind === 'pointer') && f.size !== 1 && f.size !== 2 && f.size !== 4 && f.size !== 8) return false;
  }
  return true;
}

/** The constant text ahead of the fields. */
function headText(format: EventFormat): string {
  return `","system":${JSON.stringify(format.system)},"event":${JSON.stringify(format.name)},"fields":`;
}

/** Pieces into code: one reserve per run of fixed pieces, out.pos synced around calls. */
function joinPieces(pieces: readonly Piece[]): string {
  const body: string[] = [];
  for (let i = 0; i < pieces.length; ) {
    const first = pieces[i]!;
    if (first.kind === 'call') {
      body.push(first.code);
      i++;
      continue;
    }
    let max = 0;
    let j = i;
    for (; j < pieces.length; j++) {
      const q = pieces[j]!;
      if (q.kind !== 'fixed') break;
      max += q.max;
    }
    body.push(`out.reserve(${num(max + 8)}); u = out.buf; d = out.dv; p = out.pos;`);
    for (let k = i; k < j; k++) body.push(pieces[k]!.code);
    body.push('out.pos = p;');
    i = j;
  }
  return body.join('\n  ');
}

/**
 * The JSON writer of one event format. With `renderer`, fields the print
 * fmt shows as symbols or flags get their text beside them (json-fields.ts).
 */
export function compileJsonEmit(format: EventFormat, littleEndian: boolean, renderer?: EventRenderer): JsonEmit {
  const fields = format.fields.filter((f) => !f.common);
  const plan = jsonFieldPlan(format, renderer, littleEndian);
  if (!generated(fields)) return objectEmit(format, littleEndian, plan);
  const g = new CodeGen();
  const le = littleEndian;
  const pieces: Piece[] = [litPiece(g, new Lit(headText(format))), { kind: 'fixed', max: 0, code: 'start = p;' }];
  for (const f of fields) {
    // `,"name":` (the first field's comma becomes the `{`).
    const key = new Lit(`,${JSON.stringify(f.name)}:`);
    const hex = plan.hex.has(f.name);
    if (f.kind === 'int' || f.kind === 'pointer') {
      if (!key.ascii || key.length > INLINE_LIT_MAX) return objectEmit(format, littleEndian, plan);
      const end = num(f.offset + f.size);
      pieces.push({ kind: 'fixed', max: key.length + MAX_JSON_INT_TEXT, code: `if (L >= ${end}) { ${litStores(key)} ${intCode(g, f, le, hex)} }` });
      // `,"name_sym":…` / `,"name_str":…`, only beside a value.
      for (const c of plan.companions.get(f.name) ?? []) pieces.push({ kind: 'call', code: `if (L >= ${end}) ${g.ref(c.write)}(out, view, bytes, b, L);` });
    } else {
      pieces.push(litPiece(g, key), { kind: 'call', code: `{ ${spanCode(f, le)} ${dataCode(g, f, format.longSize, le, hex)} }` });
    }
  }
  pieces.push({
    kind: 'fixed',
    max: 4,
    code: 'if (p === start) { u[p] = 123; u[p + 1] = 125; p += 2; } else { u[start] = 123; u[p++] = 125; } u[p] = 125; u[p + 1] = 10; p += 2;',
  });
  // Constants as locals of the outer function: the writer sees them as closure constants.
  const decl = g.refs.map((_, i) => `const F${i} = F[${i}];`).join(' ');
  const code = joinPieces(pieces).replace(/F\[(\d+)\]/g, 'F$1');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- only checked integers, fixed names and indexes shape this code
  const make = new Function(
    'F',
    `"use strict"; ${decl}\nreturn function emitJson(out, view, bytes, b, L) {\n  let u = out.buf, d = out.dv, p = out.pos, start = 0;\n  ${code}\n};`,
  ) as (refs: readonly unknown[]) => JsonEmit;
  return make(g.refs);
}

// ---- the object form, for formats the generator does not cover ----------

const HEX = '0123456789abcdef';

function valueText(v: FieldValue, hex: boolean): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'bigint') return jsonInt64Text(v, hex);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Uint8Array) {
    let s = '"';
    for (const b of v) s += HEX[b >> 4]! + HEX[b & 15]!;
    return `${s}"`;
  }
  return `[${(v as ReadonlyArray<number | bigint>).map((x) => (typeof x === 'bigint' ? jsonInt64Text(x, hex) : String(x))).join(',')}]`;
}

/** Through EventDecoder.toObject (one object and string per event: slow, but any format). */
function objectEmit(format: EventFormat, littleEndian: boolean, plan: JsonFieldPlan): JsonEmit {
  const decoder = new EventDecoder(format, { littleEndian });
  const head = headText(format);
  return (out, view, bytes, base, len) => {
    const fields = decoder.toObject(view, bytes, base, len, false);
    out.str(`${head}{`);
    let first = true;
    for (const key of Object.keys(fields)) {
      out.str(`${first ? '' : ','}${JSON.stringify(key)}:${valueText(fields[key]!, plan.hex.has(key))}`);
      first = false;
      for (const c of plan.companions.get(key) ?? []) c.write(out, view, bytes, base, len);
    }
    out.str('}}\n');
  };
}
