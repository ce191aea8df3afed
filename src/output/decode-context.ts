// Everything needed to turn records into kernel text or typed fields,
// loaded from a tracefs-like directory: a recording, or the live tracefs
// (formats from the trace array, names and printk formats from the root).
//
// Kernel constants (kernel-constants.ts: enum values from BTF, jiffies,
// HZ) come by default from the recording's kernel_constants file, or, for
// the live tracefs, from the running kernel, read when the context is
// loaded: writeback's "age" (jiffies at output time minus a recorded time)
// is then relative to that moment.

import { isAscii } from 'node:buffer';
import fs from 'node:fs';
import { join } from 'node:path';
import { SymbolTable } from '../decode/kallsyms.js';
import {
  CONSTANTS_FILE,
  HZ_KEY,
  type KernelConstants,
  emptyKernelConstants,
  foreignRecordingConstants,
  parseKernelConstants,
  readKernelHz,
  readLiveKernelConstants,
} from '../decode/kernel-constants.js';
import { PrintkFormats } from '../decode/printk-formats.js';
import { DirectorySource, EventRegistry, type FormatSource } from '../decode/registry.js';
import { UnionFormatSource } from '../decode/union-source.js';
import { EventRenderer } from '../decode/renderer.js';
import { MalformedInputError, TracefsNotFoundError, WarningCode, type WarningHandler, emitProcessWarning } from '../errors.js';
import { KernelText } from './kernel-text.js';
import { TaskNames } from './task-names.js';

/** Where loadDecodeContext() finds formats, names, symbols and constants. */
export interface DecodeContextOptions {
  /**
   * Directory with events/, saved_cmdlines, printk_formats: a recording or
   * the tracefs root. Omitted (and no `files`): no kernel events
   * (application rings only).
   */
  root?: string;
  /**
   * The same as `root`, as a virtual tracefs (a trace.dat's metadata, say):
   * events/, saved_cmdlines, saved_tgids, printk_formats, kernel_constants.
   * Takes precedence over `root`.
   */
  files?: FormatSource;
  /** More event formats: the schema areas of application rings. */
  formats?: readonly FormatSource[];
  /** Directory with events/, trace_clock and options/ (an instance); default `root`. */
  array?: string;
  /** The same as `array`, as a virtual tracefs; default `files`. */
  arrayFiles?: FormatSource;
  /**
   * kallsyms: a file (plain or .gz), its bytes, or null for none; default:
   * the recording's kallsyms.gz or kallsyms, else /proc/kallsyms for a live
   * tracefs.
   */
  kallsyms?: string | Uint8Array | null;
  /**
   * Values for identifiers print fmts leave unresolved. 'auto' (default):
   * the recording's kernel_constants file, or the running kernel's when
   * `root` is a live tracefs; null: none (those events print table values
   * as hex, or "[FAILED TO PARSE]" when the value is needed).
   */
  constants?: 'auto' | KernelConstants | null;
  /** The trace clock, when the sources have no trace_clock file (a trace.dat names it in an option). */
  clock?: string;
  /** Load only these event systems up front; others load when their ids appear. */
  systems?: readonly string[];
  /** Receives what 'auto' constants could not settle (a recording without kernel_constants); default process.emitWarning. */
  onWarning?: WarningHandler;
}

/** Everything needed to turn records into text or fields: formats, renderer, task names, symbols, clock, kernel constants. */
export interface DecodeContext {
  registry: EventRegistry;
  renderer: EventRenderer;
  tasks: TaskNames;
  symbols: SymbolTable | null;
  clock: string;
  /** Kernel constants given to the renderer (see DecodeContextOptions.constants). */
  constants: KernelConstants;
  littleEndian: boolean;
  irqInfo: boolean;
  recordTgid: boolean;
  /** The annotate option: the `trace` file marks where each CPU's buffer starts after overruns. */
  annotate: boolean;
  text: KernelText;
}

function readOptional(path: string): string | null {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function isLiveTracefs(root: string): boolean {
  return fs.existsSync(join(root, 'trace_marker')) && fs.existsSync(join(root, 'per_cpu'));
}

/**
 * A Map filled on first use. Reading the running kernel's BTF costs a few
 * hundred milliseconds, and only print fmts with unresolved enum names
 * need it.
 */
class LazyMap<K, V> extends Map<K, V> {
  #fill: (() => Iterable<[K, V]>) | null;

  constructor(fill: () => Iterable<[K, V]>) {
    super();
    this.#fill = fill;
  }

  #ensure(): void {
    const fill = this.#fill;
    if (fill === null) return;
    this.#fill = null;
    for (const [k, v] of fill()) super.set(k, v);
  }

  override get(key: K): V | undefined {
    this.#ensure();
    return super.get(key);
  }

  override has(key: K): boolean {
    this.#ensure();
    return super.has(key);
  }

  override get size(): number {
    this.#ensure();
    return super.size;
  }

  override set(key: K, value: V): this {
    this.#ensure();
    return super.set(key, value);
  }

  override delete(key: K): boolean {
    this.#ensure();
    return super.delete(key);
  }

  override forEach(fn: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    this.#ensure();
    super.forEach(fn, thisArg);
  }

  override entries(): MapIterator<[K, V]> {
    this.#ensure();
    return super.entries();
  }

  override keys(): MapIterator<K> {
    this.#ensure();
    return super.keys();
  }

  override values(): MapIterator<V> {
    this.#ensure();
    return super.values();
  }

  override [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }
}

/** The running kernel's constants, read when first looked up (HZ at once: it is cheap and always used). */
function lazyLiveConstants(): KernelConstants {
  let live: KernelConstants | null = null;
  const load = () => (live ??= readLiveKernelConstants());
  return { values: new LazyMap(() => load().values), typeSizes: new LazyMap(() => load().typeSizes) };
}

/**
 * The kernel constants for decoding `root` (see DecodeContextOptions.constants):
 * its kernel_constants file, else the running kernel's if `root` is a live
 * tracefs, else the running kernel's BTF if the recording names the same release.
 */
export function kernelConstantsOf(root: string, onWarning?: WarningHandler): KernelConstants {
  const text = readOptional(join(root, CONSTANTS_FILE));
  if (text !== null) return parseKernelConstants(text);
  return isLiveTracefs(root) ? readLiveKernelConstants() : foreignRecordingConstants(root, onWarning ? { onWarning } : {});
}

/** kernelConstantsOf, with the running kernel's read lazily. */
function autoConstants(root: string, onWarning?: WarningHandler): KernelConstants {
  const text = readOptional(join(root, CONSTANTS_FILE));
  if (text !== null) return parseKernelConstants(text);
  return isLiveTracefs(root) ? lazyLiveConstants() : foreignRecordingConstants(root, onWarning ? { onWarning } : {});
}

function liveHz(): number | undefined {
  return readKernelHz() ?? undefined;
}

/** kernelConstantsOf for a virtual tracefs: its kernel_constants file, else none. */
function kernelConstantsOfSource(files: FormatSource): KernelConstants {
  const text = files.readOptional(CONSTANTS_FILE);
  return text !== null ? parseKernelConstants(text) : emptyKernelConstants();
}

function defaultKallsyms(root: string): string | null {
  for (const name of ['kallsyms.gz', 'kallsyms']) if (fs.existsSync(join(root, name))) return join(root, name);
  return fs.existsSync('/proc/kallsyms') ? '/proc/kallsyms' : null;
}

/** Loads a kallsyms file (plain or gzip). */
export function loadSymbols(path: string): SymbolTable {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path);
  } catch (error) {
    throw new TracefsNotFoundError(`cannot read kallsyms ${path}: ${(error as Error).message}`, { cause: error });
  }
  return symbolsFromBytes(bytes);
}

/** A symbol table from kallsyms bytes: gzip, or text. */
export function symbolsFromBytes(bytes: Uint8Array): SymbolTable {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // SymbolTable.parse takes gzip bytes, text, or bytes read as latin1 (the same as UTF-8 when ASCII).
  const gzip = buf[0] === 0x1f && buf[1] === 0x8b;
  return SymbolTable.parse(gzip || isAscii(buf) ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : buf.toString('utf8'));
}

/** The symbol table, loaded when first needed (reading and parsing kallsyms costs a few hundred ms). */
function resolveSymbols(kallsyms: string | Uint8Array | null | undefined, root: string | undefined): SymbolTable | null {
  if (kallsyms === null) return null;
  if (kallsyms instanceof Uint8Array) {
    const bytes = kallsyms;
    return SymbolTable.lazy(() => symbolsFromBytes(bytes), warnSymbols);
  }
  const path = kallsyms ?? (root !== undefined ? defaultKallsyms(root) : null);
  if (path === null) return null;
  // An explicit file must exist (a typo is an error now, not at the first symbol).
  if (kallsyms !== undefined && !fs.existsSync(path)) throw new TracefsNotFoundError(`cannot read kallsyms ${path}: no such file`);
  return SymbolTable.lazy(() => loadSymbols(path), warnSymbols);
}

function warnSymbols(error: unknown): void {
  emitProcessWarning({ code: WarningCode.symbols, message: `kernel symbols unavailable, addresses print as hex: ${(error as Error).message}` });
}

function clockName(text: string | null, fallback: string): string {
  return text === null ? fallback : (/\[([^\]]+)\]/.exec(text)?.[1] ?? text.trim());
}

/** Loads a decode context from a recording or the live tracefs. */
export function loadDecodeContext(options: DecodeContextOptions, littleEndian = true): DecodeContext {
  const root = options.files === undefined ? options.root : undefined;
  if (options.files === undefined && root === undefined) return appOnlyContext(options.formats ?? [], littleEndian);
  const array = options.array ?? root;
  if (options.arrayFiles === undefined && array !== undefined && !fs.existsSync(join(array, 'events'))) {
    throw new TracefsNotFoundError(`${array} has no events/ directory`);
  }
  const rootFiles = options.files ?? new DirectorySource(root as string);
  const arrayFiles = options.arrayFiles ?? (array !== undefined && options.files === undefined ? new DirectorySource(array) : rootFiles);
  const extra = options.formats ?? [];
  const registry = new EventRegistry(
    extra.length === 0 ? arrayFiles : new UnionFormatSource([arrayFiles, ...extra]),
    options.systems === undefined ? {} : { systems: options.systems },
  );
  const symbols = resolveSymbols(options.kallsyms, root);
  const option = (name: string, fallback: boolean) => {
    const v = arrayFiles.readOptional(`options/${name}`);
    if (v === null) return fallback;
    if (v.trim() !== '0' && v.trim() !== '1') throw new MalformedInputError(`options/${name}: expected 0 or 1`);
    return v.trim() === '1';
  };
  const printkText = rootFiles.readOptional('printk_formats');
  const choice = options.constants === undefined ? 'auto' : options.constants;
  const constants =
    choice === 'auto' ? (root !== undefined ? autoConstants(root, options.onWarning) : kernelConstantsOfSource(rootFiles)) : (choice ?? emptyKernelConstants());
  const recordedHz = constants.values instanceof LazyMap ? undefined : constants.values.get(HZ_KEY);
  const renderer = new EventRenderer(registry, {
    ...(symbols ? { symbols } : {}),
    ...(printkText !== null ? { printkFormats: PrintkFormats.parse(printkText) } : {}),
    littleEndian,
    constants: constants.values,
    typeSizes: constants.typeSizes,
    // Live: read from the kernel's config when a print fmt first needs it.
    ...(constants.values instanceof LazyMap ? { hz: liveHz } : recordedHz !== undefined && recordedHz > 0n && recordedHz <= 100000n ? { hz: Number(recordedHz) } : {}),
    symOffset: option('sym-offset', false),
    symAddr: option('sym-addr', false),
    printParent: option('print-parent', true),
    verbose: option('verbose', false),
  });
  const tasks = TaskNames.parse(rootFiles.readOptional('saved_cmdlines') ?? '', () => rootFiles.readOptional('saved_tgids') ?? '');
  const clock = clockName(arrayFiles.readOptional('trace_clock'), options.clock ?? 'local');
  const irqInfo = option('irq-info', true);
  const recordTgid = option('record-tgid', false);
  const text = new KernelText(renderer, {
    clock,
    tasks,
    irqInfo,
    recordTgid,
    littleEndian,
    contextInfo: option('context-info', true),
    verbose: option('verbose', false),
  });
  const annotate = option('annotate', true);
  return { registry, renderer, tasks, symbols, clock, constants, littleEndian, irqInfo, recordTgid, annotate, text };
}

/** Application rings without kernel events: their formats, the mono clock, no kernel symbols. */
function appOnlyContext(formats: readonly FormatSource[], littleEndian: boolean): DecodeContext {
  const registry = new EventRegistry(formats.length === 1 ? (formats[0] as FormatSource) : new UnionFormatSource(formats));
  const renderer = new EventRenderer(registry, { littleEndian });
  const tasks = new TaskNames();
  const clock = 'mono';
  const text = new KernelText(renderer, { clock, tasks, littleEndian });
  return {
    registry,
    renderer,
    tasks,
    symbols: null,
    clock,
    constants: emptyKernelConstants(),
    littleEndian,
    irqInfo: true,
    recordTgid: false,
    annotate: false,
    text,
  };
}
