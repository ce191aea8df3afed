// Application event types, published as format files in the kernel's own
// grammar, so the format parser, typed decoders and print fmt interpreter
// used for kernel events handle application events unchanged.
//
//   name: request
//   ID: 49152
//   format:
//   	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
//   	...common fields...
//
//   	field:u32 id;	offset:8;	size:4;	signed:0;
//   	field:__data_loc char[] path;	offset:12;	size:4;	signed:0;
//
//   print fmt: "id=%u path=%s", REC->id, __get_str(path)

import { parseFormatFile, type EventFormat } from '../decode/format-file.js';
import { InvalidArgumentError } from '../errors.js';

/** First id given to application events (kernel event ids stay far below). */
export const APP_EVENT_ID_BASE = 0xc000;
export const APP_EVENT_ID_MAX = 0xffff;

/** The type of an application event field. */
export type FieldType =
  | 'u8'
  | 's8'
  | 'u16'
  | 's16'
  | 'u32'
  | 's32'
  | 'u64'
  | 's64'
  | 'bool'
  /** A NUL-terminated string of any length (__data_loc char[]). */
  | 'string'
  /** Raw bytes of any length (__data_loc u8[]), printed as hex. */
  | 'bytes'
  /** A fixed char array, e.g. 'char[16]': NUL-padded, truncated to fit. */
  | `char[${number}]`;

/** An application event type: its name, fields and print fmt. */
export interface EventSchema {
  /** Event system (directory name in tracefs terms); default "app". */
  system?: string;
  name: string;
  /** Fields in order: [name, type] pairs. */
  fields: ReadonlyArray<readonly [string, FieldType]>;
  /** A print fmt in the kernel's grammar (without "print fmt: "); default "name=value" for every field. */
  print?: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const RESERVED = new Set(['common_type', 'common_flags', 'common_preempt_count', 'common_pid']);

export type FieldKind = 'int' | 'fixed-string' | 'string' | 'bytes';

/** Where and how one field is stored in the payload. */
export interface FieldSlot {
  name: string;
  kind: FieldKind;
  offset: number;
  size: number;
  signed: boolean;
}

export interface EventLayout {
  system: string;
  name: string;
  id: number;
  /** The format file text. */
  formatText: string;
  /** The format as the decoder sees it (parsed back from the text). */
  format: EventFormat;
  slots: readonly FieldSlot[];
  /** Bytes of the fixed part (common header and fields, before dynamic data). */
  fixedSize: number;
}

const INT_SIZES: Record<string, [size: number, signed: boolean, decl: string, conv: string]> = {
  u8: [1, false, 'u8', '%u'],
  s8: [1, true, 's8', '%d'],
  bool: [1, false, 'bool', '%d'],
  u16: [2, false, 'u16', '%u'],
  s16: [2, true, 's16', '%d'],
  u32: [4, false, 'u32', '%u'],
  s32: [4, true, 's32', '%d'],
  u64: [8, false, 'u64', '%llu'],
  s64: [8, true, 's64', '%lld'],
};

const COMMON = [
  '\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;',
  '\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;',
  '\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;',
  '\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;',
];

/** Lays out an event like a C struct after the common header and writes its format file. */
export function layoutEvent(schema: EventSchema, id: number): EventLayout {
  const system = schema.system ?? 'app';
  if (!IDENT.test(system)) throw new InvalidArgumentError(`event system ${JSON.stringify(system)} is not an identifier`);
  if (!IDENT.test(schema.name)) throw new InvalidArgumentError(`event name ${JSON.stringify(schema.name)} is not an identifier`);
  if (!Number.isInteger(id) || id < APP_EVENT_ID_BASE || id > APP_EVENT_ID_MAX) throw new InvalidArgumentError(`event id ${id} out of range`);
  const seen = new Set<string>();
  const slots: FieldSlot[] = [];
  const lines: string[] = [];
  const printParts: string[] = [];
  const printArgs: string[] = [];
  let offset = 8;
  for (const [name, type] of schema.fields) {
    if (!IDENT.test(name) || RESERVED.has(name) || seen.has(name)) {
      throw new InvalidArgumentError(`field name ${JSON.stringify(name)} is not a new identifier`);
    }
    seen.add(name);
    const int = INT_SIZES[type];
    const fixed = /^char\[(\d{1,5})\]$/.exec(type);
    if (int) {
      const [size, signed, decl, conv] = int;
      offset = Math.ceil(offset / size) * size; // natural alignment
      slots.push({ name, kind: 'int', offset, size, signed });
      lines.push(`\tfield:${decl} ${name};\toffset:${offset};\tsize:${size};\tsigned:${signed ? 1 : 0};`);
      printParts.push(`${name}=${conv}`);
      printArgs.push(`REC->${name}`);
      offset += size;
    } else if (fixed) {
      const size = Number(fixed[1]);
      if (size < 1 || size > 4096) throw new InvalidArgumentError(`field ${name}: char arrays hold 1 to 4096 bytes`);
      slots.push({ name, kind: 'fixed-string', offset, size, signed: false });
      lines.push(`\tfield:char ${name}[${size}];\toffset:${offset};\tsize:${size};\tsigned:0;`);
      printParts.push(`${name}=%s`);
      printArgs.push(`REC->${name}`);
      offset += size;
    } else if (type === 'string' || type === 'bytes') {
      offset = Math.ceil(offset / 4) * 4;
      slots.push({ name, kind: type, offset, size: 4, signed: false });
      const decl = type === 'string' ? `__data_loc char[] ${name}` : `__data_loc u8[] ${name}`;
      lines.push(`\tfield:${decl};\toffset:${offset};\tsize:4;\tsigned:0;`);
      printParts.push(`${name}=%s`);
      printArgs.push(
        type === 'string'
          ? `__get_str(${name})`
          : `__print_hex(__get_dynamic_array(${name}), __get_dynamic_array_len(${name}))`,
      );
      offset += 4;
    } else {
      throw new InvalidArgumentError(`field ${name}: unknown type ${JSON.stringify(type)}`);
    }
  }
  const fixedSize = offset;
  const print =
    schema.print ?? `"${printParts.join(' ')}"${printArgs.length > 0 ? `, ${printArgs.join(', ')}` : ''}`;
  if (print.includes('\n')) throw new InvalidArgumentError('a print fmt is a single line');
  const formatText = `name: ${schema.name}\nID: ${id}\nformat:\n${COMMON.join('\n')}\n\n${lines.join('\n')}${
    lines.length > 0 ? '\n' : ''
  }\nprint fmt: ${print}\n`;
  // Parsed back with the kernel-format parser: what the decoder will see.
  const format = parseFormatFile(formatText, { system, source: `${system}/${schema.name}` });
  return { system, name: schema.name, id, formatText, format, slots, fixedSize };
}

/** The events/header_page text for sub-buffers of `subbufSize` bytes (64-bit layout). */
export function headerPageText(subbufSize: number): string {
  return (
    '\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n' +
    '\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n' +
    '\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n' +
    `\tfield: char data;\toffset:16;\tsize:${subbufSize - 16};\tsigned:0;\n`
  );
}

export const HEADER_EVENT_TEXT =
  '# compressed entry header\n\ttype_len    :    5 bits\n\ttime_delta  :   27 bits\n\tarray       :   32 bits\n\n' +
  '\tpadding     : type == 29\n\ttime_extend : type == 30\n\ttime_stamp : type == 31\n\tdata max type_len  == 28\n';

/**
 * The layout of an event defined elsewhere (another thread or process),
 * rebuilt from its stored format text.
 */
export function layoutFromFormat(system: string, formatText: string): EventLayout {
  const format = parseFormatFile(formatText, { system, source: system });
  const slots: FieldSlot[] = [];
  let fixedSize = 8;
  for (const f of format.fields) {
    if (f.common) continue;
    let kind: FieldKind;
    if (f.kind === 'int') kind = 'int';
    else if (f.kind === 'array' && f.isString) kind = 'fixed-string';
    else if (f.kind === 'dynamic' && f.isString) kind = 'string';
    else if (f.kind === 'dynamic' && f.elementSize === 1) kind = 'bytes';
    else throw new InvalidArgumentError(`${system}:${format.name}: field ${f.name} is not a kind application events use`);
    slots.push({ name: f.name, kind, offset: f.offset, size: f.size, signed: f.signed });
    fixedSize = Math.max(fixedSize, f.offset + f.size);
  }
  return { system, name: format.name, id: format.id, formatText, format, slots, fixedSize };
}
