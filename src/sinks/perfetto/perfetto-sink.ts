// The Perfetto output: a protobuf Trace (a stream of TracePackets) in a
// .perfetto-trace / .pftrace file, written as the input arrives.
//
// Packets, in file order:
//   ClockSnapshot (boot, mono)      when a pair is known: maps the rings' mono
//   SystemInfo                      uname, CPUs
//   ProcessTree                     saved_cmdlines + saved_tgids (+ /proc, live)
//   FtraceStats START_OF_TRACE      each CPU's stats file at the start
//   FtraceEventBundle ...           per CPU, every eventsPerBundle events
//   TrackDescriptor / TrackEvent    the application rings' events
//   ProcessTree (live)              the names saved_cmdlines holds at the end
//   FtraceStats END_OF_TRACE        each CPU's stats at the end (+ staging losses)
//   TraceStats                      ring losses
//
// Memory is flat: a CPU's open bundle holds at most eventsPerBundle events;
// everything else goes to the file as it is made. The file is written under
// a temporary name and renamed at close(); abort() removes it.

import { InvalidArgumentError } from '../../errors.js';
import type { BufferInput, ClockPair, CpuEnd, SinkEnd, SinkInput, SinkReport, TraceSink } from '../sink.js';
import { type ClockPlan, monoBootNow, pairFor, planClocks } from './clocks.js';
import { FtraceStatsPhase, SystemInfo, TracePacket, Utsname } from './fields.js';
import { CpuBundleWriter, EncoderTable } from './ftrace-bundle.js';
import { OutputFile } from './output-file.js';
import { TaskTable, addProcTasks, addSavedTasks, writeProcessTree } from './process-tree.js';
import { ProtoWriter } from './proto-writer.js';
import { writeFtraceStats, writeTraceStats } from './stats.js';
import { RingTrackWriter, TrackRegistry, writeClockSnapshot } from './track-events.js';

/** Options of PerfettoSink. */
export interface PerfettoSinkOptions {
  /** Which kernel buffer to write ('' the top level, else an instance name; default the input's first). */
  buffer?: string;
  /** Leave out application rings. */
  noRings?: boolean;
  /** sched_switch and sched_waking in the compact_sched form (default true). */
  compactSched?: boolean;
  /** Events per FtraceEventBundle and CPU (default 4096): the memory bound. */
  eventsPerBundle?: number;
  /** Read /proc at open() for process and thread names (default: when the input is live). */
  procScan?: boolean;
  /** (trace clock, boot) pairs to use besides the input's (e.g. recorded beside a recording). */
  clockPairs?: readonly ClockPair[];
}

/** File names the Perfetto output is chosen for. */
export const PERFETTO_EXTENSIONS = ['.perfetto-trace', '.pftrace'] as const;

/** Whether `path` names a Perfetto trace (by its extension). */
export function isPerfettoPath(path: string): boolean {
  return PERFETTO_EXTENSIONS.some((ext) => path.endsWith(ext));
}

/** Writes `path` (a .perfetto-trace or .pftrace file) from a sink input. */
export function createPerfettoSink(path: string, options: PerfettoSinkOptions = {}): PerfettoSink {
  return new PerfettoSink(path, options);
}

/** Sequence of the kernel's packets and the trace's metadata; rings get 2, 3, ... */
const KERNEL_SEQUENCE = 1;
/** Small packets gather here until this many bytes, then go to the file. */
const META_FLUSH_BYTES = 1 << 18;

export class PerfettoSink implements TraceSink {
  readonly kind = 'perfetto';
  readonly path: string;
  readonly #options: PerfettoSinkOptions;
  #file: OutputFile | null = null;
  #lastWritten = 0;

  get bytesWritten(): number {
    if (this.#file !== null) this.#lastWritten = this.#file.written;
    return this.#lastWritten;
  }
  #input: SinkInput | null = null;
  #buffer: BufferInput | undefined;
  #clock: ClockPlan | null = null;
  #encoders: EncoderTable | null = null;
  #cpus: CpuBundleWriter[] = [];
  #rings: RingTrackWriter[] = [];
  readonly #meta = new ProtoWriter(1 << 16);
  readonly #tasks = new TaskTable();
  #notes: string[] = [];
  #aborted = false;

  constructor(path: string, options: PerfettoSinkOptions = {}) {
    if (typeof path !== 'string' || path === '') throw new InvalidArgumentError('the Perfetto output needs a file path');
    const n = options.eventsPerBundle ?? 4096;
    if (!Number.isInteger(n) || n < 1 || n > 1 << 20) throw new InvalidArgumentError('eventsPerBundle must be an integer in 1..1048576');
    this.path = path;
    this.#options = options;
  }

  /** Events written per kernel CPU (compact sched included), for reports and tests. */
  get cpuEvents(): ReadonlyMap<number, number> {
    return new Map(this.#cpus.map((c) => [c.cpu, c.events]));
  }

  open(input: SinkInput): void {
    const o = this.#options;
    const buffer = o.buffer === undefined ? input.buffers[0] : input.buffers.find((b) => b.name === o.buffer);
    if (o.buffer !== undefined && buffer === undefined) throw new InvalidArgumentError(`the input has no trace buffer "${o.buffer}"`);
    const pairs = [...(o.clockPairs ?? []), ...input.clockPairs];
    // Refuses clocks Perfetto cannot place before anything is created.
    const clock = planClocks(buffer?.clock ?? 'boot', pairs);
    this.#clock = clock;
    this.#notes.push(...clock.notes);
    this.#input = input;
    this.#buffer = buffer;
    this.#file = OutputFile.create(this.path);
    const w = this.#meta;

    // mono ↔ boot for the rings: the kernel's own pair when it is mono (the very offset its events got), else any pair, else now.
    const mono = clock.traceClock === 'mono' && clock.pair !== null ? { monoNs: clock.pair.traceNs, bootNs: clock.pair.bootNs } : pairs[0];
    const rings = o.noRings ? [] : input.rings;
    if (mono !== undefined) writeClockSnapshot(w, mono.bootNs, mono.monoNs, KERNEL_SEQUENCE);
    else if (rings.length > 0) {
      if (input.live) {
        const now = monoBootNow();
        writeClockSnapshot(w, now.bootNs, now.monoNs, KERNEL_SEQUENCE);
      } else this.#notes.push('no (mono, boot) clock pair: application events are placed as if mono were boot');
    }
    this.#systemInfo(input);

    addSavedTasks(this.#tasks, input.files.readOptional('saved_cmdlines'), input.files.readOptional('saved_tgids'));
    if (o.procScan ?? input.live) addProcTasks(this.#tasks);
    writeProcessTree(w, this.#tasks, KERNEL_SEQUENCE);

    if (buffer !== undefined) {
      writeFtraceStats(
        w,
        FtraceStatsPhase.startOfTrace,
        buffer.cpus.map((c) => ({ cpu: c.cpu, text: buffer.startStats.get(c.cpu) ?? null, extraDropped: 0 })),
        KERNEL_SEQUENCE,
      );
      const ctx = input.context(buffer);
      this.#encoders = new EncoderTable(ctx.registry, ctx.littleEndian, o.compactSched ?? true);
      const file = this.#file;
      const bundleOptions = {
        eventsPerBundle: o.eventsPerBundle ?? 4096,
        clock,
        littleEndian: ctx.littleEndian,
        sequenceId: KERNEL_SEQUENCE,
      };
      this.#cpus = buffer.cpus.map((c) => new CpuBundleWriter(c.cpu, bundleOptions, (bytes) => file.write(bytes)));
    }
    const tracks = new TrackRegistry();
    this.#rings = rings.map((r, i) => new RingTrackWriter(r, i, KERNEL_SEQUENCE + 1 + i, this.#tasks, tracks));
    this.#flushMeta(true);
  }

  #systemInfo(input: SinkInput): void {
    const w = this.#meta;
    const m = input.machine;
    const packet = w.begin(1);
    const info = w.begin(TracePacket.systemInfo);
    const u = w.begin(SystemInfo.utsname);
    if (m.sysname !== '') w.string(Utsname.sysname, m.sysname);
    if (m.release !== '') w.string(Utsname.release, m.release);
    if (m.machine !== '') w.string(Utsname.machine, m.machine);
    w.end(u);
    if (m.onlineCpus > 0) w.int(SystemInfo.numCpus, m.onlineCpus);
    w.end(info);
    w.int(TracePacket.trustedPacketSequenceId, KERNEL_SEQUENCE);
    w.end(packet);
  }

  #flushMeta(force: boolean): void {
    const w = this.#meta;
    if (w.pos === 0 || (!force && w.pos < META_FLUSH_BYTES)) return;
    this.#file!.write(w.bytes());
    w.reset();
  }

  consume(): void {
    if (this.#file === null || this.#aborted) return;
    const buffer = this.#buffer;
    if (buffer !== undefined) {
      const encoders = this.#encoders!;
      buffer.cpus.forEach((cursor, i) => {
        const out = this.#cpus[i]!;
        for (let batch = cursor.next(); batch !== null; batch = cursor.next()) out.addBatch(batch, encoders);
      });
    }
    for (const ring of this.#rings) {
      for (let batch = ring.ring.cursor.next(); batch !== null; batch = ring.ring.cursor.next()) {
        ring.addBatch(batch, this.#meta);
        this.#flushMeta(false);
      }
    }
    this.#flushMeta(true);
  }

  async close(end: SinkEnd): Promise<SinkReport> {
    const file = this.#file;
    if (file === null) throw new InvalidArgumentError('close() before open()');
    const input = this.#input!;
    const buffer = this.#buffer;
    const ends = new Map<number, CpuEnd>();
    const ended = buffer === undefined ? undefined : end.buffers.find((b) => b.name === buffer.name);
    for (const c of ended?.cpus ?? []) ends.set(c.cpu, c);
    for (const cpu of this.#cpus) {
      cpu.flush();
      // Staging losses after the last page reached no bundle flag yet.
      const lostLate = (ends.get(cpu.cpu)?.stagingLost ?? 0) > 0 && cpu.lossBundles === 0;
      if (lostLate) cpu.emptyBundle(true);
    }
    const w = this.#meta;
    if (input.live) {
      // saved_cmdlines read now holds the names of tasks that started during the capture.
      addSavedTasks(this.#tasks, input.files.readOptional('saved_cmdlines'), input.files.readOptional('saved_tgids'));
      writeProcessTree(w, this.#tasks, KERNEL_SEQUENCE);
    }
    if (buffer !== undefined) {
      writeFtraceStats(
        w,
        FtraceStatsPhase.endOfTrace,
        buffer.cpus.map((c) => {
          const e = ends.get(c.cpu);
          return { cpu: c.cpu, text: e?.stats ?? buffer.startStats.get(c.cpu) ?? null, extraDropped: e?.stagingLost ?? 0 };
        }),
        KERNEL_SEQUENCE,
      );
    }
    if (this.#rings.length > 0) {
      writeTraceStats(
        w,
        this.#rings.map((r) => {
          const reported = end.rings.find((e) => e.name === r.ring.name)?.lost ?? 0;
          return { sequenceId: r.sequenceId, lost: Math.max(reported, r.lost) };
        }),
        KERNEL_SEQUENCE,
      );
    }
    const endPair = this.#clock?.pair === null ? null : pairFor(this.#clock!.traceClock, end.clockPairs);
    if (endPair !== null && this.#clock!.ftraceClock === null && this.#clock!.offsetNs !== 0n) {
      const drift = endPair.bootNs - endPair.traceNs - this.#clock!.offsetNs;
      if (drift > 1_000_000n || drift < -1_000_000n) {
        this.#notes.push(`boot - ${this.#clock!.traceClock} moved by ${drift} ns during the recording (a suspend?); events were converted with the start offset`);
      }
    }
    this.#flushMeta(true);
    file.commit();
    this.#file = null;
    let events = 0;
    for (const c of this.#cpus) events += c.events;
    for (const r of this.#rings) events += r.events;
    return { kind: this.kind, path: this.path, bytes: file.written, events, notes: this.#notes };
  }

  abort(_reason?: unknown): void {
    this.#aborted = true;
    this.#file?.discard();
    this.#file = null;
  }
}
