// What compiled print fmts run on, what they produce, and their errors.

import { MalformedInputError } from '../../errors.js';
import type { TextOut } from '../text-out.js';

/** The record being rendered: payload at bytes[base, base + len). */
export interface RenderContext {
  view: DataView;
  bytes: Uint8Array;
  base: number;
  len: number;
}

/** Writes a record's text (a directive's, a format's, a dedicated body's) as UTF-8 bytes. */
export type Emit = (c: RenderContext, out: TextOut) => void;

/** The print fmt uses a construct this interpreter cannot evaluate (not malformed: valid C we do not model). */
export class UnsupportedPrintFmtError extends MalformedInputError {}

/** An identifier with no known value: an enum the kernel did not resolve, or a kernel variable. */
export class UnknownIdentifierError extends UnsupportedPrintFmtError {
  readonly identifier: string;
  constructor(identifier: string) {
    super(`print fmt: no value for identifier "${identifier}" (an enum without TRACE_DEFINE_ENUM or a kernel variable; see the constants option)`);
    this.identifier = identifier;
  }
}

/** A print fmt compiled for one event format: renders a record into text. */
export interface CompiledPrintFmt {
  readonly format: string;
  /** Approximations made while compiling (e.g. table entries skipped for unknown enum values). */
  readonly notes: readonly string[];
  /** Output of the print fmt for one record (without the kernel's trailing newline). */
  render(ctx: RenderContext): string;
  /** The same output as UTF-8 bytes. */
  emit(ctx: RenderContext, out: TextOut): void;
}
