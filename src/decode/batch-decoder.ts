// Table decoding of mixed batches (records of many events, as a
// RecordBatch holds them): one pass groups record indices by event id, then
// each event's generated decoder runs over its group. Grouping first keeps
// every decoder call site monomorphic (one generated function per loop);
// dispatching per record measured slower (bench/decode-micro.ts).

import { EventDecoder, type EventTable, type RowsDecoder } from './field-decoder.js';
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

export interface BatchDecoderOptions {
  littleEndian?: boolean;
  strings?: StringTable;
}

interface Group {
  readonly id: number;
  readonly decoder: EventDecoder | null;
  table: EventTable | null;
  rows: RowsDecoder | null;
  indices: Int32Array;
  n: number;
}

export class BatchDecoder {
  readonly registry: EventRegistry;
  readonly strings: StringTable;
  readonly #le: boolean;
  /** Groups by event id (ids are 16-bit): a dense array, no hashing per record. */
  #groups: Array<Group | null> = new Array<Group | null>(65536).fill(null);
  /** Groups touched by the last decode(), in first-seen order: the first #touchedCount entries. */
  readonly #touched: Group[] = [];
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
    let g = this.#groups[id] ?? null;
    if (g === null) {
      const found = this.registry.lookup(id);
      const decoder = found.status === 'ok' ? new EventDecoder(found.format, { littleEndian: this.#le, strings: this.strings }) : null;
      g = { id, decoder, table: null, rows: null, indices: new Int32Array(64), n: 0 };
      this.#groups[id] = g;
    }
    return g;
  }

  /**
   * Decodes every record of `records` into per-event tables, replacing the
   * previous batch's rows. Tables stay valid until the next call (they
   * point into `records.bytes`).
   */
  decode(records: RecordsLike): void {
    if (this.#generation !== this.registry.generation) {
      this.#groups.fill(null);
      this.#touchedCount = 0;
      this.#generation = this.registry.generation;
    }
    const touched = this.#touched;
    for (let t = 0; t < this.#touchedCount; t++) touched[t]!.n = 0;
    let nt = 0;
    const groups = this.#groups;
    const le = this.#le;
    const { view, records: rec } = records;
    const count = records.count;
    let last: Group | null = null;
    let unknown = 0;
    for (let i = 0; i < count; i++) {
      const at = i << 2;
      if (rec[at + 1]! < 2) {
        unknown++;
        continue;
      }
      const id = view.getUint16(rec[at]!, le);
      let g: Group | null = last !== null && last.id === id ? last : groups[id]!;
      if (g === null) g = this.#group(id);
      if (g.n === 0) touched[nt++] = g;
      if (g.n === g.indices.length) {
        const grown = new Int32Array(g.indices.length * 2);
        grown.set(g.indices);
        g.indices = grown;
      }
      g.indices[g.n++] = i;
      last = g;
    }
    for (let t = 0; t < nt; t++) {
      const g = touched[t]!;
      if (g.decoder === null) {
        unknown += g.n;
        continue;
      }
      let table = g.table;
      if (table === null || table.capacity < g.n) {
        table = g.table = g.decoder.createTable(Math.max(g.n, 256));
        g.rows = g.decoder.rowsDecoder(table);
      }
      if (table.bytes !== records.bytes) {
        table.bytes = records.bytes;
        table.view = view;
      }
      g.rows!(view, rec, g.indices, g.n, 0, table.data);
      table.length = g.n;
    }
    this.#touchedCount = nt;
    this.unknown = unknown;
  }

  /** Rows of event `id` from the last decode(), or undefined if it had none. */
  table(id: number): EventTable | undefined {
    const g = id >= 0 && id < 65536 ? this.#groups[id] : null;
    return g !== null && g !== undefined && g.n > 0 && g.table !== null ? g.table : undefined;
  }

  /** Tables of every event present in the last decode(). */
  *tables(): IterableIterator<EventTable> {
    for (let t = 0; t < this.#touchedCount; t++) {
      const g = this.#touched[t]!;
      if (g.table !== null && g.decoder !== null) yield g.table;
    }
  }
}
