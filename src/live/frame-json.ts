// A LiveFrame as one JSON object (--json prints one line per interval):
// the figures a script needs, without the view's state (help, history).

import type { PolicyDecision } from '../capture/adaptive-policy.js';
import type { LiveFrame, RateRow, TopRow } from './model.js';

export interface RowJson {
  readonly name: string;
  readonly mode: string;
  readonly eventsPerSec: number | null;
  readonly bytesPerSec: number | null;
  readonly fillPercent: number;
  readonly events: number;
  readonly lost: number;
  readonly dropped: number;
}

export interface TopJson {
  readonly key: number;
  readonly name: string;
  readonly perSec: number;
  readonly total: number;
}

export interface FrameJson {
  readonly atMs: number;
  readonly elapsedMs: number;
  readonly intervalMs: number;
  readonly clock: string;
  readonly buffer: string;
  readonly selfCpuPercent: number;
  readonly cpus: ReadonlyArray<RowJson & { readonly cpu: number }>;
  readonly rings: readonly RowJson[];
  readonly total: RowJson;
  readonly lostSinceStart: number;
  readonly droppedSinceStart: number;
  /** Both tables in the view's sort (the shown one first in `table`). */
  readonly top: { readonly table: string; readonly sort: string; readonly events: readonly TopJson[]; readonly tasks: readonly TopJson[] };
  /** Decisions newer than `sinceMs`. */
  readonly decisions: readonly PolicyDecision[];
}

const round = (x: number | null, digits: number): number | null => (x === null ? null : Number(x.toFixed(digits)));

function row(r: RateRow): RowJson {
  return {
    name: r.label,
    mode: r.mode,
    eventsPerSec: round(r.eventsPerSec, 1),
    bytesPerSec: round(r.bytesPerSec, 0),
    fillPercent: Number(r.fillPercent.toFixed(1)),
    events: r.events,
    lost: r.lost,
    dropped: r.dropped,
  };
}

const topJson = (rows: readonly TopRow[], n: number): TopJson[] =>
  rows.slice(0, n).map((r) => ({ key: r.key, name: r.name, perSec: Number(r.perSec.toFixed(1)), total: r.total }));

/**
 * The frame as JSON: decisions newer than `decisionsSinceMs`; the top
 * `topRows` of both tables (`tables`, else only the frame's own table).
 */
export function frameJson(
  frame: LiveFrame,
  decisionsSinceMs = Number.NEGATIVE_INFINITY,
  tables?: { readonly events: readonly TopRow[]; readonly tasks: readonly TopRow[] },
  topRows = 10,
): FrameJson {
  const events = tables?.events ?? (frame.table === 'events' ? frame.top : []);
  const tasks = tables?.tasks ?? (frame.table === 'tasks' ? frame.top : []);
  return {
    atMs: frame.atMs,
    elapsedMs: frame.elapsedMs,
    intervalMs: frame.intervalMs,
    clock: frame.clock,
    buffer: frame.buffer,
    selfCpuPercent: Number(frame.selfCpuPercent.toFixed(2)),
    cpus: frame.cpus.map((c) => ({ cpu: c.cpu, ...row(c) })),
    rings: frame.rings.map(row),
    total: row(frame.total),
    lostSinceStart: frame.lostSinceStart,
    droppedSinceStart: frame.droppedSinceStart,
    top: { table: frame.table, sort: frame.sort, events: topJson(events, topRows), tasks: topJson(tasks, topRows) },
    decisions: frame.decisions.filter((d) => d.atMs > decisionsSinceMs),
  };
}
