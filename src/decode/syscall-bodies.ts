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

import type { EventFormat } from './format-file.js';
import { hex32, hex64 } from './int-text.js';
import type { RenderContext } from './printfmt/interpreter.js';

export interface SyscallOptions {
  readonly littleEndian: boolean;
  /** The `verbose` trace option: "<type> <name>: <value>". Default off. */
  readonly verbose: boolean;
}

export type SyscallBody = (c: RenderContext) => string;

const ENTER = 'sys_enter';
const EXIT = 'sys_exit';

/** Unsigned hex of a 4- or 8-byte word at `at`. */
function readHex(c: RenderContext, at: number, size: 4 | 8, le: boolean): string {
  if (size === 4) return hex32(c.view.getUint32(at, le));
  return hex64(c.view.getUint32(le ? at + 4 : at, le), c.view.getUint32(le ? at : at + 4, le));
}

/** An argument: %lu below 10, else 0x%lx. */
function argText(c: RenderContext, at: number, size: 4 | 8, le: boolean): string {
  const small = size === 4 ? c.view.getUint32(at, le) < 10 : c.view.getUint32(le ? at + 4 : at, le) === 0 && c.view.getUint32(le ? at : at + 4, le) < 10;
  return small ? String(c.view.getUint8(le ? at : at + size - 1)) : `0x${readHex(c, at, size, le)}`;
}

/**
 * The dedicated renderer of a syscall event, or null for anything else
 * (including formats that do not have the layout the kernel's routines
 * assume: `__syscall_nr`, then word-sized arguments or `ret`).
 */
export function syscallBody(format: EventFormat, o: SyscallOptions): SyscallBody | null {
  if (format.system !== 'syscalls') return null;
  const le = o.littleEndian;
  const fields = format.fields.slice(format.commonCount);
  if (fields[0]?.name !== '__syscall_nr') return null;
  const rest = fields.slice(1);
  if (format.name.startsWith(`${EXIT}_`)) {
    const name = `sys${format.name.slice(EXIT.length)}`;
    const ret = rest[0];
    if (rest.length !== 1 || ret?.name !== 'ret' || (ret.size !== 4 && ret.size !== 8) || ret.kind !== 'int') return null;
    const at = ret.offset;
    const size = ret.size;
    return (c) => `${name} -> 0x${readHex(c, c.base + at, size, le)}\n`;
  }
  if (!format.name.startsWith(`${ENTER}_`)) return null;
  const name = `sys${format.name.slice(ENTER.length)}`;
  const args: Array<{ label: string; at: number; size: 4 | 8 }> = [];
  for (const f of rest) {
    if ((f.kind !== 'int' && f.kind !== 'pointer') || (f.size !== 4 && f.size !== 8)) return null;
    args.push({ label: o.verbose ? `${f.type} ${f.name}: ` : `${f.name}: `, at: f.offset, size: f.size });
  }
  return (c) => {
    let s = `${name}(`;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (i > 0) s += ', ';
      s += a.label + argText(c, c.base + a.at, a.size, le);
    }
    return `${s})\n`;
  };
}
