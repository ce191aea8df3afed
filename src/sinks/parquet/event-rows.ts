// The buffered rows of one event type (one file per segment): the common
// columns, appended record by record (timestamp, CPU, pid, loss), and the
// event's own fields, appended table by table from the batch decoder.

import type { EventTable } from '../../decode/field-decoder.js';
import type { ColumnRows, ColumnSpec } from './format/column.js';
import { ByteDictionary } from './format/dictionary.js';
import { type FieldBuilder, fieldBuilder, growInt32, growUint8, isStringField } from './builders.js';
import { COMMON_COLUMNS, type EventSchema, UNKNOWN_EVENT_COLUMNS } from './schema.js';
import type { TaskResolver } from './tasks.js';

/** Distinct values of a string field before its row group is closed (dictionary pages stay small). */
const MAX_DISTINCT = 1 << 16;

/** Rows allocated below which release() keeps the buffers. */
const SHRINK_ABOVE = 1024;

/** A dictionary holding one string (constant columns). */
function constant(value: string): ByteDictionary {
  const d = new ByteDictionary();
  d.addString(value);
  return d;
}

let zeros = new Int32Array(1024);
function zeroIndices(rows: number): Int32Array {
  if (zeros.length < rows) zeros = new Int32Array(Math.max(rows, zeros.length * 2));
  return zeros.subarray(0, rows);
}

export interface RowSource {
  readonly host: string;
  readonly bootId: string;
}

export class EventRows {
  /** 'system/event' (or 'unknown/id_N'). */
  readonly key: string;
  readonly system: string;
  readonly event: string;
  readonly schema: EventSchema | null;
  readonly columns: readonly ColumnSpec[];
  rows = 0;
  /** Rows whose fields were appended (equal to rows between batches). */
  #fieldRows = 0;
  cpu: Int32Array = new Int32Array(256);
  /** Pairs: low, high. */
  ts: Int32Array = new Int32Array(512);
  pid: Int32Array = new Int32Array(256);
  /** -1: unknown. */
  tgid: Int32Array = new Int32Array(256);
  /** TaskResolver comm ids, -1: unknown. */
  comm: Int32Array = new Int32Array(256);
  /** Pairs; (-1, -1): a loss of unknown size. */
  lost: Int32Array = new Int32Array(512);
  /** Index into the buffer names (one file holds an event of every buffer). */
  buffer: Int32Array = new Int32Array(256);
  /** Set by the sink to the batch that last appended rows. */
  stamp = 0;
  /** Unknown events: id and payload bytes. */
  #ids: Int32Array | null = null;
  #payloadOffsets: Int32Array | null = null;
  #payload: Uint8Array | null = null;
  fields: FieldBuilder[] = [];
  readonly #constants: readonly ByteDictionary[];
  readonly #buffers = new ByteDictionary();
  readonly #le: boolean;
  readonly #longSize: number;
  readonly #commDict = new ByteDictionary();
  /** Scratch of #commIndices: comm id to dictionary index, and the indices. */
  #commLocal = new Int32Array(64);
  #commOut: Int32Array = new Int32Array(256);
  /** Scratch presence arrays (tgid, comm, lost_before), reused per row group. */
  #presence: [Uint8Array, Uint8Array, Uint8Array] = [new Uint8Array(256), new Uint8Array(256), new Uint8Array(256)];

  /** The most rows held: a row group, and the batch that filled it. */
  readonly #limit: number;

  constructor(source: RowSource, system: string, event: string, schema: EventSchema | null, littleEndian: boolean, longSize: number, limit: number) {
    this.#limit = limit;
    this.#le = littleEndian;
    this.#longSize = longSize;
    this.system = system;
    this.event = event;
    this.key = `${system}/${event}`;
    this.schema = schema;
    this.columns = schema === null ? UNKNOWN_EVENT_COLUMNS : schema.columns;
    this.#constants = [constant(source.host), constant(source.bootId), constant(system), constant(event)];
    this.#allocate();
  }

  /** Fresh buffers for `rows` rows (their fields start small and grow). */
  #allocate(rows = 256): void {
    this.cpu = new Int32Array(rows);
    this.ts = new Int32Array(2 * rows);
    this.pid = new Int32Array(rows);
    this.tgid = new Int32Array(rows);
    this.comm = new Int32Array(rows);
    this.lost = new Int32Array(2 * rows);
    this.buffer = new Int32Array(rows);
    this.fields = this.schema === null ? [] : this.schema.fields.map((f) => fieldBuilder(f, this.#le, this.#longSize, this.#limit, rows));
    if (this.schema === null) {
      this.#ids = new Int32Array(rows);
      this.#payloadOffsets = new Int32Array(rows + 1);
      this.#payload = new Uint8Array(4096);
    }
  }

  /** The index of a buffer's name in the buffer column. */
  bufferIndex(name: string): number {
    return this.#buffers.addString(name);
  }

  /** Rows the common columns have room for. */
  get capacity(): number {
    return this.cpu.length;
  }

  /** Room for `n` more rows of common columns. */
  reserve(n: number): void {
    const need = this.rows + n;
    if (need <= this.cpu.length) return;
    const cap = this.#limit;
    this.cpu = growInt32(this.cpu, need, cap);
    this.ts = growInt32(this.ts, 2 * need, 2 * cap);
    this.pid = growInt32(this.pid, need, cap);
    this.tgid = growInt32(this.tgid, need, cap);
    this.comm = growInt32(this.comm, need, cap);
    this.lost = growInt32(this.lost, 2 * need, 2 * cap);
    this.buffer = growInt32(this.buffer, need, cap);
    if (this.#ids !== null) this.#ids = growInt32(this.#ids, need, cap);
  }

  /** The raw payload of an unknown event's record (after its common columns were appended). */
  appendPayload(id: number, bytes: Uint8Array, offset: number, length: number): void {
    const r = this.rows - 1;
    this.#ids![r] = id;
    this.#payloadOffsets = growInt32(this.#payloadOffsets!, r + 2);
    const start = this.#payloadOffsets[r]!;
    this.#payload = growUint8(this.#payload!, start + length);
    this.#payload.set(bytes.subarray(offset, offset + length), start);
    this.#payloadOffsets[r + 1] = start + length;
  }

  /** Appends the fields of every row of `table` (the records of this event in the last batch, in order). */
  appendTable(table: EventTable): void {
    const schema = this.schema;
    if (schema === null) return;
    const at = this.#fieldRows;
    for (let k = 0; k < this.fields.length; k++) {
      const f = this.fields[k]!;
      f.append(table, table.slots[schema.fields[k]!.field.index]!, at);
    }
    this.#fieldRows = at + table.length;
    if (this.#fieldRows > this.rows) throw new Error(`${this.key}: ${this.rows} rows but ${this.#fieldRows} with fields`);
  }

  /**
   * After a batch: rows that got no fields (unknown events have none; a
   * format that appeared after the batch was decoded) get null fields.
   */
  completeRows(): void {
    const missing = this.rows - this.#fieldRows;
    if (missing <= 0) return;
    for (const f of this.fields) f.appendNulls(this.#fieldRows, missing);
    this.#fieldRows = this.rows;
  }

  /** A string field's dictionary is about to outgrow a page: the row group should end. */
  get dictionaryFull(): boolean {
    for (const f of this.fields) if (isStringField(f) && f.distinct >= MAX_DISTINCT) return true;
    return false;
  }

  /** Bytes allocated for this event's rows (the memory budget counts these). */
  get capacityBytes(): number {
    let n = this.cpu.length * 36;
    for (const f of this.fields) n += f.bytes;
    if (this.#payload !== null) n += this.#payload.length + this.#payloadOffsets!.length * 4;
    return n;
  }

  /** Bytes the buffered rows take (at the allocation's average per row). */
  get bytes(): number {
    return this.rows === 0 ? 0 : (this.capacityBytes * this.rows) / this.cpu.length;
  }

  /** The buffered rows as column data, in schema order (views of the buffers: encode before reset()). */
  columnRows(tasks: TaskResolver): ColumnRows[] {
    const n = this.rows;
    const [host, boot, system, event] = this.#constants as [ByteDictionary, ByteDictionary, ByteDictionary, ByteDictionary];
    const dictRows = (d: ByteDictionary): ColumnRows => ({ rows: n, present: null, data: { kind: 'dict', indices: zeroIndices(n), dictionary: d } });
    if (this.#presence[0].length < n) this.#presence = [new Uint8Array(n * 2), new Uint8Array(n * 2), new Uint8Array(n * 2)];
    const tgidPresent = nonNegative(this.tgid, n, this.#presence[0]);
    const commPresent = nonNegative(this.comm, n, this.#presence[1]);
    const lostPresent = knownLosses(this.lost, n, this.#presence[2]);
    const out: ColumnRows[] = [
      dictRows(host),
      dictRows(boot),
      { rows: n, present: null, data: { kind: 'dict', indices: this.buffer.subarray(0, n), dictionary: this.#buffers } },
      { rows: n, present: null, data: { kind: 'int32', values: this.cpu.subarray(0, n) } },
      { rows: n, present: null, data: { kind: 'int64', values: this.ts.subarray(0, 2 * n) } },
      { rows: n, present: null, data: { kind: 'int32', values: this.pid.subarray(0, n) } },
      { rows: n, present: tgidPresent, data: { kind: 'int32', values: this.tgid.subarray(0, n) } },
      { rows: n, present: commPresent, data: { kind: 'dict', indices: this.#commIndices(tasks, n), dictionary: this.#commDict } },
      dictRows(system),
      dictRows(event),
      { rows: n, present: lostPresent, data: { kind: 'int64', values: this.lost.subarray(0, 2 * n) } },
    ];
    if (out.length !== COMMON_COLUMNS.length) throw new Error('common columns out of step with the schema');
    if (this.#ids !== null) {
      out.push({ rows: n, present: null, data: { kind: 'int32', values: this.#ids.subarray(0, n) } });
      out.push({ rows: n, present: null, data: { kind: 'binary', offsets: this.#payloadOffsets!.subarray(0, n + 1), data: this.#payload! } });
    }
    for (const f of this.fields) out.push(f.columnRows(n));
    return out;
  }

  /** The comm column as indices into this row group's dictionary of names. */
  #commIndices(tasks: TaskResolver, n: number): Int32Array {
    const dict = this.#commDict;
    dict.clear();
    if (this.#commLocal.length < tasks.commCount) this.#commLocal = new Int32Array(tasks.commCount * 2);
    const local = this.#commLocal;
    local.fill(-1, 0, tasks.commCount);
    const out = (this.#commOut = growInt32(this.#commOut, n));
    const comm = this.comm;
    for (let r = 0; r < n; r++) {
      const id = comm[r]!;
      if (id < 0) {
        out[r] = 0;
        continue;
      }
      const l = local[id]!;
      out[r] = l >= 0 ? l : addComm(dict, local, tasks, id);
    }
    if (dict.count === 0) dict.add(EMPTY, 0, 0);
    return out.subarray(0, n);
  }

  /** Empties the buffers after their rows were written (keeping them for the next rows). */
  reset(): void {
    this.rows = 0;
    this.#fieldRows = 0;
    for (const f of this.fields) f.reset();
  }

  /**
   * Gives most of the memory back (the memory budget is exceeded); the rows
   * must have been written. Keeps a quarter, so that a busy event does not
   * grow back from nothing each time.
   */
  release(): void {
    this.rows = 0;
    this.#fieldRows = 0;
    if (this.cpu.length > SHRINK_ABOVE) this.#allocate(Math.max(256, this.cpu.length >> 2));
    else for (const f of this.fields) f.reset();
  }
}

const EMPTY = new Uint8Array(0);

function addComm(dict: ByteDictionary, local: Int32Array, tasks: TaskResolver, id: number): number {
  const b = tasks.commBytes(id);
  const l = dict.add(b, 0, b.length);
  local[id] = l;
  return l;
}

/** Rows whose value is >= 0 (others: unknown), or null when all are; `into` is the scratch to use. */
function nonNegative(values: Int32Array, n: number, into: Uint8Array): Uint8Array | null {
  let first = -1;
  for (let r = 0; r < n; r++) {
    if (values[r]! < 0) {
      first = r;
      break;
    }
  }
  if (first < 0) return null;
  into.fill(1, 0, first);
  for (let r = first; r < n; r++) into[r] = values[r]! < 0 ? 0 : 1;
  return into.subarray(0, n);
}

/** Rows whose loss count is known ((-1, -1) marks an unknown count), or null when all are. */
function knownLosses(values: Int32Array, n: number, into: Uint8Array): Uint8Array | null {
  let first = -1;
  for (let r = 0; r < n; r++) {
    if (values[2 * r] === -1 && values[2 * r + 1] === -1) {
      first = r;
      break;
    }
  }
  if (first < 0) return null;
  into.fill(1, 0, first);
  for (let r = first; r < n; r++) into[r] = values[2 * r] === -1 && values[2 * r + 1] === -1 ? 0 : 1;
  return into.subarray(0, n);
}
