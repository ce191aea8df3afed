// trace.dat (v7 by default, v6 on request; zstd where this Node has it):
// the file trace-cmd report and KernelShark open. Pages go to per-CPU
// spools as they arrive (flat memory for hours); at close the formats of
// what was recorded, kallsyms, printk formats, saved_cmdlines and each
// CPU's final stats are written and the spools appended contiguously
// (copy_file_range), then FILE.tmp is renamed to FILE.

import fs from 'node:fs';
import { zlib } from '../lazy-builtins.js';
import type { FormatSource } from '../decode/registry.js';
import { TraceringError } from '../errors.js';
import { EventIdCollector } from '../layout/event-ids.js';
import { type CpuStatText, TraceDatWriter, listLeftovers, removeLeftovers } from '../tracedat/writer.js';
import { zstdCanCompress } from '../tracedat/zstd.js';
import { registerSink } from './factory.js';
import type { BufferInput, SinkEnd, SinkInput, SinkReport, TraceSink } from './sink.js';

const NAME = /^[A-Za-z0-9_.+-]+$/;

/** Options of TraceDatSink. */
export interface TraceDatSinkOptions {
  version?: 6 | 7;
  /** Default: zstd where this Node can compress it, else none (said in the notes). */
  compression?: 'zstd' | 'none';
  /** Store kallsyms (default true). */
  kallsyms?: boolean;
  /** Things to tell a person (a fallback taken). */
  onNote?: (note: string) => void;
}

/** Writes trace-cmd's trace.dat. */
export class TraceDatSink implements TraceSink {
  readonly kind = 'trace.dat';
  readonly path: string;
  readonly #options: TraceDatSinkOptions;
  readonly #compression: 'zstd' | 'none';
  readonly #notes: string[] = [];
  #input: SinkInput | null = null;
  #writer: TraceDatWriter | null = null;
  #ids: EventIdCollector[] | null = null;
  /** For a live input: the systems enabled when it opened (set_event), joined at close with those enabled then. */
  #openSystems = new Set<string>();
  #events = 0;

  constructor(path: string, options: TraceDatSinkOptions = {}) {
    this.path = path;
    this.#options = options;
    if (options.compression === 'zstd' && !zstdCanCompress) {
      throw new TraceringError(
        'ERR_UNSUPPORTED',
        `zstd compression needs Node 22.15 or later (this is Node ${process.versions.node}); use --compression none`,
      );
    }
    this.#compression = options.compression ?? (zstdCanCompress ? 'zstd' : 'none');
    if (options.compression === undefined && this.#compression === 'none') {
      this.#note(`Node ${process.versions.node} has no zstd: writing an uncompressed trace.dat (Node 22.15+ compresses)`);
    }
    const left = listLeftovers(path);
    if (left.live) throw new TraceringError('ERR_OUTPUT_BUSY', `another recording is writing ${path} (${left.files.join(', ')})`);
    if (left.files.length > 0) {
      const bytes = left.files.reduce((n, f) => n + (fs.statSync(f, { throwIfNoEntry: false })?.size ?? 0), 0);
      removeLeftovers(path);
      this.#note(`removed what a killed recording left of ${path}: ${left.files.length} files, ${(bytes / 1048576).toFixed(1)} MB (${left.files.join(', ')})`);
    }
  }

  get bytesWritten(): number {
    return this.#writer?.bytesWritten ?? 0;
  }

  #note(n: string): void {
    this.#notes.push(n);
    this.#options.onNote?.(n);
  }

  open(input: SinkInput): void {
    this.#input = input;
    const first = input.buffers[0];
    if (first === undefined) throw new TraceringError('ERR_INVALID_ARG_VALUE', 'nothing to record: the input has no kernel buffer');
    if (input.rings.length > 0) this.#note('application rings are not stored in trace.dat (use .perfetto-trace or a directory)');
    this.#writer = TraceDatWriter.create(this.path, {
      pageSize: first.layout.subbufSize,
      version: this.#options.version ?? 7,
      compression: this.#compression,
      littleEndian: first.layout.littleEndian,
      buffers: input.buffers.map((b) => ({ name: b.name, clock: b.clock, pageSize: b.layout.subbufSize })),
    });
    // A live buffer records only what set_event enables (and ftrace's own
    // events): its formats need no walk of every record. A file may hold
    // anything: its pages are walked for the ids they use.
    if (input.live) for (const b of input.buffers) for (const s of enabledSystems(b.files)) this.#openSystems.add(s);
    else this.#ids = input.buffers.map((b) => new EventIdCollector(b.layout));
  }

  consume(): void {
    const writer = this.#writer!;
    const live = this.#input!.live;
    for (const [i, buffer] of this.#input!.buffers.entries()) {
      const ids = this.#ids?.[i];
      for (const cursor of buffer.cpus) {
        for (let run = cursor.nextPages(); run !== null; run = cursor.nextPages()) {
          ids?.add(run.bytes);
          this.#events += run.events;
          // Staged pages stay as they are until this consume() settles: written by the flush below, not copied.
          if (live) writer.writePagesUntilFlush(buffer.name, cursor.cpu, run.bytes);
          else writer.writePages(buffer.name, cursor.cpu, run.bytes);
        }
      }
    }
    writer.flush();
  }

  async close(end: SinkEnd): Promise<SinkReport> {
    const input = this.#input!;
    const first = input.buffers[0]!;
    const files = first.files;
    const header = (name: string) => {
      const text = files.readOptional(name) ?? input.files.readOptional(name);
      if (text === null) throw new TraceringError('ERR_MALFORMED_INPUT', `${input.label} has no ${name}`);
      return text;
    };
    const seen = new Set<number>();
    for (const c of this.#ids ?? []) for (const id of c.ids) seen.add(id);
    const { ftrace, systems } = recordedFormats(input.buffers, seen, input.live, this.#openSystems);
    const cpuStats: CpuStatText[] = [];
    const atStart = end.reason === 'drained' || end.reason === 'end-of-input';
    for (const b of input.buffers) {
      const ends = end.buffers.find((e) => e.name === b.name);
      for (const c of b.cpus) {
        const text = (atStart ? b.startStats.get(c.cpu) : ends?.cpus.find((e) => e.cpu === c.cpu)?.stats) ?? b.startStats.get(c.cpu);
        if (text !== undefined && text !== null) cpuStats.push({ buffer: b.name, cpu: c.cpu, text });
      }
    }
    let kallsyms: Uint8Array | null = this.#options.kallsyms === false ? null : input.kallsyms();
    if (kallsyms !== null && kallsyms[0] === 0x1f && kallsyms[1] === 0x8b) kallsyms = zlib().gunzipSync(kallsyms);
    const m = input.machine;
    const result = this.#writer!.finish({
      headerPage: header('events/header_page'),
      headerEvent: header('events/header_event'),
      ftraceFormats: ftrace,
      eventSystems: systems,
      kallsyms,
      printk: input.files.readOptional('printk_formats'),
      cmdlines: input.files.readOptional('saved_cmdlines'),
      cpuCount: Math.max(m.onlineCpus, ...input.buffers.flatMap((b) => b.cpus.map((c) => c.cpu + 1))),
      traceClock: files.readOptional('trace_clock') ?? `[${first.clock}]`,
      ...(m.release !== '' ? { uname: `${m.sysname} ${m.hostname} ${m.release} ${m.machine}` } : {}),
      cpuStats,
    });
    return { kind: this.kind, path: this.path, bytes: result.bytes, events: this.#events, notes: this.#notes };
  }

  abort(): void {
    this.#writer?.abort();
    this.#writer = null;
  }
}

/**
 * The formats a trace.dat of these buffers needs: every ftrace event (print
 * and bprint show trace_marker lines), every system with an event enabled
 * or seen in the data (a file's input: every format it had).
 */
function recordedFormats(
  buffers: readonly BufferInput[],
  seen: ReadonlySet<number>,
  live: boolean,
  enabledAtOpen: ReadonlySet<string>,
): { ftrace: string[]; systems: Array<{ name: string; formats: string[] }> } {
  const files: FormatSource = buffers[0]!.files;
  const wanted = new Set<string>(enabledAtOpen);
  for (const b of buffers) {
    if (!live || b.files.readOptional('set_event') === null) {
      for (const [system] of b.files.listEvents()) wanted.add(system);
      continue;
    }
    for (const system of enabledSystems(b.files)) wanted.add(system);
  }
  const ftrace: string[] = [];
  const bySystem = new Map<string, string[]>();
  const have = new Set<number>();
  const pending: Array<[string, string]> = [];
  for (const [system, event] of files.listEvents()) {
    if (system !== 'ftrace' && !wanted.has(system)) {
      pending.push([system, event]);
      continue;
    }
    const text = readFormat(files, system, event);
    if (text === null) continue;
    const id = idOf(text);
    if (id !== null) have.add(id);
    if (system === 'ftrace') ftrace.push(text);
    else bySystem.set(system, [...(bySystem.get(system) ?? []), text]);
  }
  // Ids in the data from systems nobody enabled (events of another instance's triggers, say).
  const missing = [...seen].filter((id) => !have.has(id));
  if (missing.length > 0) {
    const want = new Set(missing);
    for (const [system, event] of pending) {
      const text = readFormat(files, system, event);
      const id = text === null ? null : idOf(text);
      if (text === null || id === null || !want.has(id)) continue;
      bySystem.set(system, [...(bySystem.get(system) ?? []), text]);
      want.delete(id);
      if (want.size === 0) break;
    }
  }
  return { ftrace, systems: [...bySystem].map(([name, formats]) => ({ name, formats })) };
}

/** Systems with an event enabled in a live buffer (its set_event). */
function enabledSystems(files: FormatSource): string[] {
  const out: string[] = [];
  for (const line of (files.readOptional('set_event') ?? '').split('\n')) {
    const system = line.split(':')[0]?.trim();
    if (system && NAME.test(system)) out.push(system);
  }
  return out;
}

function readFormat(files: FormatSource, system: string, event: string): string | null {
  try {
    return files.readFormat(system, event);
  } catch {
    return null;
  }
}

function idOf(text: string): number | null {
  const m = /^ID: (\d+)$/m.exec(text);
  return m === null ? null : Number(m[1]);
}

registerSink('trace.dat', (path, o) => new TraceDatSink(path, {
  ...(o.fileVersion !== undefined ? { version: o.fileVersion } : {}),
  ...(o.compression !== undefined ? { compression: o.compression } : {}),
  ...(o.kallsyms === false ? { kallsyms: false } : {}),
  ...(o.onNote !== undefined ? { onNote: o.onNote } : {}),
}));
