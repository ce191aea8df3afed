// Who created an instance, recorded where it outlives the process: a
// SIGKILLed run cannot remove its instance, and without a record the next
// run would take the instance for the user's own and leave it forever.
// The record names the creating process by pid, its start time (pids are
// reused) and the boot id (a reboot empties tracefs anyway); a later run
// that finds the owner dead adopts the instance and removes it.

import fs from 'node:fs';
import { join } from 'node:path';

const DIRS = ['/run/tracering/instances', '/tmp/tracering-instances'];

export interface OwnerRecord {
  name: string;
  pid: number;
  /** Field 22 of /proc/PID/stat: clock ticks after boot. */
  startTime: string;
  bootId: string;
  createdAt: string;
  /** The tracefs mount the instance lives in. */
  tracefs: string;
}

function bootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

function startTimeOf(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** A file name for an instance of a tracefs mount. */
function recordName(tracefs: string, name: string): string {
  return `${tracefs.replace(/[^A-Za-z0-9]+/g, '_')}__${name}.json`;
}

function writableDir(): string | null {
  for (const dir of DIRS) {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      fs.accessSync(dir, fs.constants.W_OK);
      return dir;
    } catch {
      // try the next
    }
  }
  return null;
}

/** Records that this process created instance `name` (best effort: ownership is a courtesy to later runs). */
export function recordOwnership(tracefs: string, name: string): void {
  const dir = writableDir();
  if (dir === null) return;
  const record: OwnerRecord = {
    name,
    pid: process.pid,
    startTime: startTimeOf(process.pid) ?? '',
    bootId: bootId(),
    createdAt: new Date().toISOString(),
    tracefs,
  };
  try {
    fs.writeFileSync(join(dir, recordName(tracefs, name)), `${JSON.stringify(record)}\n`, { mode: 0o600 });
  } catch {
    // no record: a killed run's instance will look like the user's own
  }
}

export function forgetOwnership(tracefs: string, name: string): void {
  for (const dir of DIRS) {
    try {
      fs.unlinkSync(join(dir, recordName(tracefs, name)));
    } catch {
      // not there
    }
  }
}

function readRecord(path: string): OwnerRecord | null {
  try {
    const value: unknown = JSON.parse(fs.readFileSync(path, 'utf8'));
    if (typeof value !== 'object' || value === null) return null;
    const r = value as Partial<OwnerRecord>;
    if (typeof r.name !== 'string' || typeof r.pid !== 'number' || typeof r.startTime !== 'string' || typeof r.bootId !== 'string') return null;
    return { name: r.name, pid: r.pid, startTime: r.startTime, bootId: r.bootId, createdAt: String(r.createdAt ?? ''), tracefs: String(r.tracefs ?? '') };
  } catch {
    return null;
  }
}

/** The owner record of instance `name`, if tracering created it. */
export function ownerOf(tracefs: string, name: string): OwnerRecord | null {
  for (const dir of DIRS) {
    const r = readRecord(join(dir, recordName(tracefs, name)));
    if (r !== null) return r;
  }
  return null;
}

/** The owner is gone: another boot, no such process, or a new process with the same pid. */
export function ownerIsDead(record: OwnerRecord): boolean {
  if (record.bootId !== '' && record.bootId !== bootId()) return true;
  const start = startTimeOf(record.pid);
  return start === null || (record.startTime !== '' && start !== record.startTime);
}

/** Owner records of instances of `tracefs` whose owners are dead. */
export function deadOwners(tracefs: string): OwnerRecord[] {
  const out: OwnerRecord[] = [];
  const prefix = `${tracefs.replace(/[^A-Za-z0-9]+/g, '_')}__`;
  for (const dir of DIRS) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const file of names) {
      if (!file.startsWith(prefix) || !file.endsWith('.json')) continue;
      const r = readRecord(join(dir, file));
      if (r !== null && ownerIsDead(r)) out.push(r);
    }
  }
  return out;
}
