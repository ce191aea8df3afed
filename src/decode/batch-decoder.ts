// Table decoding of mixed batches (records of many events, as a
// RecordBatch holds them): one pass groups record indices by event id, then
// each event's generated decoder runs over its group. Grouping first keeps
// every decoder call site monomorphic (one generated function per loop);
// dispatching per record measured slower (bench/decode-micro.ts).

import { EventDecoder, type EventTable } from './field-decoder.js';
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
  indices: Int32Array;
  n: number;
}

export class BatchDecoder {
  readonly registry: EventRegistry;
  readonly strings: StringTable;
  readonly #le: boolean;
  readonly #groups = new Map<number, Group>();
  /** Groups touched by the last decode(), in first-seen order. */
  #touched: Group[] = [];
  #generation = -1;
  /** Records of the last decode() whose event id has no usable format. */
  unknown = 0;

  constructor(registry: EventRegistry, options: BatchDecoderOptions = {}) {
    this.registry = registry;
    this.#le = options.littleEndian ?? true;
    this.strings = options.strings ?? new StringTable();
  }

  #group(id: number): Group {
    let g = this.#groups.get(id);
    if (g === undefined) {
      const found = this.registry.lookup(id);
      const decoder = found.status === 'ok' ? new EventDecoder(found.format, { littleEndian: this.#le, strings: this.strings }) : null;
      g = { id, decoder, table: null, indices: new Int32Array(64), n: 0 };
      this.#groups.set(id, g);
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
      this.#groups.clear();
      this.#generation = this.registry.generation;
    }
    for (const g of this.#touched) g.n = 0;
    const touched: Group[] = [];
    const { view, records: rec } = records;
    const count = records.count;
    let last: Group | null = null;
    let unknown = 0;
    for (let i = 0; i < count; i++) {
      if (rec[(i << 2) + 1]! < 2) {
        unknown++;
        continue;
      }
      const id = view.getUint16(rec[i << 2]!, this.#le);
      let g: Group | undefined = last !== null && last.id === id ? last : this.#groups.get(id);
      if (g === undefined) g = this.#group(id);
      if (g.n === 0) touched.push(g);
      if (g.n === g.indices.length) {
        const grown = new Int32Array(g.indices.length * 2);
        grown.set(g.indices);
        g.indices = grown;
      }
      g.indices[g.n++] = i;
      last = g;
    }
    for (const g of touched) {
      if (g.decoder === null) {
        unknown += g.n;
        continue;
      }
      if (g.table === null || g.table.capacity < g.n) g.table = g.decoder.createTable(Math.max(g.n, 256));
      g.table.clear();
      g.decoder.decodeRecords(g.table, records.bytes, view, rec, g.indices, g.n);
    }
    this.#touched = touched;
    this.unknown = unknown;
  }

  /** Rows of event `id` from the last decode(), or undefined if it had none. */
  table(id: number): EventTable | undefined {
    const g = this.#groups.get(id);
    return g !== undefined && g.n > 0 && g.table !== null ? g.table : undefined;
  }

  /** Tables of every event present in the last decode(). */
  *tables(): IterableIterator<EventTable> {
    for (const g of this.#touched) if (g.table !== null && g.decoder !== null) yield g.table;
  }
}
