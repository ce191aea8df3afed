// One measured run of the recording benchmark: a fresh instance
// (trbench-*, 4 MiB per CPU), the pinned load generator waiting for "go",
// a consumer started under bench/c/runstat pinned to the other CPU, then:
// wait until the consumer reads (its fd on the loaded CPU's trace_pipe_raw,
// events on, tracing on), go, wait for the generator's end, Ctrl-C the
// consumer (SIGINT to its process group), and collect: what it says it
// consumed and lost, what the kernel's counters say, what its output holds,
// its CPU time from the start of the load to its exit, its stop time.

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { join } from 'node:path';
import type { CpuStats } from '../../src/kernel/cpu-stats.js';
import type { Instance, Tracefs } from '../../src/kernel/tracefs.js';
import { type Consumer, type RunContext, type ToolSummary, outputBytes } from './consumers.js';
import { InterruptedError, checkInterrupted, interrupted, killGroup, removeInstance, sleep, trackGroup, trackInstance, untrackGroup } from './guard.js';
import { type OutputContents, recordingContents, traceDatContents } from './outputs.js';
import { busyBetween, descendants, fdHolders, machineSample, treeCpuNs } from './proc.js';

export interface Bins {
  load: string;
  runstat: string;
}

export interface RunSettings {
  loadCpu: number;
  consumerCpu: number;
  bufferKb: number;
  seconds: number;
  /** Generator syscalls per second; 0 = as fast as it goes. */
  syscallRate: number;
  workRoot: string;
  /** Niceness of the generator and the consumer alike. */
  nice: number;
  /** CPUs of the machine (for the busy share). */
  cpus: number;
}

export interface LoadResult {
  pid: number;
  cpu_us: number;
  syscalls: number;
  sleeps: number;
  rate: number;
  elapsed_ns: number;
  worst_lag_ns: number;
  stop: string;
}

interface RunstatResult {
  pid: number;
  exit: number;
  signal: number;
  timeout: boolean;
  wall_ns: number;
  stop_ns: number;
  user_us: number;
  sys_us: number;
  maxrss_kb: number;
}

export interface RunResult {
  consumer: string;
  /** Target events per second (0 = unpaced). */
  targetRate: number;
  /** Events per second the generator produced (two per syscall). */
  rate: number;
  /** Events the generator caused (syscalls and its sleeps, two each). */
  generated: number;
  tool: ToolSummary;
  /** Events the consumer delivered: the output's count where there is one, else the tool's. */
  events: number;
  /** lost + dropped + staging lost, as the tool counted them. */
  losses: number;
  /** Overrun + dropped as the kernel counted them (instance stats, or the file's CPUSTAT). */
  kernelLosses: number | null;
  /** Disagreements between tool, kernel and output (empty: all agree). */
  checks: string[];
  /** Consumer CPU from the start of the load to its exit, ns. */
  cpuNs: number;
  /** Its whole CPU time (start-up included), ns. */
  totalCpuNs: number;
  startupMs: number;
  stopMs: number;
  wallMs: number;
  outputBytes: number | null;
  /** Busy share of the machine during the load, and the share not ours (consumer + generator). */
  busy: number;
  others: number;
  generatorLagMs: number;
  /** The generator's own report. */
  gen: LoadResult;
}

const READY_TIMEOUT_MS = 30_000;
const SETTLE_MS = 300;
const STOP_TIMEOUT_MS = 90_000;

function waitExit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

function tail(path: string, n = 600): string {
  try {
    const t = fs.readFileSync(path, 'utf8');
    return t.slice(-n).trim();
  } catch {
    return '';
  }
}

function sumStats(instance: Instance): { overrun: number; dropped: number; read: number; entries: number } | null {
  try {
    const s: CpuStats[] = instance.cpus().map((c) => instance.cpuStats(c));
    return {
      overrun: s.reduce((a, x) => a + x.overrun, 0),
      dropped: s.reduce((a, x) => a + x.droppedEvents, 0),
      read: s.reduce((a, x) => a + x.readEvents, 0),
      entries: s.reduce((a, x) => a + x.entries, 0),
    };
  } catch {
    return null; // trace-cmd removed the instance
  }
}

/**
 * Events the kernel's stats still count in buffers that hold none (its
 * `trace` file shows nothing): after an overwriting run the overrun counter
 * can miss a few overwritten events. Lost, though the overrun does not say
 * so; tracering's read() path counts them (TRACERING_UNCOUNTED_LOSS).
 * Also "cpuN: entries" for every CPU whose stats count events, for the checks.
 */
function leftInKernel(instance: Instance): { phantom: number; text: string } {
  let phantom = 0;
  const parts: string[] = [];
  try {
    for (const c of instance.cpus()) {
      const n = instance.cpuStats(c).entries;
      if (n <= 0) continue;
      const shown = instance.readText(`per_cpu/cpu${c}/trace`).split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
      if (shown === 0) phantom += n;
      parts.push(`cpu${c}: ${n}, its trace file shows ${shown}`);
    }
  } catch {
    return { phantom: 0, text: '?' };
  }
  return { phantom, text: parts.join(', ') };
}

/** The consumer reads: tracing on, the events on, and one of its processes holds the loaded CPU's trace_pipe_raw. */
async function waitReady(instance: Instance, rs: ChildProcess, loadCpu: number, errFile: string, label: string): Promise<void> {
  const pipe = instance.file(`per_cpu/cpu${loadCpu}/trace_pipe_raw`);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    checkInterrupted();
    if (rs.exitCode !== null || rs.signalCode !== null) throw new Error(`${label} exited before it started reading: ${tail(errFile)}`);
    const on = instance.readText('tracing_on').trim() === '1';
    const enabled = instance.readText('set_event').includes('raw_syscalls:sys_enter');
    if (on && enabled && fdHolders(pipe, descendants(rs.pid!)).length > 0) return;
    if (Date.now() > deadline) throw new Error(`${label} did not start reading within ${READY_TIMEOUT_MS / 1000} s: ${tail(errFile)}`);
    await sleep(25);
  }
}

export async function runOnce(tracefs: Tracefs, consumer: Consumer, s: RunSettings, bins: Bins): Promise<RunResult> {
  checkInterrupted();
  const work = fs.mkdtempSync(join(s.workRoot, `${consumer.id}-`));
  const instance = trackInstance(tracefs.createUniqueInstance('trbench'));
  let gen: ChildProcess | null = null;
  let rs: ChildProcess | null = null;
  let pgid: number | null = null;
  try {
    instance.tracingOn = false;
    instance.setBufferSizeKb(s.bufferKb);
    gen = spawn(
      bins.load,
      ['--cpu', String(s.loadCpu), '--nice', String(s.nice), '--rate', String(s.syscallRate), '--duration-ms', String(s.seconds * 1000), '--wait-stdin'],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let genOut = '';
    let genErr = '';
    gen.stdout!.on('data', (d: Buffer) => (genOut += d.toString()));
    gen.stderr!.on('data', (d: Buffer) => (genErr += d.toString()));
    const genExit = waitExit(gen);
    const ctx: RunContext = { instance: instance.name!, filter: `common_pid == ${gen.pid}`, work, bufferKb: s.bufferKb };
    if (consumer.presetEvents) {
      instance.enableEvents(['raw_syscalls']);
      instance.setEventFilter('raw_syscalls', ctx.filter);
      instance.clear();
      instance.tracingOn = true;
    }
    const argv = consumer.argv(ctx);
    const rsOut = join(work, 'runstat.json');
    const outFile = join(work, 'stdout');
    const errFile = join(work, 'stderr');
    rs = spawn(
      bins.runstat,
      ['--out', rsOut, '--cpu', String(s.consumerCpu), '--nice', String(s.nice), '--stdout', consumer.discardStdout ? '/dev/null' : outFile, '--stderr', errFile, '--max-ms', String((s.seconds + 120) * 1000), '--', ...argv],
      { stdio: 'ignore', cwd: work, env: { ...process.env, ...consumer.env } },
    );
    const rsExit = waitExit(rs);
    const t0 = Date.now();
    await waitReady(instance, rs, s.loadCpu, errFile, consumer.label);
    // runstat's only child leads the consumer's process group.
    pgid = descendants(rs.pid!).find((p) => p !== rs!.pid) ?? null;
    if (pgid !== null) trackGroup(pgid);
    const startupMs = Date.now() - t0;
    await sleep(SETTLE_MS);
    checkInterrupted();
    const cpu0 = treeCpuNs(rs.pid!);
    const m0 = machineSample();
    gen.stdin!.end('g');
    const ge = await genExit;
    const m1 = machineSample();
    const cpu1 = treeCpuNs(rs.pid!);
    if (ge.signal !== null) throw new InterruptedError(ge.signal);
    if (ge.code !== 0) throw new Error(`load generator: exit ${ge.code}: ${genErr.trim()}`);
    const load = JSON.parse(genOut) as LoadResult;
    // Ctrl-C, as a person stops a recording.
    rs.kill('SIGINT');
    const stopTimer = setTimeout(() => {
      if (pgid !== null) killGroup(pgid, 'SIGKILL');
    }, STOP_TIMEOUT_MS);
    await rsExit;
    clearTimeout(stopTimer);
    if (pgid !== null) {
      killGroup(pgid, 'SIGKILL'); // trace-cmd's recorders, should any outlive it
      untrackGroup(pgid);
    }
    const r = JSON.parse(fs.readFileSync(rsOut, 'utf8')) as RunstatResult;
    const stdout = consumer.discardStdout ? '' : fs.readFileSync(outFile, 'utf8');
    const stderr = fs.readFileSync(errFile, 'utf8');
    if (r.timeout) throw new Error(`${consumer.label} did not stop within ${STOP_TIMEOUT_MS / 1000} s of Ctrl-C`);
    if (r.exit !== 0) throw new Error(`${consumer.label}: exit ${r.exit}${r.signal ? ` (signal ${r.signal})` : ''}: ${stderr.slice(-800).trim()}`);
    const said = consumer.parse(stdout, stderr);
    const kernel = sumStats(instance);
    const left = kernel !== null && kernel.entries > 0 ? leftInKernel(instance) : { phantom: 0, text: '' };
    // A consumer that reports nothing: the kernel's counters are all there is.
    const tool: ToolSummary =
      said ?? { events: kernel?.read ?? Number.NaN, lost: (kernel?.overrun ?? 0) + left.phantom, dropped: kernel?.dropped ?? 0, stagingLost: 0, mode: '?' };

    // What the output holds (read back), where there is one we can read.
    const out = consumer.output?.(ctx);
    let contents: OutputContents | null = null;
    if (out !== undefined && consumer.id !== 'record-perfetto' && consumer.id !== 'record-parquet') {
      contents = out.endsWith('.dat') ? traceDatContents(out) : recordingContents(out);
    }
    const bytes = out !== undefined ? outputBytes(out) : null;
    const checks: string[] = [];
    // A tool's "events" are those it took from the kernel; what its staging memory dropped afterwards never reached the output.
    const events = contents?.events ?? tool.events - tool.stagingLost;
    if (Number.isFinite(tool.events) && contents !== null && contents.events !== tool.events - tool.stagingLost) {
      checks.push(`the tool says ${tool.events - tool.stagingLost} events delivered, its output holds ${contents.events}`);
    }
    // The kernel's own counters: the instance's stats (still there for tracering), else the file's CPUSTAT.
    const k = kernel ?? contents?.stats ?? null;
    let kernelLosses: number | null = null;
    if (k !== null) {
      kernelLosses = k.overrun + k.dropped;
    }
    if (k !== null && said !== null) {
      const counted = k.overrun + (kernel !== null ? left.phantom : 0);
      if (counted !== tool.lost) checks.push(`lost ${tool.lost}, the kernel's overrun ${k.overrun}${left.phantom > 0 ? ` + ${left.phantom} it counts but no longer holds` : ''}`);
      if (k.dropped !== tool.dropped) checks.push(`dropped ${tool.dropped}, the kernel's ${k.dropped}`);
      if (kernel !== null && k.read !== events + tool.stagingLost) checks.push(`${events + tool.stagingLost} events taken, the kernel's read events ${k.read}`);
    }
    const generated = 2 * (load.syscalls + load.sleeps);
    const losses = tool.lost + tool.dropped + tool.stagingLost;
    // At least every generated event is accounted for; a few more are the generator's own set-up and exit
    // syscalls (setsid, setpriority, its autogroup, its output, exit_group), when the filter was already on.
    if (events + losses < generated || events + losses > generated + 64) {
      checks.push(`${events} delivered + ${losses} lost, the generator caused ${generated}${left.text !== '' ? `; the kernel's stats still count events (${left.text})` : ''}`);
    }
    const totalCpuNs = (r.user_us + r.sys_us) * 1000;
    const busy = busyBetween(m0, m1);
    const oursShare = (load.cpu_us * 1000 + (cpu1 - cpu0)) / (load.elapsed_ns * s.cpus);
    return {
      consumer: consumer.id,
      targetRate: 2 * s.syscallRate,
      rate: (2 * load.syscalls * 1e9) / load.elapsed_ns,
      generated,
      tool,
      events,
      losses,
      kernelLosses,
      checks,
      cpuNs: totalCpuNs - cpu0,
      totalCpuNs,
      startupMs,
      stopMs: r.stop_ns / 1e6,
      wallMs: r.wall_ns / 1e6,
      outputBytes: bytes,
      busy,
      others: Math.max(0, busy - oursShare),
      generatorLagMs: load.worst_lag_ns / 1e6,
      gen: load,
    };
  } finally {
    // Unwind: the generator, the consumer's group, the instance, the scratch files.
    if (gen !== null && gen.exitCode === null && gen.signalCode === null) gen.kill('SIGKILL');
    if (rs !== null && rs.exitCode === null && rs.signalCode === null) {
      rs.kill('SIGINT');
      const done = waitExit(rs);
      const timer = setTimeout(() => {
        if (pgid !== null) killGroup(pgid, 'SIGKILL');
        rs?.kill('SIGKILL');
      }, interrupted() !== null ? 10_000 : 30_000);
      await done;
      clearTimeout(timer);
    }
    if (pgid !== null) {
      killGroup(pgid, 'SIGKILL');
      untrackGroup(pgid);
    }
    removeInstance(instance);
    fs.rmSync(work, { recursive: true, force: true });
  }
}
