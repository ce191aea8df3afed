// Builds the input of the report benchmark (bench/report.ts): a large
// recording of a realistic event mix, and the same data as a trace-cmd
// trace.dat.
//
//   1. A private instance (trbench-*) with no overwrite and a buffer large
//      enough for every event; the event systems of EVENT_SYSTEMS enabled.
//   2. bench/c/reportload.c runs until the instance holds the target number
//      of events (or its time / iteration bound); tracing stops.
//   3. The kernel's stats must show nothing overwritten or dropped; the
//      buffers are consumed into DIR with writeSnapshot (tracering
//      snapshot), which must deliver exactly the stats' entries per CPU.
//   4. The instance is removed (always, also on failure).
//   5. trace-cmd restore turns the very same per-CPU files into trace.dat
//      (restore -c: a header with this machine's formats, kallsyms,
//      printk formats and saved cmdlines; then restore -i with the files in
//      CPU order).
// Also builds empty twins of both (same metadata, no events) to measure
// each tool's fixed cost.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { join } from 'node:path';
import type { CpuStats } from '../../src/kernel/cpu-stats.js';
import { type Instance, Tracefs } from '../../src/kernel/tracefs.js';
import { writeSnapshot } from '../../src/pipeline/snapshot.js';

/** Event systems enabled for the recording (all their events); ftrace's print/raw_data come from markers. */
export const EVENT_SYSTEMS = [
  'sched', 'irq', 'timer', 'workqueue', 'kmem', 'raw_syscalls', 'syscalls',
  'net', 'sock', 'tcp', 'skb', 'block', 'ext4', 'writeback', 'signal',
];

/** Buffer per CPU per target event: any one CPU may get them all (~51 bytes each measured, incl. page headers). */
const BYTES_PER_EVENT_BOUND = 72;
const LOAD_TIMEOUT_MS = 30_000;
const RESTORE_TIMEOUT_MS = 60_000;

export interface LoadResult {
  iterations: number;
  forks: number;
  fsyncs: number;
  stop: string;
  elapsed_ns: number;
}

export interface BuiltRecording {
  /** The recording (tracering snapshot layout). */
  dir: string;
  /** Same metadata, empty per-CPU files. */
  emptyDir: string;
  traceDat: string;
  emptyDat: string;
  cpus: number[];
  /** Kernel stats entries per CPU (index = position in cpus), read with tracing off before consuming. */
  statsEntries: number[];
  /** Events the snapshot consumed per CPU. */
  snapshotEvents: number[];
  events: number;
  /** Bytes of raw sub-buffers in the recording. */
  rawBytes: number;
  systems: string[];
  refused: string[];
  load: LoadResult;
  ms: { setup: number; load: number; snapshot: number; restore: number };
}

/** A child process was stopped by SIGINT/SIGTERM (Ctrl-C reaches the whole process group). */
export class InterruptedError extends Error {}

/** The live instance, for cleanup on signals and exit. */
let liveInstance: Instance | null = null;

export function removeLiveInstance(): void {
  const instance = liveInstance;
  liveInstance = null;
  instance?.remove();
}

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.signal === 'SIGINT' || r.signal === 'SIGTERM') throw new InterruptedError(`${cmd} stopped by ${r.signal}`);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')}: ${r.signal ?? `exit ${r.status}`}: ${(r.stderr || r.stdout).trim().slice(0, 2000)}`);
  }
  return r.stdout;
}

/** Records `target` events into `work`/recording and builds `work`/trace.dat from it. */
export async function buildRecording(options: {
  tracefs: Tracefs;
  work: string;
  target: number;
  loadgen: string;
  maxLoadMs: number;
  log: (line: string) => void;
}): Promise<BuiltRecording> {
  const { tracefs, work, target, log } = options;
  const dir = join(work, 'recording');
  const scratch = join(work, 'scratch');
  fs.mkdirSync(scratch);
  const t0 = performance.now();
  const instance = tracefs.createUniqueInstance('trbench');
  liveInstance = instance;
  let stats: CpuStats[];
  let load: LoadResult;
  let summary: Awaited<ReturnType<typeof writeSnapshot>>;
  const systems: string[] = [];
  const refused: string[] = [];
  let tLoad: number;
  let tSnap: number;
  let cpus: number[];
  try {
    instance.tracingOn = false;
    instance.setOption('overwrite', false); // a mis-sized buffer drops (and counts) instead of overwriting
    instance.setBufferSizeKb(Math.ceil((target * BYTES_PER_EVENT_BOUND) / 1024));
    const offered = new Set(instance.eventSystems());
    for (const system of EVENT_SYSTEMS) {
      if (!offered.has(system)) {
        refused.push(`${system} (not in this kernel)`);
        continue;
      }
      try {
        instance.enableEvents([system]);
        systems.push(system);
      } catch (error) {
        refused.push(`${system} (${(error as Error).message})`);
      }
    }
    instance.clear();
    cpus = instance.cpus();
    tLoad = performance.now();
    instance.tracingOn = true;
    let out: string;
    try {
      out = run(
        options.loadgen,
        ['--dir', scratch, '--array', instance.path, '--events', String(target), '--max-ms', String(options.maxLoadMs)],
        scratch,
        LOAD_TIMEOUT_MS,
      );
    } finally {
      instance.tracingOn = false;
    }
    load = JSON.parse(out) as LoadResult;
    stats = cpus.map((cpu) => instance.cpuStats(cpu));
    const entries = stats.reduce((a, s) => a + s.entries, 0);
    log(
      `  load: ${load.iterations} iterations (${load.forks} fork+exec, ${load.fsyncs} fdatasync) in ` +
        `${(load.elapsed_ns / 1e6).toFixed(0)} ms, stopped by ${load.stop}; ${entries} events ` +
        `(${stats.map((s, i) => `cpu${cpus[i]} ${s.entries}`).join(', ')})`,
    );
    const bad = stats.filter((s) => s.overrun !== 0 || s.droppedEvents !== 0 || s.commitOverrun !== 0 || s.readEvents !== 0);
    if (bad.length > 0) throw new Error(`the instance lost or consumed events: ${JSON.stringify(stats)}`);
    if (load.stop !== 'events' || entries < target) {
      throw new Error(`load generator stopped by ${load.stop} with ${entries} of ${target} events recorded`);
    }
    tSnap = performance.now();
    summary = await writeSnapshot(instance, dir, { tracefsRoot: tracefs.root });
  } finally {
    liveInstance = null;
    instance.remove();
  }
  const tRestore = performance.now();
  const snapshotEvents = cpus.map((cpu) => summary.cpus.find((c) => c.cpu === cpu)?.events ?? 0);
  const statsEntries = stats.map((s) => s.entries);
  if (summary.cpus.some((c) => c.lost !== 0) || snapshotEvents.some((n, i) => n !== statsEntries[i])) {
    throw new Error(`snapshot consumed ${JSON.stringify(summary.cpus)}; the kernel's stats held ${statsEntries.join(', ')}`);
  }
  // trace-cmd restore maps its input files to CPUs by position.
  if (cpus.some((cpu, i) => cpu !== i)) throw new Error(`CPUs ${cpus.join(',')} are not 0..n-1: trace-cmd restore cannot map them`);
  const raw = cpus.map((cpu) => join(dir, `per_cpu/cpu${cpu}/trace_pipe_raw`));
  const rawBytes = raw.reduce((a, p) => a + fs.statSync(p).size, 0);

  // The empty twin: everything but the events.
  const emptyDir = join(work, 'empty');
  fs.cpSync(dir, emptyDir, { recursive: true, filter: (src) => !src.endsWith('trace_pipe_raw') });
  const emptyRaw = cpus.map((cpu) => join(emptyDir, `per_cpu/cpu${cpu}/trace_pipe_raw`));
  for (const p of emptyRaw) fs.writeFileSync(p, '');

  const head = join(work, 'head.dat');
  const traceDat = join(work, 'trace.dat');
  const emptyDat = join(work, 'empty.dat');
  run('trace-cmd', ['restore', '-c', '-o', head], work, RESTORE_TIMEOUT_MS);
  run('trace-cmd', ['restore', '-i', head, '-o', traceDat, ...raw], work, RESTORE_TIMEOUT_MS);
  run('trace-cmd', ['restore', '-i', head, '-o', emptyDat, ...emptyRaw], work, RESTORE_TIMEOUT_MS);
  const tEnd = performance.now();
  fs.rmSync(scratch, { recursive: true, force: true });
  return {
    dir,
    emptyDir,
    traceDat,
    emptyDat,
    cpus,
    statsEntries,
    snapshotEvents,
    events: snapshotEvents.reduce((a, b) => a + b, 0),
    rawBytes,
    systems,
    refused,
    load,
    ms: { setup: tLoad - t0, load: tSnap - tLoad, snapshot: tRestore - tSnap, restore: tEnd - tRestore },
  };
}
