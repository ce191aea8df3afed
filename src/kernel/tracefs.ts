// Finding (and if need be mounting) tracefs, and opening trace arrays.

import { childProcess } from '../lazy-builtins.js';
import fs from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, TracefsNotFoundError, TracefsPermissionError, isSystemError } from '../errors.js';
import { rethrowFs } from './fs-errors.js';
import { type OwnerRecord, deadOwners, forgetOwnership, ownerIsDead, ownerOf, recordOwnership } from './ownership.js';
import { TraceArray } from './trace-array.js';

export const DEFAULT_TRACEFS = '/sys/kernel/tracing';
const LEGACY_TRACEFS = '/sys/kernel/debug/tracing';

function looksLikeTracefs(dir: string): boolean {
  return fs.existsSync(join(dir, 'trace_marker')) && fs.existsSync(join(dir, 'per_cpu'));
}

/**
 * Whether `dir` exists but this user may not look inside it (tracefs is
 * mode 0700 root): existsSync() says "no such file" for both cases.
 */
function unreadable(dir: string): boolean {
  try {
    fs.statSync(join(dir, 'trace_marker'));
    return false;
  } catch (error) {
    return isSystemError(error, 'EACCES') || isSystemError(error, 'EPERM');
  }
}

function permissionError(dir: string): TracefsPermissionError {
  const uid = process.getuid?.();
  return new TracefsPermissionError(
    `tracefs is mounted at ${dir} but ${uid === undefined ? 'this user' : `uid ${uid}`} may not read it: run as root (tracefs is root's alone unless mounted with gid= and mode= options)`,
  );
}

function mountedTracefs(): string[] {
  try {
    return fs
      .readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => f[2] === 'tracefs' && f[1] !== undefined)
      .map((f) => (f[1] as string).replace(/\\040/g, ' '));
  } catch {
    return [];
  }
}

/** Where to look for tracefs. */
export interface LocateOptions {
  /** Use this directory instead of searching. */
  root?: string;
  /** Mount tracefs at /sys/kernel/tracing when it is absent and we are root (default true). */
  mount?: boolean;
}

/** The tracefs mount: its top-level trace array and its instances. */
export class Tracefs {
  readonly root: string;
  readonly topLevel: TraceArray;

  private constructor(root: string) {
    this.root = root;
    this.topLevel = new TraceArray(root, null);
  }

  /** Finds tracefs: an explicit root, a mounted tracefs, the usual paths; mounts it if allowed. */
  static locate(options: LocateOptions = {}): Tracefs {
    if (options.root !== undefined) {
      if (!looksLikeTracefs(options.root)) {
        if (unreadable(options.root)) throw permissionError(options.root);
        throw new TracefsNotFoundError(`${options.root} does not look like a tracefs mount (no trace_marker, per_cpu)`);
      }
      return new Tracefs(options.root);
    }
    const candidates = [...mountedTracefs(), DEFAULT_TRACEFS, LEGACY_TRACEFS];
    for (const dir of candidates) if (looksLikeTracefs(dir)) return new Tracefs(dir);
    // Mounted (or there) but closed to this user: mounting again would not help.
    const closed = candidates.find(unreadable);
    if (closed !== undefined) throw permissionError(closed);
    if (options.mount === false) {
      throw new TracefsNotFoundError(`tracefs is not mounted (mount -t tracefs nodev ${DEFAULT_TRACEFS})`);
    }
    if (process.getuid?.() !== 0) {
      throw new TracefsNotFoundError(
        `tracefs is not mounted and only root can mount it: mount -t tracefs nodev ${DEFAULT_TRACEFS}`,
      );
    }
    try {
      childProcess().execFileSync('mount', ['-t', 'tracefs', 'nodev', DEFAULT_TRACEFS], { stdio: 'pipe' });
    } catch (error) {
      const detail = error instanceof Error && 'stderr' in error ? String(error.stderr).trim() : String(error);
      throw new TracefsNotFoundError(`tracefs is not mounted and mounting it failed: ${detail}`, { cause: error });
    }
    if (!looksLikeTracefs(DEFAULT_TRACEFS)) {
      throw new TracefsNotFoundError(`mounted tracefs at ${DEFAULT_TRACEFS} but it looks empty`);
    }
    return new Tracefs(DEFAULT_TRACEFS);
  }

  /** Path of instance `name`. */
  instancePath(name: string): string {
    checkInstanceName(name);
    return join(this.root, 'instances', name);
  }

  /** Whether instance `name` exists. */
  instanceExists(name: string): boolean {
    return fs.existsSync(this.instancePath(name));
  }

  /** Instance names that exist now. */
  instances(): string[] {
    try {
      return fs.readdirSync(join(this.root, 'instances')).sort();
    } catch {
      return [];
    }
  }

  /**
   * Opens instance `name`, creating it unless `create` is false. `created`
   * on the result says whether this call made it (and so should remove it).
   */
  openInstance(name: string, options: { create?: boolean } = {}): Instance {
    const path = this.instancePath(name);
    if (fs.existsSync(path)) return this.#existing(path, name);
    if (options.create === false) throw new TracefsNotFoundError(`no tracefs instance ${name}`);
    try {
      fs.mkdirSync(path);
    } catch (error) {
      if (isSystemError(error, 'EEXIST')) return this.#existing(path, name);
      rethrowFs(error, path, 'create instance');
    }
    recordOwnership(this.root, name);
    return new Instance(path, name, true, this.root);
  }

  /**
   * An instance that exists already: the user's own, or one a tracering
   * run created and could not remove (it was killed). The latter is
   * adopted: this run removes it.
   */
  #existing(path: string, name: string): Instance {
    const owner = ownerOf(this.root, name);
    if (owner !== null && owner.pid !== process.pid && ownerIsDead(owner)) {
      recordOwnership(this.root, name);
      return new Instance(path, name, true, this.root, owner);
    }
    return new Instance(path, name, false, this.root);
  }

  /**
   * Removes instances that tracering runs created and could not remove
   * (their processes died); returns what was removed and what could not be.
   */
  removeAbandonedInstances(): Array<{ name: string; pid: number; removed: boolean; error?: string }> {
    const out: Array<{ name: string; pid: number; removed: boolean; error?: string }> = [];
    for (const owner of deadOwners(this.root)) {
      const path = join(this.root, 'instances', owner.name);
      if (!fs.existsSync(path)) {
        forgetOwnership(this.root, owner.name);
        continue;
      }
      try {
        fs.rmdirSync(path);
        forgetOwnership(this.root, owner.name);
        out.push({ name: owner.name, pid: owner.pid, removed: true });
      } catch (error) {
        out.push({ name: owner.name, pid: owner.pid, removed: false, error: (error as Error).message });
      }
    }
    return out;
  }

  /** Creates a new instance with a unique name derived from `prefix`. */
  createUniqueInstance(prefix = 'tracering'): Instance {
    for (let attempt = 0; attempt < 100; attempt++) {
      const name = `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
      const path = this.instancePath(name);
      try {
        fs.mkdirSync(path);
        recordOwnership(this.root, name);
        return new Instance(path, name, true, this.root);
      } catch (error) {
        if (!isSystemError(error, 'EEXIST')) rethrowFs(error, path, 'create instance');
      }
    }
    throw new TracefsPermissionError('could not find a free instance name');
  }
}

/** The kernel's limit on an instance name: a tracefs dentry name, NAME_MAX bytes (mkdir beyond it: ENAMETOOLONG). */
export const MAX_INSTANCE_NAME = 255;

export function checkInstanceName(name: string): void {
  if (name.length === 0) throw new InvalidArgumentError('empty instance name');
  // Characters first (a non-ASCII name's byte length is not its length), then the length.
  if (!/^[A-Za-z0-9_.+-]+$/.test(name) || name === '.' || name === '..') {
    const shown = name.length > 80 ? `${JSON.stringify(name.slice(0, 80))}...` : JSON.stringify(name);
    throw new InvalidArgumentError(`bad instance name ${shown} (letters, digits, _ . + - only)`);
  }
  if (name.length > MAX_INSTANCE_NAME) {
    throw new InvalidArgumentError(
      `instance name is ${name.length} characters long; the kernel allows at most ${MAX_INSTANCE_NAME} (a tracefs directory name)`,
    );
  }
}

/** A tracefs instance: its own ring buffers, settings and events. */
export class Instance extends TraceArray {
  /** True if this object's opener created the directory (or adopted it from a dead run), and so owns its removal. */
  readonly created: boolean;
  /** The dead run this instance was adopted from, if it was. */
  readonly adoptedFrom: OwnerRecord | null;
  readonly #tracefs: string | null;
  #removed = false;

  constructor(path: string, name: string, created: boolean, tracefs: string | null = null, adoptedFrom: OwnerRecord | null = null) {
    super(path, name);
    this.created = created;
    this.#tracefs = tracefs;
    this.adoptedFrom = adoptedFrom;
  }

  get removed(): boolean {
    return this.#removed;
  }

  /**
   * Removes the instance directory. Every mapping and fd of its files must
   * be closed first, or the kernel answers EBUSY.
   */
  remove(): void {
    if (this.#removed) return;
    try {
      fs.rmdirSync(this.path);
    } catch (error) {
      if (isSystemError(error, 'ENOENT')) {
        this.#removed = true;
        this.#forget();
        return;
      }
      rethrowFs(error, this.path, 'remove instance');
    }
    this.#removed = true;
    this.#forget();
  }

  #forget(): void {
    if (this.#tracefs !== null && this.name !== null) forgetOwnership(this.#tracefs, this.name);
  }

  /** Removes the instance if this object created it. */
  release(): void {
    if (this.created) this.remove();
  }

  /** Removes the instance if it was created here, for `using`. */
  [Symbol.dispose](): void {
    this.release();
  }
}
