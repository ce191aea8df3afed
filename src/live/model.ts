// The live view's model: fed a sample of cumulative counters per refresh
// (and the interval's counts by event and task), it keeps rates, totals
// since the last zero, 60 s of rate history per CPU and ring, and the top
// tables, and answers the frame to draw. No clock of its own: time comes
// with the samples, so it is tested on a fake clock.
//
// Losses are never hidden: the rows' lost/dropped count since the last
// zero, the header's since the start; a paused view freezes the rows but
// not the header's loss totals; zero clears counts, never the start totals.

import type { PolicyDecision } from '../capture/adaptive-policy.js';
import type { CountEntry, IntervalCounts, LiveSample, ReadMode } from './sample.js';

export type TableKind = 'events' | 'tasks';
export type SortKey = 'rate' | 'total' | 'name';
export const SORT_KEYS: readonly SortKey[] = ['rate', 'total', 'name'];

/** A rate at one instant, for sparklines. */
export interface RatePoint {
  readonly atMs: number;
  readonly perSec: number;
}

/** One row of the CPU (or ring) table. */
export interface RateRow {
  /** 'cpu0'.. or the ring's name. */
  readonly label: string;
  readonly cpu: number;
  readonly mode: ReadMode | 'ring' | 'all';
  /** null until two samples have been seen. */
  readonly eventsPerSec: number | null;
  readonly bytesPerSec: number | null;
  readonly fillPercent: number;
  /** Since the last zero. */
  readonly events: number;
  readonly lost: number;
  readonly dropped: number;
  /** Lost or dropped in the last interval (a fresh loss). */
  readonly lossRecent: number;
  /** Rates of the last `historyMs`, oldest first. */
  readonly history: readonly RatePoint[];
}

export interface TopRow {
  /** Event id or pid. */
  readonly key: number;
  readonly name: string;
  /** In the last interval. */
  readonly perSec: number;
  /** Since the last zero. */
  readonly total: number;
  /** Share of the table's total since the last zero, 0..100. */
  readonly share: number;
}

export interface LiveFrame {
  readonly atMs: number;
  /** Since the first sample (or `startMs`). */
  readonly elapsedMs: number;
  /** Length of the last sample interval. */
  readonly intervalMs: number;
  readonly clock: string;
  readonly buffer: string;
  readonly selfCpuPercent: number;
  /** Distinct sub-buffer and buffer sizes across CPUs, for the header. */
  readonly subbufSizes: readonly number[];
  readonly bufferKbs: readonly number[];
  readonly cpus: readonly RateRow[];
  readonly rings: readonly RateRow[];
  /** Sum of the CPU rows. */
  readonly total: RateRow;
  /** Loss since the start, live even while paused. */
  readonly lostSinceStart: number;
  readonly droppedSinceStart: number;
  readonly table: TableKind;
  readonly sort: SortKey;
  readonly top: readonly TopRow[];
  /** Distinct keys in the table (top holds the first `topRows`). */
  readonly topCount: number;
  readonly paused: boolean;
  readonly help: boolean;
  /** Time of the last zero, or null. */
  readonly zeroedAtMs: number | null;
  /** Adaptive decisions, newest last (the last few). */
  readonly decisions: readonly PolicyDecision[];
}

export interface LiveModelOptions {
  /** Sparkline window (default 60 s). */
  historyMs?: number;
  /** Rows kept in `top` (default 50; the screen shows what fits). */
  topRows?: number;
  /** Decisions kept for the frame (default 8). */
  decisions?: number;
  /**
   * The capture's start: counters were zero then, so the first sample
   * already gives rates. Without it the first sample is the baseline.
   */
  startMs?: number;
}

interface Track {
  label: string;
  cpu: number;
  mode: ReadMode | 'ring';
  /** Last cumulative values seen. */
  events: number;
  bytes: number;
  lost: number;
  dropped: number;
  fill: number;
  /** Since the last zero. */
  sinceEvents: number;
  sinceLost: number;
  sinceDropped: number;
  /** Since the start. */
  startLost: number;
  startDropped: number;
  perSec: number | null;
  bytesPerSec: number | null;
  lossRecent: number;
  history: RatePoint[];
  seen: boolean;
}

interface Tally {
  name: string;
  total: number;
  perSec: number;
}

/** A counter's growth; one that went backwards (buffer reset) restarted from 0. */
function growth(now: number, before: number): number {
  return now >= before ? now - before : now;
}

function newTrack(label: string, cpu: number, mode: ReadMode | 'ring'): Track {
  return {
    label,
    cpu,
    mode,
    events: 0,
    bytes: 0,
    lost: 0,
    dropped: 0,
    fill: 0,
    sinceEvents: 0,
    sinceLost: 0,
    sinceDropped: 0,
    startLost: 0,
    startDropped: 0,
    perSec: null,
    bytesPerSec: null,
    lossRecent: 0,
    history: [],
    seen: false,
  };
}

export class LiveModel {
  readonly #historyMs: number;
  readonly #topRows: number;
  readonly #keepDecisions: number;
  readonly #cpus = new Map<number, Track>();
  readonly #rings = new Map<string, Track>();
  readonly #tallies: Record<TableKind, Map<number, Tally>> = { events: new Map(), tasks: new Map() };
  #tableTotals: Record<TableKind, number> = { events: 0, tasks: 0 };
  readonly #decisions: PolicyDecision[] = [];
  #startMs: number | null;
  readonly #startGiven: boolean;
  #lastMs: number | null;
  #intervalMs = 0;
  #last: LiveSample | null = null;
  #table: TableKind = 'events';
  #sort: SortKey = 'rate';
  #paused = false;
  #help = false;
  #zeroedAtMs: number | null = null;
  #frozen: LiveFrame | null = null;

  constructor(options: LiveModelOptions = {}) {
    this.#historyMs = options.historyMs ?? 60_000;
    this.#topRows = options.topRows ?? 50;
    this.#keepDecisions = options.decisions ?? 8;
    this.#startMs = options.startMs ?? null;
    this.#startGiven = options.startMs !== undefined;
    this.#lastMs = options.startMs ?? null;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get table(): TableKind {
    return this.#table;
  }

  get sort(): SortKey {
    return this.#sort;
  }

  get help(): boolean {
    return this.#help;
  }

  /** Feeds one sample and what the counting sink saw since the previous one. */
  update(sample: LiveSample, counts?: IntervalCounts): void {
    const baseline = this.#lastMs === null;
    if (this.#startMs === null) this.#startMs = sample.atMs;
    const dtMs = baseline ? 0 : sample.atMs - (this.#lastMs as number);
    if (!baseline && dtMs <= 0) {
      // A sample not after the last: its counters teach nothing, but counts are counts.
      if (counts !== undefined) {
        this.#tally('events', counts.events, 0);
        this.#tally('tasks', counts.tasks, 0);
      }
      return;
    }
    this.#intervalMs = dtMs;
    for (const c of sample.cpus) {
      let t = this.#cpus.get(c.cpu);
      if (t === undefined) {
        t = newTrack(`cpu${c.cpu}`, c.cpu, c.mode);
        this.#cpus.set(c.cpu, t);
      }
      t.mode = c.mode;
      this.#advance(t, sample.atMs, dtMs, c.events, c.bytes, c.lost, c.dropped, c.fillPercent);
    }
    if (sample.decisions !== undefined) for (const d of sample.decisions) this.#decisions.push(d);
    let ringIndex = 0;
    for (const r of sample.rings) {
      let t = this.#rings.get(r.name);
      if (t === undefined) {
        t = newTrack(r.name, -1 - ringIndex, 'ring');
        this.#rings.set(r.name, t);
      }
      ringIndex++;
      this.#advance(t, sample.atMs, dtMs, r.events, r.bytes, r.lost, r.dropped, r.fillPercent);
    }
    if (this.#decisions.length > this.#keepDecisions) this.#decisions.splice(0, this.#decisions.length - this.#keepDecisions);
    if (counts !== undefined) {
      this.#tally('events', counts.events, dtMs);
      this.#tally('tasks', counts.tasks, dtMs);
    }
    this.#lastMs = sample.atMs;
    this.#last = sample;
  }

  #advance(t: Track, atMs: number, dtMs: number, events: number, bytes: number, lost: number, dropped: number, fill: number): void {
    // Counters are cumulative from the capture's start: a new track's are all new.
    const known = t.seen;
    const de = growth(events, known ? t.events : 0);
    const db = growth(bytes, known ? t.bytes : 0);
    const dl = growth(lost, known ? t.lost : 0);
    const dd = growth(dropped, known ? t.dropped : 0);
    t.sinceEvents += de;
    t.sinceLost += dl;
    t.sinceDropped += dd;
    t.startLost += dl;
    t.startDropped += dd;
    t.lossRecent = dl + dd;
    // A rate needs the counters at the start of the interval: known, or zero at a given start.
    const fromStart = !known && this.#startGiven && this.#lastMs === this.#startMs;
    if (dtMs > 0 && (known || fromStart)) {
      t.perSec = (de * 1000) / dtMs;
      t.bytesPerSec = (db * 1000) / dtMs;
      t.history.push({ atMs, perSec: t.perSec });
      const cutoff = atMs - this.#historyMs;
      let drop = 0;
      while (drop < t.history.length && (t.history[drop] as RatePoint).atMs <= cutoff) drop++;
      if (drop > 0) t.history.splice(0, drop);
    }
    t.events = events;
    t.bytes = bytes;
    t.lost = lost;
    t.dropped = dropped;
    t.fill = fill;
    t.seen = true;
  }

  #tally(kind: TableKind, entries: readonly CountEntry[], dtMs: number): void {
    const map = this.#tallies[kind];
    // A new interval's rates replace the last (no interval: totals only).
    if (dtMs > 0) for (const t of map.values()) t.perSec = 0;
    let sum = 0;
    for (const e of entries) {
      let t = map.get(e.key);
      if (t === undefined) {
        t = { name: e.name, total: 0, perSec: 0 };
        map.set(e.key, t);
      }
      t.name = e.name; // a task renamed (exec) shows its latest comm, as the kernel's text does
      t.total += e.count;
      t.perSec += dtMs > 0 ? (e.count * 1000) / dtMs : 0;
      sum += e.count;
    }
    this.#tableTotals[kind] += sum;
  }

  // --- commands ---------------------------------------------------------

  /** Freezes the rows and the table (counting goes on); again to resume. */
  togglePause(): void {
    this.#paused = !this.#paused;
    this.#frozen = this.#paused ? this.#compute() : null;
  }

  /** Clears the tables and the since-zero counters (the start totals stay). */
  zero(): void {
    for (const t of [...this.#cpus.values(), ...this.#rings.values()]) {
      t.sinceEvents = 0;
      t.sinceLost = 0;
      t.sinceDropped = 0;
    }
    this.#tallies.events.clear();
    this.#tallies.tasks.clear();
    this.#tableTotals = { events: 0, tasks: 0 };
    this.#zeroedAtMs = this.#lastMs;
    if (this.#paused) this.#frozen = this.#compute();
  }

  cycleSort(): void {
    this.#sort = SORT_KEYS[(SORT_KEYS.indexOf(this.#sort) + 1) % SORT_KEYS.length] as SortKey;
    if (this.#paused) this.#frozen = this.#compute();
  }

  showTable(kind: TableKind): void {
    this.#table = kind;
    if (this.#paused) this.#frozen = this.#compute();
  }

  toggleHelp(): void {
    this.#help = !this.#help;
  }

  // --- the frame ----------------------------------------------------------

  /** What to draw now. */
  frame(): LiveFrame {
    const live = this.#frozen === null ? this.#compute() : this.#frozen;
    if (this.#frozen === null) return { ...live, help: this.#help };
    // Paused: the rows stay as they were, the loss totals do not.
    const { lost, dropped } = this.#startLosses();
    return { ...live, help: this.#help, paused: true, lostSinceStart: lost, droppedSinceStart: dropped };
  }

  #startLosses(): { lost: number; dropped: number } {
    let lost = 0;
    let dropped = 0;
    for (const t of [...this.#cpus.values(), ...this.#rings.values()]) {
      lost += t.startLost;
      dropped += t.startDropped;
    }
    return { lost, dropped };
  }

  #row(t: Track): RateRow {
    return {
      label: t.label,
      cpu: t.cpu,
      mode: t.mode,
      eventsPerSec: t.perSec,
      bytesPerSec: t.bytesPerSec,
      fillPercent: t.fill,
      events: t.sinceEvents,
      lost: t.sinceLost,
      dropped: t.sinceDropped,
      lossRecent: t.lossRecent,
      history: t.history.slice(),
    };
  }

  #totalRow(rows: readonly RateRow[]): RateRow {
    let perSec: number | null = null;
    let bytesPerSec: number | null = null;
    let events = 0;
    let lost = 0;
    let dropped = 0;
    let lossRecent = 0;
    let fill = 0;
    for (const r of rows) {
      if (r.eventsPerSec !== null) perSec = (perSec ?? 0) + r.eventsPerSec;
      if (r.bytesPerSec !== null) bytesPerSec = (bytesPerSec ?? 0) + r.bytesPerSec;
      events += r.events;
      lost += r.lost;
      dropped += r.dropped;
      lossRecent += r.lossRecent;
      fill = Math.max(fill, r.fillPercent);
    }
    // The total's history: the sum of the CPUs' points at the same instants.
    const sums = new Map<number, number>();
    for (const r of rows) for (const p of r.history) sums.set(p.atMs, (sums.get(p.atMs) ?? 0) + p.perSec);
    const history = [...sums].sort((a, b) => a[0] - b[0]).map(([atMs, v]) => ({ atMs, perSec: v }));
    return { label: 'total', cpu: -1, mode: 'all', eventsPerSec: perSec, bytesPerSec, fillPercent: fill, events, lost, dropped, lossRecent, history };
  }

  /** A table's rows in the current sort, whichever table is shown (--json prints both). */
  top(kind: TableKind, rows = this.#topRows): TopRow[] {
    return this.#top(kind, rows).rows;
  }

  #top(kind: TableKind = this.#table, limit = this.#topRows): { rows: TopRow[]; count: number } {
    const map = this.#tallies[kind];
    const total = this.#tableTotals[kind];
    const entries = [...map];
    const byKey = (a: [number, Tally], b: [number, Tally]) => a[0] - b[0];
    const compare =
      this.#sort === 'rate'
        ? (a: [number, Tally], b: [number, Tally]) => b[1].perSec - a[1].perSec || b[1].total - a[1].total || byKey(a, b)
        : this.#sort === 'total'
          ? (a: [number, Tally], b: [number, Tally]) => b[1].total - a[1].total || b[1].perSec - a[1].perSec || byKey(a, b)
          : (a: [number, Tally], b: [number, Tally]) => (a[1].name < b[1].name ? -1 : a[1].name > b[1].name ? 1 : byKey(a, b));
    entries.sort(compare);
    const rows = entries.slice(0, limit).map(([key, t]) => ({
      key,
      name: t.name,
      perSec: t.perSec,
      total: t.total,
      share: total > 0 ? (t.total * 100) / total : 0,
    }));
    return { rows, count: entries.length };
  }

  #compute(): LiveFrame {
    const s = this.#last;
    const cpus = [...this.#cpus.values()].sort((a, b) => a.cpu - b.cpu).map((t) => this.#row(t));
    const rings = [...this.#rings.values()].map((t) => this.#row(t));
    const { lost, dropped } = this.#startLosses();
    const top = this.#top();
    const sizes = new Set<number>();
    const kbs = new Set<number>();
    for (const c of s?.cpus ?? []) {
      sizes.add(c.subbufSize);
      kbs.add(c.bufferKb);
    }
    return {
      atMs: this.#lastMs ?? 0,
      elapsedMs: this.#lastMs !== null && this.#startMs !== null ? this.#lastMs - this.#startMs : 0,
      intervalMs: this.#intervalMs,
      clock: s?.clock ?? '',
      buffer: s?.buffer ?? '',
      selfCpuPercent: s?.selfCpuPercent ?? 0,
      subbufSizes: [...sizes].sort((a, b) => a - b),
      bufferKbs: [...kbs].sort((a, b) => a - b),
      cpus,
      rings,
      total: this.#totalRow(cpus),
      lostSinceStart: lost,
      droppedSinceStart: dropped,
      table: this.#table,
      sort: this.#sort,
      top: top.rows,
      topCount: top.count,
      paused: this.#paused,
      help: this.#help,
      zeroedAtMs: this.#zeroedAtMs,
      decisions: this.#decisions.slice(),
    };
  }
}
