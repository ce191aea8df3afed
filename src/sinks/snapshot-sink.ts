// A recording directory laid out like tracefs (what `tracering report DIR`
// reads on any machine): events/header_page, header_event, the format files
// of the recorded events, saved_cmdlines, saved_tgids, printk_formats,
// trace_clock, options/*, buffer_subbuf_size_kb, kernel_constants,
// kallsyms.gz, tracering.json, and per_cpu/cpuN/{trace_pipe_raw,stats}
// holding the sub-buffers verbatim.
//
// It is written under DIR.tmp and renamed at close. DIR.tmp is a valid
// recording from the start (metadata first, pages as they come), so what a
// killed run consumed can be read with `tracering report DIR.tmp`.

import fs from 'node:fs';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { zlib } from '../lazy-builtins.js';
import { CONSTANTS_FILE, constantsUsedBy, formatKernelConstants, readLiveKernelConstants } from '../decode/kernel-constants.js';
import type { FormatSource } from '../decode/registry.js';
import { TraceringError } from '../errors.js';
import { EventIdCollector } from '../layout/event-ids.js';
import { META_FILE, type RecordingMeta } from '../recording/recording.js';
import type { BufferInput, SinkEnd, SinkInput, SinkReport, TraceSink } from './sink.js';
import { fileError } from './file-errors.js';

const NAME = /^[A-Za-z0-9_.+-]+$/;
const FLUSH_BYTES = 256 * 1024;

interface CpuFile {
  cpu: number;
  fd: number;
  pending: Uint8Array;
  used: number;
}

/** Options of SnapshotSink. */
export interface SnapshotSinkOptions {
  /** Store kallsyms (gzipped) with the recording; default true. */
  kallsyms?: boolean;
}

/** Writes a snapshot directory (laid out like tracefs). */
export class SnapshotSink implements TraceSink {
  readonly kind = 'snapshot';
  readonly path: string;
  readonly tmp: string;
  readonly #options: SnapshotSinkOptions;
  #input: SinkInput | null = null;
  #buffer: BufferInput | null = null;
  #files: CpuFile[] = [];
  /** Ids the pages hold, for a file's input (a live buffer's formats come from set_event). */
  #ids: EventIdCollector | null = null;
  readonly #copied = new Set<string>();
  #bytes = 0;
  #events = 0;
  #pages = 0;
  #aborted = false;

  get bytesWritten(): number {
    return this.#bytes;
  }

  /** Event formats stored so far. */
  get formats(): number {
    return this.#copied.size;
  }

  /** Refuses an output that exists (or the leftover of a killed run) before anything is traced. */
  constructor(path: string, options: SnapshotSinkOptions = {}) {
    this.path = path;
    this.tmp = join(dirname(path), `${basename(path)}.tmp`);
    this.#options = options;
    this.#checkFree();
  }

  #checkFree(): void {
    if (fs.existsSync(this.path) && !(fs.statSync(this.path).isDirectory() && fs.readdirSync(this.path).length === 0)) {
      throw new TraceringError('ERR_OUTPUT_EXISTS', `${this.path} exists; recordings go to a new (or empty) directory`);
    }
    if (fs.existsSync(this.tmp)) {
      throw new TraceringError(
        'ERR_OUTPUT_EXISTS',
        `${this.tmp} is left over from a recording that was killed; it holds what that run captured ` +
          `(read it with: tracering report ${this.tmp}); move or remove it first`,
      );
    }
  }

  open(input: SinkInput): void {
    this.#input = input;
    const buffer = input.buffers[0];
    if (buffer === undefined) throw new TraceringError('ERR_INVALID_ARG_VALUE', 'nothing to record: the input has no kernel buffer');
    this.#buffer = buffer;
    this.#checkFree();
    try {
      fs.mkdirSync(this.tmp, { recursive: true });
    } catch (error) {
      throw fileError(error, this.tmp, 'create the recording directory');
    }
    this.#ids = input.live ? null : new EventIdCollector(buffer.layout);
    this.#writeMetadata(input, buffer);
    for (const c of buffer.cpus) {
      const path = join(this.tmp, `per_cpu/cpu${c.cpu}/trace_pipe_raw`);
      this.#mkdirFor(path);
      let fd: number;
      try {
        fd = fs.openSync(path, 'w');
      } catch (error) {
        throw fileError(error, path, 'create');
      }
      this.#files.push({ cpu: c.cpu, fd, pending: new Uint8Array(FLUSH_BYTES), used: 0 });
    }
  }

  consume(): void {
    const buffer = this.#buffer!;
    const ids = this.#ids;
    for (const [i, cursor] of buffer.cpus.entries()) {
      const file = this.#files[i]!;
      for (let run = cursor.nextPages(); run !== null; run = cursor.nextPages()) {
        ids?.add(run.bytes);
        this.#events += run.events;
        this.#pages += run.pages;
        this.#append(file, run.bytes);
      }
      this.#flush(file);
    }
  }

  async close(end: SinkEnd): Promise<SinkReport> {
    const input = this.#input!;
    const buffer = this.#buffer!;
    for (const f of this.#files) {
      this.#flush(f);
      fs.closeSync(f.fd);
    }
    this.#files = [];
    const ends = end.buffers.find((b) => b.name === buffer.name) ?? end.buffers[0];
    // A drained buffer keeps its figures from before the drain (what its
    // `trace` file showed); a recording made while tracing, those at its end.
    const atStart = end.reason === 'drained' || end.reason === 'end-of-input';
    for (const c of buffer.cpus) {
      const stats = (atStart ? buffer.startStats.get(c.cpu) : ends?.cpus.find((e) => e.cpu === c.cpu)?.stats) ?? buffer.startStats.get(c.cpu) ?? null;
      if (stats !== null) this.#write(`per_cpu/cpu${c.cpu}/stats`, stats);
    }
    if (input.live) this.#copyEnabledFormats(buffer);
    else this.#copyMissingFormats(buffer.files);
    // Names last: saved_cmdlines holds the latest comm per pid, as `trace` shows it.
    for (const file of ['saved_cmdlines', 'saved_tgids']) {
      const text = input.files.readOptional(file);
      if (text !== null) this.#write(file, text);
    }
    this.#write(META_FILE, `${JSON.stringify(this.#meta(input, buffer), null, 2)}\n`);
    try {
      fs.renameSync(this.tmp, this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw fileError(error, this.path, 'rename the recording into place');
      }
      // An empty directory was there: replace it.
      fs.rmdirSync(this.path);
      fs.renameSync(this.tmp, this.path);
    }
    return { kind: this.kind, path: this.path, bytes: this.#bytes, events: this.#events, notes: [] };
  }

  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    for (const f of this.#files) {
      try {
        fs.closeSync(f.fd);
      } catch {
        // already closed
      }
    }
    this.#files = [];
    // Pages already taken from the kernel are gone from it: keep them.
    if (this.#pages === 0) fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  #append(file: CpuFile, bytes: Uint8Array): void {
    if (file.used + bytes.byteLength > file.pending.byteLength) this.#flush(file);
    if (bytes.byteLength >= file.pending.byteLength) {
      this.#writeAll(file.fd, bytes, file.cpu);
      return;
    }
    file.pending.set(bytes, file.used);
    file.used += bytes.byteLength;
  }

  #flush(file: CpuFile): void {
    if (file.used === 0) return;
    this.#writeAll(file.fd, file.pending.subarray(0, file.used), file.cpu);
    file.used = 0;
  }

  #writeAll(fd: number, bytes: Uint8Array, cpu: number): void {
    let done = 0;
    try {
      while (done < bytes.byteLength) done += fs.writeSync(fd, bytes, done, bytes.byteLength - done);
    } catch (error) {
      throw fileError(error, join(this.tmp, `per_cpu/cpu${cpu}/trace_pipe_raw`), 'write');
    }
    this.#bytes += bytes.byteLength;
  }

  #mkdirFor(path: string): void {
    try {
      fs.mkdirSync(dirname(path), { recursive: true });
    } catch (error) {
      throw fileError(error, dirname(path), 'create');
    }
  }

  #write(relative: string, data: string | Uint8Array): void {
    const path = join(this.tmp, relative);
    this.#mkdirFor(path);
    try {
      fs.writeFileSync(path, data);
    } catch (error) {
      throw fileError(error, path, 'write');
    }
    this.#bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  }

  #copyFormat(files: FormatSource, system: string, event: string): string | null {
    const rel = `${system}/${event}`;
    if (this.#copied.has(rel)) return null;
    let text: string;
    try {
      text = files.readFormat(system, event);
    } catch {
      return null;
    }
    this.#write(`events/${rel}/format`, text);
    this.#copied.add(rel);
    return text;
  }

  #writeMetadata(input: SinkInput, buffer: BufferInput): void {
    for (const file of ['events/header_page', 'events/header_event']) {
      // The instance's own: it describes that buffer's sub-buffer size.
      const text = buffer.files.readOptional(file) ?? input.files.readOptional(file);
      if (text === null) throw new TraceringError('ERR_MALFORMED_INPUT', `${input.label} has no ${file}`);
      this.#write(file, text);
    }
    // Formats: ftrace's own events and the enabled systems now; any other id
    // the data holds is added at close.
    const systems = new Set(['ftrace']);
    const setEvent = buffer.files.readOptional('set_event');
    const all = buffer.files.listEvents();
    if (setEvent === null || !input.live) for (const [system] of all) systems.add(system);
    else for (const line of setEvent.split('\n')) {
      const system = line.split(':')[0]?.trim();
      if (system && NAME.test(system)) systems.add(system);
    }
    const texts: string[] = [];
    for (const [system, event] of all) {
      if (!systems.has(system)) continue;
      const text = this.#copyFormat(buffer.files, system, event);
      if (text !== null) texts.push(text);
    }
    // Kernel constants the formats use: from the running kernel when live,
    // else whatever the input carries.
    if (input.live) this.#write(CONSTANTS_FILE, formatKernelConstants(constantsUsedBy(texts, readLiveKernelConstants())));
    else {
      const text = input.files.readOptional(CONSTANTS_FILE);
      if (text !== null) this.#write(CONSTANTS_FILE, text);
    }
    for (const file of ['printk_formats', 'saved_cmdlines', 'saved_tgids']) {
      const text = input.files.readOptional(file);
      if (text !== null) this.#write(file, text);
    }
    for (const file of ['trace_clock', 'buffer_subbuf_size_kb']) {
      const text = buffer.files.readOptional(file);
      if (text !== null) this.#write(file, text);
    }
    for (const name of buffer.files.listDir?.('options') ?? []) {
      const text = buffer.files.readOptional(`options/${name}`);
      if (text !== null) this.#write(`options/${name}`, text);
    }
    if (this.#options.kallsyms !== false) {
      const symbols = input.kallsyms();
      if (symbols !== null) this.#write('kallsyms.gz', symbols[0] === 0x1f && symbols[1] === 0x8b ? symbols : zlib().gzipSync(symbols));
    }
  }

  /** Formats of systems enabled since open (a live buffer records only what set_event enables). */
  #copyEnabledFormats(buffer: BufferInput): void {
    const systems = new Set<string>();
    for (const line of (buffer.files.readOptional('set_event') ?? '').split('\n')) {
      const system = line.split(':')[0]?.trim();
      if (system && NAME.test(system)) systems.add(system);
    }
    if (systems.size === 0) return;
    for (const [system, event] of buffer.files.listEvents()) if (systems.has(system)) this.#copyFormat(buffer.files, system, event);
  }

  #copyMissingFormats(files: FormatSource): void {
    const have = new Set<number>();
    for (const rel of this.#copied) {
      const id = /^ID: (\d+)$/m.exec(fs.readFileSync(join(this.tmp, 'events', rel, 'format'), 'utf8'))?.[1];
      if (id !== undefined) have.add(Number(id));
    }
    const missing = [...(this.#ids?.ids ?? [])].filter((id) => !have.has(id));
    if (missing.length === 0) return;
    const wanted = new Set(missing);
    for (const [system, event] of files.listEvents()) {
      if (this.#copied.has(`${system}/${event}`)) continue;
      let text: string;
      try {
        text = files.readFormat(system, event);
      } catch {
        continue;
      }
      const id = /^ID: (\d+)$/m.exec(text)?.[1];
      if (id !== undefined && wanted.has(Number(id))) {
        this.#write(`events/${system}/${event}/format`, text);
        this.#copied.add(`${system}/${event}`);
        wanted.delete(Number(id));
        if (wanted.size === 0) return;
      }
    }
  }

  #meta(input: SinkInput, buffer: BufferInput): RecordingMeta {
    const clock = /\[([^\]]+)\]/.exec(buffer.files.readOptional('trace_clock') ?? '')?.[1] ?? buffer.clock;
    return {
      format: 'tracering-snapshot',
      version: 1,
      kernel: input.machine.release || os.release(),
      littleEndian: buffer.layout.littleEndian,
      longSize: buffer.layout.longSize,
      pageSize: Math.min(buffer.layout.subbufSize, 4096),
      subbufSize: buffer.layout.subbufSize,
      clock,
      cpus: buffer.cpus.map((c) => c.cpu),
      onlineCpus: input.machine.onlineCpus,
      createdAt: new Date().toISOString(),
    };
  }
}
