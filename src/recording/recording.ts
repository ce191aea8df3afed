// A recording: a directory laid out like tracefs (format files,
// saved_cmdlines, saved_tgids, printk_formats, trace_clock,
// per_cpu/cpuN/trace_pipe_raw files of raw sub-buffers), as written by
// `tracering snapshot` or by other tools, or the live tracefs root itself.
//
// Recordings come from elsewhere, so reading one is defensive: every file
// is checked before use (a directory where a file belongs, a tracering.json
// that is not an object, a sub-buffer size the files disagree on:
// geometry.ts) and raises a coded error; damaged per-CPU data (corrupt or
// truncated sub-buffers) is decoded as far as it goes and reported through
// warnings and FileCpuReader.damage, never dropped silently.

import fs from 'node:fs';
import { join } from 'node:path';
import { parseHeaderEvent, parseHeaderPage } from '../decode/format-file.js';
import {
  MalformedInputError,
  TracefsNotFoundError,
  WarningCode,
  type WarningHandler,
  emitProcessWarning,
  isSystemError,
} from '../errors.js';
import { type CpuStats, parseCpuStats } from '../kernel/cpu-stats.js';
import { rethrowUserPath } from '../kernel/fs-errors.js';
import type { BatchSource } from '../layout/batch-source.js';
import { PageStream } from '../layout/page-stream.js';
import type { RecordBatch } from '../layout/record.js';
import { COMMIT_SIZE_MASK, HOST_LITTLE_ENDIAN, RB_MISSED_STORED, LOST_UNKNOWN, type SubbufLayout, checkSubbufLayout } from '../layout/subbuf.js';
import { type StatedSize, parseSubbufSizeKb, resolveSubbufSize } from './geometry.js';
import { openRegularFile, readRegularFile } from './user-file.js';

/**
 * What `tracering snapshot` records about the machine, beside the tracefs
 * files. Read back, only `format` and `littleEndian` are required (the rest
 * is checked for its type when present).
 */
export interface RecordingMeta {
  format: 'tracering-snapshot';
  version?: 1;
  /** `uname -r` of the recording kernel. */
  kernel?: string;
  littleEndian: boolean;
  longSize?: 4 | 8;
  pageSize?: number;
  subbufSize?: number;
  clock?: string;
  cpus?: number[];
  /** Online CPUs when recorded (the `#P:` of the text header). */
  onlineCpus?: number;
  createdAt?: string;
}

export const META_FILE = 'tracering.json';

/** What was wrong with one CPU's recorded data. */
export interface CpuDamage {
  cpu: number;
  /** The data file, relative to the recording. */
  file: string;
  /** Sub-buffers with an inconsistent header or records (their rest was dropped). */
  corruptSubbufs: number;
  /** Bytes of a partial last sub-buffer (0: the file ends on a sub-buffer boundary). */
  partialBytes: number;
  /** The data file is missing. */
  missing: boolean;
  /** The first problem, as a sentence. */
  first: string | null;
}

function noDamage(cpu: number, file: string): CpuDamage {
  return { cpu, file, corruptSubbufs: 0, partialBytes: 0, missing: false, first: null };
}

export function isDamaged(d: CpuDamage): boolean {
  return d.corruptSubbufs > 0 || d.partialBytes > 0 || d.missing;
}

/** One CPU's damage, summed up once its data was read to the end. */
export interface RecordingDamage extends CpuDamage {
  /** The summary as a sentence: "CPU 1 (per_cpu/cpu1/trace_pipe_raw): 3 corrupt sub-buffers, ...". */
  sentence: string;
  /** The warning code it goes with. */
  code: WarningCode;
  /** The summary tells more than the first warning did (more than one problem, or a count the stats contradict). */
  adds: boolean;
}

/**
 * What is wrong with the per-CPU data `readers` read to the end (and the
 * CPUs whose file was `missing`), measured against the recording's
 * per-CPU stats: events the kernel counted in the buffer that neither the
 * pages hold nor their loss reports explain are missing too (a file cut
 * on a sub-buffer boundary shows nothing else).
 */
export function recordingDamage(recording: Recording, readers: readonly FileCpuReader[], missing: readonly CpuDamage[]): RecordingDamage[] {
  const out: RecordingDamage[] = [];
  for (const cpu of recording.cpus) {
    const reader = readers.find((r) => r.cpu === cpu) ?? null;
    const d = reader?.damage ?? missing.find((m) => m.cpu === cpu);
    if (d === undefined) continue;
    const stats = recording.cpuStats(cpu);
    const parts: string[] = [];
    if (d.missing) parts.push('the data file is missing');
    if (d.corruptSubbufs > 0) parts.push(`${d.corruptSubbufs} corrupt sub-buffer${d.corruptSubbufs === 1 ? '' : 's'}`);
    if (d.partialBytes > 0) parts.push(`a partial last sub-buffer (${d.partialBytes} bytes)`);
    const events = reader?.events ?? 0;
    const lost = reader?.lost ?? 0;
    const short = stats !== null && lost >= 0 && events + lost < stats.entries;
    if (short) parts.push(`${events} events decoded${lost > 0 ? ` and ${lost} reported lost` : ''} where per_cpu/cpu${cpu}/stats counts ${stats.entries}`);
    if (parts.length === 0) continue;
    out.push({
      ...d,
      sentence: `CPU ${cpu} (${d.file}): ${parts.join(', ')}`,
      code: d.corruptSubbufs > 0 ? WarningCode.corruptSubbuf : WarningCode.truncatedRecording,
      adds: d.first === null || d.corruptSubbufs > 1 || short,
    });
  }
  return out;
}

export interface FileCpuReaderOptions {
  /** Sub-buffers per batch (default 16: larger batches decode faster). */
  pagesPerBatch?: number;
  /** Receives the first corruption and the truncation of this file (default process.emitWarning). */
  onWarning?: WarningHandler;
  /** Name of the file in messages (default its path). */
  label?: string;
}

/** Reads one CPU's file of raw sub-buffers, a chunk at a time. */
export class FileCpuReader implements BatchSource {
  readonly cpu: number;
  readonly layout: SubbufLayout;
  /** What was found wrong so far (complete once next() returned null). */
  readonly damage: CpuDamage;
  /** Events delivered, and events the sub-buffers report lost (-1 in `lost`: some count unknown). */
  events = 0;
  lost = 0;
  readonly #fd: number;
  readonly #pages: PageStream;
  readonly #onWarning: WarningHandler;
  readonly #label: string;
  #closed = false;

  /** `options` may be the number of sub-buffers per batch (the former signature). */
  constructor(path: string, cpu: number, layout: SubbufLayout, options: number | FileCpuReaderOptions = {}) {
    const o: FileCpuReaderOptions = typeof options === 'number' ? { pagesPerBatch: options } : options;
    this.cpu = cpu;
    this.layout = layout;
    this.#label = o.label ?? path;
    this.#onWarning = o.onWarning ?? emitProcessWarning;
    this.damage = noDamage(cpu, this.#label);
    this.#fd = openRegularFile(path);
    let size: number;
    try {
      size = fs.fstatSync(this.#fd).size;
    } catch (error) {
      fs.closeSync(this.#fd);
      rethrowUserPath(error, path, 'read');
    }
    const partial = size % layout.subbufSize;
    if (partial !== 0) {
      this.damage.partialBytes = partial;
      this.#problem(
        WarningCode.truncatedRecording,
        `${this.#label} ends in a partial sub-buffer (${partial} of ${layout.subbufSize} bytes, at byte ${size - partial}): ` +
          'the file was cut short; the rest of that sub-buffer reads as zeros',
      );
    }
    this.#pages = new PageStream(layout, cpu, (into, pageSize, max) => {
      // Whole fills in as few reads as the file allows (a read per page was
      // a syscall per 4 KiB: a tenth of report's time on a large recording).
      const want = max * pageSize;
      let got = 0;
      while (got < want) {
        let n: number;
        try {
          n = fs.readSync(this.#fd, into, got, want - got, null);
        } catch (error) {
          rethrowUserPath(error, path, 'read');
        }
        if (n <= 0) break;
        got += n;
      }
      const pages = Math.ceil(got / pageSize);
      // A cut-short last sub-buffer: zero-filled, as a short read() is, and
      // its commit limited to the bytes there are, so a record the cut went
      // through reads as corrupt rather than as zeros.
      if (got < pages * pageSize) {
        into.fill(0, got, pages * pageSize);
        clampCommit(into, (pages - 1) * pageSize, got - (pages - 1) * pageSize, layout);
      }
      return pages;
    }, { pagesPerBatch: o.pagesPerBatch ?? 16 });
  }

  #problem(code: WarningCode, message: string): void {
    if (this.damage.first !== null) return;
    this.damage.first = message;
    this.#onWarning({ code, cpu: this.cpu, message });
  }

  next(): RecordBatch | null {
    if (this.#closed) return null;
    const batch = this.#pages.next();
    if (batch === null) return null;
    this.events += batch.count;
    if (batch.lostBefore !== 0 && this.lost >= 0) this.lost = batch.lostBefore === LOST_UNKNOWN ? -1 : this.lost + batch.lostBefore;
    if (batch.corrupt !== null) {
      this.damage.corruptSubbufs++;
      const index = this.#pages.subbufs - 1;
      this.#problem(
        WarningCode.corruptSubbuf,
        `${this.#label}: sub-buffer ${index} (byte ${index * this.layout.subbufSize}): ${batch.corrupt.message}; the rest of it was dropped`,
      );
    }
    return batch;
  }

  get caughtUp(): boolean {
    return this.#pages.caughtUp;
  }

  /** The sub-buffers of the last batch, as stored (valid until the next call). */
  get lastPages(): Uint8Array {
    return this.#pages.lastPages;
  }

  /** Closes the file. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    fs.closeSync(this.#fd);
  }
}

/** Limits the commit size of the sub-buffer at `start` to the `got` bytes read of it (its flags kept). */
function clampCommit(pages: Uint8Array, start: number, got: number, layout: SubbufLayout): void {
  if (got < layout.dataOffset) return; // no whole header: zeros, an empty sub-buffer
  const view = new DataView(pages.buffer, pages.byteOffset, pages.byteLength);
  const le = layout.littleEndian;
  const at = start + 8 + (le || layout.longSize === 4 ? 0 : 4);
  const word = view.getUint32(at, le);
  const size = word & COMMIT_SIZE_MASK;
  const room = got - layout.dataOffset;
  // A lost count stored after the data was cut off too: the loss stays, its count becomes unknown.
  if (size > room) view.setUint32(at, ((word & ~COMMIT_SIZE_MASK & ~RB_MISSED_STORED) | room) >>> 0, le);
}

export interface RecordingOpenOptions {
  /** Receives geometry disagreements (default process.emitWarning). */
  onWarning?: WarningHandler;
}

/** A recording directory (laid out like tracefs), opened for reading. */
export class Recording {
  readonly root: string;
  readonly layout: SubbufLayout;
  /** Trace clock the events were recorded with. */
  readonly clock: string;
  readonly cpus: readonly number[];
  readonly meta: RecordingMeta | null;
  readonly #onWarning: WarningHandler;

  private constructor(root: string, layout: SubbufLayout, clock: string, cpus: number[], meta: RecordingMeta | null, onWarning: WarningHandler) {
    this.root = root;
    this.layout = layout;
    this.clock = clock;
    this.cpus = cpus;
    this.meta = meta;
    this.#onWarning = onWarning;
  }

  /** Opens a recording directory: its layout (checked against the data: geometry.ts), clock, CPUs and tracering.json. */
  static open(root: string, options: RecordingOpenOptions = {}): Recording {
    const onWarning = options.onWarning ?? emitProcessWarning;
    const headerPath = join(root, 'events/header_page');
    try {
      fs.statSync(headerPath);
    } catch (error) {
      if (isSystemError(error, 'ENOENT') || isSystemError(error, 'ENOTDIR')) {
        throw new TracefsNotFoundError(`${root} is not a recording or tracefs (no events/header_page)`, { cause: error });
      }
      rethrowUserPath(error, headerPath, 'read');
    }
    checkFileTypes(root);
    const meta = readMeta(root);
    const header = parseHeaderPage(readUserText(headerPath), 'events/header_page');
    // The record encoding, when stated, must be the one the walker reads.
    const eventText = readOptional(root, 'events/header_event');
    if (eventText !== null) parseHeaderEvent(eventText, 'events/header_event');
    const rest = {
      dataOffset: header.dataOffset,
      longSize: header.commitSize,
      littleEndian: meta?.littleEndian ?? HOST_LITTLE_ENDIAN,
    };
    checkSubbufLayout({ ...rest, subbufSize: header.subbufSize });
    const clockText = readOptional(root, 'trace_clock');
    const clock = clockText === null ? 'local' : (/\[([^\]]+)\]/.exec(clockText)?.[1] ?? clockText.trim());
    const cpus = listCpus(root);
    const stated: StatedSize[] = [{ source: 'events/header_page', size: header.subbufSize }];
    const kbText = readOptional(root, 'buffer_subbuf_size_kb');
    const kb = kbText === null ? null : parseSubbufSizeKb(kbText);
    if (kb !== null && kb > 0) stated.push({ source: 'buffer_subbuf_size_kb', size: kb });
    if (meta !== null && typeof meta.subbufSize === 'number' && meta.subbufSize > 0) stated.push({ source: META_FILE, size: meta.subbufSize });
    const files = cpus.map((cpu) => join(root, dataFile(cpu))).filter(isRegularFile);
    const geometry = resolveSubbufSize(stated, files, rest);
    if (geometry.warning !== null) onWarning({ code: WarningCode.geometry, message: geometry.warning });
    const layout: SubbufLayout = { ...rest, subbufSize: geometry.subbufSize };
    checkSubbufLayout(layout);
    return new Recording(root, layout, clock, cpus, meta, onWarning);
  }

  /** A file of the recording as text, or null if it is absent (other failures raise FileAccessError). */
  readText(relative: string): string | null {
    return readOptional(this.root, relative);
  }

  /** per_cpu/cpuN/stats, parsed, or null if absent. */
  cpuStats(cpu: number): CpuStats | null {
    const text = readOptional(this.root, `per_cpu/cpu${cpu}/stats`);
    return text === null ? null : parseCpuStats(text);
  }

  /**
   * Readers for every CPU's recorded pages. A CPU directory without its
   * data file is reported (a warning, and in `missing`), not an error.
   */
  openReaders(options: { onWarning?: WarningHandler; missing?: CpuDamage[] } = {}): FileCpuReader[] {
    const onWarning = options.onWarning ?? this.#onWarning;
    const readers: FileCpuReader[] = [];
    try {
      for (const cpu of this.cpus) {
        const file = dataFile(cpu);
        const path = join(this.root, file);
        if (!exists(path)) {
          const damage: CpuDamage = { ...noDamage(cpu, file), missing: true, first: `${file} is missing` };
          options.missing?.push(damage);
          onWarning({ code: WarningCode.truncatedRecording, cpu, message: `${file} is missing: CPU ${cpu} has no recorded events` });
          continue;
        }
        readers.push(new FileCpuReader(path, cpu, this.layout, { onWarning, label: file }));
      }
    } catch (error) {
      for (const r of readers) r.close();
      throw error;
    }
    return readers;
  }

  /** kallsyms stored with the recording (kallsyms.gz or kallsyms), if any. */
  kallsymsPath(): string | null {
    for (const name of ['kallsyms.gz', 'kallsyms']) {
      const path = join(this.root, name);
      if (fs.existsSync(path)) return path;
    }
    return null;
  }
}

/** Files decoding reads besides the per-CPU data (decode-context.ts, registry.ts). */
const DESCRIPTION_FILES = [
  'events/header_page',
  'events/header_event',
  'saved_cmdlines',
  'saved_tgids',
  'printk_formats',
  'trace_clock',
  'buffer_subbuf_size_kb',
  'kernel_constants',
  'kallsyms',
  'kallsyms.gz',
  META_FILE,
  'uname',
  'osrelease',
  'version',
];

/**
 * Every file decoding will read must be a regular file (or absent): a FIFO
 * would block the read forever, a device (a symlink to /dev/zero) never
 * end, and a directory where a file belongs would be taken for an absent
 * file. Format files may also be directories (the registry reports those
 * events as unknown), but not FIFOs or devices.
 */
function checkFileTypes(root: string): void {
  const check = (path: string, directoryAllowed: boolean): void => {
    let st: fs.Stats;
    try {
      st = fs.statSync(path);
    } catch (error) {
      if (isSystemError(error, 'ENOENT') || isSystemError(error, 'ENOTDIR')) return;
      rethrowUserPath(error, path, 'read');
    }
    if (st.isFile() || (directoryAllowed && st.isDirectory())) return;
    if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: ${path}`), { code: 'EISDIR', errno: -21, syscall: 'read', path });
    throw new MalformedInputError(`${path} is not a regular file`);
  };
  const guarded = (path: string, directoryAllowed: boolean): void => {
    try {
      check(path, directoryAllowed);
    } catch (error) {
      rethrowUserPath(error, path, 'read');
    }
  };
  for (const name of DESCRIPTION_FILES) guarded(join(root, name), false);
  for (const dir of ['options', 'events']) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(join(root, dir));
    } catch {
      continue; // absent, or a file: decoding treats both as no options / the registry reports it
    }
    if (dir === 'options') {
      for (const name of names) guarded(join(root, dir, name), false);
      continue;
    }
    for (const system of names) {
      let events: string[];
      try {
        events = fs.readdirSync(join(root, dir, system));
      } catch {
        continue; // header_page and header_event are files
      }
      for (const event of events) guarded(join(root, dir, system, event, 'format'), true);
    }
  }
}

function dataFile(cpu: number): string {
  return `per_cpu/cpu${cpu}/trace_pipe_raw`;
}

function exists(path: string): boolean {
  try {
    fs.statSync(path);
    return true;
  } catch (error) {
    if (isSystemError(error, 'ENOENT')) return false;
    rethrowUserPath(error, path, 'read');
  }
}

function isRegularFile(path: string): boolean {
  try {
    return fs.statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Whole text of a file the recording must have. */
function readUserText(path: string): string {
  return readRegularFile(path);
}

/** Text of an optional file: null when absent; a directory or an unreadable file is an error. */
function readOptional(root: string, relative: string): string | null {
  const path = join(root, relative);
  try {
    fs.statSync(path);
  } catch (error) {
    if (isSystemError(error, 'ENOENT')) return null;
    rethrowUserPath(error, path, 'read');
  }
  return readRegularFile(path);
}

function listCpus(root: string): number[] {
  const path = join(root, 'per_cpu');
  let names: string[];
  try {
    names = fs.readdirSync(path);
  } catch (error) {
    // A recording without per-CPU data decodes nothing.
    if (isSystemError(error, 'ENOENT')) return [];
    rethrowUserPath(error, path, 'list');
  }
  return names
    .map((n) => /^cpu(\d{1,6})$/.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

const META_FIELDS: ReadonlyArray<[keyof RecordingMeta, string]> = [
  ['kernel', 'string'],
  ['littleEndian', 'boolean'],
  ['longSize', 'number'],
  ['pageSize', 'number'],
  ['subbufSize', 'number'],
  ['clock', 'string'],
  ['onlineCpus', 'number'],
  ['createdAt', 'string'],
];

function readMeta(root: string): RecordingMeta | null {
  const text = readOptional(root, META_FILE);
  if (text === null) return null;
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch (error) {
    throw new MalformedInputError(`${META_FILE}: not JSON`, { cause: error });
  }
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    throw new MalformedInputError(`${META_FILE}: not a JSON object (a tracering snapshot description)`);
  }
  const m = meta as Record<string, unknown>;
  if (m.format !== 'tracering-snapshot') throw new MalformedInputError(`${META_FILE}: not a tracering snapshot description (format is not "tracering-snapshot")`);
  if (typeof m.littleEndian !== 'boolean') throw new MalformedInputError(`${META_FILE}: "littleEndian" must be a boolean`);
  // The rest is optional, but of the right type when present.
  for (const [key, type] of META_FIELDS) {
    if (m[key] !== undefined && typeof m[key] !== type) throw new MalformedInputError(`${META_FILE}: "${key}" must be a ${type}`);
  }
  const count = (key: string, max: number) => {
    const v = m[key];
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < 0 || (v as number) > max)) {
      throw new MalformedInputError(`${META_FILE}: "${key}" must be an integer in [0, ${max}]`);
    }
  };
  count('onlineCpus', 1 << 20);
  count('subbufSize', 1 << 30);
  count('pageSize', 1 << 30);
  if (m.longSize !== undefined && m.longSize !== 4 && m.longSize !== 8) throw new MalformedInputError(`${META_FILE}: "longSize" must be 4 or 8`);
  if (m.cpus !== undefined && (!Array.isArray(m.cpus) || !m.cpus.every((c) => Number.isInteger(c) && (c as number) >= 0))) {
    throw new MalformedInputError(`${META_FILE}: "cpus" must be an array of CPU numbers`);
  }
  return m as unknown as RecordingMeta;
}
