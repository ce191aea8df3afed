// Writing trace.dat files (v7 by default, or v6; compression none or
// zstd) while a recording runs, with flat memory for hours:
//
//   create()      opens OUT.tmp (and locks it: one writer per output) and
//                 checks the output path, so path errors surface at once;
//   writePages()  appends each CPU's raw pages (verbatim, loss flags and
//                 all) to its spool OUT.tmp.cpuN (OUT.tmp.B.cpuN for the
//                 Bth named buffer); with zstd, every 10 pages are
//                 compressed into a chunk as they fill;
//   finish(meta)  takes the metadata known only at the end (saved
//                 cmdlines, CPU stats), writes header, metadata sections
//                 and options into OUT.tmp, appends each spool contiguous
//                 and page-aligned with copy_file_range, fsyncs, renames
//                 OUT.tmp to OUT and removes the spools;
//   abort()       removes every temp file.
//
// After a SIGKILL only temp files remain (the rename is the last step):
// listLeftovers(OUT) names them, and says whether a live writer holds them.
// Layout facts: /work/shared/spec/formats.md A1-A4, A6, A11.

import fs from 'node:fs';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { ClosedError, InvalidArgumentError, OutputError, TraceringError, UnsupportedError, isSystemError } from '../errors.js';
import { native } from '../native.js';
import { HOST_LITTLE_ENDIAN } from '../layout/subbuf.js';
import { MAGIC, Option, SECTION_COMPRESSED, SECTION_HEADER_SIZE, V6_FLYRECORD, V6_OPTIONS } from './constants.js';
import type { CpuRegion } from './cpu-data.js';
import {
  ByteWriter,
  type EncodedSystem,
  type Text,
  bufferOptionV6,
  bufferOptionV7,
  encodeEventFormats,
  encodeFormatList,
  encodeHeaderInfo,
  encodeOption,
  encodeU32Text,
  encodeU64Text,
  textBytes,
  textOption,
  u32Option,
} from './encode.js';
import { type CopyStats, copyRange, outputError, writeAt } from './file-io.js';
import { CpuSpool } from './spool.js';
import { zstdCanCompress, zstdCompress, zstdVersion } from './zstd.js';
import { packageVersion } from '../package-root.js';

/** A buffer a TraceDatWriter writes. */
export interface TraceDatBufferSpec {
  /** '' for the top-level buffer; an instance name otherwise. */
  readonly name: string;
  /** Its trace clock (default 'local'). */
  readonly clock?: string;
  /** Its sub-buffer size (default: the file's page size; v6 allows no other). */
  readonly pageSize?: number;
}

/** Options of TraceDatWriter. */
export interface TraceDatWriterOptions {
  /** 7 (default) or 6. */
  version?: 6 | 7;
  /** 'none' (default) or 'zstd' (needs zlib.zstdCompressSync: Node 22.15+). */
  compression?: 'none' | 'zstd';
  zstdLevel?: number;
  /** The file's page size: the top buffer's sub-buffer size (header_page). */
  pageSize: number;
  /** The buffers to write, in order (default: the top-level buffer only). */
  buffers?: readonly TraceDatBufferSpec[];
  /** Endianness of the pages and the file (default: the host's). */
  littleEndian?: boolean;
  /** sizeof(long) of the writer's userspace (default 8). */
  longSize?: 4 | 8;
  /** Use copy_file_range to assemble (default true; false: read/write, for comparison). */
  copyFileRange?: boolean;
}

/** A CPUSTAT option: per_cpu/cpuN/stats of one buffer at the end. */
export interface CpuStatText {
  readonly buffer: string;
  readonly cpu: number;
  readonly text: string;
}

/** What finish() writes besides the pages. */
export interface TraceDatFinishInfo {
  headerPage: Text;
  headerEvent: Text;
  /** events/ftrace/<event>/format texts (print and bprint are needed to show trace_marker lines). */
  ftraceFormats?: readonly Text[];
  /** Every other recorded system with its event formats. */
  eventSystems?: readonly EncodedSystem[];
  kallsyms?: Text | null;
  printk?: Text | null;
  cmdlines?: Text | null;
  /** CPUs of the machine (CPUCOUNT; default: the highest CPU written + 1). */
  cpuCount?: number;
  /** The trace_clock file (TRACECLOCK option). */
  traceClock?: Text | null;
  /** UNAME (default: "sysname nodename release machine" of this machine; null: none). */
  uname?: string | null;
  /** VERSION (default "tracering X.Y.Z"; null: none). */
  version?: string | null;
  cpuStats?: readonly CpuStatText[];
  /** More options, written as given (DATE, OFFSET, TSC2NSEC...). */
  extraOptions?: readonly { id: number; data: Uint8Array }[];
}

/** What a TraceDatWriter wrote. */
export interface TraceDatWriteResult {
  readonly path: string;
  readonly bytes: number;
  readonly version: 6 | 7;
  readonly compression: 'none' | 'zstd';
  readonly buffers: readonly { name: string; cpus: readonly (CpuRegion & { pages: number })[] }[];
  /** How the spools were copied in (bytes by copy_file_range and by read/write). */
  readonly copy: CopyStats;
  /** Milliseconds finish() took. */
  readonly finishMs: number;
}

/** Partial trace.dat files left by killed runs. */
export interface Leftovers {
  /** Temp files of a run for this output path, full paths. */
  readonly files: readonly string[];
  /** A live writer holds them (do not remove). */
  readonly live: boolean;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function tempPath(out: string): string {
  return `${out}.tmp`;
}

/** Spool file of buffer `index` (0: the first declared), CPU `cpu`. */
function spoolPath(out: string, index: number, cpu: number): string {
  return index === 0 ? `${out}.tmp.cpu${cpu}` : `${out}.tmp.${index}.cpu${cpu}`;
}

/** Temp files a run for `out` leaves, and whether a live writer holds them. */
export function listLeftovers(out: string): Leftovers {
  const dir = dirname(out);
  const prefix = `${basename(out)}.tmp`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return { files: [], live: false };
  }
  const files = names.filter((n) => n === prefix || (n.startsWith(`${prefix}.`) && /^\.(\d+\.)?cpu\d+$/.test(n.slice(prefix.length)))).sort().map((n) => join(dir, n));
  let live = false;
  if (files.includes(tempPath(out))) {
    try {
      const fd = fs.openSync(tempPath(out), 'r');
      try {
        live = !native.flock(fd, true, false);
        if (!live) native.flock(fd, false, false); // (released at close)
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      // gone meanwhile
    }
  }
  return { files, live };
}

/** Removes what listLeftovers finds, unless a live writer holds it; returns the removed paths. */
export function removeLeftovers(out: string): string[] {
  const left = listLeftovers(out);
  if (left.live) throw new OutputError(out, `${tempPath(out)} belongs to a running writer`, 'EBUSY');
  for (const f of left.files) fs.rmSync(f, { force: true });
  return [...left.files];
}

interface BufferState {
  readonly index: number;
  readonly name: string;
  readonly clock: string;
  readonly pageSize: number;
  readonly spools: Map<number, CpuSpool>;
}

/** Writes trace-cmd's trace.dat (v6 or v7, zstd where available). */
export class TraceDatWriter {
  readonly path: string;
  readonly version: 6 | 7;
  readonly compression: 'none' | 'zstd';
  readonly pageSize: number;
  readonly littleEndian: boolean;
  readonly #longSize: 4 | 8;
  readonly #zstdLevel: number;
  readonly #useCopyRange: boolean;
  readonly #buffers: BufferState[];
  readonly #tmp: string;
  #fd: number;
  #state: 'open' | 'failed' | 'finished' | 'aborted' = 'open';
  #failure: OutputError | null = null;
  #bytes = 0;

  private constructor(path: string, options: TraceDatWriterOptions, fd: number, buffers: BufferState[]) {
    this.path = path;
    this.version = options.version ?? 7;
    this.compression = options.compression ?? 'none';
    this.pageSize = options.pageSize;
    this.littleEndian = options.littleEndian ?? HOST_LITTLE_ENDIAN;
    this.#longSize = options.longSize ?? 8;
    this.#zstdLevel = options.zstdLevel ?? 3;
    this.#useCopyRange = options.copyFileRange ?? true;
    this.#buffers = buffers;
    this.#tmp = tempPath(path);
    this.#fd = fd;
  }

  /**
   * Starts a file at `path` (written as path.tmp, renamed at finish).
   * Throws InvalidArgumentError for bad options, UnsupportedError for zstd
   * on a Node without it, OutputError when the path cannot be written.
   */
  static create(path: string, options: TraceDatWriterOptions): TraceDatWriter {
    const version = options.version ?? 7;
    const compression = options.compression ?? 'none';
    if (version !== 6 && version !== 7) throw new InvalidArgumentError(`trace.dat version must be 6 or 7, not ${String(version)}`);
    if (compression !== 'none' && compression !== 'zstd') throw new InvalidArgumentError(`compression must be 'none' or 'zstd', not ${String(compression)}`);
    if (compression === 'zstd' && version === 6) throw new InvalidArgumentError('trace.dat v6 has no compression: use version 7 for zstd');
    if (compression === 'zstd' && !zstdCanCompress) {
      throw new UnsupportedError(`zstd compression needs Node 22.15 or later (zlib.zstdCompressSync); this is Node ${process.versions.node}: use compression 'none'`);
    }
    if (!isPowerOfTwo(options.pageSize) || options.pageSize < 256 || options.pageSize > 1 << 24) {
      throw new InvalidArgumentError(`page size ${options.pageSize} is not a power of two in [256, 16 MiB]`);
    }
    const specs = options.buffers ?? [{ name: '' }];
    if (specs.length === 0) throw new InvalidArgumentError('a trace.dat needs at least one buffer');
    const buffers: BufferState[] = [];
    for (const [index, spec] of specs.entries()) {
      if (buffers.some((b) => b.name === spec.name)) throw new InvalidArgumentError(`buffer ${JSON.stringify(spec.name)} given twice`);
      if (spec.name.includes('\0') || (spec.clock ?? '').includes('\0')) throw new InvalidArgumentError('buffer names and clocks cannot hold NUL');
      const pageSize = spec.pageSize ?? options.pageSize;
      if (!isPowerOfTwo(pageSize) || pageSize < 256 || pageSize > 1 << 24) throw new InvalidArgumentError(`buffer ${JSON.stringify(spec.name)}: page size ${pageSize} is not a power of two`);
      if (version === 6 && pageSize !== options.pageSize) throw new InvalidArgumentError(`trace.dat v6 has one page size: buffer ${JSON.stringify(spec.name)} uses ${pageSize}, the file ${options.pageSize}`);
      buffers.push({ index, name: spec.name, clock: spec.clock ?? 'local', pageSize, spools: new Map() });
    }
    const fd = openTemp(path);
    return new TraceDatWriter(path, options, fd, buffers);
  }

  /** Bytes written to the spools so far (compressed bytes with zstd). */
  get bytesWritten(): number {
    return this.#bytes;
  }

  /** Pages written per buffer and CPU so far. */
  pageCounts(): { buffer: string; cpu: number; pages: number; bytes: number }[] {
    const out: { buffer: string; cpu: number; pages: number; bytes: number }[] = [];
    for (const b of this.#buffers) for (const [cpu, s] of [...b.spools].sort((x, y) => x[0] - y[0])) out.push({ buffer: b.name, cpu, pages: s.pages, bytes: s.size });
    return out;
  }

  /**
   * Appends whole raw pages of `buffer`'s CPU `cpu`, verbatim. Throws
   * OutputError on a write error (ENOSPC...): the writer is then failed,
   * and abort() removes its files.
   */
  writePages(buffer: string, cpu: number, pages: Uint8Array): void {
    this.#write(buffer, cpu, pages, false);
  }

  /**
   * As writePages, but the bytes are only borrowed: they must stay as they
   * are until the next flush(), which writes every borrowed run with one
   * writev per CPU instead of copying them (a live capture's staged pages,
   * valid until its round is released).
   */
  writePagesUntilFlush(buffer: string, cpu: number, pages: Uint8Array): void {
    this.#write(buffer, cpu, pages, true);
  }

  #write(buffer: string, cpu: number, pages: Uint8Array, borrowed: boolean): void {
    this.#assertOpen();
    const b = this.#buffers.find((x) => x.name === buffer);
    if (b === undefined) throw new InvalidArgumentError(`no buffer ${JSON.stringify(buffer)} was declared`);
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= 8192) throw new InvalidArgumentError(`CPU ${cpu} is out of range`);
    if (pages.length % b.pageSize !== 0) throw new InvalidArgumentError(`${pages.length} bytes are not whole ${b.pageSize}-byte pages`);
    if (pages.length === 0) return;
    try {
      let spool = b.spools.get(cpu);
      if (spool === undefined) {
        spool = new CpuSpool(spoolPath(this.path, b.index, cpu), cpu, b.pageSize, this.littleEndian, this.compression === 'zstd' ? this.#zstdLevel : null);
        b.spools.set(cpu, spool);
      }
      const before = spool.size;
      if (borrowed) spool.borrow(pages);
      else spool.append(pages);
      this.#bytes += spool.size - before;
    } catch (error) {
      throw this.#fail(error, 'write');
    }
  }

  /**
   * Writes the pages buffered so far to the spools (uncompressed pages go
   * out in runs, not one write each; zstd chunks wait until they fill).
   * A recording calls it once per batch of pages, so a killed run leaves
   * what it had read on disk.
   */
  flush(): void {
    this.#assertOpen();
    try {
      for (const b of this.#buffers) for (const s of b.spools.values()) if (!s.compressed) s.flush();
    } catch (error) {
      throw this.#fail(error, 'write');
    }
  }

  /** Writes the file and renames it into place; the writer is done afterwards. */
  finish(info: TraceDatFinishInfo): TraceDatWriteResult {
    this.#assertOpen();
    const start = performance.now();
    const copy: CopyStats = { ranged: 0, copied: 0 };
    let layout: { name: string; cpus: (CpuRegion & { pages: number })[] }[];
    let bytes: number;
    try {
      for (const b of this.#buffers) for (const s of b.spools.values()) s.flush();
      const cpuCount = info.cpuCount ?? this.#highestCpu() + 1;
      if (!Number.isInteger(cpuCount) || cpuCount < 0 || cpuCount > 8192) throw new InvalidArgumentError(`CPU count ${cpuCount} is out of range`);
      if (this.#highestCpu() >= cpuCount) throw new InvalidArgumentError(`pages were written for CPU ${this.#highestCpu()}, but the CPU count is ${cpuCount}`);
      ({ layout, bytes } = this.version === 7 ? this.#assembleV7(info, cpuCount, copy) : this.#assembleV6(info, cpuCount, copy));
      fs.fsyncSync(this.#fd);
      fs.closeSync(this.#fd);
      this.#fd = -1;
      fs.renameSync(this.#tmp, this.path);
      syncDirectory(dirname(this.path));
    } catch (error) {
      const failure = this.#fail(error, 'write');
      this.abort();
      throw failure;
    }
    this.#state = 'finished';
    for (const b of this.#buffers) for (const s of b.spools.values()) s.remove();
    return { path: this.path, bytes, version: this.version, compression: this.compression, buffers: layout, copy, finishMs: performance.now() - start };
  }

  /** Removes every temp file; the output path is left as it was. Safe to call more than once. */
  abort(): void {
    if (this.#state === 'finished' || this.#state === 'aborted') return;
    this.#state = 'aborted';
    for (const b of this.#buffers) {
      for (const s of b.spools.values()) {
        try {
          s.remove();
        } catch {
          // best effort: listLeftovers reports what stays
        }
      }
    }
    if (this.#fd >= 0) {
      try {
        fs.closeSync(this.#fd);
      } catch {
        // already closed
      }
      this.#fd = -1;
    }
    fs.rmSync(this.#tmp, { force: true });
  }

  #assertOpen(): void {
    if (this.#state === 'failed' && this.#failure !== null) throw this.#failure;
    if (this.#state !== 'open') throw new ClosedError(`trace.dat writer for ${this.path} is ${this.#state}`);
  }

  /** System errors become the writer's OutputError (it is failed from then on); anything else passes as it is. */
  #fail(error: unknown, action: string): Error {
    if (error instanceof TraceringError ? !(error instanceof OutputError) : !isSystemError(error)) return error as Error;
    const failure = outputError(this.path, action, error);
    this.#state = 'failed';
    this.#failure = failure;
    return failure;
  }

  #highestCpu(): number {
    let highest = -1;
    for (const b of this.#buffers) for (const cpu of b.spools.keys()) highest = Math.max(highest, cpu);
    return highest;
  }

  #header(): ByteWriter {
    const w = new ByteWriter(this.littleEndian).bytes(MAGIC).cstring(String(this.version));
    w.u8(this.littleEndian ? 0 : 1).u8(this.#longSize).u32(this.pageSize);
    return w;
  }

  #options(w: ByteWriter, info: TraceDatFinishInfo, cpuCount: number): void {
    const le = this.littleEndian;
    encodeOption(w, Option.CPUCOUNT, u32Option(cpuCount, le));
    if (info.traceClock != null) encodeOption(w, Option.TRACECLOCK, textOption(info.traceClock));
    const uname = info.uname === undefined ? `${os.type()} ${os.hostname()} ${os.release()} ${os.machine()}` : info.uname;
    if (uname !== null) encodeOption(w, Option.UNAME, textOption(uname));
    const version = info.version === undefined ? `tracering ${packageVersion()}` : info.version;
    if (version !== null) encodeOption(w, Option.VERSION, textOption(version));
    // CPUSTAT: the top buffer's CPUs, then per instance a "Buffer:" marker and its CPUs (as trace-cmd record).
    const stats = info.cpuStats ?? [];
    for (const b of this.#buffers) {
      const mine = stats.filter((s) => s.buffer === b.name).sort((x, y) => x.cpu - y.cpu);
      if (mine.length === 0) continue;
      if (b.name !== '') encodeOption(w, Option.CPUSTAT, textOption(`\nBuffer: ${b.name}\n\n`));
      for (const s of mine) encodeOption(w, Option.CPUSTAT, textOption(`CPU: ${s.cpu}\n${s.text}`));
    }
    for (const o of info.extraOptions ?? []) {
      if (!Number.isInteger(o.id) || o.id <= 0 || o.id > 0xffff || o.id === Option.BUFFER) throw new InvalidArgumentError(`extra option id ${o.id} is not allowed`);
      encodeOption(w, o.id, o.data);
    }
  }

  /** Writes one buffer's spools at `pos`, each page-aligned; returns the regions and the end. */
  #placeCpus(b: BufferState, pos: number, copy: CopyStats): { regions: (CpuRegion & { pages: number })[]; end: number } {
    const regions: (CpuRegion & { pages: number })[] = [];
    const cpus = [...b.spools.keys()].sort((x, y) => x - y);
    for (const cpu of cpus) {
      const spool = b.spools.get(cpu)!;
      if (spool.pages === 0) continue;
      const offset = align(pos, b.pageSize);
      // Explicit zeros in the gap (a hole would read the same, but not every tool copies holes well).
      if (offset > pos) writeAt(this.#fd, new Uint8Array(offset - pos), pos);
      let at = offset;
      if (spool.compressed) {
        writeAt(this.#fd, new ByteWriter(this.littleEndian).u32(spool.chunks).finish(), at);
        at += 4;
      }
      copyRange(spool.fd, 0, this.#fd, at, spool.size, copy, this.#useCopyRange);
      regions.push({ cpu, offset, size: spool.size, pages: spool.pages });
      pos = at + spool.size;
    }
    return { regions, end: pos };
  }

  #assembleV7(info: TraceDatFinishInfo, cpuCount: number, copy: CopyStats) {
    const le = this.littleEndian;
    const zstd = this.compression === 'zstd';
    const strings = new ByteWriter(le);
    const describe = (text: string) => {
      const at = strings.length;
      strings.cstring(text);
      return at;
    };
    const head = this.#header();
    if (zstd) head.cstring('zstd').cstring(zstdVersion);
    else head.cstring('none').cstring('');
    const optionsPointer = head.length;
    head.u64(0);
    writeAt(this.#fd, head.finish(), 0);
    let pos = optionsPointer + 8;
    const pointers: [number, number][] = [];
    /**
     * A whole section: header, then the body (one compressed block with
     * zstd). The body comes in parts, written as they are: kallsyms (MBs)
     * is not copied into a growing buffer twice on its way to the file.
     */
    const section = (id: number, desc: number, parts: readonly Uint8Array[], compress: boolean): number => {
      const offset = pos;
      let payload = parts;
      if (compress) {
        const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        const frame = zstdCompress(body, this.#zstdLevel);
        payload = [new ByteWriter(le).u32(frame.length).u32(body.length).finish(), frame];
      }
      const size = payload.reduce((n, p) => n + p.length, 0);
      const head = new ByteWriter(le).u16(id).u16(compress ? SECTION_COMPRESSED : 0).i32(desc).u64(size).finish();
      writeAt(this.#fd, head, offset);
      let at = offset + head.length;
      for (const p of payload) {
        writeAt(this.#fd, p, at);
        at += p.length;
      }
      pos = at;
      return offset;
    };
    const meta = (id: number, text: string, fill: (w: ByteWriter) => void) => {
      const w = new ByteWriter(le);
      fill(w);
      pointers.push([id, section(id, describe(text), [w.finish()], zstd)]);
    };
    /** A text section: its length (u32 or u64), then the text's bytes as they are. */
    const metaText = (id: number, text: string, value: Text | null, lengthBytes: 4 | 8) => {
      const bytes = value === null ? new Uint8Array(0) : textBytes(value);
      const length = lengthBytes === 4 ? new ByteWriter(le).u32(bytes.length) : new ByteWriter(le).u64(bytes.length);
      pointers.push([id, section(id, describe(text), [length.finish(), bytes], zstd)]);
    };
    meta(Option.HEADER_INFO, 'headers', (w) => encodeHeaderInfo(w, info.headerPage, info.headerEvent));
    meta(Option.FTRACE_EVENTS, 'ftrace events', (w) => encodeFormatList(w, info.ftraceFormats ?? []));
    meta(Option.EVENT_FORMATS, 'events format', (w) => encodeEventFormats(w, info.eventSystems ?? []));
    metaText(Option.KALLSYMS, 'kallsyms', info.kallsyms ?? null, 4);
    metaText(Option.PRINTK, 'printk', info.printk ?? null, 4);
    metaText(Option.CMDLINES, 'command lines', info.cmdlines ?? null, 8);

    const layout: { name: string; cpus: (CpuRegion & { pages: number })[] }[] = [];
    const bufferOptions: Uint8Array[] = [];
    for (const b of this.#buffers) {
      const offset = pos;
      const desc = describe(`buffer flyrecord ${b.name}`);
      const { regions, end } = this.#placeCpus(b, offset + SECTION_HEADER_SIZE, copy);
      const header = new ByteWriter(le).u16(Option.BUFFER).u16(zstd ? SECTION_COMPRESSED : 0).i32(desc).u64(end - offset - SECTION_HEADER_SIZE);
      writeAt(this.#fd, header.finish(), offset);
      pos = end;
      bufferOptions.push(bufferOptionV7(le, offset, b.name, b.clock, b.pageSize, regions));
      layout.push({ name: b.name, cpus: regions });
    }

    const options = new ByteWriter(le);
    for (const [id, offset] of pointers) encodeOption(options, id, new ByteWriter(le).u64(offset).finish());
    this.#options(options, info, cpuCount);
    for (const data of bufferOptions) encodeOption(options, Option.BUFFER, data);
    encodeOption(options, Option.DONE, new ByteWriter(le).u64(0).finish());
    const optionsOffset = section(Option.DONE, describe('options'), [options.finish()], false);
    // Last, as trace-cmd does: the strings every section's description points into (its own included).
    const stringsDesc = describe('strings');
    section(Option.STRINGS, stringsDesc, [strings.finish()], zstd);
    fs.ftruncateSync(this.#fd, pos);
    const patch = new ByteWriter(le).u64(optionsOffset).finish();
    writeAt(this.#fd, patch, optionsPointer);
    return { layout, bytes: pos };
  }

  #assembleV6(info: TraceDatFinishInfo, cpuCount: number, copy: CopyStats) {
    const le = this.littleEndian;
    const w = this.#header();
    encodeHeaderInfo(w, info.headerPage, info.headerEvent);
    encodeFormatList(w, info.ftraceFormats ?? []);
    encodeEventFormats(w, info.eventSystems ?? []);
    encodeU32Text(w, info.kallsyms ?? null);
    encodeU32Text(w, info.printk ?? null);
    encodeU64Text(w, info.cmdlines ?? null);
    w.u32(cpuCount);
    w.bytes(textBytes(V6_OPTIONS));
    this.#options(w, info, cpuCount);
    const instancePointers: number[] = [];
    for (const b of this.#buffers.slice(1)) {
      instancePointers.push(w.length + 6);
      encodeOption(w, Option.BUFFER, bufferOptionV6(le, 0, b.name));
    }
    w.u16(Option.DONE);
    const prefix = w;
    const layout: { name: string; cpus: (CpuRegion & { pages: number })[] }[] = [];
    // Each buffer: "flyrecord\0", nCPU x {u64 offset, u64 size}, u64 len + "[clock]", then its pages.
    let pos = prefix.length;
    const blocks: { at: number; bytes: Uint8Array }[] = [];
    for (const [i, b] of this.#buffers.entries()) {
      if (i > 0) prefix.setU64(instancePointers[i - 1]!, pos);
      const clock = textBytes(`[${b.clock}]`);
      const blockSize = 10 + cpuCount * 16 + 8 + clock.length;
      const { regions, end } = this.#placeCpus(b, pos + blockSize, copy);
      const block = new ByteWriter(le).bytes(textBytes(V6_FLYRECORD));
      let cursor = pos + blockSize;
      for (let cpu = 0; cpu < cpuCount; cpu++) {
        const r = regions.find((x) => x.cpu === cpu);
        if (r !== undefined) {
          block.u64(r.offset).u64(r.size);
          cursor = r.offset + r.size;
        } else {
          block.u64(align(cursor, b.pageSize)).u64(0);
        }
      }
      block.u64(clock.length).bytes(clock);
      blocks.push({ at: pos, bytes: block.finish() });
      layout.push({ name: b.name, cpus: regions });
      pos = end;
    }
    writeAt(this.#fd, prefix.finish(), 0);
    for (const block of blocks) writeAt(this.#fd, block.bytes, block.at);
    fs.ftruncateSync(this.#fd, pos);
    return { layout, bytes: pos };
  }
}

/** Opens (without truncating first) and locks OUT.tmp; a held lock means another writer. */
function openTemp(out: string): number {
  try {
    if (fs.statSync(out, { throwIfNoEntry: false })?.isDirectory()) {
      throw new OutputError(out, `cannot write ${out}: EISDIR (it is a directory)`, 'EISDIR');
    }
    const fd = fs.openSync(tempPath(out), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    if (!native.flock(fd, true, false)) {
      fs.closeSync(fd);
      throw new OutputError(out, `cannot write ${out}: another process is writing it (${tempPath(out)} is locked)`, 'EBUSY');
    }
    fs.ftruncateSync(fd, 0);
    return fd;
  } catch (error) {
    throw outputError(out, 'write', error);
  }
}

function syncDirectory(dir: string): void {
  let fd = -1;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // some filesystems refuse fsync on directories; the rename stands
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}
