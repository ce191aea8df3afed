// Kernel-identical event text: what the `trace` file shows after the
// "<comm>-<pid> [cpu] flags ts: " prefix (kernel-abi.md §8.2).
//
//   text(): "<event name>: <print fmt output>" for trace events, the
//           dedicated output for internal ftrace events (ftrace-bodies.ts)
//           and syscall events (syscall-bodies.ts);
//   body(): the same without "<event name>: ".
// The kernel's final newline is not included (an internal event whose text
// has no final newline, e.g. trace_printk without "\n", is returned as is).
//
// Print fmts are compiled once per event id, lazily. An event whose print
// fmt cannot be compiled renders as "[FAILED TO PARSE] field=value ..." with
// status 'fallback'; an unknown id renders "Unknown type <id>" (the
// kernel's own text) with status 'unknown'. Rendering never throws for
// record contents: lengths and offsets are clamped to the payload.

import type { EventFormat } from './format-file.js';
import { EventDecoder, type FieldValue } from './field-decoder.js';
import { type FtraceBody, ftraceBody } from './ftrace-bodies.js';
import { SymbolTable } from './kallsyms.js';
import { type CompiledPrintFmt, type RenderContext, compilePrintFmt } from './printfmt/interpreter.js';
import { parsePrintFmt } from './printfmt/parser.js';
import { PrintkFormats } from './printk-formats.js';
import type { EventRegistry } from './registry.js';
import { FixedStringCache, StringTable } from './strings.js';
import { syscallBody } from './syscall-bodies.js';

export interface RendererOptions {
  /** Kernel symbols for %ps/%pS and ftrace ips (default: none, addresses print as hex). */
  symbols?: SymbolTable;
  /** printk_formats of the recording kernel, for bprint/bputs and %s of constant strings. */
  printkFormats?: PrintkFormats;
  strings?: StringTable;
  /** Byte order of the recording kernel (default little endian). */
  littleEndian?: boolean;
  /** Kernel HZ for jiffies_to_msecs() (default 1000; not recorded in tracefs). */
  hz?: number;
  /** Values of identifiers format files leave unresolved (enums without TRACE_DEFINE_ENUM, kernel variables). */
  constants?: ReadonlyMap<string, bigint>;
  /** Sizes of types used in pointer arithmetic ("struct page" -> 64). */
  typeSizes?: ReadonlyMap<string, number>;
  /** Trace options affecting ftrace events (defaults as the kernel's). */
  symOffset?: boolean;
  symAddr?: boolean;
  printParent?: boolean;
  /** The verbose trace option (syscall events print argument types). */
  verbose?: boolean;
}

export type RenderStatus =
  /** Rendered as the kernel does. */
  | 'ok'
  /** The print fmt could not be compiled: fields listed instead. */
  | 'fallback'
  /** No format for this id (even after a reload). */
  | 'unknown'
  /** The event's format file is malformed. */
  | 'malformed'
  /** The payload is shorter than the format's fixed fields. */
  | 'truncated';

/** How one event id is rendered (compiled once). */
export interface EventPlan {
  readonly id: number;
  readonly format: EventFormat | null;
  /** "<name>: " for trace events, "" for internal ftrace events and unknown ids. */
  readonly prefix: string;
  readonly status: RenderStatus;
  /** Why the print fmt could not be used (status 'fallback', 'unknown', 'malformed'). */
  readonly reason: string | null;
  /** Approximations of a compiled print fmt (table entries skipped for unresolved enums). */
  readonly notes: readonly string[];
  readonly render: (c: RenderContext) => string;
}

const MIN_PAYLOAD = 8;

export class EventRenderer {
  readonly registry: EventRegistry;
  readonly #symbols: SymbolTable;
  readonly #printk: PrintkFormats;
  readonly #strings: StringTable;
  readonly #fixed = new FixedStringCache();
  readonly #le: boolean;
  readonly #hz: number;
  readonly #symOffset: boolean;
  readonly #symAddr: boolean;
  readonly #printParent: boolean;
  readonly #verbose: boolean;
  readonly #constants: ReadonlyMap<string, bigint> | undefined;
  readonly #typeSizes: ReadonlyMap<string, number> | undefined;
  readonly #plans = new Map<number, EventPlan>();
  #generation = -1;
  #last: EventPlan | null = null;
  readonly #ctx: RenderContext = { view: new DataView(new ArrayBuffer(0)), bytes: new Uint8Array(0), base: 0, len: 0 };
  /** Status of the last render. */
  status: RenderStatus = 'ok';

  constructor(registry: EventRegistry, options: RendererOptions = {}) {
    this.registry = registry;
    this.#symbols = options.symbols ?? SymbolTable.empty();
    this.#printk = options.printkFormats ?? PrintkFormats.empty();
    this.#strings = options.strings ?? new StringTable();
    this.#le = options.littleEndian ?? true;
    this.#hz = options.hz ?? 1000;
    this.#symOffset = options.symOffset ?? false;
    this.#symAddr = options.symAddr ?? false;
    this.#printParent = options.printParent ?? true;
    this.#verbose = options.verbose ?? false;
    this.#constants = options.constants;
    this.#typeSizes = options.typeSizes;
  }

  /** The compiled plan of `id` (compiling it on first use). */
  plan(id: number): EventPlan {
    if (this.#generation !== this.registry.generation) {
      this.#plans.clear();
      this.#generation = this.registry.generation;
    }
    let p = this.#plans.get(id);
    if (p === undefined) {
      p = this.#compile(id);
      // A reload may have happened during lookup: keep plans of the current generation only.
      if (this.#generation !== this.registry.generation) {
        this.#plans.clear();
        this.#generation = this.registry.generation;
      }
      this.#plans.set(id, p);
    }
    return p;
  }

  #compile(id: number): EventPlan {
    const found = this.registry.lookup(id);
    if (found.status !== 'ok') {
      const text = `Unknown type ${id}`;
      return { id, format: null, prefix: '', status: found.status, reason: found.message, notes: [], render: () => text };
    }
    const format = found.format;
    const longSize = format.longSize;
    const ftrace = ftraceBody(format, {
      littleEndian: this.#le,
      longSize,
      symbols: this.#symbols,
      printkFormats: this.#printk,
      symOffset: this.#symOffset,
      symAddr: this.#symAddr,
      printParent: this.#printParent,
    });
    if (ftrace !== null) return this.#plan(format, '', 'ok', null, [], ftrace);
    // Syscall events too are printed by dedicated routines, without "<name>: ".
    const syscall = syscallBody(format, { littleEndian: this.#le, verbose: this.#verbose });
    if (syscall !== null) return this.#plan(format, '', 'ok', null, [], syscall);
    // Internal ftrace events are printed without "<name>: " by the kernel.
    const prefix = format.system === 'ftrace' ? '' : `${format.name}: `;
    let compiled: CompiledPrintFmt;
    try {
      compiled = compilePrintFmt(parsePrintFmt(format.printFmt, { longSize }), format, {
        littleEndian: this.#le,
        longSize,
        symbols: this.#symbols,
        printkFormats: this.#printk,
        strings: this.#strings,
        fixedStrings: this.#fixed,
        hz: this.#hz,
        ...(this.#constants !== undefined ? { constants: this.#constants } : {}),
        ...(this.#typeSizes !== undefined ? { typeSizes: this.#typeSizes } : {}),
      });
    } catch (error) {
      const decoder = new EventDecoder(format, { littleEndian: this.#le, strings: this.#strings });
      const reason = (error as Error).message;
      return this.#plan(format, prefix, 'fallback', reason, [], (c) => `[FAILED TO PARSE] ${fieldList(decoder.toObject(c.view, c.bytes, c.base, c.len, false))}`);
    }
    return this.#plan(format, prefix, 'ok', null, compiled.notes, (c) => compiled.render(c));
  }

  #plan(format: EventFormat, prefix: string, status: RenderStatus, reason: string | null, notes: readonly string[], body: FtraceBody): EventPlan {
    const fixed = Math.max(MIN_PAYLOAD, format.fixedSize);
    const name = `${format.system}/${format.name}`;
    return {
      id: format.id,
      format,
      prefix,
      status,
      reason,
      notes,
      render: (c) => {
        if (c.len < fixed) {
          this.status = 'truncated';
          return `[TRUNCATED ${name}: ${c.len} of ${fixed} bytes]`;
        }
        return body(c);
      },
    };
  }

  #run(view: DataView, bytes: Uint8Array, payloadOffset: number, payloadLength: number, withPrefix: boolean): string {
    if (payloadLength < 2 || payloadOffset < 0 || payloadOffset + payloadLength > bytes.length) {
      this.status = 'truncated';
      return `[TRUNCATED: ${payloadLength} bytes]`;
    }
    const id = view.getUint16(payloadOffset, this.#le);
    // Records of one event often come in runs: skip the map lookup then.
    let p = this.#last;
    if (p === null || p.id !== id || this.#generation !== this.registry.generation) {
      p = this.plan(id);
      this.#last = p;
    }
    const c = this.#ctx;
    c.view = view;
    c.bytes = bytes;
    c.base = payloadOffset;
    c.len = payloadLength;
    this.status = p.status;
    let s = p.render(c);
    // Trace events always end their line; an internal event's text ends it
    // only if it carries the newline itself (trace_printk without "\n").
    this.endsLine = true;
    if (p.prefix === '') {
      if (s.endsWith('\n')) s = s.slice(0, -1);
      else this.endsLine = false;
    }
    return withPrefix ? p.prefix + s : s;
  }

  /** Whether the kernel ends the last rendered event's text with a newline. */
  endsLine = true;

  /** The event's text after the line prefix: "<name>: <body>" (trace events) or the ftrace output. */
  text(view: DataView, bytes: Uint8Array, payloadOffset: number, payloadLength: number): string {
    return this.#run(view, bytes, payloadOffset, payloadLength, true);
  }

  /** The body: text() without "<name>: ". */
  body(view: DataView, bytes: Uint8Array, payloadOffset: number, payloadLength: number): string {
    return this.#run(view, bytes, payloadOffset, payloadLength, false);
  }
}

function show(v: FieldValue): string {
  if (typeof v === 'bigint') return `0x${BigInt.asUintN(64, v).toString(16)}`;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Array.from(v, (b) => b.toString(16).padStart(2, '0')).join('');
  return `{${(v as readonly (number | bigint)[]).map((x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : String(x))).join(',')}}`;
}

function fieldList(o: Record<string, FieldValue>): string {
  return Object.keys(o)
    .map((k) => `${k}=${show(o[k]!)}`)
    .join(' ');
}
