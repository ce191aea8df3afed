// A LiveFrame as one JSON object (--json prints one line per interval):
// the figures a script needs, without the view's state (help, history).

import type { PolicyDecision } from '../capture/adaptive-policy.js';
import type { LiveFrame, RateRow } from './model.js';

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
  readonly top: { readonly table: string; readonly sort: string; readonly rows: ReadonlyArray<{ key: number; name: string; perSec: number; total: number }> };
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

export function frameJson(frame: LiveFrame, decisionsSinceMs = Number.NEGATIVE_INFINITY, topRows = 10): FrameJson {
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
    top: {
      table: frame.table,
      sort: frame.sort,
      rows: frame.top.slice(0, topRows).map((r) => ({ key: r.key, name: r.name, perSec: Number(r.perSec.toFixed(1)), total: r.total })),
    },
    decisions: frame.decisions.filter((d) => d.atMs > decisionsSinceMs),
  };
}
