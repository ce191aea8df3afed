// Builders for decode tests: synthetic format files and records.

import fs from 'node:fs';
import path from 'node:path';
import { type EventFormat, parseFormatFile } from '../../src/decode/format-file.js';
import { SymbolTable } from '../../src/decode/kallsyms.js';
import { type RenderContext, compilePrintFmt } from '../../src/decode/printfmt/interpreter.js';
import { parsePrintFmt } from '../../src/decode/printfmt/parser.js';
import { PrintkFormats } from '../../src/decode/printk-formats.js';
import { RecordBatch, WalkState, maxRecords, walkRecords } from '../../src/layout/record.js';
import { hostSubbufLayout, newSubbufHeader, readSubbufHeader } from '../../src/layout/subbuf.js';
import { StringTable } from '../../src/decode/strings.js';

export const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures');

const COMMON = [
  '\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;',
  '\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;',
  '\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;',
  '\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;',
].join('\n');

/** A format file with the common fields, `fields` ("decl;offset;size;signed") and `printFmt`. */
export function formatText(fields: readonly string[], printFmt: string, name = 'test_event', id = 900): string {
  const lines = fields.map((f) => {
    const [decl, offset, size, signed] = f.split(';');
    return `\tfield:${decl};\toffset:${offset};\tsize:${size};\tsigned:${signed ?? '0'};`;
  });
  return `name: ${name}\nID: ${id}\nformat:\n${COMMON}\n\n${lines.join('\n')}\n\nprint fmt: ${printFmt}\n`;
}

export function makeFormat(fields: readonly string[], printFmt: string, system = 'test'): EventFormat {
  return parseFormatFile(formatText(fields, printFmt), { system });
}

/** Payload builder: little-endian writes at fixed offsets. */
export class Payload {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  constructor(size: number, id = 900) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.view.setUint16(0, id, true);
  }
  u8(at: number, v: number): this {
    this.view.setUint8(at, v);
    return this;
  }
  u16(at: number, v: number): this {
    this.view.setUint16(at, v, true);
    return this;
  }
  i32(at: number, v: number): this {
    this.view.setInt32(at, v, true);
    return this;
  }
  u32(at: number, v: number): this {
    this.view.setUint32(at, v >>> 0, true);
    return this;
  }
  u64(at: number, v: bigint): this {
    this.view.setBigUint64(at, BigInt.asUintN(64, v), true);
    return this;
  }
  bytesAt(at: number, data: ArrayLike<number>): this {
    this.bytes.set(data, at);
    return this;
  }
  str(at: number, s: string): this {
    return this.bytesAt(at, Buffer.from(s, 'utf8'));
  }
  /** A __data_loc word at `at` pointing to `dataAt` with `len` bytes. */
  loc(at: number, dataAt: number, len: number): this {
    return this.u32(at, (dataAt & 0xffff) | (len << 16));
  }
}

export interface RenderOptions {
  symbols?: SymbolTable;
  printkFormats?: PrintkFormats;
  constants?: ReadonlyMap<string, bigint>;
  typeSizes?: ReadonlyMap<string, number>;
  hz?: number;
}

/** Compiles `printFmt` against `fields` and renders one payload. */
export function render(fields: readonly string[], printFmt: string, payload: Payload | null, options: RenderOptions = {}): string {
  const format = makeFormat(fields, printFmt);
  const compiled = compilePrintFmt(parsePrintFmt(format.printFmt), format, {
    littleEndian: true,
    longSize: 8,
    symbols: options.symbols ?? SymbolTable.empty(),
    printkFormats: options.printkFormats ?? PrintkFormats.empty(),
    strings: new StringTable(),
    hz: options.hz ?? 1000,
    ...(options.constants !== undefined ? { constants: options.constants } : {}),
    ...(options.typeSizes !== undefined ? { typeSizes: options.typeSizes } : {}),
  });
  const p = payload ?? new Payload(Math.max(8, format.fixedSize));
  const ctx: RenderContext = { view: p.view, bytes: p.bytes, base: 0, len: p.bytes.length };
  return compiled.render(ctx);
}

/** Records of a file of raw sub-buffers, in order. */
export interface PageRecords {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly offsets: number[];
  readonly lengths: number[];
}

export function readPages(file: string, subbufSize = 4096, cpu = 0): PageRecords {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const layout = hostSubbufLayout(subbufSize);
  const offsets: number[] = [];
  const lengths: number[] = [];
  const walk = new WalkState();
  const batch = new RecordBatch(maxRecords(subbufSize - 16));
  for (let start = 0; start + subbufSize <= bytes.length; start += subbufSize) {
    const h = readSubbufHeader(view, start, layout, newSubbufHeader());
    walk.begin(h.tsHi, h.tsLo);
    batch.reset(bytes, view, cpu, start / subbufSize);
    walkRecords(layout, start + layout.dataOffset, h.commitSize, 0, walk, batch);
    if (batch.corrupt !== null) throw batch.corrupt;
    for (let i = 0; i < batch.count; i++) {
      offsets.push(batch.offset(i));
      lengths.push(batch.length(i));
    }
  }
  return { bytes, view, offsets, lengths };
}

const LINE_PREFIX = /^.*?-\d+ +(?:\((?:-------| *\d+)\) +)?\[\d{3}\] \S{5} +\d+\.\d{6}: /;

/**
 * The event part of each entry of a kernel `trace` text (the part after
 * "<comm>-<pid> [cpu] flags ts: "); lines without that prefix continue the
 * previous entry (multi-line print bodies). Header lines (#) are skipped.
 */
export function traceEntries(text: string): string[] {
  const out: string[] = [];
  for (const line of text.replace(/\n$/, '').split('\n')) {
    if (line.startsWith('#') && out.length === 0) continue;
    if (line === '' && out.length === 0) continue;
    const m = LINE_PREFIX.exec(line);
    if (m !== null) out.push(line.slice(m[0].length));
    else if (out.length > 0) out[out.length - 1] += `\n${line}`;
    else throw new Error(`trace text starts with a continuation line: ${line}`);
  }
  return out;
}

let symbolsCache: SymbolTable | null = null;
/** test/fixtures/kallsyms.gz (same boot as the sched, markers and pages captures). */
export function fixtureSymbols(): SymbolTable {
  symbolsCache ??= SymbolTable.parse(fs.readFileSync(path.join(FIXTURES, 'kallsyms.gz')));
  return symbolsCache;
}

/** Offsets and lengths as RecordBatch.records lays them out (4 int32 per record). */
export function recordsOf(offsets: readonly number[], lengths: readonly number[]): Int32Array {
  const out = new Int32Array(offsets.length * 4);
  offsets.forEach((o, i) => {
    out[i * 4] = o;
    out[i * 4 + 1] = lengths[i] ?? 0;
  });
  return out;
}
