// From cursors to buffered rows. Each kernel buffer and each application
// ring is a decode group (its registry, batch decoder and clock); each
// cursor a source. Batches are taken from the sources in time order (the
// source whose next batch starts earliest first), decoded into the
// decoder's per-event tables, and appended: the common columns record by
// record, the fields table by table.

import { BatchDecoder } from '../../decode/batch-decoder.js';
import { EventRegistry, type FormatSource } from '../../decode/registry.js';
import type { RecordBatch } from '../../layout/record.js';
import type { BufferInput, CpuCursor, RingInput, SinkInput } from '../sink.js';
import { type TsClock, putTs, tsClock } from './clock.js';
import { EventRows, type RowSource } from './event-rows.js';
import { eventSchema } from './schema.js';
import type { TaskResolver } from './tasks.js';

/**
 * Records of one batch at most, for 16 sub-buffers of 4 KiB: how far a row
 * group may overrun before it is written (larger batches grow the buffers
 * to what they need).
 */
const MAX_BATCH_RECORDS = 8192;
/** Pseudo id of records too short to hold an event id. */
const NO_ID = 65536;
const TWO32 = 4294967296;

export interface DecodeGroup {
  /** '' (top-level buffer), an instance name, or 'ring:NAME'. */
  readonly name: string;
  readonly registry: EventRegistry;
  readonly decoder: BatchDecoder;
  readonly formats: FormatSource;
  readonly littleEndian: boolean;
  readonly longSize: 4 | 8;
  readonly clock: TsClock;
  /** Rows of each event id (ids are per group: rings number their events from 0xc000 each). */
  readonly rowsById: Array<EventRows | undefined>;
  /** Index of this group's name in each event's buffer column, by id. */
  readonly bufferIndex: Int32Array;
  /** The ring writer's process, for every record of a ring (-1: look the pid up). */
  readonly tgid: number;
  /** Kernel buffer (stats, start counters) or null for rings. */
  readonly buffer: BufferInput | null;
  /** The registry generation rowsById was filled under. */
  generation: number;
}

/** Per source and segment: what the losses table reports. */
export interface SourceStats {
  events: number;
  lostBefore: number;
  lostUnknown: number;
  /** ts range (converted), null before the first event. */
  tsMin: bigint | null;
  tsMax: bigint | null;
}

export interface Source {
  readonly group: DecodeGroup;
  readonly cursor: CpuCursor;
  readonly cpu: number;
  /** A loss carried to the next record (a batch that had none): 0, n, -1 unknown. */
  pendingLost: number;
  stats: SourceStats;
  /** The batch taken but not yet appended. */
  head: RecordBatch | null;
  /** Its first timestamp (approximate, converted) for ordering. */
  headTs: number;
}

export function emptyStats(): SourceStats {
  return { events: 0, lostBefore: 0, lostUnknown: 0, tsMin: null, tsMax: null };
}

function tsBig(hi: number, lo: number, c: TsClock): bigint {
  return ((BigInt(hi) << 32n) | BigInt(lo)) + c.offset;
}

function tsApprox(batch: RecordBatch, c: TsClock): number {
  return batch.count === 0 ? -Infinity : batch.tsHi(0) * TWO32 + batch.tsLo(0) + Number(c.offset);
}

function combineLoss(a: number, b: number): number {
  return a < 0 || b < 0 ? -1 : a + b;
}

/** A signature of a format's field layout: formats that match write to one file. */
function layoutKey(rows: EventRows): string {
  return rows.columns.map((c) => `${c.name}:${c.leaf}${c.bits}${c.signed ? 's' : 'u'}${c.list ? '[]' : ''}`).join(',');
}

export class Ingest {
  readonly groups: DecodeGroup[] = [];
  readonly sources: Source[] = [];
  /** Every event's rows, by file key. */
  readonly rows = new Map<string, EventRows>();
  readonly #rowSource: RowSource;
  readonly #tasks: TaskResolver;
  #stamp = 0;
  readonly #touched: EventRows[] = [];
  /** Rows appended since the caller last looked (for the memory budget). */
  rowsSinceCheck = 0;

  /** Rows an event holds before it must be written: a row group plus one batch. */
  readonly #rowLimit: number;

  constructor(input: SinkInput, rowSource: RowSource, tasks: TaskResolver, withRings: boolean, rowGroupRows: number) {
    this.#rowLimit = rowGroupRows + MAX_BATCH_RECORDS;
    this.#rowSource = rowSource;
    this.#tasks = tasks;
    for (const buffer of input.buffers) {
      // A registry of its own: the shared decode context would also load symbols and printk formats, unused here.
      const registry = new EventRegistry(buffer.files, { longSize: buffer.layout.longSize === 4 ? 4 : 8 });
      const group = this.#group(buffer.name, registry, buffer.files, buffer.layout.littleEndian, tsClock(buffer.clock, input.clockPairs), -1, buffer);
      for (const cursor of buffer.cpus) this.#source(group, cursor);
    }
    if (withRings) {
      for (const ring of input.rings) this.#addRing(ring, input);
    }
  }

  #addRing(ring: RingInput, input: SinkInput): void {
    const registry = new EventRegistry(ring.formats);
    const group = this.#group(`ring:${ring.name}`, registry, ring.formats, true, tsClock('mono', input.clockPairs), ring.writerPid > 0 ? ring.writerPid : -1, null);
    this.#source(group, ring.cursor);
  }

  #group(name: string, registry: EventRegistry, formats: FormatSource, le: boolean, clock: TsClock, tgid: number, buffer: BufferInput | null): DecodeGroup {
    const group: DecodeGroup = {
      name,
      registry,
      decoder: new BatchDecoder(registry, { littleEndian: le }),
      formats,
      littleEndian: le,
      longSize: registry.longSize,
      clock,
      rowsById: new Array<EventRows | undefined>(NO_ID + 1),
      bufferIndex: new Int32Array(NO_ID + 1),
      tgid,
      buffer,
      generation: registry.generation,
    };
    this.groups.push(group);
    return group;
  }

  #source(group: DecodeGroup, cursor: CpuCursor): void {
    this.sources.push({ group, cursor, cpu: cursor.cpu, pendingLost: 0, stats: emptyStats(), head: null, headTs: 0 });
  }

  /** The rows of event `id` of a group (created on first sight). */
  #rowsFor(g: DecodeGroup, id: number): EventRows {
    if (g.registry.generation !== g.generation) this.#forget(g);
    const found = id === NO_ID ? null : g.registry.lookup(id);
    let rows: EventRows;
    if (found !== null && found.status === 'ok') {
      const f = found.format;
      rows = new EventRows(this.#rowSource, f.system || g.name || 'unknown', f.name, eventSchema(f), g.littleEndian, g.longSize, this.#rowLimit);
    } else rows = new EventRows(this.#rowSource, 'unknown', id === NO_ID ? 'short_record' : `id_${id}`, null, g.littleEndian, g.longSize, this.#rowLimit);
    // One file per event name: an event with another layout under a known name gets a name of its own.
    let key = rows.key;
    let existing = this.rows.get(key);
    if (existing !== undefined && layoutKey(existing) !== layoutKey(rows)) {
      rows = new EventRows(this.#rowSource, rows.system, `${rows.event}@${g.name || 'top'}_${id}`, rows.schema, g.littleEndian, g.longSize, this.#rowLimit);
      key = rows.key;
      existing = this.rows.get(key);
    }
    if (existing !== undefined) rows = existing;
    else this.rows.set(key, rows);
    g.rowsById[id] = rows;
    g.bufferIndex[id] = rows.bufferIndex(g.name);
    return rows;
  }

  /** The registry reloaded (new module events): ids may mean other events now. */
  #forget(g: DecodeGroup): void {
    g.rowsById.fill(undefined);
    g.generation = g.registry.generation;
  }

  /**
   * Appends one batch of `src`. Returns the rows objects it touched (valid
   * until the next call), for the caller's row-group checks.
   */
  append(src: Source, batch: RecordBatch): readonly EventRows[] {
    const touched = this.#touched;
    touched.length = 0;
    const n = batch.count;
    let lost = combineLoss(src.pendingLost, batch.lostBefore);
    if (n === 0) {
      src.pendingLost = lost;
      return touched;
    }
    src.pendingLost = 0;
    const g = src.group;
    g.decoder.decode(batch);
    if (g.registry.generation !== g.generation) this.#forget(g);
    const stamp = ++this.#stamp;
    const rec = batch.records;
    const view = batch.view;
    const bytes = batch.bytes;
    const le = g.littleEndian;
    const last = view.byteLength;
    const clock = g.clock;
    const tasks = this.#tasks;
    const cpu = src.cpu;
    const byId = g.rowsById;
    const bufferIndex = g.bufferIndex;
    const ringTgid = g.tgid;
    const stats = src.stats;
    if (lost < 0) stats.lostUnknown++;
    else stats.lostBefore += lost;
    for (let i = 0; i < n; i++) {
      const at = i << 2;
      const off = rec[at]!;
      const len = rec[at + 1]!;
      const id = len >= 2 && off >= 0 && off + 2 <= last ? view.getUint16(off, le) : NO_ID;
      const rows = byId[id] ?? this.#rowsFor(g, id);
      if (rows.stamp !== stamp) {
        rows.stamp = stamp;
        touched.push(rows);
      }
      const r = rows.rows;
      if (r >= rows.capacity) rows.reserve(1);
      rows.cpu[r] = cpu;
      putTs(rows.ts, r, rec[at + 2]! >>> 0, rec[at + 3]! >>> 0, clock);
      const pid = len >= 8 && off + 8 <= last ? view.getInt32(off + 4, le) : 0;
      rows.pid[r] = pid;
      const task = tasks.lookup(pid);
      rows.tgid[r] = ringTgid >= 0 ? ringTgid : task.tgid;
      rows.comm[r] = task.comm;
      rows.buffer[r] = bufferIndex[id]!;
      const lp = 2 * r;
      if (i === 0 && lost !== 0) {
        if (lost < 0) {
          rows.lost[lp] = -1;
          rows.lost[lp + 1] = -1;
        } else {
          rows.lost[lp] = lost % TWO32 | 0;
          rows.lost[lp + 1] = Math.floor(lost / TWO32);
        }
        lost = 0;
      } else {
        rows.lost[lp] = 0;
        rows.lost[lp + 1] = 0;
      }
      rows.rows = r + 1;
      if (rows.schema === null) rows.appendPayload(id === NO_ID ? -1 : id, bytes, Math.max(0, off), Math.max(0, Math.min(len, last - off)));
    }
    for (const t of g.decoder.tables()) (byId[t.format.id] ?? this.#rowsFor(g, t.format.id)).appendTable(t);
    for (const rows of touched) rows.completeRows();
    stats.events += n;
    const first = tsBig(batch.tsHi(0), batch.tsLo(0), clock);
    const lastTs = tsBig(batch.tsHi(n - 1), batch.tsLo(n - 1), clock);
    if (stats.tsMin === null || first < stats.tsMin) stats.tsMin = first;
    if (stats.tsMax === null || lastTs > stats.tsMax) stats.tsMax = lastTs;
    this.rowsSinceCheck += n;
    return touched;
  }

  /**
   * Appends the next batch in time order; false when no source has one now.
   * A source's cursor is asked for more only after its last batch was
   * appended (a batch stays valid until then).
   */
  appendNext(): readonly EventRows[] | null {
    const s = this.#earliest();
    if (s === null) return null;
    const batch = s.head!;
    s.head = null;
    return this.append(s, batch);
  }

  #earliest(): Source | null {
    let best: Source | null = null;
    for (const s of this.sources) {
      if (s.head === null) {
        const b = s.cursor.next();
        if (b === null) continue;
        s.head = b;
        s.headTs = tsApprox(b, s.group.clock);
      }
      if (best === null || s.headTs < best.headTs) best = s;
    }
    return best;
  }

  /** Every source's counters for a new segment; the old ones. */
  takeStats(): Map<Source, SourceStats> {
    const out = new Map<Source, SourceStats>();
    for (const s of this.sources) {
      out.set(s, s.stats);
      s.stats = emptyStats();
    }
    return out;
  }
}
