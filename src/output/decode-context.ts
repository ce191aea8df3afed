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
  readLiveKernelConstants,
} from '../decode/kernel-constants.js';
import { PrintkFormats } from '../decode/printk-formats.js';
import { DirectorySource, EventRegistry, type FormatSource } from '../decode/registry.js';
import { UnionFormatSource } from '../decode/union-source.js';
import { EventRenderer } from '../decode/renderer.js';
import { MalformedInputError, TracefsNotFoundError, type WarningHandler } from '../errors.js';
import { KernelText } from './kernel-text.js';
import { TaskNames } from './task-names.js';

export interface DecodeContextOptions {
  /**
   * Directory with events/, saved_cmdlines, printk_formats: a recording or
   * the tracefs root. Omitted: no kernel events (application rings only).
   */
  root?: string;
  /** More event formats: the schema areas of application rings. */
  formats?: readonly FormatSource[];
  /** Directory with trace_clock and options/ (an instance); default `root`. */
  array?: string;
  /** kallsyms file (plain or .gz), or null for none; default: the recording's, else /proc/kallsyms. */
  kallsyms?: string | null;
  /**
   * Values for identifiers print fmts leave unresolved. 'auto' (default):
   * the recording's kernel_constants file, or the running kernel's when
   * `root` is a live tracefs; null: none (those events print table values
   * as hex, or "[FAILED TO PARSE]" when the value is needed).
   */
  constants?: 'auto' | KernelConstants | null;
  /** Receives what 'auto' constants could not settle (a recording without kernel_constants); default process.emitWarning. */
  onWarning?: WarningHandler;
}

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
 * The kernel constants for decoding `root` (see DecodeContextOptions.constants):
 * its kernel_constants file, else the running kernel's if `root` is a live
 * tracefs, else the running kernel's BTF if the recording names the same release.
 */
export function kernelConstantsOf(root: string, onWarning?: WarningHandler): KernelConstants {
  const text = readOptional(join(root, CONSTANTS_FILE));
  if (text !== null) return parseKernelConstants(text);
  return isLiveTracefs(root) ? readLiveKernelConstants() : foreignRecordingConstants(root, onWarning ? { onWarning } : {});
}

function defaultKallsyms(root: string): string | null {
  for (const name of ['kallsyms.gz', 'kallsyms']) if (fs.existsSync(join(root, name))) return join(root, name);
  return fs.existsSync('/proc/kallsyms') ? '/proc/kallsyms' : null;
}

export function loadSymbols(path: string): SymbolTable {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path);
  } catch (error) {
    throw new TracefsNotFoundError(`cannot read kallsyms ${path}: ${(error as Error).message}`, { cause: error });
  }
  // SymbolTable.parse takes gzip bytes, text, or bytes read as latin1 (the same as UTF-8 when ASCII).
  const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
  return SymbolTable.parse(gzip || isAscii(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes.toString('utf8'));
}

export function loadDecodeContext(options: DecodeContextOptions, littleEndian = true): DecodeContext {
  if (options.root === undefined) return appOnlyContext(options.formats ?? [], littleEndian);
  const { root } = options;
  const array = options.array ?? root;
  if (!fs.existsSync(join(array, 'events'))) throw new TracefsNotFoundError(`${array} has no events/ directory`);
  const kernelFormats = new DirectorySource(array);
  const extra = options.formats ?? [];
  const registry = new EventRegistry(extra.length === 0 ? kernelFormats : new UnionFormatSource([kernelFormats, ...extra]));
  const kallsyms = options.kallsyms === undefined ? defaultKallsyms(root) : options.kallsyms;
  const symbols = kallsyms === null ? null : loadSymbols(kallsyms);
  const option = (name: string, fallback: boolean) => {
    const v = readOptional(join(array, 'options', name));
    if (v === null) return fallback;
    if (v.trim() !== '0' && v.trim() !== '1') throw new MalformedInputError(`options/${name}: expected 0 or 1`);
    return v.trim() === '1';
  };
  const printkText = readOptional(join(root, 'printk_formats'));
  const choice = options.constants === undefined ? 'auto' : options.constants;
  const constants = choice === 'auto' ? kernelConstantsOf(root, options.onWarning) : (choice ?? emptyKernelConstants());
  const hz = constants.values.get(HZ_KEY);
  const renderer = new EventRenderer(registry, {
    ...(symbols ? { symbols } : {}),
    ...(printkText !== null ? { printkFormats: PrintkFormats.parse(printkText) } : {}),
    littleEndian,
    constants: constants.values,
    typeSizes: constants.typeSizes,
    ...(hz !== undefined && hz > 0n && hz <= 100000n ? { hz: Number(hz) } : {}),
    symOffset: option('sym-offset', false),
    symAddr: option('sym-addr', false),
    printParent: option('print-parent', true),
    verbose: option('verbose', false),
  });
  const tasks = TaskNames.parse(readOptional(join(root, 'saved_cmdlines')) ?? '', readOptional(join(root, 'saved_tgids')) ?? '');
  const clockText = readOptional(join(array, 'trace_clock'));
  const clock = clockText === null ? 'local' : (/\[([^\]]+)\]/.exec(clockText)?.[1] ?? clockText.trim());
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
