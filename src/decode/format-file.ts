// Parsers for the tracefs self-description files (kernel-abi.md §5.1, §6.1,
// §7.2): `events/<system>/<event>/format`, `events/header_page` and
// `events/header_event`.
//
// Format files may come from another machine (recordings), so everything is
// validated and bounded: identifiers must be C identifiers, offsets and
// sizes must fit a sub-buffer, and any inconsistency raises
// MalformedInputError with the line at fault. Nothing here evaluates text.

import { MalformedInputError } from '../errors.js';
import { isCharType, scalarType } from './ctypes.js';

/** How a field's bytes are located and interpreted. */
export type FieldKind =
  /** Integer of 1, 2, 4 or 8 bytes (also bool, enum, pid_t...). */
  | 'int'
  /** Integer holding a kernel or user address (`void *`, `const char *`). */
  | 'pointer'
  /** Fixed array (`char comm[16]`, `u8 addr[4]`); char arrays are NUL-padded strings. */
  | 'array'
  /** Flexible tail array (`char buf[]`, size 0): from `offset` to the end of the payload. */
  | 'flex'
  /** `__data_loc T[] name`: u32 = offset (from payload start) | length << 16. */
  | 'dynamic'
  /** `__rel_loc T[] name`: u32 = offset (from the end of the field) | length << 16. */
  | 'relative'
  /** A scalar of another size (an embedded struct): raw bytes. */
  | 'blob';

/** One field of an event format: where its bytes are and how to read them. */
export interface FieldFormat {
  readonly name: string;
  /** Position in `EventFormat.fields`. */
  readonly index: number;
  /** The declaration's type as written, without the name: "unsigned long", "char[16]", "__data_loc char[]". */
  readonly type: string;
  /** Element (or scalar) type name: "char", "u32", "cpumask_t", "const char *". */
  readonly elementType: string;
  readonly offset: number;
  /** Bytes of the field itself (4 for loc words, 0 for flexible arrays). */
  readonly size: number;
  readonly signed: boolean;
  readonly kind: FieldKind;
  /** Bytes per element (scalars: the size). 0 if unknown (then treated as bytes). */
  readonly elementSize: number;
  readonly elementSigned: boolean;
  /** Elements of a fixed array; 1 for scalars; 0 for flexible and dynamic arrays. */
  readonly elementCount: number;
  /** Character data (char arrays, `__data_loc char[]`, `char buf[]`): decoded as a NUL-terminated string. */
  readonly isString: boolean;
  /** Dynamic bitmask (`__data_loc cpumask_t`, `__data_loc unsigned long[] mask` used by `__get_bitmask`). */
  readonly isBitmask: boolean;
  /** One of the 8-byte common header fields. */
  readonly common: boolean;
}

/** An event format, parsed from `events/<system>/<event>/format`. */
export interface EventFormat {
  readonly system: string;
  readonly name: string;
  /** `common_type` value of this event's records. */
  readonly id: number;
  readonly fields: readonly FieldFormat[];
  /** Number of leading common fields in `fields`. */
  readonly commonCount: number;
  /** The text after `print fmt: ` (unparsed; see printfmt/). Empty if absent. */
  readonly printFmt: string;
  /** End of the fixed part: max(offset + size) over all fields. */
  readonly fixedSize: number;
  /** The recording kernel's `long` size (from header_page), used for element widths. */
  readonly longSize: 4 | 8;
  readonly byName: ReadonlyMap<string, FieldFormat>;
}

/** Options of parseFormatFile(). */
export interface FormatParseOptions {
  /** Event system (the directory name); format files do not contain it. */
  system?: string;
  /** Size of the recording kernel's `long`, default 8. */
  longSize?: 4 | 8;
  /** Where the text came from, for error messages. */
  source?: string;
}

/** Upper bounds that keep hostile input from costing time or memory. */
export const FORMAT_LIMITS = {
  /** Characters of one format file. */
  maxText: 1 << 20,
  /** Fields of one event. */
  maxFields: 1024,
  /** Largest payload offset or size (a sub-buffer is at most 1 GiB, payloads are far smaller). */
  maxOffset: 1 << 20,
  /** Elements of a fixed array. */
  maxElements: 1 << 20,
  /** Characters of a declaration. */
  maxDeclaration: 512,
} as const;

export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Event and system names are shown, never compiled; still keep them printable and short. */
const EVENT_NAME = /^[A-Za-z0-9_.:+-]{1,256}$/;

const COMMON_FIELDS = new Set(['common_type', 'common_flags', 'common_preempt_count', 'common_pid']);

function fail(source: string | undefined, line: number, message: string): never {
  const where = source !== undefined ? `${source}:${line}` : `line ${line}`;
  throw new MalformedInputError(`malformed format file (${where}): ${message}`);
}

function checkText(text: string, source: string | undefined): void {
  if (typeof text !== 'string') throw new MalformedInputError('format text must be a string');
  if (text.length > FORMAT_LIMITS.maxText) fail(source, 0, `too long (${text.length} characters)`);
  if (text.includes('\0')) fail(source, 0, 'contains a NUL character');
}

function parseUint(text: string, source: string | undefined, line: number, what: string, max: number): number {
  if (!/^[0-9]{1,10}$/.test(text)) fail(source, line, `${what} "${clip(text)}" is not a decimal number`);
  const n = Number(text);
  if (n > max) fail(source, line, `${what} ${n} exceeds ${max}`);
  return n;
}

function clip(text: string, max = 60): string {
  const s = text.length > max ? `${text.slice(0, max)}...` : text;
  return JSON.stringify(s).slice(1, -1);
}

interface RawField {
  decl: string;
  offset: number;
  size: number;
  signed: boolean;
  line: number;
}

/**
 * Splits `field:<decl>;<TAB>offset:N;<TAB>size:N;<TAB>signed:N;` (signed is
 * optional: older kernels). Returns null when the line is not a field line.
 */
function parseFieldLine(raw: string, source: string | undefined, line: number): RawField | null {
  const text = raw.trim();
  if (!text.startsWith('field:')) return null;
  const parts = text.split(';').map((p) => p.trim());
  // parts: [field:decl, offset:N, size:N, signed:N?, ''].
  if (parts.length < 4 || parts.length > 5 || parts[parts.length - 1] !== '') {
    fail(source, line, `field line "${clip(text)}" does not have the form field:...; offset:N; size:N; signed:N;`);
  }
  const decl = parts[0]!.slice('field:'.length).trim();
  const attrs = new Map<string, string>();
  for (const p of parts.slice(1, -1)) {
    const colon = p.indexOf(':');
    if (colon < 0) fail(source, line, `field attribute "${clip(p)}" has no value`);
    const key = p.slice(0, colon).trim();
    if (attrs.has(key)) fail(source, line, `field attribute ${clip(key)} repeated`);
    attrs.set(key, p.slice(colon + 1).trim());
  }
  for (const key of attrs.keys()) {
    if (key !== 'offset' && key !== 'size' && key !== 'signed') fail(source, line, `unknown field attribute "${clip(key)}"`);
  }
  const offsetText = attrs.get('offset');
  const sizeText = attrs.get('size');
  if (offsetText === undefined || sizeText === undefined) fail(source, line, 'field without offset or size');
  const offset = parseUint(offsetText, source, line, 'offset', FORMAT_LIMITS.maxOffset);
  const size = parseUint(sizeText, source, line, 'size', FORMAT_LIMITS.maxOffset);
  if (offset + size > FORMAT_LIMITS.maxOffset) fail(source, line, `field ends at ${offset + size}, beyond ${FORMAT_LIMITS.maxOffset}`);
  const signedText = attrs.get('signed');
  let signed = false;
  if (signedText !== undefined) {
    if (signedText !== '0' && signedText !== '1') fail(source, line, `signed must be 0 or 1, not "${clip(signedText)}"`);
    signed = signedText === '1';
  }
  if (decl.length === 0) fail(source, line, 'empty field declaration');
  if (decl.length > FORMAT_LIMITS.maxDeclaration) fail(source, line, 'field declaration too long');
  return { decl, offset, size, signed, line };
}

interface Declaration {
  name: string;
  /** Type without the name. */
  type: string;
  elementType: string;
  loc: 'none' | 'data' | 'rel';
  /** null: not an array; -1: `[]`; n: `[n]`. */
  count: number | null;
}

/**
 * Splits a C declaration from a format file into name and type:
 *   "unsigned long ip", "char prev_comm[16]", "u32 buf[]", "const char * fmt",
 *   "__data_loc char[] filename", "__data_loc cpumask_t mask", "__rel_loc u8[] x".
 */
function parseDeclaration(decl: string, source: string | undefined, line: number): Declaration {
  if (!/^[A-Za-z0-9_ \t*[\]]+$/.test(decl)) fail(source, line, `declaration "${clip(decl)}" contains unexpected characters`);
  let rest = decl.replace(/\s+/g, ' ').trim();
  let loc: Declaration['loc'] = 'none';
  if (rest.startsWith('__data_loc ')) {
    loc = 'data';
    rest = rest.slice('__data_loc '.length);
  } else if (rest.startsWith('__rel_loc ')) {
    loc = 'rel';
    rest = rest.slice('__rel_loc '.length);
  }
  // Trailing array suffix on the name: "name[16]" / "name[]".
  let count: number | null = null;
  const arr = /\[([0-9]*)\]$/.exec(rest);
  if (arr !== null) {
    count = arr[1] === '' ? -1 : parseUint(arr[1]!, source, line, 'array length', FORMAT_LIMITS.maxElements);
    rest = rest.slice(0, arr.index).trimEnd();
  }
  const m = /(?:^|[\s*])([A-Za-z_][A-Za-z0-9_]*)$/.exec(rest);
  if (m === null) fail(source, line, `declaration "${clip(decl)}" has no field name`);
  const name = m[1]!;
  let typePart = rest.slice(0, rest.length - name.length).trim();
  if (typePart.length === 0) fail(source, line, `declaration "${clip(decl)}" has no type`);
  // A dynamic array's type carries "[]" ("char[]") or nothing ("cpumask_t").
  let elementType = typePart;
  if (loc !== 'none') {
    if (count !== null) fail(source, line, `dynamic field "${name}" cannot also be a fixed array`);
    if (elementType.endsWith('[]')) elementType = elementType.slice(0, -2).trim();
  }
  if (elementType.includes('[') || elementType.includes(']')) fail(source, line, `unsupported type "${clip(typePart)}"`);
  if (elementType.length === 0) fail(source, line, `declaration "${clip(decl)}" has no element type`);
  // Normalise "char *" / "char*" spacing for readability.
  elementType = elementType.replace(/\s*\*\s*/g, ' *').trim();
  // The type must be words and stars: "unsigned long", "const char *", "const char *const *".
  const tokens = elementType.split(/\s+|(?=\*)|(?<=\*)/).filter((t) => t.length > 0);
  if (!IDENTIFIER.test(tokens[0] ?? '') || !tokens.every((t) => t === '*' || IDENTIFIER.test(t))) {
    fail(source, line, `invalid type "${clip(elementType)}" in declaration "${clip(decl)}"`);
  }
  if (loc === 'data') typePart = `__data_loc ${elementType}[]`;
  else if (loc === 'rel') typePart = `__rel_loc ${elementType}[]`;
  else if (count !== null) typePart = `${elementType}[${count < 0 ? '' : count}]`;
  else typePart = elementType;
  return { name, type: typePart, elementType, loc, count };
}

function buildField(raw: RawField, index: number, common: boolean, longSize: 4 | 8, source: string | undefined): FieldFormat {
  const d = parseDeclaration(raw.decl, source, raw.line);
  if (!IDENTIFIER.test(d.name) || d.name.length > 128) fail(source, raw.line, `invalid field name "${clip(d.name)}"`);
  const isChar = isCharType(d.elementType);
  const isPointer = d.elementType.includes('*');
  const scalar = scalarType(d.elementType, longSize);
  let kind: FieldKind;
  let elementSize: number;
  let elementSigned: boolean;
  let elementCount: number;
  let isBitmask = false;
  if (d.loc !== 'none') {
    if (raw.size !== 4) fail(source, raw.line, `${d.loc === 'data' ? '__data_loc' : '__rel_loc'} field "${d.name}" must have size 4, not ${raw.size}`);
    kind = d.loc === 'data' ? 'dynamic' : 'relative';
    elementSize = scalar?.size ?? 1;
    elementSigned = scalar?.signed ?? false;
    elementCount = 0;
    isBitmask = d.elementType === 'cpumask_t' || (d.elementType === 'unsigned long' && /mask/.test(d.name));
  } else if (d.count === -1) {
    if (raw.size !== 0) fail(source, raw.line, `flexible array "${d.name}" must have size 0, not ${raw.size}`);
    kind = 'flex';
    elementSize = scalar?.size ?? 1;
    elementSigned = scalar?.signed ?? raw.signed;
    elementCount = 0;
  } else if (d.count !== null) {
    const count = d.count;
    if (count === 0) {
      if (raw.size !== 0) fail(source, raw.line, `zero-length array "${d.name}" must have size 0`);
      kind = 'flex';
      elementSize = scalar?.size ?? 1;
      elementCount = 0;
    } else {
      if (raw.size % count !== 0) fail(source, raw.line, `array "${d.name}": size ${raw.size} is not a multiple of ${count} elements`);
      kind = 'array';
      elementSize = raw.size / count;
      elementCount = count;
      if (scalar !== null && scalar.size !== elementSize && elementSize <= 8) {
        fail(source, raw.line, `array "${d.name}": element type ${d.elementType} is ${scalar.size} bytes, size says ${elementSize}`);
      }
    }
    elementSigned = scalar?.signed ?? raw.signed;
  } else {
    // Scalar: the size decides the width (type names are only hints).
    elementCount = 1;
    elementSize = raw.size;
    elementSigned = raw.signed;
    if (raw.size === 1 || raw.size === 2 || raw.size === 4 || raw.size === 8) kind = isPointer ? 'pointer' : 'int';
    else if (raw.size === 0) fail(source, raw.line, `scalar field "${d.name}" has size 0`);
    else kind = 'blob';
  }
  return {
    name: d.name,
    index,
    type: d.type,
    elementType: d.elementType,
    offset: raw.offset,
    size: raw.size,
    signed: raw.signed,
    kind,
    elementSize,
    elementSigned,
    elementCount,
    isString: isChar && kind !== 'int' && kind !== 'blob' && kind !== 'pointer',
    isBitmask,
    common,
  };
}

/** Parses an `events/<system>/<event>/format` file. */
export function parseFormatFile(text: string, options: FormatParseOptions = {}): EventFormat {
  const source = options.source;
  checkText(text, source);
  const longSize = options.longSize ?? 8;
  const system = options.system ?? '';
  if (system !== '' && !EVENT_NAME.test(system)) fail(source, 0, `invalid system name "${clip(system)}"`);
  const lines = text.split('\n');
  let name: string | null = null;
  let id: number | null = null;
  let inFormat = false;
  let seenBlank = false;
  let printFmt = '';
  let printFmtSeen = false;
  const raws: { raw: RawField; common: boolean }[] = [];

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const lineNo = i + 1;
    if (line.startsWith('print fmt:')) {
      // The rest of the file: string literals may hold raw newlines.
      printFmt = [line.slice('print fmt:'.length).replace(/^ /, ''), ...lines.slice(i + 1)].join('\n').replace(/\n+$/, '');
      printFmtSeen = true;
      break;
    }
    if (line.startsWith('name:')) {
      if (name !== null) fail(source, lineNo, 'name given twice');
      name = line.slice(5).trim();
      if (!EVENT_NAME.test(name)) fail(source, lineNo, `invalid event name "${clip(name)}"`);
      continue;
    }
    if (line.startsWith('ID:')) {
      if (id !== null) fail(source, lineNo, 'ID given twice');
      id = parseUint(line.slice(3).trim(), source, lineNo, 'ID', 0xffff);
      continue;
    }
    if (line.trim() === 'format:') {
      if (inFormat) fail(source, lineNo, '"format:" given twice');
      inFormat = true;
      continue;
    }
    if (line.trim() === '') {
      if (inFormat && raws.length > 0) seenBlank = true;
      continue;
    }
    const raw = parseFieldLine(line, source, lineNo);
    if (raw === null) fail(source, lineNo, `unexpected line "${clip(line)}"`);
    if (!inFormat) fail(source, lineNo, 'field before "format:"');
    if (raws.length >= FORMAT_LIMITS.maxFields) fail(source, lineNo, `more than ${FORMAT_LIMITS.maxFields} fields`);
    raws.push({ raw, common: !seenBlank });
  }
  if (name === null) fail(source, 0, 'missing "name:"');
  if (id === null) fail(source, 0, 'missing "ID:"');
  if (!inFormat) fail(source, 0, 'missing "format:"');
  if (!printFmtSeen) fail(source, lines.length, 'missing "print fmt:"');

  const fields: FieldFormat[] = [];
  const byName = new Map<string, FieldFormat>();
  let commonCount = 0;
  let fixedSize = 0;
  for (const { raw, common } of raws) {
    // Older kernels have no blank line after the common fields: go by name.
    const isCommon = common && (COMMON_FIELDS.has(raw.decl.split(/\s+/).pop() ?? '') || raw.offset < 8);
    const f = buildField(raw, fields.length, isCommon, longSize, source);
    if (byName.has(f.name)) fail(source, raw.line, `field "${f.name}" declared twice`);
    if (isCommon) {
      if (commonCount !== fields.length) fail(source, raw.line, `common field "${f.name}" after event fields`);
      commonCount++;
    }
    fields.push(f);
    byName.set(f.name, f);
    fixedSize = Math.max(fixedSize, f.offset + f.size);
  }
  const type = byName.get('common_type');
  if (type !== undefined && (type.offset !== 0 || type.size !== 2)) {
    fail(source, 0, 'common_type must be the 2 bytes at offset 0');
  }
  return { system, name, id, fields, commonCount, printFmt, fixedSize, longSize, byName };
}

/** `events/header_page`: the sub-buffer header layout of the recording kernel. */
export interface HeaderPage {
  readonly timestampOffset: number;
  readonly commitOffset: number;
  /** Size of `commit`: the kernel's `long` (8 on 64-bit, 4 on 32-bit). */
  readonly commitSize: 4 | 8;
  readonly dataOffset: number;
  readonly dataSize: number;
  /** dataOffset + dataSize. */
  readonly subbufSize: number;
}

/** Parses `events/header_page`: the sub-buffer header layout. */
export function parseHeaderPage(text: string, source?: string): HeaderPage {
  checkText(text, source);
  const found = new Map<string, RawField>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const raw = parseFieldLine(line, source, i + 1);
    if (raw === null) fail(source, i + 1, `unexpected line "${clip(line)}"`);
    const name = raw.decl.split(/\s+/).pop() ?? '';
    if (found.has(name)) fail(source, i + 1, `field "${clip(name)}" given twice`);
    found.set(name, raw);
  }
  const ts = found.get('timestamp');
  const commit = found.get('commit');
  const data = found.get('data');
  if (ts === undefined || commit === undefined || data === undefined) fail(source, 0, 'needs timestamp, commit and data fields');
  if (ts.offset !== 0 || ts.size !== 8) fail(source, ts.line, 'timestamp must be 8 bytes at offset 0');
  if (commit.offset !== 8 || (commit.size !== 4 && commit.size !== 8)) fail(source, commit.line, 'commit must be 4 or 8 bytes at offset 8');
  if (data.offset !== commit.offset + commit.size) fail(source, data.line, `data must follow commit (offset ${commit.offset + commit.size})`);
  const subbufSize = data.offset + data.size;
  if (subbufSize < 64 || (subbufSize & (subbufSize - 1)) !== 0) {
    fail(source, data.line, `sub-buffer size ${subbufSize} (data offset + size) is not a power of two >= 64`);
  }
  return {
    timestampOffset: 0,
    commitOffset: 8,
    commitSize: commit.size as 4 | 8,
    dataOffset: data.offset,
    dataSize: data.size,
    subbufSize,
  };
}

/** `events/header_event`: the record header encoding (must be the one the walker implements). */
export interface HeaderEvent {
  readonly typeLenBits: number;
  readonly timeDeltaBits: number;
  readonly arrayBits: number;
  readonly paddingType: number;
  readonly timeExtendType: number;
  readonly timeStampType: number;
  readonly dataMaxTypeLen: number;
}

const HEADER_EVENT_EXPECTED: HeaderEvent = {
  typeLenBits: 5,
  timeDeltaBits: 27,
  arrayBits: 32,
  paddingType: 29,
  timeExtendType: 30,
  timeStampType: 31,
  dataMaxTypeLen: 28,
};

/** Parses `events/header_event` and checks it is the record header encoding this decoder implements. */
export function parseHeaderEvent(text: string, source?: string): HeaderEvent {
  checkText(text, source);
  const values = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    let m = /^(type_len|time_delta|array)\s*:\s*([0-9]{1,3})\s+bits$/.exec(line);
    if (m !== null) {
      values.set(m[1]!, Number(m[2]));
      continue;
    }
    m = /^(padding|time_extend|time_stamp)\s*:\s*type\s*==\s*([0-9]{1,3})$/.exec(line);
    if (m !== null) {
      values.set(m[1]!, Number(m[2]));
      continue;
    }
    m = /^data max type_len\s*==\s*([0-9]{1,3})$/.exec(line);
    if (m !== null) {
      values.set('data_max', Number(m[1]));
      continue;
    }
    fail(source, i + 1, `unexpected line "${clip(line)}"`);
  }
  const get = (key: string): number => {
    const v = values.get(key);
    if (v === undefined) fail(source, 0, `missing "${key}"`);
    return v;
  };
  const header: HeaderEvent = {
    typeLenBits: get('type_len'),
    timeDeltaBits: get('time_delta'),
    arrayBits: get('array'),
    paddingType: get('padding'),
    timeExtendType: get('time_extend'),
    timeStampType: get('time_stamp'),
    dataMaxTypeLen: get('data_max'),
  };
  for (const key of Object.keys(HEADER_EVENT_EXPECTED) as (keyof HeaderEvent)[]) {
    if (header[key] !== HEADER_EVENT_EXPECTED[key]) {
      fail(source, 0, `unsupported record header: ${key} is ${header[key]}, this decoder implements ${HEADER_EVENT_EXPECTED[key]}`);
    }
  }
  return header;
}
