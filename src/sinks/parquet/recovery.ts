// Runs that died (killed, crashed, power lost) leave incomplete files: the
// temporary files of their open segment, and, if they died between renaming
// a segment's files and listing it in their manifest, complete files of a
// segment that was never committed. A run holds an flock on
// manifests/host=H/RUN.lock while it writes; at its start, a run takes the
// lock of every other run it finds (a lock it can take belongs to a dead
// run) and moves that run's uncommitted files to _quarantine/RUN/, so that
// what engines read is exactly the committed segments.

import fs from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { native } from '../../native.js';
import { type Manifest, type Recovered, readManifest, writeManifest } from './manifest.js';
import { QUARANTINE, RUN_ID, TABLES, parsePartName } from './paths.js';

/** This run's lock, held until released. */
export class RunLock {
  readonly path: string;
  #fd: number | null;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.#fd = fd;
  }

  static take(path: string): RunLock {
    fs.mkdirSync(dirname(path), { recursive: true });
    const fd = fs.openSync(path, 'w', 0o644);
    if (!native.flock(fd, true, false)) {
      fs.closeSync(fd);
      throw new Error(`${path} is locked by another process`);
    }
    return new RunLock(path, fd);
  }

  release(): void {
    if (this.#fd === null) return;
    fs.rmSync(this.path, { force: true });
    fs.closeSync(this.#fd);
    this.#fd = null;
  }
}

interface RunState {
  readonly alive: boolean;
  /** Our hold on a dead run's lock (released after recovery). */
  readonly fd: number | null;
  readonly lockPath: string | null;
  readonly manifestPath: string | null;
}

/**
 * Whether each run is still writing: a run is alive while its lock file
 * exists and is locked. Runs without a lock file are dead (a writing run
 * always holds one).
 */
class RunStates {
  readonly #locks = new Map<string, string>();
  readonly #manifests = new Map<string, string>();
  readonly states = new Map<string, RunState>();

  constructor(root: string) {
    for (const dir of listDirs(join(root, 'manifests'))) {
      for (const name of listNames(dir)) {
        const m = /^(.*)\.(lock|json)$/.exec(name);
        if (m === null || !RUN_ID.test(m[1]!)) continue;
        (m[2] === 'lock' ? this.#locks : this.#manifests).set(m[1]!, join(dir, name));
      }
    }
  }

  get(run: string): RunState {
    let state = this.states.get(run);
    if (state !== undefined) return state;
    const lockPath = this.#locks.get(run) ?? null;
    const manifestPath = this.#manifests.get(run) ?? null;
    let fd: number | null = null;
    let alive = false;
    if (lockPath !== null) {
      try {
        fd = fs.openSync(lockPath, 'r+');
        if (!native.flock(fd, true, false)) {
          fs.closeSync(fd);
          fd = null;
          alive = true;
        }
      } catch {
        fd = null; // removed meanwhile: the run closed
      }
    }
    state = { alive, fd, lockPath, manifestPath };
    this.states.set(run, state);
    return state;
  }

  /** Dead runs whose lock file is left (their locks held by us until release()). */
  *deadWithLocks(): Generator<[string, RunState]> {
    for (const run of this.#locks.keys()) {
      const s = this.get(run);
      if (!s.alive) yield [run, s];
    }
  }

  release(): void {
    for (const s of this.states.values()) {
      if (s.fd === null) continue;
      if (s.lockPath !== null) fs.rmSync(s.lockPath, { force: true });
      fs.closeSync(s.fd);
    }
  }
}

function listNames(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function listDirs(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

/** Every file under `dir` (depth-first), as absolute paths. */
function* walk(dir: string): Generator<string> {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* walk(path);
    else if (e.isFile()) yield path;
  }
}

function committedSegments(m: Manifest | null): Set<number> {
  return new Set((m?.segments ?? []).map((s) => s.seq));
}

/**
 * Moves the uncommitted files of dead runs to _quarantine/, marks their
 * manifests, removes their locks. `self` is this run (never touched).
 */
export function recoverLeftovers(root: string, self: string, fsync: boolean): Recovered[] {
  const runs = new RunStates(root);
  const recovered: Recovered[] = [];
  const manifests = new Map<string, Manifest | null>();
  const manifestOf = (run: string, state: RunState) => {
    if (!manifests.has(run)) manifests.set(run, state.manifestPath === null ? null : readManifest(state.manifestPath));
    return manifests.get(run) ?? null;
  };
  try {
    for (const table of TABLES) {
      for (const path of walk(join(root, table))) {
        const part = parsePartName(basename(path));
        if (part === null || part.run === self) continue;
        const state = runs.get(part.run);
        if (state.alive) continue;
        if (!part.temp && committedSegments(manifestOf(part.run, state)).has(part.seq)) continue;
        const rel = relative(root, path);
        const target = join(root, QUARANTINE, part.run, rel);
        fs.mkdirSync(dirname(target), { recursive: true });
        fs.renameSync(path, target);
        recovered.push({
          run: part.run,
          path: rel,
          moved_to: relative(root, target),
          reason: part.temp ? 'incomplete file (no footer) of a segment that was open when the run died' : 'file of a segment the run never committed',
        });
      }
    }
    // Dead runs: their manifests say so, their locks go.
    for (const [run, state] of [...runs.states, ...runs.deadWithLocks()]) {
      if (state.alive || run === self) continue;
      const m = manifestOf(run, state);
      if (m !== null && state.manifestPath !== null && m.recovered_by === undefined && !m.complete) {
        m.end_reason ??= 'died';
        m.recovered_by = self;
        writeManifest(state.manifestPath, m, fsync);
      }
    }
  } finally {
    runs.release();
  }
  return recovered;
}
