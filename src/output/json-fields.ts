// What a format's print fmt says about its fields for JSON Lines:
//
// * hex fields: a 64-bit value beyond 2^53 is written as "0x…" (else as a
//   decimal string, json-out.ts) when the field is a pointer (its type has
//   a `*`), or when the print fmt prints it, as REC->name with casts at
//   most, with %p (raw: %p %px %pK), a symbol conversion (%ps %pS %pB
//   %pf %pF), %x / %X (any width or length: %lx, %016llx, %#x), or as the
//   value of __print_flags (its leftover bits print as 0x…);
// * companions, written right after their field:
//   - NAME_sym: for a field printed with %ps / %pS / %pB (/ %pf / %pF), the
//     symbol text the kernel prints ("tracing_mark_write",
//     "do_sys_open+0x12/0x40 [mod]"), or null when kallsyms has no symbol
//     for it; only when symbols are loaded;
//   - NAME_str: for a field whose text the print fmt makes with
//     __print_flags / __print_symbolic (/ _u64): the kernel's text of the
//     directives that print it, e.g. sched_switch's prev_state "R+" from
//     "%s%s" (a run of adjacent directives that read this field alone, one
//     of them with such a table);
//   a companion is left out when its name is already a field's.
//
// The companions' text comes from the print fmt interpreter itself
// (EventRenderer.compileFragment: the directives and their arguments,
// compiled as a print fmt of their own), so it is byte for byte the
// kernel's text, including enum values from kernel constants.

import type { EventFormat, FieldFormat } from '../decode/format-file.js';
import type { Expr } from '../decode/printfmt/ast.js';
import type { CompiledPrintFmt, RenderContext } from '../decode/printfmt/context.js';
import { parsePrintFmt } from '../decode/printfmt/parser.js';
import { type Directive, FROM_ARG, argCount, parseFormat } from '../decode/printfmt/printk.js';
import type { EventRenderer } from '../decode/renderer.js';
import { Lit, type TextOut } from '../decode/text-out.js';

/** Writes `,"NAME_x":…` for the record (payload at `b`, `L` bytes). */
export type CompanionWriter = (out: TextOut, view: DataView, bytes: Uint8Array, b: number, L: number) => void;

export interface Companion {
  /** "prev_state_str" */
  readonly key: string;
  readonly kind: 'sym' | 'str';
  readonly write: CompanionWriter;
  /** The kernel's text of the field's directives for one record, as a string (null for an unknown symbol). */
  readonly text: (c: RenderContext) => string | null;
}

export interface JsonFieldPlan {
  /** Names of the fields whose large 64-bit values are written as "0x…". */
  readonly hex: ReadonlySet<string>;
  /** Companions by the name of the field they follow. */
  readonly companions: ReadonlyMap<string, readonly Companion[]>;
}

const PRINT_TABLES = new Set(['__print_flags', '__print_symbolic', '__print_flags_u64', '__print_symbolic_u64']);
const SYMBOL_EXT = new Set(['s', 'S', 'B', 'f', 'F']);

/** The field an argument reads, when it is REC->name under casts (or a unary plus) only. */
function plainField(e: Expr): string | null {
  let x = e;
  while (x.k === 'cast' || (x.k === 'unary' && x.op === '+')) x = x.expr;
  return x.k === 'field' ? x.name : null;
}

/** Every node below `root` (the AST is plain data: objects and arrays), without recursion. */
function* nodes(root: Expr): Generator<Expr> {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    const node = v as { k?: unknown };
    if (typeof node.k === 'string') yield node as Expr;
    for (const child of Object.values(node)) if (typeof child === 'object' && child !== null) stack.push(child);
  }
}

interface Use {
  readonly d: Directive;
  /** The directive's arguments (width and precision stars first). */
  readonly args: readonly Expr[];
  /** Fields the arguments read. */
  readonly fields: ReadonlySet<string>;
  /** The value argument calls a __print_flags / __print_symbolic table. */
  readonly table: boolean;
  /** No literal text between this directive and the previous one. */
  readonly adjacent: boolean;
}

/** The directives of a print fmt with what their arguments read. */
function directiveUses(printFmt: string, longSize: 4 | 8): Use[] | null {
  let ast;
  let pieces;
  try {
    ast = parsePrintFmt(printFmt, { longSize });
    pieces = parseFormat(ast.format);
  } catch {
    return null;
  }
  const uses: Use[] = [];
  let next = 0;
  let adjacent = false;
  for (const p of pieces) {
    if (typeof p === 'string') {
      adjacent = false;
      continue;
    }
    if (p.conv === '!') break;
    const n = argCount(p);
    const args = ast.args.slice(next, next + n);
    next += n;
    if (args.length < n) break;
    const fields = new Set<string>();
    let table = false;
    for (const a of args) {
      for (const node of nodes(a)) {
        if (node.k === 'field') fields.add(node.name);
        else if (node.k === 'call' && PRINT_TABLES.has(node.name)) table = true;
      }
    }
    uses.push({ d: p, args, fields, table, adjacent });
    adjacent = true;
  }
  return uses;
}

function isHexUse(u: Use): string | null {
  const value = u.args[u.args.length - 1];
  if (value === undefined) return null;
  const { conv, ext } = u.d;
  if (conv === 'x' || conv === 'X' || (conv === 'p' && (ext === '' || ext[0] === 'x' || ext[0] === 'K' || SYMBOL_EXT.has(ext[0]!)))) {
    return plainField(value);
  }
  // __print_flags(REC->flags, ...): leftover bits print as hex.
  for (const node of nodes(value)) {
    if (node.k === 'call' && (node.name === '__print_flags' || node.name === '__print_flags_u64') && node.args[0] !== undefined) {
      const f = plainField(node.args[0]);
      if (f !== null) return f;
    }
  }
  return null;
}


/** %ps of an address kallsyms does not know prints the address, "0x…" (a symbol name never starts so). */
function unknownSymbol(text: string): boolean {
  return text.length > 2 && text.charCodeAt(0) === 48 && text.charCodeAt(1) === 120;
}

/** Slots of each companion's cache of rendered values (a power of two). */
const CACHE_SLOTS = 1024;

/**
 * `,"key":"<text>"` (or `,"key":null` for an unknown symbol). The text
 * depends on the field's value alone (the directives read no other field),
 * so it is rendered once per value and kept as bytes: flags and symbols
 * repeat. The cache is direct-mapped on the value's 64 bits (a clash
 * renders again and takes the slot): no Map, no allocation on a hit.
 */
function companionWriter(key: string, text: (c: RenderContext) => string | null, f: FieldFormat, le: boolean): CompanionWriter {
  const prefix = `,${JSON.stringify(key)}:`;
  const c: RenderContext = { view: new DataView(new ArrayBuffer(0)), bytes: new Uint8Array(0), base: 0, len: 0 };
  const his = new Int32Array(CACHE_SLOTS);
  const los = new Int32Array(CACHE_SLOTS);
  const lits: Array<Lit | undefined> = new Array<Lit | undefined>(CACHE_SLOTS).fill(undefined);
  const off = f.offset;
  const size = f.size;
  return (out, view, bytes, b, L) => {
    const at = b + off;
    let hi = 0;
    let lo: number;
    if (size === 8) {
      lo = view.getInt32(le ? at : at + 4, le);
      hi = view.getInt32(le ? at + 4 : at, le);
    } else lo = size === 4 ? view.getInt32(at, le) : size === 2 ? view.getUint16(at, le) : view.getUint8(at);
    const slot = (Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> 22) & (CACHE_SLOTS - 1);
    const hit = lits[slot];
    if (hit !== undefined && los[slot] === lo && his[slot] === hi) {
      out.lit(hit);
      return;
    }
    c.view = view;
    c.bytes = bytes;
    c.base = b;
    c.len = L;
    const t = text(c);
    const lit = new Lit(prefix + (t === null ? 'null' : JSON.stringify(t)));
    lits[slot] = lit;
    los[slot] = lo;
    his[slot] = hi;
    out.lit(lit);
  };
}

function isInteger(f: FieldFormat | undefined): f is FieldFormat {
  return f !== undefined && !f.common && (f.kind === 'int' || f.kind === 'pointer');
}

/**
 * The JSON plan of `format`: hex fields always; companions when a renderer
 * is given (their text is compiled with its options and symbols).
 */
export function jsonFieldPlan(format: EventFormat, renderer?: EventRenderer, littleEndian = true): JsonFieldPlan {
  const hex = new Set<string>();
  for (const f of format.fields) if (f.kind === 'pointer' || (f.elementType.includes('*') && f.elementSize === 8)) hex.add(f.name);
  const companions = new Map<string, Companion[]>();
  const uses = directiveUses(format.printFmt, format.longSize);
  if (uses === null) return { hex, companions };
  for (const u of uses) {
    const f = isHexUse(u);
    if (f !== null && format.byName.has(f)) hex.add(f);
  }
  if (renderer === undefined) return { hex, companions };
  const taken = new Set(format.fields.map((f) => f.name));
  const add = (field: string, kind: 'sym' | 'str', run: readonly Use[]): void => {
    const key = `${field}_${kind}`;
    if (taken.has(key)) return;
    let fragment: CompiledPrintFmt;
    try {
      fragment = renderer.compileFragment(format, { format: run.map((u) => u.d.text).join(''), args: run.flatMap((u) => u.args) });
    } catch {
      return; // a fragment the interpreter cannot compile has no companion
    }
    taken.add(key);
    const list = companions.get(field) ?? [];
    const text = (c: RenderContext): string | null => {
      const t = fragment.render(c);
      return kind === 'sym' && unknownSymbol(t) ? null : t;
    };
    list.push({ key, kind, write: companionWriter(key, text, format.byName.get(field)!, littleEndian), text });
    companions.set(field, list);
  };
  // Symbols: one directive with a symbol conversion of a plain field.
  // Asking for symbols loads kallsyms (tens of ms): only an event that prints one asks.
  const symbolUses: Array<{ field: string; use: Use }> = [];
  for (const u of uses) {
    if (u.d.conv !== 'p' || !SYMBOL_EXT.has(u.d.ext[0] ?? '') || u.d.width === FROM_ARG || u.d.precision === FROM_ARG) continue;
    const f = plainField(u.args[u.args.length - 1]!);
    if (f !== null && isInteger(format.byName.get(f))) symbolUses.push({ field: f, use: u });
  }
  if (symbolUses.length > 0 && renderer.hasSymbols) for (const s of symbolUses) add(s.field, 'sym', [s.use]);
  // Flags and symbolic names: a run of adjacent %s directives reading one field, one of them with a table.
  for (let i = 0; i < uses.length; ) {
    const u = uses[i]!;
    const field = u.fields.size === 1 ? [...u.fields][0]! : null;
    let j = i + 1;
    if (field !== null && u.d.conv === 's') {
      while (j < uses.length && uses[j]!.adjacent && uses[j]!.d.conv === 's' && uses[j]!.fields.size === 1 && uses[j]!.fields.has(field)) j++;
      const run = uses.slice(i, j);
      if (run.some((r) => r.table) && isInteger(format.byName.get(field)) && !companions.get(field)?.some((c) => c.kind === 'str')) add(field, 'str', run);
    }
    i = j;
  }
  return { hex, companions };
}
