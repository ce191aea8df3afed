// Table schemas: the common columns every event row has, each event type's
// own columns from its format file, and the losses and processes tables.
//
// Event fields map to columns by their format: integers keep their width
// and signedness (pointers are unsigned), character data is a string,
// arrays of integers (fixed, dynamic or flexible; bitmasks as the list of
// set bits) are lists, other bytes are binary. Every event column is
// nullable: a record too short for its format has no field values. A field
// whose name is a common column's gets the prefix `field_`.

import type { EventFormat, FieldFormat } from '../../decode/format-file.js';
import { type ColumnSpec, binaryColumn, intColumn, stringColumn } from './format/column.js';

/** Version of the table layouts below (in every file's metadata and the manifest). */
export const SCHEMA_VERSION = 1;

export const COMMON_COLUMNS: readonly ColumnSpec[] = [
  stringColumn('host'),
  stringColumn('boot_id'),
  stringColumn('buffer'),
  intColumn('cpu', 32, true),
  { ...intColumn('ts', 64, true), delta: true },
  intColumn('pid', 32, true),
  intColumn('tgid', 32, true, true),
  stringColumn('comm', true),
  stringColumn('system'),
  stringColumn('event'),
  intColumn('lost_before', 64, true, true),
];

/** Common fields of the record header that are not columns of their own (pid is the `pid` column). */
const HEADER_FIELDS = new Set(['common_type', 'common_pid']);

/** How one event field becomes a column. */
export type FieldColumnKind =
  | 'int'
  | 'wide'
  | 'string'
  /** A list of integers from the field's bytes. */
  | 'list'
  /** A bitmask as the list of its set bits. */
  | 'bits'
  | 'binary';

export interface FieldColumn {
  readonly field: FieldFormat;
  readonly spec: ColumnSpec;
  readonly kind: FieldColumnKind;
}

export interface EventSchema {
  readonly format: EventFormat;
  readonly fields: readonly FieldColumn[];
  /** Common columns, then the field columns. */
  readonly columns: readonly ColumnSpec[];
}

function uniqueName(name: string, taken: Set<string>): string {
  let n = name;
  while (taken.has(n.toLowerCase())) n = `field_${n}`;
  taken.add(n.toLowerCase());
  return n;
}

function fieldColumn(f: FieldFormat, name: string): FieldColumn {
  if (f.kind === 'int' || f.kind === 'pointer') {
    const signed = f.kind === 'int' && f.signed;
    const bits = (f.size * 8) as 8 | 16 | 32 | 64;
    return { field: f, spec: intColumn(name, bits, signed, true), kind: f.size === 8 ? 'wide' : 'int' };
  }
  if (f.isString) return { field: f, spec: stringColumn(name, true), kind: 'string' };
  if (f.isBitmask) return { field: f, spec: intColumn(name, 32, true, true, true), kind: 'bits' };
  const width = f.elementSize;
  if (f.kind !== 'blob' && (width === 1 || width === 2 || width === 4 || width === 8)) {
    return { field: f, spec: intColumn(name, (width * 8) as 8 | 16 | 32 | 64, f.elementSigned, true, true), kind: 'list' };
  }
  return { field: f, spec: binaryColumn(name, true), kind: 'binary' };
}

export function eventSchema(format: EventFormat): EventSchema {
  const taken = new Set(COMMON_COLUMNS.map((c) => c.name));
  const fields: FieldColumn[] = [];
  for (const f of format.fields) {
    if (HEADER_FIELDS.has(f.name)) continue;
    fields.push(fieldColumn(f, uniqueName(f.name, taken)));
  }
  return { format, fields, columns: [...COMMON_COLUMNS, ...fields.map((f) => f.spec)] };
}

/** Records whose event id has no usable format: the common columns, the id and the raw payload. */
export const UNKNOWN_EVENT_COLUMNS: readonly ColumnSpec[] = [...COMMON_COLUMNS, intColumn('event_id', 32, true), binaryColumn('payload')];

export const LOSSES_COLUMNS: readonly ColumnSpec[] = [
  stringColumn('host'),
  stringColumn('boot_id'),
  stringColumn('run'),
  intColumn('segment', 32, true),
  stringColumn('buffer'),
  intColumn('cpu', 32, true),
  /** Rows written for this CPU in this segment. */
  intColumn('events', 64, true),
  /** Sum of known lost_before counts in this segment. */
  intColumn('lost_before', 64, true),
  /** Losses of unknown size (lost_before NULL) in this segment. */
  intColumn('lost_unknown', 64, true),
  /** Events the pipeline dropped (staging), known at the end of the input (last segment). */
  intColumn('staging_lost', 64, true, true),
  /** Events the reader counted as overwritten, known at the end (last segment). */
  intColumn('reader_lost', 64, true, true),
  intColumn('ts_min', 64, true, true),
  intColumn('ts_max', 64, true, true),
  /** The kernel's per-CPU stats at the end of this segment, when read then (absolute counters). */
  intColumn('kernel_entries', 64, true, true),
  intColumn('kernel_overrun', 64, true, true),
  intColumn('kernel_commit_overrun', 64, true, true),
  intColumn('kernel_bytes', 64, true, true),
  intColumn('kernel_dropped', 64, true, true),
  intColumn('kernel_read', 64, true, true),
  /** The same counters when a live input started (null for a complete input: its stats describe the capture). */
  intColumn('kernel_overrun_at_start', 64, true, true),
  intColumn('kernel_dropped_at_start', 64, true, true),
];

export const PROCESSES_COLUMNS: readonly ColumnSpec[] = [
  stringColumn('host'),
  stringColumn('boot_id'),
  stringColumn('run'),
  intColumn('segment', 32, true),
  intColumn('pid', 32, true),
  intColumn('tgid', 32, true, true),
  intColumn('ppid', 32, true, true),
  stringColumn('comm', true),
  stringColumn('cmdline', true),
  /** 'saved_cmdlines' (the kernel's cache) or 'proc' (/proc of the live machine). */
  stringColumn('source'),
];
