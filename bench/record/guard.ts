// Everything the recording benchmark must undo, however it ends: its
// instances (trbench-*), the process groups of the consumers it started,
// and the top-level settings trace-cmd may have touched. A normal end and
// the first Ctrl-C/SIGTERM unwind through the suite's finally blocks; the
// exit handler is the last resort (a second signal, an uncaught error):
// it kills what is left, removes the instances and restores the top level,
// synchronously.

import fs from 'node:fs';
import { join } from 'node:path';
import type { Instance, Tracefs } from '../../src/kernel/tracefs.js';
import { isAlive } from './proc.js';
import { type TopLevelState, restoreTopLevel } from './toplevel.js';

const instances = new Set<Instance>();
const lastResortHooks: Array<() => void> = [];
const groups = new Set<number>();
let pendingTopLevel: { state: TopLevelState; file: string } | null = null;
let signals = 0;
let interruptedBy: string | null = null;
const abort = new AbortController();

/** Aborted on the first SIGINT/SIGTERM. */
export const interruptSignal: AbortSignal = abort.signal;

export function interrupted(): string | null {
  return interruptedBy;
}

export class InterruptedError extends Error {
  constructor(signal: string) {
    super(`interrupted by ${signal}`);
  }
}

export function checkInterrupted(): void {
  if (interruptedBy !== null) throw new InterruptedError(interruptedBy);
}

/** Sleeps `ms`, or less when interrupted. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (abort.signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      abort.signal.removeEventListener('abort', done);
      resolve();
    }
    abort.signal.addEventListener('abort', done, { once: true });
  });
}

export function trackInstance(i: Instance): Instance {
  instances.add(i);
  return i;
}

/** Kills processes still holding the instance (a consumer's orphaned children), then removes it. */
export function removeInstance(i: Instance): void {
  instances.delete(i);
  for (let attempt = 0; ; attempt++) {
    try {
      i.remove();
      return;
    } catch (error) {
      if (attempt >= 20) throw error;
      for (const pgid of groups) killGroup(pgid, 'SIGKILL');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
}

export function trackGroup(pgid: number): void {
  groups.add(pgid);
}

export function untrackGroup(pgid: number): void {
  groups.delete(pgid);
}

export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // gone
  }
}

/** Saves the top-level state to `file` too (a SIGKILLed run leaves it for the next), and marks it to restore. */
export function holdTopLevel(state: TopLevelState, file: string): void {
  fs.writeFileSync(file, JSON.stringify(state));
  pendingTopLevel = { state, file };
}

/** Restores the held top-level state; returns the writes the kernel refused. */
export function releaseTopLevel(): string[] {
  const held = pendingTopLevel;
  if (held === null) return [];
  const errors = restoreTopLevel(held.state);
  pendingTopLevel = null;
  fs.rmSync(held.file, { force: true });
  return errors;
}

/** A state file left by a killed run: restore it first. Returns what was done, or null. */
export function recoverTopLevel(file: string): string | null {
  if (!fs.existsSync(file)) return null;
  const state = JSON.parse(fs.readFileSync(file, 'utf8')) as TopLevelState;
  const errors = restoreTopLevel(state);
  fs.rmSync(file, { force: true });
  return `restored the top-level settings saved by a run that was killed (${file})${errors.length > 0 ? `; refused: ${errors.join('; ')}` : ''}`;
}

/** Instances named trbench-PID-... whose PID is dead: left by a killed benchmark run. */
export function removeDeadBenchInstances(tracefs: Tracefs): string[] {
  const removed: string[] = [];
  for (const name of tracefs.instances()) {
    const m = /^trbench-(\d+)-/.exec(name);
    if (m === null || isAlive(Number(m[1]))) continue;
    try {
      fs.rmdirSync(join(tracefs.root, 'instances', name));
      removed.push(name);
    } catch {
      // still busy: left for its owner
    }
  }
  return removed;
}

/** Runs in the last-resort cleanup too (another module's live instance). */
export function onLastResort(hook: () => void): void {
  lastResortHooks.push(hook);
}

function lastResort(): void {
  for (const pgid of groups) killGroup(pgid, 'SIGKILL');
  for (const hook of lastResortHooks) {
    try {
      hook();
    } catch (error) {
      process.stderr.write(`record bench: cleanup failed: ${(error as Error).message}\n`);
    }
  }
  if (groups.size > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  for (const i of [...instances]) {
    try {
      removeInstance(i);
    } catch (error) {
      process.stderr.write(`record bench: could not remove instance ${i.name}: ${(error as Error).message}\n`);
    }
  }
  try {
    const errors = releaseTopLevel();
    if (errors.length > 0) process.stderr.write(`record bench: top-level restore refused: ${errors.join('; ')}\n`);
  } catch (error) {
    process.stderr.write(`record bench: top-level restore failed: ${(error as Error).message}\n`);
  }
}

function onSignal(signal: NodeJS.Signals): void {
  signals++;
  interruptedBy ??= signal;
  abort.abort();
  if (signals > 1) {
    lastResort();
    process.exit(130);
  }
}

let installed = false;
export function installGuard(): void {
  if (installed) return;
  installed = true;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', lastResort);
}
