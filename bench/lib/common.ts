// Helpers shared by the benchmark suites (bench/*.ts).

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Tracefs } from '../../src/kernel/tracefs.js';

export const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const outDir = join(benchDir, 'out');

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

/** Compiles bench/c/<name>.c for each name into bench/out/<name>; returns their paths. */
export function compileC<N extends string>(names: readonly N[]): Record<N, string> {
  fs.mkdirSync(outDir, { recursive: true });
  const cc = process.env.CC ?? 'cc';
  const out = {} as Record<N, string>;
  for (const name of names) {
    out[name] = join(outDir, name);
    try {
      execFileSync(cc, ['-O2', '-Wall', '-o', out[name], join(benchDir, 'c', `${name}.c`)], { stdio: 'pipe' });
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
