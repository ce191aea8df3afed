// Helpers shared by the benchmark suites (bench/*.ts).

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Tracefs } from '../../src/kernel/tracefs.js';
import { CLOCK_IDS, native } from '../../src/native.js';

export const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const outDir = join(benchDir, 'out');

/**
 * A module of the built library (dist/, what the CLI runs: tsx's transform
 * adds helpers of its own to closures, which would be measured too); `T`
 * is the type of its src/ counterpart. `npm run bench` builds dist/ first.
 */
export async function fromDist<T>(relative: string): Promise<T> {
  const file = join(benchDir, '..', 'dist', relative);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run npm run build (npm run bench does)`);
  return (await import(pathToFileURL(file).href)) as T;
}

/** An integer setting from the environment, checked against its range. */
export function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`${name} must be an integer in ${min}..${max}`);
  return n;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? Number.NaN : s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Share of CPU time (all CPUs) that was busy during the next `ms` milliseconds. */
export function busyShare(ms: number): number {
  const sample = () => {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { idle: (f[3] ?? 0) + (f[4] ?? 0), total: f.reduce((a, b) => a + b, 0) };
  };
  try {
    const a = sample();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    const b = sample();
    return b.total > a.total ? 1 - (b.idle - a.idle) / (b.total - a.total) : 0;
  } catch {
    return Number.NaN;
  }
}

/**
 * Compiles bench/c/<name>.c for each name into bench/out/<name>; returns
 * their paths. `extra[name]`: more compiler arguments (libraries).
 */
export function compileC<N extends string>(names: readonly N[], extra: Partial<Record<N, readonly string[]>> = {}): Record<N, string> {
  fs.mkdirSync(outDir, { recursive: true });
  const cc = process.env.CC ?? 'cc';
  const out = {} as Record<N, string>;
  for (const name of names) {
    out[name] = join(outDir, name);
    try {
      execFileSync(cc, ['-O2', '-Wall', '-o', out[name], join(benchDir, 'c', `${name}.c`), ...(extra[name] ?? [])], { stdio: 'pipe' });
    } catch (error) {
      const detail = error instanceof Error && 'stderr' in error ? String(error.stderr) : String(error);
      throw new Error(`compiling bench/c/${name}.c with ${cc} failed (set CC to a C compiler): ${detail}`);
    }
  }
  return out;
}

/**
 * Runs a helper program that prints JSON; kills it after `timeoutMs`.
 * `onSignal` learns of a child ended by Ctrl-C/SIGTERM (the suite is being
 * interrupted) before the failure is thrown.
 */
export function runJson<T>(binary: string, args: readonly string[], timeoutMs: number, onSignal: (signal: NodeJS.Signals) => void): T {
  const r = spawnSync(binary, args, { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  if (r.error) throw new Error(`${binary}: ${r.error.message}`);
  if (r.signal === 'SIGINT' || r.signal === 'SIGTERM') onSignal(r.signal);
  if (r.status !== 0) throw new Error(`${binary} ${args.join(' ')}: ${r.signal ?? `exit ${r.status}`}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as T;
}

/** Tracefs with writable instances, or null after saying why the suite skips. */
export function usableTracefs(suite: string): Tracefs | null {
  try {
    const tracefs = Tracefs.locate();
    fs.accessSync(join(tracefs.root, 'instances'), fs.constants.W_OK);
    return tracefs;
  } catch (error) {
    console.log(`${suite}: skipped, tracefs is not usable here: ${(error as Error).message}`);
    return null;
  }
}

/**
 * When the suite file `metaUrl` is the entry module: runs `child(args after
 * childFlag)` in a measuring child process, else the whole suite. Exit status
 * 130 when `interrupted()`, 1 on another failure.
 */
export function runIfMain(
  metaUrl: string,
  childFlag: string,
  child: (args: string[]) => Promise<void>,
  run: () => Promise<void>,
  interrupted: () => boolean,
): void {
  if (process.argv[1] === undefined || metaUrl !== pathToFileURL(process.argv[1]).href) return;
  const at = process.argv.indexOf(childFlag);
  const main = at >= 0 ? child(process.argv.slice(at + 1)) : run();
  main.catch((error: unknown) => {
    if (interrupted()) {
      process.exitCode = 130;
      return;
    }
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exitCode = 1;
  });
}

// --- figures beside their peers, with the machine's load and the spread ------------
//
// The machine these run on is shared: a CPU-bound loop timed by the wall
// clock measures the other processes as much as itself. In-process figures
// are therefore taken as the on-CPU time of the measuring thread (the
// scheduler's own account, /proc/thread-self/schedstat), child processes'
// as their user + system time (bench/c/rusage.c), and both sides of a
// ratio are measured in the same rounds, interleaved. Every figure is
// printed with the load that was on the machine while it was measured, and
// repeated until its spread is known (or a round limit stops it).

/**
 * On-CPU nanoseconds of the calling thread so far (waiting for a CPU does
 * not count): CLOCK_THREAD_CPUTIME_ID through the addon (exact; the
 * scheduler's /proc/thread-self/schedstat is only updated at ticks).
 */
export function threadCpuNs(): number {
  return Number(native.clockNs(CLOCK_IDS.threadCputime));
}

/** User + system CPU time of the whole process so far (every thread: GC helpers, compilers), ns. */
export function processCpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/** Thread CPU time and wall time of `fn()`, ns. */
export function timed(fn: () => void): { cpuNs: number; wallNs: number } {
  const w0 = process.hrtime.bigint();
  const c0 = threadCpuNs();
  fn();
  const cpuNs = threadCpuNs() - c0;
  return { cpuNs, wallNs: Number(process.hrtime.bigint() - w0) };
}

/** What else the machine was doing while a figure was measured. */
export interface Load {
  /** 1-minute load average at the end of the window. */
  loadavg: number;
  /** Share of all CPUs' time that was busy in the window (this process included). */
  busy: number;
  cpus: number;
}

function cpuTimes(): { idle: number; total: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { idle: (f[3] ?? 0) + (f[4] ?? 0), total: f.reduce((a, b) => a + b, 0) };
}

/** Measures the machine's load from its construction to stop(). */
export class LoadMeter {
  readonly #start = cpuTimes();
  stop(): Load {
    const end = cpuTimes();
    const total = end.total - this.#start.total;
    return {
      loadavg: os.loadavg()[0] ?? Number.NaN,
      busy: total > 0 ? 1 - (end.idle - this.#start.idle) / total : Number.NaN,
      cpus: os.cpus().length,
    };
  }
}

export function loadText(l: Load): string {
  return `load ${l.loadavg.toFixed(1)}/${l.cpus} CPUs, ${(l.busy * 100).toFixed(0)}% busy`;
}

/** A series of measurements: median, extremes, quartiles and the spread (interquartile range / median). */
export interface Stat {
  median: number;
  min: number;
  max: number;
  q1: number;
  q3: number;
  n: number;
  spread: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

export function stat(xs: readonly number[]): Stat {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const med = quantile(s, 0.5);
  const q1 = quantile(s, 0.25);
  const q3 = quantile(s, 0.75);
  return { median: med, min: s[0] ?? Number.NaN, max: s.at(-1) ?? Number.NaN, q1, q3, n: s.length, spread: med !== 0 ? (q3 - q1) / Math.abs(med) : Number.NaN };
}

/** Element-wise a[i] / b[i]: ratios of rounds measured together. */
export function ratios(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.min(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(a[i]! / b[i]!);
  return out;
}

export interface RepeatOptions {
  /** Rounds always run (default 5). */
  minRounds?: number;
  /** Rounds at most (default 15). */
  maxRounds?: number;
  /** Stop once every series' spread is at most this (default 0.05). */
  spread?: number;
  /** Stop adding rounds after this long (default 60 s). */
  budgetMs?: number;
  /** Told after each round. */
  progress?: (round: number, values: Record<string, number>) => void;
}

export interface Repeated {
  series: Record<string, number[]>;
  rounds: number;
  load: Load;
  /** Why it stopped adding rounds. */
  stop: 'spread' | 'rounds' | 'budget';
}

/**
 * Calls `round()` (each call measures every variant once, so variants are
 * interleaved) until every series' spread is within the target after
 * minRounds, or maxRounds or the time budget stop it.
 */
export async function repeat(round: (index: number) => Record<string, number> | Promise<Record<string, number>>, options: RepeatOptions = {}): Promise<Repeated> {
  const minRounds = options.minRounds ?? 5;
  const maxRounds = Math.max(minRounds, options.maxRounds ?? 15);
  const target = options.spread ?? 0.05;
  const deadline = Date.now() + (options.budgetMs ?? 60_000);
  const series: Record<string, number[]> = {};
  const meter = new LoadMeter();
  let rounds = 0;
  let stop: Repeated['stop'] = 'rounds';
  while (rounds < maxRounds) {
    const values = await round(rounds);
    rounds++;
    for (const [k, v] of Object.entries(values)) (series[k] ??= []).push(v);
    options.progress?.(rounds, values);
    if (rounds >= minRounds && Object.values(series).every((xs) => stat(xs).spread <= target)) {
      stop = 'spread';
      break;
    }
    if (Date.now() > deadline) {
      stop = 'budget';
      break;
    }
  }
  return { series, rounds, load: meter.stop(), stop };
}

/** "12.3 ±4%" */
export function withSpread(s: Stat, digits = 1): string {
  return `${s.median.toFixed(digits)} ±${Number.isFinite(s.spread) ? Math.round((s.spread * 100) / 2) : '?'}%`;
}

/** One figure, its peer, their ratio and the goal, for printFigures(). */
export interface Figure {
  what: string;
  unit: string;
  value: Stat;
  peer?: { what: string; value: Stat };
  /** value / peer per round (paired), or as given. */
  ratio?: Stat;
  /** How to read the ratio ("tracering/C", "faster by"), printed in the ratio column's note. */
  ratioNote?: string;
  goal?: { text: string; met: boolean };
  load: Load;
  rounds?: number;
}

/** A table of figures: value, peer, ratio (each with its spread), goal and the load it was measured under. */
export function printFigures(title: string, figures: readonly Figure[], digits = 1): void {
  const head = ['figure', 'value', 'peer', 'peer value', 'ratio', 'goal', 'n', 'load while measured'];
  const rows = figures.map((f) => [
    f.what,
    `${withSpread(f.value, digits)} ${f.unit}`,
    f.peer?.what ?? '(none)',
    f.peer !== undefined ? `${withSpread(f.peer.value, digits)} ${f.unit}` : '',
    f.ratio !== undefined ? `${withSpread(f.ratio, 2)}x${f.ratioNote !== undefined ? ` ${f.ratioNote}` : ''}` : '',
    f.goal !== undefined ? `${f.goal.text}: ${f.goal.met ? 'met' : 'MISSED'}` : '',
    String(f.rounds ?? f.value.n),
    loadText(f.load),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(`\n${title}`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log('(value ±x%: median and half the interquartile range of the rounds, relative; ratio: per round, paired, same notation)');
}

/** A figure's numbers for the JSON summary. */
export function figureJson(f: Figure): Record<string, unknown> {
  const s = (x: Stat) => ({ median: Number(x.median.toPrecision(4)), min: Number(x.min.toPrecision(4)), max: Number(x.max.toPrecision(4)), spread: Number(x.spread.toFixed(3)), n: x.n });
  return {
    what: f.what,
    unit: f.unit,
    value: s(f.value),
    ...(f.peer !== undefined ? { peer: f.peer.what, peerValue: s(f.peer.value) } : {}),
    ...(f.ratio !== undefined ? { ratio: s(f.ratio) } : {}),
    ...(f.goal !== undefined ? { goal: f.goal.text, met: f.goal.met } : {}),
    load: { loadavg: Number(f.load.loadavg.toFixed(2)), busy: Number(f.load.busy.toFixed(2)), cpus: f.load.cpus },
  };
}

/** What a child process cost: wall time, user + system CPU time, peak RSS (bench/c/rusage.c). */
export interface ChildCost {
  wallNs: number;
  cpuNs: number;
  maxRssKb: number;
}

let rusageBinary: string | null = null;

/**
 * Runs `cmd args` with stdout to /dev/null (stderr kept for errors),
 * killed after `timeoutMs`; returns its cost. Throws on a non-zero exit.
 */
export function runCosted(cmd: string, args: readonly string[], timeoutMs: number): ChildCost {
  rusageBinary ??= compileC(['rusage'] as const).rusage;
  const r = spawnSync(rusageBinary, ['--timeout-ms', String(timeoutMs), '--', cmd, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: timeoutMs + 10_000,
    killSignal: 'SIGKILL',
    maxBuffer: 1 << 22,
  });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  let parsed: { status: number; signal: number; wall_ns: number; user_ns: number; sys_ns: number; maxrss_kb: number };
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    throw new Error(`${cmd} ${args.join(' ')}: ${r.signal ?? `exit ${r.status}`}: ${r.stderr.trim().slice(0, 1000)}`);
  }
  if (parsed.signal !== 0 || parsed.status !== 0) {
    const how = parsed.signal !== 0 ? `signal ${parsed.signal}` : `exit ${parsed.status}`;
    const error = new Error(`${cmd} ${args.join(' ')}: ${how}: ${r.stderr.trim().slice(0, 1000)}`);
    (error as Error & { signal?: number }).signal = parsed.signal;
    throw error;
  }
  return { wallNs: parsed.wall_ns, cpuNs: parsed.user_ns + parsed.sys_ns, maxRssKb: parsed.maxrss_kb };
}

/**
 * Makes libtraceevent's headers available: present, or installed with
 * apt-get (Debian's libtraceevent-dev) when this runs as root; says what it
 * did. Returns null when usable, else why not.
 */
export function ensureLibtraceevent(log: (line: string) => void): string | null {
  const header = '/usr/include/traceevent/event-parse.h';
  if (fs.existsSync(header)) return null;
  if (process.getuid?.() !== 0) return `${header} is missing (apt-get install libtraceevent-dev; not root, so not installed here)`;
  log('  libtraceevent-dev is not installed: installing it with apt-get (the peer of typed decoding) ...');
  const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'libtraceevent-dev'], {
    encoding: 'utf8',
    timeout: 300_000,
    killSignal: 'SIGKILL',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.error || r.status !== 0 || !fs.existsSync(header)) {
    return `apt-get install libtraceevent-dev failed: ${r.error?.message ?? `${r.signal ?? `exit ${r.status}`}: ${(r.stderr ?? '').trim().slice(-300)}`}`;
  }
  log('  installed libtraceevent-dev');
  return null;
}
