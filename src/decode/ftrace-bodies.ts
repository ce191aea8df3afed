// Text of the internal ftrace events (kernel-abi.md §7.4), which the kernel
// prints with its own routines (kernel/trace/trace_output.c), not with
// their print fmt, and without the "<event name>: " prefix:
//   function      <sym(ip)> <-<sym(parent_ip)>
//   print         <sym(ip)>: <buf>
//   bprint        <sym(ip)>: <fmt formatted with the packed args>
//   bputs         <sym(ip)>: <str>
//   raw_data      # <id %x> buf: xx xx ...
//   kernel_stack  <stack trace>\n => sym\n ...
//   user_stack    <user stack trace>\n =>  <addr>\n ...
// Each text ends as the kernel's does: function, raw_data and the stacks
// with a newline the kernel adds; print, bprint and bputs with whatever
// their text carries (trace_marker always adds one; trace_printk may not).
// <sym()> is seq_print_ip_sym(): the bare symbol name (no module, no
// offset unless the sym-offset option), "0x%08lx" when unknown, "0" for 0.

import type { EventFormat, FieldFormat } from './format-file.js';
import { hex64 as hexOf64 } from './int-text.js';
import { fromHiLo } from './int64.js';
import type { SymbolTable } from './kallsyms.js';
import type { RenderContext } from './printfmt/interpreter.js';
import { bprintf } from './printfmt/bprintf.js';
import { symbolString } from './printfmt/pointer.js';
import type { PrintkFormats } from './printk-formats.js';
import { decodeCString } from './strings.js';

/** Options of the ftrace event bodies (the kernel prints these events without a print fmt). */
export interface FtraceOptions {
  readonly littleEndian: boolean;
  readonly longSize: 4 | 8;
  readonly symbols: SymbolTable;
  readonly printkFormats: PrintkFormats;
  /** The sym-offset trace option: "name+0xoff/0xsize". Default off. */
  readonly symOffset: boolean;
  /** The sym-addr trace option: append " <address>". Default off. */
  readonly symAddr: boolean;
  /** The print-parent trace option (function events). Default on. */
  readonly printParent: boolean;
}

export type FtraceBody = (c: RenderContext) => string;

const HEX = '0123456789abcdef';

/** Names of the ftrace events printed by dedicated routines here. */
export const FTRACE_BODIES = new Set(['function', 'print', 'bprint', 'bputs', 'raw_data', 'kernel_stack', 'user_stack']);

function readWord(view: DataView, at: number, size: 4 | 8, le: boolean): [number, number] {
  if (size === 4) return [0, view.getUint32(at, le)];
  const lo = view.getUint32(le ? at : at + 4, le);
  const hi = view.getUint32(le ? at + 4 : at, le);
  return [hi, lo];
}

function hex64(hi: number, lo: number): string {
  return hexOf64(hi, lo);
}

/** seq_print_ip_sym(). */
export function ipSymbol(hi: number, lo: number, o: FtraceOptions): string {
  if (hi === 0 && lo === 0) return '0';
  let s: string;
  if (o.symOffset) {
    s = symbolString(o.symbols, fromHiLo(hi, lo, false), 'S');
  } else {
    const name = o.symbols.nameOf(hi, lo);
    s = name !== null && name.length > 0 ? name : `0x${hex64(hi, lo).padStart(8, '0')}`;
  }
  if (o.symAddr) s += ` <${hex64(hi, lo).padStart(o.longSize * 2, '0')}>`;
  return s;
}

function field(format: EventFormat, name: string): FieldFormat | null {
  return format.byName.get(name) ?? null;
}

/**
 * The dedicated renderer of an internal ftrace event, or null (the event
 * is then rendered with its print fmt). Missing or odd fields also give null.
 */
export function ftraceBody(format: EventFormat, o: FtraceOptions): FtraceBody | null {
  if (format.system !== 'ftrace' || !FTRACE_BODIES.has(format.name)) return null;
  const le = o.littleEndian;
  const word = o.longSize;
  const ip = field(format, 'ip');
  switch (format.name) {
    case 'function': {
      const parent = field(format, 'parent_ip');
      if (ip === null || parent === null || ip.size !== word || parent.size !== word) return null;
      const ipAt = ip.offset;
      const parentAt = parent.offset;
      return (c) => {
        const [hi, lo] = readWord(c.view, c.base + ipAt, word, le);
        let s = ipSymbol(hi, lo, o);
        const [phi, plo] = readWord(c.view, c.base + parentAt, word, le);
        if (o.printParent && (phi !== 0 || plo !== 0)) s += ` <-${ipSymbol(phi, plo, o)}`;
        return `${s}\n`;
      };
    }
    case 'print': {
      const buf = field(format, 'buf');
      if (ip === null || buf === null || ip.size !== word) return null;
      const ipAt = ip.offset;
      const bufAt = buf.offset;
      return (c) => {
        const [hi, lo] = readWord(c.view, c.base + ipAt, word, le);
        return `${ipSymbol(hi, lo, o)}: ${decodeCString(c.bytes, c.base + bufAt, c.len - bufAt)}`;
      };
    }
    case 'bputs': {
      const str = field(format, 'str');
      if (ip === null || str === null || ip.size !== word || str.size !== word) return null;
      const ipAt = ip.offset;
      const strAt = str.offset;
      return (c) => {
        const [hi, lo] = readWord(c.view, c.base + ipAt, word, le);
        const [shi, slo] = readWord(c.view, c.base + strAt, word, le);
        const text = o.printkFormats.get((BigInt(shi) << 32n) | BigInt(slo));
        return `${ipSymbol(hi, lo, o)}: ${text ?? `[unknown string 0x${hex64(shi, slo)}]`}`;
      };
    }
    case 'bprint': {
      const fmt = field(format, 'fmt');
      const buf = field(format, 'buf');
      if (ip === null || fmt === null || buf === null || ip.size !== word || fmt.size !== word) return null;
      const ipAt = ip.offset;
      const fmtAt = fmt.offset;
      const bufAt = buf.offset;
      const opts = { littleEndian: le, longSize: word, symbols: o.symbols };
      return (c) => {
        const [hi, lo] = readWord(c.view, c.base + ipAt, word, le);
        const [fhi, flo] = readWord(c.view, c.base + fmtAt, word, le);
        const text = o.printkFormats.get((BigInt(fhi) << 32n) | BigInt(flo));
        const body = text === undefined
          ? `[unknown format 0x${hex64(fhi, flo)}]`
          : bprintf(text, c.view, c.bytes, c.base + bufAt, c.base + Math.max(bufAt, c.len), opts);
        return `${ipSymbol(hi, lo, o)}: ${body}`;
      };
    }
    case 'raw_data': {
      const id = field(format, 'id');
      const buf = field(format, 'buf');
      if (id === null || buf === null || id.size !== 4) return null;
      const idAt = id.offset;
      const bufAt = buf.offset;
      return (c) => {
        // Every byte of the payload area (ent_size), slack included, as the kernel does.
        let s = `# ${c.view.getUint32(c.base + idAt, le).toString(16)} buf:`;
        for (let i = c.base + bufAt; i < c.base + c.len; i++) {
          const b = c.bytes[i]!;
          s += ` ${HEX[b >>> 4]}${HEX[b & 15]}`;
        }
        return `${s}\n`;
      };
    }
    case 'kernel_stack':
    case 'user_stack': {
      const caller = field(format, 'caller');
      if (caller === null || caller.elementSize !== word) return null;
      const at = caller.offset;
      const user = format.name === 'user_stack';
      return (c) => {
        let s = user ? '<user stack trace>' : '<stack trace>';
        // The kernel walks to the end of the record (ent_size), not just caller[8].
        for (let p = c.base + at; p + word <= c.base + c.len; p += word) {
          const [hi, lo] = readWord(c.view, p, word, le);
          if (user) {
            if (hi === 0 && lo === 0) break;
            // Without the sym-userobj option the kernel has no mapping: " <address>".
            s += `\n =>  <${hex64(hi, lo).padStart(word * 2, '0')}>`;
          } else {
            if (lo === 0xffffffff && (word === 4 || hi === 0xffffffff)) break;
            s += `\n => ${ipSymbol(hi, lo, o)}`;
          }
        }
        return `${s}\n`;
      };
    }
    default:
      return null;
  }
}

