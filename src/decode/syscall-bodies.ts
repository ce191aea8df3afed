// Text of the syscalls:sys_enter_* / sys_exit_* events. The kernel prints
// them with its own routines (kernel/trace/trace_syscalls.c,
// print_syscall_enter / print_syscall_exit), not with the print fmt of
// their format files, and without the "<event name>: " prefix:
//
//   sys_openat(dfd: 0xffffff9c, filename: 0x7ffd..., flags: 0, mode: 0)
//   sys_openat -> 0x3
//
// Each argument is the raw unsigned long the syscall received: values
// below 10 print as %lu, others as 0x%lx (whatever the C type). With the
// `verbose` trace option the C type precedes each argument name. The
// return value is a long printed as 0x%lx. The syscall's name is "sys"
// followed by what follows "sys_enter"/"sys_exit" in the event name.
//
// The text is written as bytes (syscallEmitter, what the renderer uses);
// syscallBody() gives it as a string.

import type { EventFormat } from './format-file.js';
import type { Emit, RenderContext } from './printfmt/context.js';
import { Lit, TextOut } from './text-out.js';

/** Options of the syscall event bodies. */
export interface SyscallOptions {
  readonly littleEndian: boolean;
  /** The `verbose` trace option: "<type> <name>: <value>". Default off. */
  readonly verbose: boolean;
}

/** Renders a syscall event's body as the kernel does. */
export type SyscallBody = (c: RenderContext) => string;

const ENTER = 'sys_enter';
const EXIT = 'sys_exit';

/** "0x" then the unsigned hex of the 4- or 8-byte word at `at`. */
function hexWord(c: RenderContext, out: TextOut, at: number, size: 4 | 8, le: boolean): void {
  out.reserve(2);
  out.dv.setUint16(out.pos, 0x7830, true); // "0x"
  out.pos += 2;
  if (size === 4) out.hex32(c.view.getUint32(at, le));
  else out.hex64(c.view.getUint32(le ? at + 4 : at, le), c.view.getUint32(le ? at : at + 4, le));
}

/** An argument: %lu below 10, else 0x%lx. */
function arg(c: RenderContext, out: TextOut, at: number, size: 4 | 8, le: boolean): void {
  const small = size === 4 ? c.view.getUint32(at, le) < 10 : c.view.getUint32(le ? at + 4 : at, le) === 0 && c.view.getUint32(le ? at : at + 4, le) < 10;
  if (small) out.byte(48 + c.view.getUint8(le ? at : at + size - 1));
  else hexWord(c, out, at, size, le);
}

/**
 * The dedicated renderer of a syscall event as bytes, or null for anything
 * else (including formats that do not have the layout the kernel's
 * routines assume: `__syscall_nr`, then word-sized arguments or `ret`).
 */
export function syscallEmitter(format: EventFormat, o: SyscallOptions): Emit | null {
  if (format.system !== 'syscalls') return null;
  const le = o.littleEndian;
  const fields = format.fields.slice(format.commonCount);
  if (fields[0]?.name !== '__syscall_nr') return null;
  const rest = fields.slice(1);
  if (format.name.startsWith(`${EXIT}_`)) {
    const ret = rest[0];
    if (rest.length !== 1 || ret?.name !== 'ret' || (ret.size !== 4 && ret.size !== 8) || ret.kind !== 'int') return null;
    const head = new Lit(`sys${format.name.slice(EXIT.length)} -> `);
    const at = ret.offset;
    const size = ret.size;
    return (c, out) => {
      out.lit(head);
      hexWord(c, out, c.base + at, size, le);
      out.byte(10);
    };
  }
  if (!format.name.startsWith(`${ENTER}_`)) return null;
  const name = `sys${format.name.slice(ENTER.length)}`;
  // The text before each argument ("sys_x(" + label, ", " + label), and after the last.
  const before: Lit[] = [];
  const at: number[] = [];
  const sizes: Array<4 | 8> = [];
  for (const f of rest) {
    if ((f.kind !== 'int' && f.kind !== 'pointer') || (f.size !== 4 && f.size !== 8)) return null;
    const label = o.verbose ? `${f.type} ${f.name}: ` : `${f.name}: `;
    before.push(new Lit(before.length === 0 ? `${name}(${label}` : `, ${label}`));
    at.push(f.offset);
    sizes.push(f.size);
  }
  const open = new Lit(`${name}(`);
  const close = new Lit(')\n');
  const n = before.length;
  return (c, out) => {
    if (n === 0) out.lit(open);
    for (let i = 0; i < n; i++) {
      out.lit(before[i]!);
      arg(c, out, c.base + at[i]!, sizes[i]!, le);
    }
    out.lit(close);
  };
}

/** syscallEmitter() as a string renderer. */
export function syscallBody(format: EventFormat, o: SyscallOptions): SyscallBody | null {
  const emit = syscallEmitter(format, o);
  if (emit === null) return null;
  const out = new TextOut(256);
  return (c) => {
    out.reset();
    emit(c, out);
    return out.toString();
  };
}
