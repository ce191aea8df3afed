// Output routines behind the print fmt helper macros
// (kernel/trace/trace_output.c, lib/hexdump.c):
//   __print_flags / __print_symbolic (+_u64) -> trace_print_flags_seq / _symbols_seq
//   __print_hex / __print_hex_str            -> trace_print_hex_seq
//   __print_array / __print_dynamic_array    -> trace_print_array_seq
//   __print_hex_dump                         -> trace_print_hex_dump_seq

import { type Int, sub64, and64, toU64 } from '../int64.js';
import { HEX } from './pointer.js';

/** A compiled `{ mask, "name" }` table. */
export interface FlagTable {
  readonly masks: readonly Int[];
  readonly names: readonly string[];
}

/**
 * trace_print_flags_seq(): walk entries in order while bits remain; an
 * entry matches when all its mask bits are set; leftover bits as 0x%lx.
 * `value` is already the helper's unsigned type.
 */
export function printFlags(value: Int, delim: string, table: FlagTable): string {
  let flags = value;
  let out = '';
  let first = true;
  const { masks, names } = table;
  for (let i = 0; i < masks.length && flags != 0; i++) {
    const mask = masks[i]!;
    if (and64(flags, mask, false) != mask) continue;
    // All mask bits are set in flags: subtracting clears exactly them.
    flags = sub64(flags, mask, false);
    if (!first) out += delim;
    else first = false;
    out += names[i]!;
  }
  if (flags != 0) {
    if (!first) out += delim;
    out += `0x${toU64(flags).toString(16)}`;
  }
  return out;
}

/** A compiled `{ value, "name" }` table: first match wins. */
export class SymbolicTable {
  readonly #map = new Map<Int, string>();

  constructor(values: readonly Int[], names: readonly string[]) {
    for (let i = 0; i < values.length; i++) {
      if (!this.#map.has(values[i]!)) this.#map.set(values[i]!, names[i]!);
    }
  }

  /** trace_print_symbols_seq(): the name, or 0x%lx. */
  print(value: Int): string {
    const name = this.#map.get(value);
    return name !== undefined ? name : `0x${toU64(value).toString(16)}`;
  }
}

/** trace_print_hex_seq(): bytes as %02x, space-separated unless `concatenate`. */
export function printHex(bytes: Uint8Array, at: number, len: number, concatenate: boolean): string {
  let out = '';
  for (let i = 0; i < len; i++) {
    if (!concatenate && i > 0) out += ' ';
    const b = bytes[at + i]!;
    out += HEX[b >>> 4]! + HEX[b & 15]!;
  }
  return out;
}

/** trace_print_array_seq(): "{0x1,0x2}"; 8-byte elements as 0x%llx; other sizes "BAD SIZE". */
export function printArray(view: DataView, at: number, available: number, count: number, elSize: number, le: boolean): string {
  let out = '{';
  let size = elSize;
  let prefix = '';
  const bufLen = count * elSize;
  let p = 0;
  // Elements beyond the record cannot be read: stop there.
  while (p < bufLen && p + Math.max(1, size) <= available) {
    switch (size) {
      case 1:
        out += `${prefix}0x${view.getUint8(at + p).toString(16)}`;
        break;
      case 2:
        out += `${prefix}0x${view.getUint16(at + p, le).toString(16)}`;
        break;
      case 4:
        out += `${prefix}0x${view.getUint32(at + p, le).toString(16)}`;
        break;
      case 8:
        out += `${prefix}0x${view.getBigUint64(at + p, le).toString(16)}`;
        break;
      default:
        out += `${prefix}BAD SIZE:${elSize} 0x${view.getUint8(at + p).toString(16)}`;
        size = 1;
    }
    prefix = ',';
    p += size;
  }
  return `${out}}`;
}

const DUMP_PREFIX_ADDRESS = 1;
const DUMP_PREFIX_OFFSET = 2;

function isPrintableAscii(c: number): boolean {
  return c >= 0x20 && c < 0x7f;
}

/** lib/hexdump.c hex_dump_to_buffer() for one row (`len` <= rowsize). */
function hexDumpLine(view: DataView, at: number, len: number, rowsize: number, groupsize: number, ascii: boolean, le: boolean): string {
  if (groupsize !== 1 && groupsize !== 2 && groupsize !== 4 && groupsize !== 8) groupsize = 1;
  if (len % groupsize !== 0) groupsize = 1;
  const ngroups = len / groupsize;
  const asciiColumn = rowsize * 2 + rowsize / groupsize + 1;
  let out = '';
  if (len === 0) return out;
  if (groupsize === 1) {
    for (let j = 0; j < len; j++) {
      const b = view.getUint8(at + j);
      out += HEX[b >>> 4]! + HEX[b & 15]!;
      if (j < len - 1) out += ' ';
    }
  } else {
    for (let j = 0; j < ngroups; j++) {
      const o = at + j * groupsize;
      let v: string;
      if (groupsize === 8) v = view.getBigUint64(o, le).toString(16).padStart(16, '0');
      else if (groupsize === 4) v = view.getUint32(o, le).toString(16).padStart(8, '0');
      else v = view.getUint16(o, le).toString(16).padStart(4, '0');
      out += (j > 0 ? ' ' : '') + v;
    }
  }
  if (!ascii) return out;
  while (out.length < asciiColumn) out += ' ';
  for (let j = 0; j < len; j++) {
    const c = view.getUint8(at + j);
    out += isPrintableAscii(c) ? String.fromCharCode(c) : '.';
  }
  return out;
}

/**
 * trace_print_hex_dump_seq(): "\n" then one line per row, each
 * "<prefix>[<offset or address>: ]<hex...>\n". Addresses of the record in
 * kernel memory are unknown: DUMP_PREFIX_ADDRESS prints the offset as a
 * zero-padded pointer.
 */
export function printHexDump(
  view: DataView,
  at: number,
  len: number,
  prefix: string,
  prefixType: number,
  rowsize: number,
  groupsize: number,
  ascii: boolean,
  le: boolean,
  longSize: 4 | 8,
): string {
  if (rowsize !== 16 && rowsize !== 32) rowsize = 16;
  let out = '\n';
  let remaining = len;
  for (let i = 0; i < len; i += rowsize) {
    const linelen = Math.min(remaining, rowsize);
    remaining -= rowsize;
    const line = hexDumpLine(view, at + i, linelen, rowsize, groupsize, ascii, le);
    if (prefixType === DUMP_PREFIX_ADDRESS) out += `${prefix}${i.toString(16).padStart(longSize * 2, '0')}: ${line}\n`;
    else if (prefixType === DUMP_PREFIX_OFFSET) out += `${prefix}${i.toString(16).padStart(8, '0')}: ${line}\n`;
    else out += `${prefix}${line}\n`;
  }
  return out;
}
