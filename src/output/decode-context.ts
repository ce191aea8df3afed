// Everything needed to turn records into kernel text or typed fields,
// loaded from a tracefs-like directory: a recording, or the live tracefs
// (formats from the trace array, names and printk formats from the root).

import fs from 'node:fs';
import { join } from 'node:path';
import { SymbolTable } from '../decode/kallsyms.js';
import { PrintkFormats } from '../decode/printk-formats.js';
import { EventRegistry } from '../decode/registry.js';
import { EventRenderer } from '../decode/renderer.js';
import { MalformedInputError, TracefsNotFoundError } from '../errors.js';
import { KernelText } from './kernel-text.js';
import { TaskNames } from './task-names.js';

export interface DecodeContextOptions {
  /** Directory with events/, saved_cmdlines, printk_formats: a recording or the tracefs root. */
  root: string;
  /** Directory with trace_clock and options/ (an instance); default `root`. */
  array?: string;
  /** kallsyms file (plain or .gz), or null for none; default: the recording's, else /proc/kallsyms. */
  kallsyms?: string | null;
}

export interface DecodeContext {
  registry: EventRegistry;
  renderer: EventRenderer;
  tasks: TaskNames;
  symbols: SymbolTable | null;
  clock: string;
  littleEndian: boolean;
  irqInfo: boolean;
  recordTgid: boolean;
  text: KernelText;
}

function readOptional(path: string): string | null {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return null;
  }
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
  // SymbolTable.parse takes gzip bytes or text.
  return SymbolTable.parse(bytes[0] === 0x1f && bytes[1] === 0x8b ? new Uint8Array(bytes) : bytes.toString('utf8'));
}

export function loadDecodeContext(options: DecodeContextOptions, littleEndian = true): DecodeContext {
  const { root } = options;
  const array = options.array ?? root;
  if (!fs.existsSync(join(array, 'events'))) throw new TracefsNotFoundError(`${array} has no events/ directory`);
  const registry = EventRegistry.fromDirectory(array);
  const kallsyms = options.kallsyms === undefined ? defaultKallsyms(root) : options.kallsyms;
  const symbols = kallsyms === null ? null : loadSymbols(kallsyms);
  const printkText = readOptional(join(root, 'printk_formats'));
  const renderer = new EventRenderer(registry, {
    ...(symbols ? { symbols } : {}),
    ...(printkText !== null ? { printkFormats: PrintkFormats.parse(printkText) } : {}),
    littleEndian,
  });
  const tasks = TaskNames.parse(readOptional(join(root, 'saved_cmdlines')) ?? '', readOptional(join(root, 'saved_tgids')) ?? '');
  const clockText = readOptional(join(array, 'trace_clock'));
  const clock = clockText === null ? 'local' : (/\[([^\]]+)\]/.exec(clockText)?.[1] ?? clockText.trim());
  const option = (name: string, fallback: boolean) => {
    const v = readOptional(join(array, 'options', name));
    if (v === null) return fallback;
    if (v.trim() !== '0' && v.trim() !== '1') throw new MalformedInputError(`options/${name}: expected 0 or 1`);
    return v.trim() === '1';
  };
  const irqInfo = option('irq-info', true);
  const recordTgid = option('record-tgid', false);
  const text = new KernelText(renderer, { clock, tasks, irqInfo, recordTgid, littleEndian });
  return { registry, renderer, tasks, symbols, clock, littleEndian, irqInfo, recordTgid, text };
}
