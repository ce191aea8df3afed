// The metadata parts of a trace.dat: the same bytes in v6 (inline, in
// this order) and v7 (one section each). All texts are kept as the bytes
// the file holds, so a converted file carries them unchanged.
//
//   HEADER_INFO    "header_page\0" u64 len text  "header_event\0" u64 len text
//   FTRACE_EVENTS  u32 count, count x {u64 len, format text}
//   EVENT_FORMATS  u32 systems, per system {name\0, u32 count, count x {u64 len, text}}
//   KALLSYMS       u32 len, /proc/kallsyms text
//   PRINTK         u32 len, printk_formats text
//   CMDLINES       u64 len, saved_cmdlines text

import { MalformedInputError } from '../errors.js';
import { type Cursor, decodeText } from './bytes.js';

/** An event system of a trace.dat: its name and format files. */
export interface EventSystem {
  readonly name: string;
  /** The format files of the system's events, as stored. */
  readonly formats: readonly Uint8Array[];
}

/** A trace.dat's metadata: header page, formats, kallsyms, printk formats, cmdlines. */
export interface TraceDatMetadata {
  /** events/header_page, or null when the file has none. */
  readonly headerPage: Uint8Array | null;
  readonly headerEvent: Uint8Array | null;
  /** events/ftrace/<event>/format texts. */
  readonly ftraceFormats: readonly Uint8Array[];
  /** Every other system's formats. */
  readonly eventSystems: readonly EventSystem[];
  readonly kallsyms: Uint8Array | null;
  readonly printk: Uint8Array | null;
  readonly cmdlines: Uint8Array | null;
}

export const emptyMetadata: TraceDatMetadata = {
  headerPage: null,
  headerEvent: null,
  ftraceFormats: [],
  eventSystems: [],
  kallsyms: null,
  printk: null,
  cmdlines: null,
};

function expectTag(c: Cursor, tag: string): void {
  const at = c.position;
  const got = c.bytes(tag.length + 1, `"${tag}" tag`);
  if (decodeText(got.subarray(0, tag.length)) !== tag || got[tag.length] !== 0) {
    throw new MalformedInputError(`expected "${tag}" at offset ${at}`);
  }
}

export function parseHeaderInfo(c: Cursor): { headerPage: Uint8Array; headerEvent: Uint8Array } {
  expectTag(c, 'header_page');
  const headerPage = c.bytes(c.u64('header_page size'), 'header_page');
  expectTag(c, 'header_event');
  const headerEvent = c.bytes(c.u64('header_event size'), 'header_event');
  return { headerPage, headerEvent };
}

/** u32 count, then count x {u64 len, text}. Each entry needs 8 bytes, so a hostile count fails at the data's end. */
function parseFormatList(c: Cursor, what: string): Uint8Array[] {
  const count = c.u32(`${what} count`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const len = c.u64(`${what} ${i} size`);
    out.push(c.bytes(len, `${what} ${i}`));
  }
  return out;
}

export function parseFtraceEvents(c: Cursor): Uint8Array[] {
  return parseFormatList(c, 'ftrace event format');
}

export function parseEventFormats(c: Cursor): EventSystem[] {
  const systems = c.u32('event system count');
  const out: EventSystem[] = [];
  for (let i = 0; i < systems; i++) {
    const name = c.cstring(`event system ${i} name`, 256);
    out.push({ name, formats: parseFormatList(c, `${name} format`) });
  }
  return out;
}

/** KALLSYMS and PRINTK: u32 length, then the text. */
export function parseU32Text(c: Cursor, what: string): Uint8Array {
  return c.bytes(c.u32(`${what} size`), what);
}

/** CMDLINES: u64 length, then the text. */
export function parseU64Text(c: Cursor, what: string): Uint8Array {
  return c.bytes(c.u64(`${what} size`), what);
}
