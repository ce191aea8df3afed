// Reading trace.dat files, v6 and v7, uncompressed or zstd, one or several
// buffers, written by trace-cmd 3.x or by tracering (layout:
// /work/shared/spec/formats.md section A).
//
// open() reads the header, the options and the metadata (all bounded by
// the file size and by Limits), and checks every buffer's CPU regions
// against the file; CPU data is read only when asked for, a few pages (or
// one compressed chunk) at a time. Any inconsistency is a
// MalformedInputError naming the file and the offset; a compression other
// than zstd, or a file version other than 6 and 7, is an UnsupportedError.

import fs from 'node:fs';
import { parseHeaderPage } from '../decode/format-file.js';
import { ClosedError, MalformedInputError, TracefsNotFoundError, TraceringError, UnsupportedError } from '../errors.js';
import type { BatchSource } from '../layout/batch-source.js';
import { PageStream } from '../layout/page-stream.js';
import type { RecordBatch } from '../layout/record.js';
import { type SubbufLayout, checkSubbufLayout } from '../layout/subbuf.js';
import { ByteCursor, type Cursor, FileBytes, decodeText } from './bytes.js';
import { Limits, MAGIC, Option, SECTION_COMPRESSED, SECTION_HEADER_SIZE, V6_FLYRECORD, V6_LATENCY, V6_OPTIONS } from './constants.js';
import { ChunkedPages, type CpuRegion, plainPages } from './cpu-data.js';
import { TraceDatFormatSource } from './format-source.js';
import {
  type EventSystem,
  type TraceDatMetadata,
  parseEventFormats,
  parseFtraceEvents,
  parseHeaderInfo,
  parseU32Text,
  parseU64Text,
} from './metadata.js';
import { type BufferOption, OptionCollector, type TraceDatOptions, selectedClock } from './options.js';
import { zstdDecompress } from './zstd.js';

/** The compression of a trace.dat (v7): algorithm and version. */
export interface TraceDatCompression {
  /** 'zstd' (the only algorithm Debian's trace-cmd builds in). */
  readonly name: string;
  readonly version: string;
}

/** One buffer (trace instance) of the file. */
export interface TraceDatBuffer {
  /** '' for the top-level buffer. */
  readonly name: string;
  readonly clock: string;
  /** Sub-buffer size of this buffer's pages. */
  readonly pageSize: number;
  /** 'latency': the buffer holds the text of `trace` instead of pages. */
  readonly kind: 'flyrecord' | 'latency';
  /** CPU data is chunk-compressed. */
  readonly compressed: boolean;
  /** CPUs with data (v7 lists only those; v6 lists every CPU, some maybe empty), by CPU id. */
  readonly cpus: readonly CpuRegion[];
  /** v7: offset of the buffer's section header; v6: of its "flyrecord" marker. */
  readonly offset: number;
}

/** Options of TraceDat.cpu(). */
export interface OpenCpuOptions {
  /** Pages per batch (default 16: larger batches decode faster). */
  pagesPerBatch?: number;
  /** Bytes fetched per read (rounded to whole pages; default 256 KiB). */
  readBytes?: number;
}

/** One CPU's records of one buffer, batch by batch (a file source: caughtUp once it ends). */
export class TraceDatCpuReader implements BatchSource {
  readonly cpu: number;
  readonly buffer: string;
  readonly layout: SubbufLayout;
  readonly #stream: PageStream;
  readonly #owner: TraceDat;

  /** @internal use TraceDat.openCpu */
  constructor(owner: TraceDat, buffer: TraceDatBuffer, region: CpuRegion, layout: SubbufLayout, options: OpenCpuOptions) {
    this.#owner = owner;
    this.cpu = region.cpu;
    this.buffer = buffer.name;
    this.layout = layout;
    this.#stream = new PageStream(layout, region.cpu, owner.pageFill(buffer, region), {
      pagesPerBatch: options.pagesPerBatch ?? 16,
      ...(options.readBytes !== undefined ? { readBytes: options.readBytes } : {}),
    });
  }

  next(): RecordBatch | null {
    this.#owner.assertOpen();
    return this.#stream.next();
  }

  get caughtUp(): boolean {
    return this.#stream.caughtUp;
  }

  /** The raw pages of the last batch (a view, valid until the next call). */
  get lastPages(): Uint8Array {
    return this.#stream.lastPages;
  }

  /** Pages delivered so far. */
  get pages(): number {
    return this.#stream.subbufs;
  }
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** A trace.dat file opened for reading: metadata, options, and a reader per CPU. */
export class TraceDat implements Disposable {
  readonly path: string;
  readonly version: 6 | 7;
  readonly littleEndian: boolean;
  /** sizeof(long) of the writer's userspace (the kernel's comes from header_page). */
  readonly longSize: 4 | 8;
  /** The file's page size (the top buffer's sub-buffer size). */
  readonly pageSize: number;
  /** null when the file is not compressed. */
  readonly compression: TraceDatCompression | null;
  readonly buffers: readonly TraceDatBuffer[];
  readonly metadata: TraceDatMetadata;
  readonly options: TraceDatOptions;
  /** The number of CPUs of the traced machine: CPUCOUNT, else v6's count, else the highest CPU + 1. */
  readonly cpuCount: number;
  readonly #file: FileBytes;
  #closed = false;

  private constructor(init: {
    file: FileBytes;
    version: 6 | 7;
    longSize: 4 | 8;
    pageSize: number;
    compression: TraceDatCompression | null;
    buffers: TraceDatBuffer[];
    metadata: TraceDatMetadata;
    options: TraceDatOptions;
    cpuCount: number;
  }) {
    this.#file = init.file;
    this.path = init.file.path;
    this.littleEndian = init.file.littleEndian;
    this.version = init.version;
    this.longSize = init.longSize;
    this.pageSize = init.pageSize;
    this.compression = init.compression;
    this.buffers = init.buffers;
    this.metadata = init.metadata;
    this.options = init.options;
    this.cpuCount = init.cpuCount;
  }

  /**
   * Opens and checks a trace.dat. A file that cannot be opened is fs's own
   * error (ENOENT...); one that is not a trace.dat, or is corrupt, a
   * MalformedInputError; an unknown version or compression an UnsupportedError.
   */
  static open(path: string): TraceDat {
    const fd = fs.openSync(path, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      return parse(new FileBytes(path, fd, size, true));
    } catch (error) {
      fs.closeSync(fd);
      if (error instanceof TraceringError) throw error;
      if (error instanceof RangeError) throw new MalformedInputError(`${path}: ${error.message}`, { cause: error });
      throw error;
    }
  }

  /** Reads a trace.dat held in memory (`label` names it in errors). */
  static fromBytes(bytes: Uint8Array, label = '<memory>'): TraceDat {
    try {
      return parse(new FileBytes(label, -1, bytes.length, true, bytes));
    } catch (error) {
      if (error instanceof TraceringError) throw error;
      if (error instanceof RangeError) throw new MalformedInputError(`${label}: ${error.message}`, { cause: error });
      throw error;
    }
  }

  /** The top-level buffer, or null when the file has only named instances. */
  get top(): TraceDatBuffer | null {
    return this.buffers.find((b) => b.name === '') ?? null;
  }

  /** The buffer called `name` ('' for the top level). */
  buffer(name: string): TraceDatBuffer {
    const b = this.buffers.find((x) => x.name === name);
    if (b === undefined) {
      const names = this.buffers.map((x) => (x.name === '' ? '(top)' : x.name)).join(', ');
      throw new TracefsNotFoundError(`${this.path} has no buffer ${JSON.stringify(name)} (it has: ${names || 'none'})`);
    }
    return b;
  }

  /** A buffer by name or as given; by default the top one (else the first). */
  #resolve(buffer: TraceDatBuffer | string | undefined): TraceDatBuffer {
    if (typeof buffer === 'string') return this.buffer(buffer);
    if (buffer !== undefined) return buffer;
    const b = this.top ?? this.buffers[0];
    if (b === undefined) throw new TracefsNotFoundError(`${this.path} has no buffers`);
    return b;
  }

  /** The metadata as a tracefs-like FormatSource, trace_clock answered for `buffer` (default: the top one). */
  formatSource(buffer: TraceDatBuffer | string = this.top ?? this.buffers[0] ?? ''): TraceDatFormatSource {
    const b = typeof buffer === 'string' ? this.buffers.find((x) => x.name === buffer) ?? null : buffer;
    const clock = b?.clock ?? 'local';
    const listed = this.options.traceClock;
    const traceClock = listed !== null && selectedClock(listed) === clock ? listed : `[${clock}]\n`;
    return new TraceDatFormatSource(this.path, this.metadata, traceClock);
  }

  /** The page layout of a buffer's CPU data (sub-buffer size, commit size, endianness). */
  layout(buffer?: TraceDatBuffer | string): SubbufLayout {
    const b = this.#resolve(buffer);
    let dataOffset = 16;
    let longSize: 4 | 8 = 8;
    if (this.metadata.headerPage !== null) {
      const header = parseHeaderPage(decodeText(this.metadata.headerPage), `${this.path}: header_page`);
      dataOffset = header.dataOffset;
      longSize = header.commitSize;
    }
    const layout: SubbufLayout = { subbufSize: b.pageSize, dataOffset, longSize, littleEndian: this.littleEndian };
    checkSubbufLayout(layout);
    return layout;
  }

  /** Reads one CPU's records of a buffer as batches. */
  openCpu(buffer: TraceDatBuffer | string, cpu: number, options: OpenCpuOptions = {}): TraceDatCpuReader {
    this.assertOpen();
    const b = typeof buffer === 'string' ? this.buffer(buffer) : buffer;
    if (b.kind !== 'flyrecord') throw new UnsupportedError(`${this.path}: buffer ${JSON.stringify(b.name)} holds latency text, not pages`);
    const region = b.cpus.find((c) => c.cpu === cpu) ?? { cpu, offset: 0, size: 0 };
    return new TraceDatCpuReader(this, b, region, this.layout(b), options);
  }

  /** Readers for every CPU of a buffer that has data. */
  openCpus(buffer?: TraceDatBuffer | string, options: OpenCpuOptions = {}): TraceDatCpuReader[] {
    const b = this.#resolve(buffer);
    return b.cpus.filter((c) => c.size > 0).map((c) => this.openCpu(b, c.cpu, options));
  }

  /**
   * The raw pages of one CPU of a buffer, in order, `batchPages` at a time
   * (a view valid until the next step). Compressed data is decompressed
   * chunk by chunk.
   */
  *pages(buffer: TraceDatBuffer | string, cpu: number, batchPages = 16): Generator<Uint8Array> {
    this.assertOpen();
    const b = typeof buffer === 'string' ? this.buffer(buffer) : buffer;
    const region = b.cpus.find((c) => c.cpu === cpu);
    if (region === undefined || region.size === 0) return;
    const fill = this.pageFill(b, region);
    const into = new Uint8Array(b.pageSize * Math.max(1, batchPages));
    for (;;) {
      this.assertOpen();
      const n = fill(into, b.pageSize, Math.max(1, batchPages));
      if (n === 0) return;
      yield into.subarray(0, n * b.pageSize);
    }
  }

  /** @internal the page source of one CPU region */
  pageFill(buffer: TraceDatBuffer, region: CpuRegion) {
    if (region.size === 0) return () => 0;
    return buffer.compressed ? new ChunkedPages(this.#file, region).fill : plainPages(this.#file, region);
  }

  /** @internal */
  assertOpen(): void {
    if (this.#closed) throw new ClosedError(`${this.path} is closed`);
  }

  /** Closes the file. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#file.fd >= 0) fs.closeSync(this.#file.fd);
  }

  /** close(), for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

interface Header {
  version: 6 | 7;
  longSize: 4 | 8;
  pageSize: number;
  compression: TraceDatCompression | null;
  /** v7: offset of the first options section. */
  optionsOffset: number;
  /** Where the header ends. */
  end: number;
}

function parse(probe: FileBytes): TraceDat {
  // The endianness comes after the version string: read up to it with either.
  const { path, size } = probe;
  const magic = probe.cursor(0).bytes(Math.min(MAGIC.length, size), 'magic');
  if (magic.length < MAGIC.length || !MAGIC.every((b, i) => magic[i] === b)) {
    throw new MalformedInputError(`${path} is not a trace.dat file (no trace-cmd magic)`);
  }
  const c0 = probe.cursor(MAGIC.length);
  const versionText = c0.cstring('file version', 16);
  if (versionText !== '6' && versionText !== '7') {
    throw new UnsupportedError(`${path}: trace.dat version ${JSON.stringify(versionText)} is not supported (6 and 7 are)`);
  }
  const endian = c0.u8('endianness');
  if (endian > 1) throw new MalformedInputError(`${path}: endianness byte ${endian} is neither 0 nor 1`);
  const file = probe.withEndianness(endian === 0);
  const c = file.cursor(c0.position);
  const longSize = c.u8('long size');
  if (longSize !== 4 && longSize !== 8) throw new MalformedInputError(`${path}: long size ${longSize} is neither 4 nor 8`);
  const pageSize = c.u32('page size');
  if (!isPowerOfTwo(pageSize) || pageSize < 256 || pageSize > Limits.pageSize) {
    throw new MalformedInputError(`${path}: page size ${pageSize} is not a power of two in [256, ${Limits.pageSize}]`);
  }
  const header: Header = { version: versionText === '6' ? 6 : 7, longSize, pageSize, compression: null, optionsOffset: 0, end: 0 };
  if (header.version === 7) {
    const name = c.cstring('compression name', 64);
    const version = c.cstring('compression version', 64);
    if (name !== 'none') {
      if (name !== 'zstd') throw new UnsupportedError(`${path}: compression ${JSON.stringify(name)} is not supported (zstd is)`);
      header.compression = { name, version };
    }
    header.optionsOffset = c.u64('first options offset');
  }
  header.end = c.position;
  return header.version === 7 ? parseV7(file, header) : parseV6(file, header);
}

// --- v7 ----------------------------------------------------------------------

interface Section {
  id: number;
  flags: number;
  /** Offset of the section header. */
  offset: number;
  /** Bytes after the header. */
  size: number;
}

function readSectionHeader(file: FileBytes, offset: number, what: string): Section {
  file.check(offset, SECTION_HEADER_SIZE, `${what} section header`);
  const c = file.cursor(offset);
  const id = c.u16(`${what} section id`);
  const flags = c.u16(`${what} section flags`);
  c.u32(`${what} section description`);
  const size = c.u64(`${what} section size`);
  file.check(offset + SECTION_HEADER_SIZE, size, `${what} section`);
  return { id, flags, offset, size };
}

/** A section's body, decompressed if it is flagged so. */
function sectionBody(file: FileBytes, section: Section, compressed: boolean, what: string): ByteCursor {
  const start = section.offset + SECTION_HEADER_SIZE;
  if ((section.flags & SECTION_COMPRESSED) === 0) {
    if (section.size > Limits.sectionBytes) throw new MalformedInputError(`${file.path}: ${what} section is ${section.size} bytes (limit ${Limits.sectionBytes})`);
    return new ByteCursor(file.read(start, section.size, `${what} section`), file.littleEndian, `${file.path}: ${what} section`, start);
  }
  if (!compressed) throw new MalformedInputError(`${file.path}: ${what} section at ${section.offset} is flagged compressed in an uncompressed file`);
  const c = file.cursor(start, start + section.size);
  const csize = c.u32(`${what} compressed size`);
  const usize = c.u32(`${what} uncompressed size`);
  if (csize > section.size - 8) throw new MalformedInputError(`${file.path}: ${what} section claims ${csize} compressed bytes in ${section.size - 8}`);
  if (usize > Limits.sectionBytes) throw new MalformedInputError(`${file.path}: ${what} section claims ${usize} bytes (limit ${Limits.sectionBytes})`);
  const src = file.read(start + 8, csize, `${what} compressed data`);
  const body = zstdDecompress(src, usize, `${file.path}: ${what} section`);
  return new ByteCursor(body, file.littleEndian, `${file.path}: ${what} section (decompressed)`);
}

function parseV7(file: FileBytes, header: Header): TraceDat {
  const compressed = header.compression !== null;
  const options = new OptionCollector(file.littleEndian, true, file.path);
  const visited = new Set<number>();
  let next = header.optionsOffset;
  if (next === 0) throw new MalformedInputError(`${file.path}: the header points at no options section`);
  while (next !== 0) {
    if (visited.has(next)) throw new MalformedInputError(`${file.path}: the options sections form a loop (back to ${next})`);
    if (visited.size >= Limits.optionSections) throw new MalformedInputError(`${file.path}: more than ${Limits.optionSections} options sections`);
    visited.add(next);
    const section = readSectionHeader(file, next, 'options');
    if (section.id !== Option.DONE) throw new MalformedInputError(`${file.path}: section at ${next} has id ${section.id}, expected an options section (0)`);
    const body = sectionBody(file, section, compressed, 'options');
    next = -1;
    while (next < 0) {
      const id = body.u16('option id');
      const size = body.u32('option size');
      const data = body.bytes(size, `option ${id} data`);
      if (id === Option.DONE) {
        next = new ByteCursor(data, file.littleEndian, `${file.path}: DONE option`).u64('next options offset');
      } else {
        options.add(id, data);
      }
    }
  }
  const metadata = readV7Metadata(file, options.sections, compressed);
  const buffers: TraceDatBuffer[] = [];
  for (const b of options.buffers) buffers.push(checkV7Buffer(file, b, header, compressed));
  checkUniqueNames(file, buffers);
  return newTraceDat(file, header, buffers, metadata, options);
}

function readV7Metadata(file: FileBytes, sections: ReadonlyMap<number, number>, compressed: boolean): TraceDatMetadata {
  const body = (id: number, what: string): ByteCursor | null => {
    const offset = sections.get(id);
    if (offset === undefined) return null;
    const section = readSectionHeader(file, offset, what);
    if (section.id !== id) throw new MalformedInputError(`${file.path}: the ${what} option points at a section with id ${section.id} (offset ${offset})`);
    return sectionBody(file, section, compressed, what);
  };
  const info = body(Option.HEADER_INFO, 'headers');
  const headers = info === null ? null : parseHeaderInfo(info);
  const ftrace = body(Option.FTRACE_EVENTS, 'ftrace events');
  const events = body(Option.EVENT_FORMATS, 'event formats');
  const kallsyms = body(Option.KALLSYMS, 'kallsyms');
  const printk = body(Option.PRINTK, 'printk');
  const cmdlines = body(Option.CMDLINES, 'command lines');
  return {
    headerPage: headers?.headerPage ?? null,
    headerEvent: headers?.headerEvent ?? null,
    ftraceFormats: ftrace === null ? [] : parseFtraceEvents(ftrace),
    eventSystems: events === null ? [] : parseEventFormats(events),
    kallsyms: kallsyms === null ? null : parseU32Text(kallsyms, 'kallsyms'),
    printk: printk === null ? null : parseU32Text(printk, 'printk formats'),
    cmdlines: cmdlines === null ? null : parseU64Text(cmdlines, 'saved command lines'),
  };
}

function checkV7Buffer(file: FileBytes, b: BufferOption, header: Header, compressed: boolean): TraceDatBuffer {
  const what = `buffer ${JSON.stringify(b.name)}`;
  const section = readSectionHeader(file, b.offset, what);
  const expected = b.latency ? Option.BUFFER_TEXT : Option.BUFFER;
  if (section.id !== expected) throw new MalformedInputError(`${file.path}: ${what} points at a section with id ${section.id}, expected ${expected}`);
  const isCompressed = (section.flags & SECTION_COMPRESSED) !== 0;
  if (isCompressed && !compressed) throw new MalformedInputError(`${file.path}: ${what} is flagged compressed in an uncompressed file`);
  const pageSize = b.pageSize ?? header.pageSize;
  if (!isPowerOfTwo(pageSize) || pageSize < 256 || pageSize > Limits.pageSize) {
    throw new MalformedInputError(`${file.path}: ${what} page size ${pageSize} is not a power of two in [256, ${Limits.pageSize}]`);
  }
  const cpus = checkCpus(file, what, b.cpus, isCompressed);
  return { name: b.name, clock: b.clock ?? 'local', pageSize, kind: b.latency ? 'latency' : 'flyrecord', compressed: isCompressed, cpus, offset: b.offset };
}

function checkCpus(file: FileBytes, what: string, cpus: readonly CpuRegion[], compressed: boolean): CpuRegion[] {
  const seen = new Set<number>();
  for (const c of cpus) {
    if (c.cpu >= Limits.cpus) throw new MalformedInputError(`${file.path}: ${what} names CPU ${c.cpu} (limit ${Limits.cpus})`);
    if (seen.has(c.cpu)) throw new MalformedInputError(`${file.path}: ${what} lists CPU ${c.cpu} twice`);
    seen.add(c.cpu);
    if (c.size === 0) continue;
    // Compressed: the region starts with a 4-byte chunk count the size may not count.
    file.check(c.offset, compressed ? Math.max(4, c.size) : c.size, `${what} CPU ${c.cpu} data`);
  }
  return [...cpus].sort((a, b) => a.cpu - b.cpu);
}

function checkUniqueNames(file: FileBytes, buffers: readonly TraceDatBuffer[]): void {
  const names = new Set<string>();
  for (const b of buffers) {
    if (names.has(b.name)) throw new MalformedInputError(`${file.path}: two buffers are called ${JSON.stringify(b.name)}`);
    names.add(b.name);
  }
}

function newTraceDat(file: FileBytes, header: Header, buffers: TraceDatBuffer[], metadata: TraceDatMetadata, options: OptionCollector, v6Cpus?: number): TraceDat {
  let highest = 0;
  for (const b of buffers) for (const c of b.cpus) highest = Math.max(highest, c.cpu + 1);
  const cpuCount = options.cpuCount ?? v6Cpus ?? highest;
  const Ctor = TraceDat as unknown as new (init: object) => TraceDat;
  return new Ctor({ file, version: header.version, longSize: header.longSize, pageSize: header.pageSize, compression: header.compression, buffers, metadata, options: options.result(), cpuCount });
}

// --- v6 ----------------------------------------------------------------------

function tag10(c: Cursor, what: string): string {
  return decodeText(c.bytes(10, what));
}

function parseV6(file: FileBytes, header: Header): TraceDat {
  const c = file.cursor(header.end);
  const headers = parseHeaderInfo(c);
  const ftraceFormats = parseFtraceEvents(c);
  const eventSystems: EventSystem[] = parseEventFormats(c);
  const kallsyms = parseU32Text(c, 'kallsyms');
  const printk = parseU32Text(c, 'printk formats');
  const cmdlines = parseU64Text(c, 'saved command lines');
  const metadata: TraceDatMetadata = { headerPage: headers.headerPage, headerEvent: headers.headerEvent, ftraceFormats, eventSystems, kallsyms, printk, cmdlines };
  const storedCpus = c.u32('CPU count');
  if (storedCpus > Limits.cpus) throw new MalformedInputError(`${file.path}: CPU count ${storedCpus} is above ${Limits.cpus}`);
  const options = new OptionCollector(file.littleEndian, false, file.path);
  let marker = tag10(c, 'data marker');
  if (marker === V6_OPTIONS) {
    for (;;) {
      const id = c.u16('option id');
      if (id === Option.DONE) break;
      const size = c.u32('option size');
      options.add(id, c.bytes(size, `option ${id} data`));
    }
    marker = tag10(c, 'data marker');
  }
  // As trace-cmd: a CPUCOUNT option overrides the stored count, for every buffer.
  const cpus = options.cpuCount ?? storedCpus;
  if (cpus > Limits.cpus) throw new MalformedInputError(`${file.path}: CPU count ${cpus} is above ${Limits.cpus}`);
  const clockOption = options.traceClock;
  const buffers: TraceDatBuffer[] = [];
  const topOffset = c.position - 10;
  if (marker === V6_FLYRECORD) {
    const regions = readV6Regions(c, cpus);
    let clock = clockOption !== null ? selectedClock(clockOption) : 'local';
    if (clockOption !== null) {
      const len = c.u64('trace clock size');
      if (len > 4096) throw new MalformedInputError(`${file.path}: trace clock of ${len} bytes`);
      clock = selectedClock(decodeText(c.bytes(len, 'trace clock')));
    }
    buffers.push({ name: '', clock, pageSize: header.pageSize, kind: 'flyrecord', compressed: false, cpus: checkCpus(file, 'top buffer', regions, false), offset: topOffset });
  } else if (marker === V6_LATENCY) {
    buffers.push({ name: '', clock: 'local', pageSize: header.pageSize, kind: 'latency', compressed: false, cpus: [], offset: topOffset });
  } else {
    throw new MalformedInputError(`${file.path}: expected "flyrecord" or "latency" at offset ${topOffset}`);
  }
  for (const b of options.buffers) {
    if (b.name === '') continue; // the top buffer is the inline one
    const what = `buffer ${JSON.stringify(b.name)}`;
    const bc = file.cursor(b.offset);
    if (tag10(bc, `${what} marker`) !== V6_FLYRECORD) throw new MalformedInputError(`${file.path}: ${what} at offset ${b.offset} does not start with "flyrecord"`);
    const regions = readV6Regions(bc, cpus);
    buffers.push({ name: b.name, clock: buffers[0]!.clock, pageSize: header.pageSize, kind: 'flyrecord', compressed: false, cpus: checkCpus(file, what, regions, false), offset: b.offset });
  }
  checkUniqueNames(file, buffers);
  return newTraceDat(file, header, buffers, metadata, options, cpus);
}

function readV6Regions(c: Cursor, cpus: number): CpuRegion[] {
  if (cpus * 16 > c.remaining) throw new MalformedInputError(`flyrecord at offset ${c.position}: ${cpus} CPUs need ${cpus * 16} bytes, ${c.remaining} left`);
  const regions: CpuRegion[] = [];
  for (let cpu = 0; cpu < cpus; cpu++) regions.push({ cpu, offset: c.u64(`CPU ${cpu} data offset`), size: c.u64(`CPU ${cpu} data size`) });
  return regions;
}
