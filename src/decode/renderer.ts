// Kernel-identical event text: what the `trace` file shows after the
// "<comm>-<pid> [cpu] flags ts: " prefix (kernel-abi.md §8.2).
//
//   text(): "<event name>: <print fmt output>" for trace events, the
//           dedicated output for internal ftrace events (ftrace-bodies.ts)
//           and syscall events (syscall-bodies.ts);
//   body(): the same without "<event name>: ".
// The kernel's final newline is not included (an internal event whose text
// has no final newline, e.g. trace_printk without "\n", is returned as is;
// endsLine says whether a line writer adds one: always, but for such text).
//
// Rendering writes UTF-8 bytes (text-out.ts): writeText() is the hot path
// of kernel text; text() and body() decode those bytes into a string.
//
// Print fmts are compiled once per event id, lazily. An event whose print
// fmt cannot be compiled renders as "[FAILED TO PARSE] field=value ..." with
// status 'fallback'; an unknown id renders "Unknown type <id>" (the
// kernel's own text) with status 'unknown'. Rendering never throws for
// record contents: lengths and offsets are clamped to the payload.

import type { EventFormat } from './format-file.js';
import { fieldListEmitter } from './fallback-text.js';
import { EventDecoder } from './field-decoder.js';
import { ftraceBody } from './ftrace-bodies.js';
import { SymbolTable } from './kallsyms.js';
import type { Emit } from './printfmt/context.js';
import type { PrintFmtAst } from './printfmt/ast.js';
import { type CompiledPrintFmt, type InterpreterOptions, type RenderContext, compilePrintFmt } from './printfmt/interpreter.js';
import { parsePrintFmt } from './printfmt/parser.js';
import { PrintkFormats } from './printk-formats.js';
import type { EventRegistry } from './registry.js';
import { FixedStringCache, StringTable } from './strings.js';
import { syscallEmitter } from './syscall-bodies.js';
import { Lit, TextOut } from './text-out.js';

export type { Emit } from './printfmt/context.js';

/** Options of EventRenderer. */
export interface RendererOptions {
  /** Kernel symbols for %ps/%pS and ftrace ips (default: none, addresses print as hex). */
  symbols?: SymbolTable;
  /** printk_formats of the recording kernel, for bprint/bputs and %s of constant strings. */
  printkFormats?: PrintkFormats;
  strings?: StringTable;
  /** Byte order of the recording kernel (default little endian). */
  littleEndian?: boolean;
  /**
   * Kernel HZ for jiffies_to_msecs() (default 1000; not recorded in
   * tracefs), or a function asked the first time a print fmt needs it
   * (reading the running kernel's config costs more than most starts).
   */
  hz?: number | (() => number | undefined);
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

/** How an event renders: by its print fmt, by a built-in body, or not at all (and why). */
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
  /** The body as a string. */
  readonly render: (c: RenderContext) => string;
  /** The body as UTF-8 bytes. */
  readonly emit: Emit;
  /** `prefix`, ready to copy. */
  readonly prefixText: Lit;
}

const MIN_PAYLOAD = 8;

/** A plan with what writeText() uses directly. */
interface Plan extends EventPlan {
  /** Payload bytes the body needs (fewer: "[TRUNCATED ...]"). */
  readonly fixed: number;
  /** The body, without the length check. */
  readonly body: Emit;
}

/** Renders records as the kernel's `trace` text: the print fmt interpreted, or the kernel's own bodies for ftrace and syscall events. */
export class EventRenderer {
  readonly registry: EventRegistry;
  readonly #symbols: SymbolTable;
  readonly #printk: PrintkFormats;
  readonly #strings: StringTable;
  readonly #fixed = new FixedStringCache();
  readonly #le: boolean;
  #hz: number | (() => number | undefined);
  readonly #symOffset: boolean;
  readonly #symAddr: boolean;
  readonly #printParent: boolean;
  readonly #verbose: boolean;
  readonly #constants: ReadonlyMap<string, bigint> | undefined;
  readonly #typeSizes: ReadonlyMap<string, number> | undefined;
  /** Plans by id (ids are 16-bit): a dense array, no hashing per event. */
  readonly #plans: Array<Plan | undefined> = new Array<Plan | undefined>(65536);
  #generation = -1;
  readonly #ctx: RenderContext = { view: new DataView(new ArrayBuffer(0)), bytes: new Uint8Array(0), base: 0, len: 0 };
  /** Where text() / body() / plan renders write before decoding. */
  readonly #scratch = new TextOut(4096);
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

  /** Whether kernel symbols were given (%ps prints names, not only addresses). */
  get hasSymbols(): boolean {
    return this.#symbols.size > 0;
  }

  /**
   * Compiles a print fmt of `format`'s fields other than its own (a few of
   * its directives and their arguments, for JSON companions) with this
   * renderer's options: symbols, printk formats, constants. Throws
   * MalformedInputError when it cannot be compiled.
   */
  compileFragment(format: EventFormat, ast: PrintFmtAst): CompiledPrintFmt {
    return compilePrintFmt(ast, format, this.#compileOptions(format.longSize));
  }

  /** HZ, resolved on first use. */
  #hzValue(): number {
    if (typeof this.#hz === 'function') {
      const hz = this.#hz();
      this.#hz = hz !== undefined && Number.isInteger(hz) && hz > 0 && hz <= 100000 ? hz : 1000;
    }
    return this.#hz;
  }

  #compileOptions(longSize: 4 | 8): InterpreterOptions {
    const renderer = this;
    return {
      littleEndian: this.#le,
      longSize,
      symbols: this.#symbols,
      printkFormats: this.#printk,
      strings: this.#strings,
      fixedStrings: this.#fixed,
      // A getter: only a print fmt calling jiffies_to_msecs() asks.
      get hz() {
        return renderer.#hzValue();
      },
      ...(this.#constants !== undefined ? { constants: this.#constants } : {}),
      ...(this.#typeSizes !== undefined ? { typeSizes: this.#typeSizes } : {}),
    };
  }

  /** The compiled plan of `id` (compiling it on first use). */
  plan(id: number): EventPlan {
    return this.#planOf(id & 0xffff);
  }

  #planOf(id: number): Plan {
    if (this.#generation !== this.registry.generation) {
      this.#plans.fill(undefined);
      this.#generation = this.registry.generation;
    }
    let p = this.#plans[id];
    if (p === undefined) {
      p = this.#compile(id);
      // A reload may have happened during lookup: keep plans of the current generation only.
      if (this.#generation !== this.registry.generation) {
        this.#plans.fill(undefined);
        this.#generation = this.registry.generation;
      }
      this.#plans[id] = p;
    }
    return p;
  }

  #compile(id: number): Plan {
    const found = this.registry.lookup(id);
    if (found.status !== 'ok') {
      const text = `Unknown type ${id}`;
      const lit = new Lit(text);
      return {
        id,
        format: null,
        prefix: '',
        status: found.status,
        reason: found.message,
        notes: [],
        render: () => text,
        emit: (_c, out) => out.lit(lit),
        prefixText: new Lit(''),
        fixed: 0,
        body: (_c, out) => out.lit(lit),
      };
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
    if (ftrace !== null) return this.#plan(format, '', 'ok', null, [], (c, out) => out.str(ftrace(c)));
    // Syscall events too are printed by dedicated routines, without "<name>: ".
    const syscall = syscallEmitter(format, { littleEndian: this.#le, verbose: this.#verbose });
    if (syscall !== null) return this.#plan(format, '', 'ok', null, [], syscall);
    // Internal ftrace events are printed without "<name>: " by the kernel.
    const prefix = format.system === 'ftrace' ? '' : `${format.name}: `;
    let compiled: CompiledPrintFmt;
    try {
      compiled = compilePrintFmt(parsePrintFmt(format.printFmt, { longSize }), format, this.#compileOptions(longSize));
    } catch (error) {
      const decoder = new EventDecoder(format, { littleEndian: this.#le, strings: this.#strings });
      const reason = (error as Error).message;
      return this.#plan(format, prefix, 'fallback', reason, [], fieldListEmitter(decoder));
    }
    return this.#plan(format, prefix, 'ok', null, compiled.notes, compiled.emit);
  }

  #plan(format: EventFormat, prefix: string, status: RenderStatus, reason: string | null, notes: readonly string[], body: Emit): Plan {
    const fixed = Math.max(MIN_PAYLOAD, format.fixedSize);
    const name = `${format.system}/${format.name}`;
    const emit: Emit = (c, out) => {
      if (c.len < fixed) {
        this.status = 'truncated';
        out.str(`[TRUNCATED ${name}: ${c.len} of ${fixed} bytes]`);
        return;
      }
      body(c, out);
    };
    const scratch = this.#scratch;
    return {
      id: format.id,
      format,
      prefix,
      status,
      reason,
      notes,
      render: (c) => {
        scratch.reset();
        emit(c, scratch);
        return scratch.toString();
      },
      emit,
      prefixText: new Lit(prefix),
      fixed,
      body,
    };
  }

  /**
   * Writes the event's text (as text() or, without `withPrefix`, body())
   * to `out` and sets endsLine.
   */
  writeText(view: DataView, bytes: Uint8Array, payloadOffset: number, payloadLength: number, out: TextOut, withPrefix = true): void {
    if (payloadLength < 2 || payloadOffset < 0 || payloadOffset + payloadLength > bytes.length) {
      this.status = 'truncated';
      out.str(`[TRUNCATED: ${payloadLength} bytes]`);
      this.endsLine = true;
      return;
    }
    const id = view.getUint16(payloadOffset, this.#le);
    let p = this.#plans[id];
    if (p === undefined || this.#generation !== this.registry.generation) p = this.#planOf(id);
    const c = this.#ctx;
    c.view = view;
    c.bytes = bytes;
    c.base = payloadOffset;
    c.len = payloadLength;
    this.status = p.status;
    // Trace events always end their line; an internal event's text ends it
    // only if it carries the newline itself (trace_printk without "\n").
    if (p.prefix !== '') {
      if (withPrefix) out.lit(p.prefixText);
      if (payloadLength < p.fixed) p.emit(c, out);
      else p.body(c, out);
      this.endsLine = true;
      return;
    }
    const start = out.pos;
    if (payloadLength < p.fixed) p.emit(c, out);
    else p.body(c, out);
    if (out.pos > start && out.buf[out.pos - 1] === 10) {
      out.pos--;
      this.endsLine = true;
    } else {
      // Only the kernel's own text may leave a line open: "Unknown type N",
      // "[FAILED TO PARSE] ..." and "[TRUNCATED ...]" end theirs (the kernel
      // prints "Unknown type %d\n").
      this.endsLine = this.status !== 'ok';
    }
  }

  #run(view: DataView, bytes: Uint8Array, payloadOffset: number, payloadLength: number, withPrefix: boolean): string {
    const out = this.#scratch;
    out.reset();
    this.writeText(view, bytes, payloadOffset, payloadLength, out, withPrefix);
    return out.toString();
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
