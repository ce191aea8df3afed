// Drain benchmark: cost per event of consuming a full per-CPU ring buffer,
// tracering vs a small C reference consumer of the same path, both paths
// (mmap + GET_READER, read()) at 4, 16, 64 and 256 KiB sub-buffers.
//
// For each (sub-buffer size, path), in a private tracefs instance:
//   1. empty the buffer, fill it with EVENTS raw markers from bench/c/fill.c
//      pinned to CPU, and check the kernel's stats hold exactly EVENTS;
//   2. drain it with bench/c/drain.c (pinned to CPU) or with tracering
//      (TraceSource on that CPU, the calling thread pinned to CPU and Node's
//      other threads kept off it), timing only the drain loop (not
//      open/mmap/close) on both sides, by CPU time (user + system: the
//      machine is shared; wall time beside it): the C consumer's thread,
//      tracering's whole process (Node's helper threads included);
//   3. check the consumer counted exactly the events the kernel had, and the
//      kernel now reports them all read.
// Rounds alternate which consumer goes first and repeat until the spread of
// the paired ratios is within 4% (or TRBENCH_ROUNDS); medians are reported
// with the spread and the load while measured. Each configuration runs in
// its own Node process (see runChild). Goals (issue 13): tracering within
// 1.2x of the C consumer on mmap and 1.5x on read(), at every sub-buffer
// size (judged on CPU time).
//
// On read(), two more consumers per round: the capture thread's staging of
// the same pages, native (ReadCpuReader.stageDirect) and by batches, as
// CPU per event beside the C consumer's (issue 14).
//
// Environment: TRBENCH_EVENTS (default 1000000), TRBENCH_ROUNDS (at most, 9),
// TRBENCH_CPU (the last CPU), TRBENCH_WRITE_BYTES (16: u32 id + 12 bytes, a
// 24-byte event payload, 28-byte records), TRBENCH_SUBBUF_KB ("4,16,64,256"),
// TRBENCH_PATHS ("mmap,read").
//
// Output: progress lines, a table (path, sub-buffer size, events, ns/event
// and events/s for both consumers, their ratio, min-max per consumer), then
// one JSON line (the summary for CI logs). Exit status 1 if a count is wrong
// or anything fails; the goal is reported in the summary, not enforced.
//
// Run: npm run bench -- drain   (or node --import tsx bench/drain.ts)

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReaderMode } from '../src/kernel/cpu-reader.js';
import { StagingRing } from '../src/capture/staging-ring.js';
import { ReadCpuReader } from '../src/kernel/read-cpu-reader.js';
import { TraceSource } from '../src/kernel/trace-source.js';
import { type Instance, Tracefs } from '../src/kernel/tracefs.js';
import { STAGE_STATUS, native } from '../src/native.js';
import {
  type Figure,
  type Load,
  LoadMeter,
  busyShare,
  compileC,
  envInt,
  figureJson,
  outDir,
  printFigures,
  ratios,
  runIfMain,
  processCpuNs,
  runJson,
  stat,
  usableTracefs,
} from './lib/common.js';

const GOALS: Record<ReaderMode, number> = { mmap: 1.2, read: 1.5 };
/** Bounds: per C helper, per fill, per configuration (a Node child) and for the whole suite. */
const CHILD_TIMEOUT_MS = 60_000;
const FILL_MAX_MS = 20_000;
const CONFIG_MAX_MS = 5 * 60_000;
const SUITE_MAX_MS = 15 * 60_000;
const MAX_EVENTS = 20_000_000;

/** Set by SIGINT/SIGTERM; checked between steps (the instance is always removed). */
let interrupted: string | null = null;
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
function checkInterrupted(): void {
  if (interrupted !== null) throw new Error(`interrupted by ${interrupted}`);
}
/** A helper program ended by Ctrl-C/SIGTERM: the suite is being interrupted. */
function onChildSignal(signal: string): void {
  interrupted ??= signal;
  checkInterrupted();
}
function onSignal(signal: string): void {
  interrupted = signal;
}

interface Config {
  events: number;
  rounds: number;
  cpu: number;
  writeBytes: number;
  subbufKbs: number[];
  paths: ReaderMode[];
}


function readConfig(): Config {
  const cpus = os.availableParallelism();
  const subbufKbs = (process.env.TRBENCH_SUBBUF_KB ?? '4,16,64,256').split(',').map(Number);
  if (subbufKbs.some((k) => !Number.isInteger(k) || k < 4 || k > 512 || (k & (k - 1)) !== 0)) {
    throw new RangeError('TRBENCH_SUBBUF_KB: powers of two in 4..512, comma-separated');
  }
  const paths = (process.env.TRBENCH_PATHS ?? 'mmap,read').split(',');
  if (paths.some((p) => p !== 'mmap' && p !== 'read')) throw new RangeError('TRBENCH_PATHS: mmap and/or read');
  return {
    events: envInt('TRBENCH_EVENTS', 1_000_000, 1000, MAX_EVENTS),
    rounds: envInt('TRBENCH_ROUNDS', 9, 1, 50),
    cpu: envInt('TRBENCH_CPU', cpus - 1, 0, cpus - 1),
    writeBytes: envInt('TRBENCH_WRITE_BYTES', 16, 4, 1000),
    subbufKbs,
    paths: paths as ReaderMode[],
  };
}

// --- the C side ---------------------------------------------------------------


/** Runs a bench binary, bounded in time, and parses the JSON line it prints. */

interface FillResult {
  written: number;
  stop: string;
  elapsed_ns: number;
}
interface CDrainResult {
  events: number;
  bytes: number;
  subbufs: number;
  calls: number;
  corrupt: number;
  elapsed_ns: number;
  cpu_ns: number;
}

// --- one measurement ------------------------------------------------------------

interface Sample {
  events: number;
  /** Wall and on-CPU time of the drain loop. */
  ns: number;
  cpuNs: number;
  subbufs: number;
}

/** Bytes of one raw_data record: 8-byte common header + the write, plus the record header (kernel-abi.md §6.2). */
function recordBytes(writeBytes: number): number {
  const payload = 8 + writeBytes;
  let len = payload > 112 ? payload + 8 : payload + 4;
  len = (len + 3) & ~3;
  return len === 12 ? 16 : len;
}

class DrainBench {
  #source: TraceSource | null = null;
  #reader: ReadCpuReader | null = null;

  constructor(
    readonly instance: Instance,
    readonly cfg: Config,
    readonly bin: { drain: string; fill: string },
  ) {}

  /** Sizes the instance so `events` records fit on cfg.cpu with room to spare. */
  setup(subbufKb: number): void {
    const { instance, cfg } = this;
    instance.setOption('overwrite', false); // a mis-sized buffer refuses writes instead of losing events
    instance.setSubbufSizeKb(subbufKb);
    instance.setBufferSizeKb(1); // other CPUs: the 2-sub-buffer minimum
    const data = subbufKb * 1024 - 16;
    const perSubbuf = Math.floor(data / recordBytes(cfg.writeBytes));
    // Slack for TIME_EXTEND records (a preempted filler) and the reader page.
    const subbufs = Math.ceil((cfg.events / perSubbuf) * 1.02) + 8;
    instance.setCpuBufferSizeKb(cfg.cpu, Math.ceil((subbufs * data) / 1024));
  }

  /** Empties the buffer and writes exactly cfg.events records on cfg.cpu; returns the kernel's count. */
  fill(events: number): number {
    const { instance, cfg } = this;
    instance.clear();
    const r = runJson<FillResult>(this.bin.fill, [
      '--file', instance.file('trace_marker_raw'),
      '--cpu', String(cfg.cpu),
      '--count', String(events),
      '--size', String(cfg.writeBytes),
      '--max-ms', String(FILL_MAX_MS),
    ], CHILD_TIMEOUT_MS, onChildSignal);
    const stats = instance.cpuStats(cfg.cpu);
    if (r.written !== events || r.stop !== 'count') {
      throw new Error(`filler stopped early (${r.stop}) after ${r.written} of ${events} writes`);
    }
    if (stats.entries !== events || stats.overrun !== 0 || stats.droppedEvents !== 0 || stats.readEvents !== 0) {
      throw new Error(`after writing ${events} events the kernel holds ${JSON.stringify(stats)}`);
    }
    return stats.entries;
  }

  /** After a drain: the consumer's count must be the kernel's, and the buffer empty. */
  check(who: string, counted: number, expected: number): void {
    const stats = this.instance.cpuStats(this.cfg.cpu);
    if (counted !== expected || stats.readEvents !== expected || stats.entries !== 0) {
      throw new Error(
        `${who} counted ${counted} events; the kernel had ${expected}, now reports ` +
          `${stats.readEvents} read and ${stats.entries} left`,
      );
    }
  }

  drainC(path: ReaderMode, expected: number): Sample {
    const r = runJson<CDrainResult>(this.bin.drain, [
      '--dir', this.instance.path,
      '--cpu', String(this.cfg.cpu),
      '--mode', path,
      '--max-ms', String(CHILD_TIMEOUT_MS / 2),
    ], CHILD_TIMEOUT_MS, onChildSignal);
    if (r.corrupt !== 0) throw new Error(`C consumer found ${r.corrupt} corrupt sub-buffers`);
    this.check(`C consumer (${path})`, r.events, expected);
    return { events: r.events, ns: r.elapsed_ns, cpuNs: r.cpu_ns, subbufs: r.subbufs };
  }

  drainTracering(path: ReaderMode, expected: number): Sample {
    const { cfg } = this;
    // Opening (flock, mmap of the whole buffer) is setup, as on the C side.
    const source = TraceSource.open(this.instance, { mode: path, cpus: [cfg.cpu], checkConsumers: false });
    this.#source = source;
    let counted = 0;
    const { ns, cpuNs } = this.#timed(() =>
      source.drain((batch) => {
        counted += batch.count;
      }),
    );
    const summary = source.finish();
    this.#source = null;
    source.close();
    const t = summary.total;
    if (t.events !== counted || t.lost !== 0 || t.corrupt !== 0 || t.resets !== 0 || t.consumedElsewhere !== 0) {
      throw new Error(`tracering (${path}) counters disagree: ${JSON.stringify(t)} vs ${counted} delivered`);
    }
    this.check(`tracering (${path})`, counted, expected);
    return { events: counted, ns, cpuNs, subbufs: t.subbufs };
  }

  /**
   * The capture thread's read() path: every sub-buffer into a staging slot,
   * `native` by ReadCpuReader.stageDirect (no JavaScript per page), else as
   * batches copied into slots (what the capture thread did before, and does
   * for pages the native path hands back). Slots are claimed and released
   * every 64 pages, as an output thread that keeps up does, so the slots
   * stay few and warm, as the C consumer's buffer does.
   */
  drainStaged(expected: number, direct: boolean): Sample {
    const { cfg } = this;
    const reader = ReadCpuReader.open(this.instance, cfg.cpu, { pagesPerBatch: 1 });
    this.#reader = reader;
    const ring = StagingRing.create({ cpus: 1, slots: 256, slotSize: reader.layout.subbufSize }, 'block');
    const target = { memory: ring.bytes, descriptor: ring.nativeDescriptor, dataOffset: ring.data.byteOffset, queue: 0, minCommit: 0 };
    const claimed = new Int32Array(256);
    const settle = () => {
      for (let n; (n = ring.claim(0, 256, claimed)) > 0; ) ring.release(claimed, n);
    };
    const batchPath = (): boolean => {
      const batch = reader.next();
      if (batch === null) return false;
      const page = reader.lastPages;
      const slot = ring.reserve(0, batch.count);
      ring.data.set(page, ring.slotOffset(slot));
      ring.publish(0, slot, batch.count, batch.lostBefore);
      return true;
    };
    const { ns, cpuNs } = this.#timed(() => {
      if (direct) {
        for (;;) {
          const r = reader.stageDirect(target, 64);
          settle();
          if (r.status === STAGE_STATUS.empty) break;
          if (r.status === STAGE_STATUS.handoff) while (reader.buffered > 0 && batchPath());
        }
      } else {
        for (let n = 1; batchPath(); n++) if (n % 64 === 0) settle();
      }
      settle();
    });
    reader.finish();
    this.#reader = null;
    reader.close();
    const c = reader.counters;
    if (c.lost !== 0 || c.corrupt !== 0 || c.consumedElsewhere !== 0 || ring.produced(0) !== c.events || (direct && c.nativeStaged === 0)) {
      throw new Error(`staged drain (${direct ? 'native' : 'batches'}) counters disagree: ${JSON.stringify(c)}, ${ring.produced(0)} staged`);
    }
    this.check(`staged drain (${direct ? 'native' : 'batches'})`, c.events, expected);
    return { events: c.events, ns, cpuNs, subbufs: c.subbufs };
  }

  /**
   * Runs `drain` on cfg.cpu, timed by wall clock and by the CPU time of the
   * whole process (helper threads included), as the C consumer's single thread.
   */
  #timed(drain: () => void): { ns: number; cpuNs: number } {
    const affinity = native.getThreadAffinity();
    try {
      native.setThreadAffinity([this.cfg.cpu]);
      const t0 = process.hrtime.bigint();
      const c0 = processCpuNs();
      drain();
      const cpuNs = processCpuNs() - c0;
      return { ns: Number(process.hrtime.bigint() - t0), cpuNs };
    } finally {
      native.setThreadAffinity(affinity);
    }
  }

  /** Closes a reader left open by a failure (needed before rmdir). */
  closeSource(): void {
    const s = this.#source;
    this.#source = null;
    s?.close();
    this.#reader?.close();
    this.#reader = null;
  }
}

// --- the suite --------------------------------------------------------------------

interface Row {
  path: ReaderMode;
  subbufKb: number;
  events: number;
  subbufs: number;
  /** Per round, ns per event: CPU time and wall time of each consumer (index = round). */
  cCpu: number[];
  trCpu: number[];
  cWall: number[];
  trWall: number[];
  /** read() only: the capture thread's staging, native and by batches (CPU ns per event). */
  stagedCpu: number[];
  batchStagedCpu: number[];
  load: Load;
  rounds: number;
}


/** Live instance and bench, for the exit handler of last resort. */
let live: { instance: Instance; bench: DrainBench } | null = null;

function cleanup(): void {
  if (live === null) return;
  const { instance, bench } = live;
  live = null;
  try {
    bench.closeSource();
  } finally {
    instance.remove();
  }
}

/** One configuration, in this process (a child of run()). */
async function measure(cfg: Config, bin: { drain: string; fill: string }, subbufKb: number, path: ReaderMode): Promise<Row> {
  const instance = Tracefs.locate().createUniqueInstance('trbench');
  const bench = new DrainBench(instance, cfg, bin);
  live = { instance, bench };
  try {
    bench.setup(subbufKb);
    // Warm-up (untimed): JIT-compile tracering's readers, fault in the
    // binaries; one full-size round each, the first of which ran slower.
    const warm = Math.min(cfg.events, 200_000);
    for (let i = 0; i < 2; i++) {
      bench.drainTracering(path, bench.fill(warm));
      bench.drainC(path, bench.fill(warm));
    }
    const staged = path === 'read';
    if (staged) {
      for (let i = 0; i < 2; i++) {
        bench.drainStaged(bench.fill(warm), true);
        bench.drainStaged(bench.fill(warm), false);
      }
    }
    bench.drainTracering(path, bench.fill(cfg.events));
    bench.drainC(path, bench.fill(cfg.events));
    const c: Sample[] = [];
    const tr: Sample[] = [];
    const st: Sample[] = [];
    const bst: Sample[] = [];
    const meter = new LoadMeter();
    for (let round = 0; round < cfg.rounds; round++) {
      const who3 = staged ? ['c', 'tr', 'st', 'bst'] : ['c', 'tr'];
      const order = round % 2 === 0 ? who3 : [...who3].reverse();
      for (const who of order) {
        await tick();
        checkInterrupted();
        const expected = bench.fill(cfg.events);
        if (who === 'c') c.push(bench.drainC(path, expected));
        else if (who === 'tr') tr.push(bench.drainTracering(path, expected));
        else if (who === 'st') st.push(bench.drainStaged(expected, true));
        else bst.push(bench.drainStaged(expected, false));
      }
      // Enough rounds once the paired CPU ratio's spread is known well.
      const perEvent = (s: Sample) => s.cpuNs / s.events;
      if (round >= 4 && stat(ratios(tr.map(perEvent), c.map(perEvent))).spread <= 0.04) break;
    }
    return {
      path,
      subbufKb,
      events: cfg.events,
      subbufs: c[0]?.subbufs ?? 0,
      cCpu: c.map((s) => s.cpuNs / s.events),
      trCpu: tr.map((s) => s.cpuNs / s.events),
      cWall: c.map((s) => s.ns / s.events),
      trWall: tr.map((s) => s.ns / s.events),
      stagedCpu: st.map((s) => s.cpuNs / s.events),
      batchStagedCpu: bst.map((s) => s.cpuNs / s.events),
      load: meter.stop(),
      rounds: c.length,
    };
  } finally {
    cleanup();
  }
}

const CHILD_FLAG = '--drain-config';
const RESULT_TAG = '@drain-result ';

/**
 * Moves every thread of this process (V8's compiler and GC helpers, libuv's
 * pool) off `cpu`, where the drain thread pins itself while timing, as the
 * single-threaded C consumer has its CPU to itself. Without this, a helper
 * woken on that CPU now and then doubled a round's time.
 */
function keepHelpersOff(cpu: number): void {
  const others = native.getThreadAffinity().filter((c) => c !== cpu);
  if (others.length === 0) return;
  const r = spawnSync('taskset', ['-a', '-p', '-c', others.join(','), String(process.pid)], { stdio: 'ignore' });
  if (r.status !== 0) console.error(`drain: taskset failed; Node's helper threads may share CPU ${cpu} (noisier figures)`);
}

/** Child entry: measures one "<subbufKb>:<path>" and prints the row as a tagged JSON line. */
async function child(spec: string): Promise<void> {
  const [kb, path] = spec.split(':');
  if (path !== 'mmap' && path !== 'read') throw new Error(`bad ${CHILD_FLAG} ${spec}`);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', cleanup);
  const cfg = readConfig();
  keepHelpersOff(cfg.cpu);
  const bin = { drain: join(outDir, 'drain'), fill: join(outDir, 'fill') };
  const row = await measure(cfg, bin, Number(kb), path);
  process.stdout.write(`${RESULT_TAG}${JSON.stringify(row)}\n`);
}

/**
 * Runs one configuration in a fresh Node process, so that no configuration
 * inherits another's JIT state or process-wide V8 state. (Closing a mapped
 * reader detaches an ArrayBuffer, which permanently adds a detached-buffer
 * check to every typed-array access in the process: ~0.7 ns per record in
 * the walker. Measured in one process, read() would pay for mmap's runs.)
 */
function runChild(spec: string, tracefs: Tracefs): Row {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), CHILD_FLAG, spec], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: CONFIG_MAX_MS,
    killSignal: 'SIGTERM',
  });
  // Safety net: a child killed before its own cleanup leaves its instance
  // (its mappings died with it, so it can be removed now).
  if (r.pid !== undefined) {
    for (const name of tracefs.instances().filter((n) => n.startsWith(`trbench-${r.pid}-`))) {
      tracefs.openInstance(name, { create: false }).remove();
    }
  }
  if (r.error) throw new Error(`drain ${spec}: ${r.error.message}`);
  if (r.status === 130) interrupted ??= 'SIGINT';
  checkInterrupted();
  if (r.status !== 0) throw new Error(`drain ${spec}: ${r.signal ?? `exit ${r.status}`}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith(RESULT_TAG));
  if (line === undefined) throw new Error(`drain ${spec}: no result in ${JSON.stringify(r.stdout.slice(0, 500))}`);
  return JSON.parse(line.slice(RESULT_TAG.length)) as Row;
}

/** Figures of every configuration: on-CPU time (the goal) and wall time, each with the C consumer's. */
function figuresOf(rows: Row[]): Figure[] {
  const out: Figure[] = [];
  for (const r of rows) {
    const goal = GOALS[r.path];
    const cpu = stat(ratios(r.trCpu, r.cCpu));
    out.push(
      {
        what: `drain ${r.path} ${r.subbufKb} KiB (CPU)`,
        unit: 'ns/ev',
        value: stat(r.trCpu),
        peer: { what: `C consumer, ${r.path}`, value: stat(r.cCpu) },
        ratio: cpu,
        ratioNote: 'of C',
        goal: { text: `<= ${goal}x C`, met: cpu.median <= goal },
        load: r.load,
        rounds: r.rounds,
      },
      {
        what: `drain ${r.path} ${r.subbufKb} KiB (wall)`,
        unit: 'ns/ev',
        value: stat(r.trWall),
        peer: { what: `C consumer, ${r.path}`, value: stat(r.cWall) },
        ratio: stat(ratios(r.trWall, r.cWall)),
        ratioNote: 'of C',
        load: r.load,
        rounds: r.rounds,
      },
    );
    if (r.stagedCpu.length === 0) continue;
    for (const [label, xs] of [['staged natively', r.stagedCpu], ['staged by batches', r.batchStagedCpu]] as const) {
      out.push({
        what: `capture ${r.path} ${r.subbufKb} KiB, ${label} (CPU)`,
        unit: 'ns/ev',
        value: stat(xs),
        peer: { what: `C consumer, ${r.path}`, value: stat(r.cCpu) },
        ratio: stat(ratios(xs, r.cCpu)),
        ratioNote: 'of C',
        load: r.load,
        rounds: r.rounds,
      });
    }
  }
  return out;
}

/** Share of CPU time (all CPUs) not idle over `ms`, from /proc/stat: other load that would add noise. */

/** The suite (for bench/run.ts): every configuration, the table, the JSON summary. */
export async function run(): Promise<void> {
  try {
    await runSuite();
  } catch (error) {
    if (interrupted === null) throw error;
    console.error(`drain: interrupted by ${interrupted}; instances removed`);
    process.exitCode = 130;
  }
}

async function runSuite(): Promise<void> {
  const cfg = readConfig();
  const tracefs = usableTracefs('drain');
  if (tracefs === null) return;
  compileC(['drain', 'fill'] as const);
  const started = Date.now();
  const busy = busyShare(500);
  console.log(
    `drain: ${cfg.events} events per run (${cfg.writeBytes}-byte raw markers, ${recordBytes(cfg.writeBytes)}-byte records), ` +
      `CPU ${cfg.cpu}, ${cfg.rounds} rounds per consumer; ${os.release()}, Node ${process.version}, ` +
      `${os.cpus()[0]?.model ?? '?'} x${os.availableParallelism()}, ${(busy * 100).toFixed(0)}% busy before start`,
  );
  if (busy > 0.1) console.log('drain: note: other work is running; expect noisy figures (rerun to confirm)');
  // The children take SIGINT themselves (same process group) and clean up.
  process.on('SIGINT', onSignal);
  const rows: Row[] = [];
  try {
    for (const subbufKb of cfg.subbufKbs) {
      for (const path of cfg.paths) {
        if (interrupted !== null) throw new Error(`interrupted by ${interrupted}`);
        if (Date.now() - started > SUITE_MAX_MS) throw new Error('drain suite exceeded its time budget');
        const row = runChild(`${subbufKb}:${path}`, tracefs);
        const med = (xs: number[]) => stat(xs).median.toFixed(1);
        console.log(
          `  ${path} ${subbufKb} KiB: CPU C ${med(row.cCpu)} ns/ev, tracering ${med(row.trCpu)} ns/ev ` +
            `(${stat(ratios(row.trCpu, row.cCpu)).median.toFixed(2)}x; wall ${med(row.cWall)} / ${med(row.trWall)}), ${row.rounds} rounds` +
            (row.stagedCpu.length > 0 ? `; staged natively ${med(row.stagedCpu)}, by batches ${med(row.batchStagedCpu)} ns/ev` : ''),
        );
        rows.push(row);
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
  }
  const figures = figuresOf(rows);
  printFigures(`drain: ${cfg.events} events per run, tracering vs the C consumer (CPU = user + system time: the C consumer's thread, tracering's whole process)`, figures);
  const seconds = (Date.now() - started) / 1000;
  console.log(`drain: ${seconds.toFixed(1)} s`);
  const summary = {
    suite: 'drain',
    kernel: os.release(),
    node: process.version,
    cpu: cfg.cpu,
    recordBytes: recordBytes(cfg.writeBytes),
    rounds: cfg.rounds,
    busyBefore: Number(busy.toFixed(2)),
    goals: GOALS,
    pass: figures.every((f) => f.goal === undefined || f.goal.met),
    seconds: Number(seconds.toFixed(1)),
    figures: figures.map(figureJson),
  };
  console.log(JSON.stringify(summary));
}

runIfMain(import.meta.url, CHILD_FLAG, (args) => child(args[0] ?? ''), run, () => interrupted !== null);
