// Table decoding of mixed batches (records of many events, as a
// RecordBatch holds them): one pass chains the records of each event id
// (linked lists through one Int32Array), then each event's generated
// decoder walks its chain (row-codegen.ts). Grouping first keeps every
// decoder call site monomorphic (one generated function per loop);
// dispatching per record measured slower (bench/decode-micro.ts).
//
// The chains are linked back to front: each link is stored at a known
// address and no per-event count or tail is kept, the cheapest grouping
// measured on the report benchmark's mixed recording (vs. growable index
// arrays per event, counting then scattering indices, appending through a
// tail array, or reading the ids front to back first). Reading back to
// front costs only when the records are not in the cache (the walker has
// just read them whenever a reader hands a batch over).

import { EventDecoder, type EventTable, type ListDecoder } from './field-decoder.js';
import type { EventRegistry } from './registry.js';
import { StringTable } from './strings.js';

/** The parts of a RecordBatch (src/layout/record.ts) the decoder reads. */
export interface RecordsLike {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly count: number;
  /** 4 int32 per record: payload offset, payload length, (timestamp hi, lo). */
  readonly records: Int32Array;
}

/** Options of BatchDecoder. */
export interface BatchDecoderOptions {
  littleEndian?: boolean;
  strings?: StringTable;
}

/** Per event id: its decoder (null: no usable format) and table. */
interface Group {
  readonly decoder: EventDecoder | null;
  table: EventTable | null;
  list: ListDecoder | null;
  /** Rows of the last decode() (0: absent from it). */
  rows: number;
}

/** Rows of a new table: a few batches' worth of a frequent event. */
const MIN_CAPACITY = 256;
/** Pseudo id of records too short to hold an id, or outside the view: counted unknown. */
const NO_ID = 65536;
/** Entries of the per-id parts of the scratch memory (NO_ID included). */
const IDS = NO_ID + 1;

/** Decodes mixed batches into per-event tables, one generated decoder per event format. */
export class BatchDecoder {
  readonly registry: EventRegistry;
  readonly strings: StringTable;
  readonly #le: boolean;
  /** Groups by event id (ids are 16-bit): a dense array, no hashing per record. */
  #groups: Array<Group | null> = new Array<Group | null>(65536).fill(null);
  /**
   * Scratch memory of the grouping pass, one array (V8 checks every typed
   * array a loop touches on each iteration: fewer arrays, fewer checks):
   * from 0, the chain links (see linkRecords), from #capacity the head of
   * each id's chain (-1 when none; all -1 between calls), then the ids met.
   */
  #scratch = new Int32Array(0);
  /** Records the scratch memory has links for. */
  #capacity = -1;
  /** The ids present in the last decode() and the first record of each. */
  readonly #touched = new Int32Array(IDS);
  readonly #firsts = new Int32Array(IDS);
  #touchedCount = 0;
  #generation = -1;
  /** Records of the last decode() whose event id has no usable format. */
  unknown = 0;

  constructor(registry: EventRegistry, options: BatchDecoderOptions = {}) {
    this.registry = registry;
    this.#le = options.littleEndian ?? true;
    this.strings = options.strings ?? new StringTable();
  }

  #group(id: number): Group {
    const found = this.registry.lookup(id);
    const decoder = found.status === 'ok' ? new EventDecoder(found.format, { littleEndian: this.#le, strings: this.strings }) : null;
    const g: Group = { decoder, table: null, list: null, rows: 0 };
    this.#groups[id] = g;
    return g;
  }

  /**
   * Decodes every record of `records` into per-event tables, replacing the
   * previous batch's rows. Tables stay valid until the next call (they
   * point into `records.bytes`).
   */
  decode(records: RecordsLike): void {
    const groups = this.#groups;
    for (let t = 0; t < this.#touchedCount; t++) {
      const id = this.#touched[t]!;
      const g = id === NO_ID ? null : groups[id]!;
      if (g !== null) g.rows = 0;
    }
    this.#touchedCount = 0;
    this.unknown = 0;
    if (this.#generation !== this.registry.generation) {
      groups.fill(null);
      this.#generation = this.registry.generation;
    }
    const { view, records: rec, count } = records;
    if (this.#capacity < count) {
      this.#capacity = Math.max(count, 1024) * 2;
      this.#scratch = new Int32Array(this.#capacity + IDS * 2);
      this.#scratch.fill(-1, this.#capacity, this.#capacity + IDS);
    }
    const next = this.#scratch;
    const HEAD = this.#capacity;
    const TOUCHED = HEAD + IDS;
    const nt = linkRecords(view, rec, count, this.#le, next, HEAD, TOUCHED);
    // Chain heads move out, so that the heads are all -1 again before any decoder runs (and may throw).
    const touched = this.#touched;
    const firsts = this.#firsts;
    for (let t = 0; t < nt; t++) {
      const id = next[TOUCHED + t]!;
      touched[t] = id;
      firsts[t] = next[HEAD + id]!;
      next[HEAD + id] = -1;
    }
    this.#touchedCount = nt;
    let unknown = 0;
    for (let t = 0; t < nt; t++) {
      const id = touched[t]!;
      const first = firsts[t]!;
      const g = id === NO_ID ? null : (groups[id] ?? this.#group(id));
      if (g === null || g.decoder === null) {
        unknown += chainLength(next, first);
        continue;
      }
      let table = g.table ?? this.#newTable(g, Math.max(MIN_CAPACITY, chainLength(next, first)));
      if (table.bytes !== records.bytes) {
        table.bytes = records.bytes;
        table.view = view;
      }
      let rows = g.list!(view, rec, next, first, table.data);
      if (rows < 0) {
        table = this.#newTable(g, Math.max(table.capacity * 2, chainLength(next, first)));
        table.bytes = records.bytes;
        table.view = view;
        rows = g.list!(view, rec, next, first, table.data);
      }
      table.length = rows;
      g.rows = rows;
    }
    this.unknown = unknown;
  }

  #newTable(g: Group, capacity: number): EventTable {
    const table = g.decoder!.createTable(capacity);
    g.table = table;
    g.list = g.decoder!.listDecoder(table);
    return table;
  }

  /** Rows of event `id` from the last decode(), or undefined if it had none. */
  table(id: number): EventTable | undefined {
    const g = id >= 0 && id < 65536 ? this.#groups[id] : null;
    return g !== null && g !== undefined && g.rows > 0 && g.table !== null ? g.table : undefined;
  }

  /** Tables of every event present in the last decode() (in no particular order). */
  *tables(): IterableIterator<EventTable> {
    for (let t = 0; t < this.#touchedCount; t++) {
      const id = this.#touched[t]!;
      const g = id === NO_ID ? null : this.#groups[id];
      if (g !== null && g !== undefined && g.rows > 0 && g.table !== null) yield g.table;
    }
  }
}

function chainLength(next: Int32Array, first: number): number {
  let n = 0;
  for (let i = first; i >= 0; i = next[i]!) n++;
  return n;
}

/**
 * Chains the records of each event id, in `s` (BatchDecoder.#scratch),
 * going back to front: afterwards s[HEAD + id] is the first record of id,
 * s[i] the record after i of the same id (-1: none), and s[TOUCHED + t] for
 * t < nt the ids met (NO_ID for records too short to hold an id, or outside
 * the view). Returns nt. Two records per step (measured faster: V8 checks
 * the arrays once per step); the literal 65536 is NO_ID (a module constant
 * would be loaded per record).
 */
function linkRecords(view: DataView, rec: Int32Array, count: number, le: boolean, s: Int32Array, HEAD: number, TOUCHED: number): number {
  const last = view.byteLength - 2;
  let nt = 0;
  let i = count - 1;
  for (; i >= 1; i -= 2) {
    const at = i << 2;
    const o = rec[at]!;
    const L = rec[(at + 1) | 0]!;
    const o2 = rec[(at - 4) | 0]!;
    const L2 = rec[(at - 3) | 0]!;
    const h = (HEAD + (L >= 2 && o >= 0 && o <= last ? view.getUint16(o, le) : 65536)) | 0;
    const h2 = (HEAD + (L2 >= 2 && o2 >= 0 && o2 <= last ? view.getUint16(o2, le) : 65536)) | 0;
    const first = s[h]!;
    s[i] = first;
    s[h] = i;
    if (first < 0) s[(TOUCHED + nt++) | 0] = h - HEAD;
    const first2 = s[h2]!;
    s[(i - 1) | 0] = first2;
    s[h2] = (i - 1) | 0;
    if (first2 < 0) s[(TOUCHED + nt++) | 0] = h2 - HEAD;
  }
  if (i === 0) {
    const o = rec[0]!;
    const h = (HEAD + (rec[1]! >= 2 && o >= 0 && o <= last ? view.getUint16(o, le) : 65536)) | 0;
    const first = s[h]!;
    s[0] = first;
    s[h] = 0;
    if (first < 0) s[(TOUCHED + nt++) | 0] = h - HEAD;
  }
  return nt;
}
