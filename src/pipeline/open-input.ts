// Opens whatever a user names as an input: a recording directory or a
// trace.dat (ours or trace-cmd's). Input kinds register here.

import fs from 'node:fs';
import { TraceringError } from '../errors.js';
import type { InputSource } from './input.js';
import { RecordingInput } from './recording-input.js';

/** Options of openInput(). */
export interface InputOptions {
  /** kallsyms file, or null for none (default: what the input carries). */
  kallsyms?: string | null;
}

export type InputOpener = (path: string, options: InputOptions) => InputSource;

/** trace.dat files start with these bytes (then "tracing"). */
export const TRACE_DAT_MAGIC = [0x17, 0x08, 0x44];

const openers = new Map<string, InputOpener>();

export function registerInput(kind: 'trace.dat', opener: InputOpener): void {
  openers.set(kind, opener);
}

function startsWithMagic(path: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(3);
    return fs.readSync(fd, head, 0, 3, 0) === 3 && TRACE_DAT_MAGIC.every((b, i) => head[i] === b);
  } finally {
    fs.closeSync(fd);
  }
}

/** Opens a recording directory or a trace.dat as an input. */
export function openInput(path: string, options: InputOptions = {}): InputSource {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(path);
  } catch (error) {
    throw new TraceringError('ERR_FILE_ACCESS', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  if (stat.isDirectory()) return new RecordingInput(path, options.kallsyms !== undefined ? { kallsyms: options.kallsyms } : {});
  if (startsWithMagic(path)) {
    const open = openers.get('trace.dat');
    if (open === undefined) throw new TraceringError('ERR_UNSUPPORTED', 'reading trace.dat is not available in this build');
    return open(path, options);
  }
  throw new TraceringError('ERR_MALFORMED_INPUT', `${path} is neither a recording directory nor a trace.dat file`);
}
