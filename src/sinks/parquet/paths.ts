// Where things go in a Parquet output directory:
//
//   events/host=H/boot=B/date=D/system=S/event=E/part-RUN-SEQ.parquet
//   losses/host=H/boot=B/date=D/part-RUN-SEQ.parquet
//   processes/host=H/boot=B/date=D/part-RUN-SEQ.parquet
//   manifests/host=H/RUN.json       (RUN.lock: held while the run writes)
//   _quarantine/RUN/...             (incomplete files of runs that died)
//
// A file is written as .part-RUN-SEQ.parquet.tmp in its final directory
// and renamed when complete: engines skip names starting with a dot, and
// the glob *.parquet does not match the temporary name.

import { crypto } from '../../lazy-builtins.js';
import { join } from 'node:path';

export const TABLES = ['events', 'losses', 'processes'] as const;
export type TableName = (typeof TABLES)[number];

/** A run id: when it started (UTC, sortable) and a random suffix. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${crypto().randomBytes(4).toString('hex')}`;
}

export const RUN_ID = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

/** A partition value, escaped as Hive does (%XX for anything but letters, digits, '.', '_', '-'). */
export function partitionValue(value: string): string {
  if (value === '') return 'unknown';
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9._-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export interface Partition {
  readonly host: string;
  readonly boot: string;
  readonly date: string;
}

export function partitionDir(table: TableName, p: Partition): string {
  return join(table, `host=${partitionValue(p.host)}`, `boot=${partitionValue(p.boot)}`, `date=${p.date}`);
}

export function eventDir(p: Partition, system: string, event: string): string {
  return join(partitionDir('events', p), `system=${partitionValue(system)}`, `event=${partitionValue(event)}`);
}

export function partName(run: string, seq: number): string {
  return `part-${run}-${String(seq).padStart(6, '0')}.parquet`;
}

export function tempName(finalName: string): string {
  return `.${finalName}.tmp`;
}

/** Run and segment of a part file or its temporary name, or null. */
export function parsePartName(name: string): { run: string; seq: number; temp: boolean } | null {
  const m = /^(\.)?part-(\d{8}T\d{6}Z-[0-9a-f]{8})-(\d{6,})\.parquet(\.tmp)?$/.exec(name);
  if (m === null || (m[1] === undefined) !== (m[4] === undefined)) return null;
  return { run: m[2]!, seq: Number(m[3]), temp: m[1] !== undefined };
}

export function manifestDir(host: string): string {
  return join('manifests', `host=${partitionValue(host)}`);
}

export const QUARANTINE = '_quarantine';
