// The live view's counting sink: counts every record by event id and by
// pid (the common header's u16 common_type at the payload and i32
// common_pid at +4), and each cursor's records, bytes and reported losses.
// take() hands over the counts since the last take(), with names.
//
// The per-record loop is the view's main cost at high rates, so it only
// loads two fields and bumps two typed-array counters: counts by id in a
// 64 Ki table, by pid in a table indexed by pid (Linux pids stay below
// 2^22; the pages of the table a trace never touches are never committed),
// with a list of the pids touched so take() does not scan the table.

import type { RecordBatch } from '../layout/record.js';
import type { DecodeContext } from '../output/decode-context.js';
import type { CpuCursor, SinkEnd, SinkInput, SinkReport, TraceSink } from '../sinks/sink.js';
import type { CountEntry, IntervalCounts } from './sample.js';

/** Linux's PID_MAX_LIMIT (4 Mi): pids below it index the table directly. */
const PID_TABLE = 1 << 22;
const EVENT_IDS = 1 << 16;

/** What one cursor delivered (cumulative). */
export interface CursorTally {
  /** The cursor's CPU number (rings: numbers after the kernel's CPUs). */
  readonly cpu: number;
  /** The ring's name, or null for a kernel CPU. */
  readonly ring: string | null;
  events: number;
  /** Data-area bytes of the batches. */
  bytes: number;
  /** Losses the batches reported (lostBefore), known counts only. */
  lost: number;
  /** Batches whose loss count was unknown (-1). */
  unknownLosses: number;
}

export class TopSink implements TraceSink {
  readonly kind = 'top';
  readonly #eventCounts = new Uint32Array(EVENT_IDS);
  readonly #pidCounts = new Uint32Array(PID_TABLE);
  #touched = new Int32Array(1024);
  #touchedCount = 0;
  /** Pids outside the table (a ring writing odd headers), counted the slow way. */
  readonly #otherPids = new Map<number, number>();
  /** Records too short to hold a pid. */
  #short = 0;
  #cursors: Array<{ cursor: CpuCursor; tally: CursorTally }> = [];
  #context: DecodeContext | null = null;
  #littleEndian = true;
  #events = 0;
  readonly #names = new Map<number, string>();
  #namesGeneration = -1;

  /** Every cursor's cumulative figures. */
  get tallies(): readonly CursorTally[] {
    return this.#cursors.map((c) => c.tally);
  }

  /** Records counted so far. */
  get events(): number {
    return this.#events;
  }

  open(input: SinkInput): void {
    this.#context = input.context();
    this.#littleEndian = this.#context.littleEndian;
    this.#cursors = [];
    for (const buffer of input.buffers) {
      for (const cursor of buffer.cpus) this.#cursors.push({ cursor, tally: { cpu: cursor.cpu, ring: null, events: 0, bytes: 0, lost: 0, unknownLosses: 0 } });
    }
    for (const ring of input.rings) {
      this.#cursors.push({ cursor: ring.cursor, tally: { cpu: ring.cursor.cpu, ring: ring.name, events: 0, bytes: 0, lost: 0, unknownLosses: 0 } });
    }
  }

  consume(): void {
    for (const { cursor, tally } of this.#cursors) {
      for (let batch = cursor.next(); batch !== null; batch = cursor.next()) {
        tally.events += batch.count;
        tally.bytes += batch.byteLength;
        if (batch.lostBefore > 0) tally.lost += batch.lostBefore;
        else if (batch.lostBefore < 0) tally.unknownLosses++;
        this.count(batch);
      }
    }
  }

  /** Counts one batch's records by event id and pid. */
  count(batch: RecordBatch): void {
    this.#events += batch.count;
    if (this.#littleEndian) this.#countLittleEndian(batch);
    else this.#countBigEndian(batch);
  }

  // Two loops so that the byte order is a constant in each (a DataView
  // load with a variable flag costs markedly more).
  #countLittleEndian(batch: RecordBatch): void {
    const rec = batch.records;
    const view = batch.view;
    const ids = this.#eventCounts;
    const pids = this.#pidCounts;
    const n = batch.count;
    let lastPid = -1;
    let run = 0;
    for (let i = 0; i < n; i++) {
      const k = i << 2;
      const off = rec[k] as number;
      if ((rec[k + 1] as number) < 8) {
        this.#shortRecord(view, off, rec[k + 1] as number, true);
        continue;
      }
      ids[view.getUint16(off, true)]!++;
      const pid = view.getInt32(off + 4, true);
      if (pid === lastPid) {
        run++;
        continue;
      }
      if (run > 0) this.#addPid(pids, lastPid, run);
      lastPid = pid;
      run = 1;
    }
    if (run > 0) this.#addPid(pids, lastPid, run);
  }

  #countBigEndian(batch: RecordBatch): void {
    const rec = batch.records;
    const view = batch.view;
    const ids = this.#eventCounts;
    const pids = this.#pidCounts;
    const n = batch.count;
    for (let i = 0; i < n; i++) {
      const k = i << 2;
      const off = rec[k] as number;
      if ((rec[k + 1] as number) < 8) {
        this.#shortRecord(view, off, rec[k + 1] as number, false);
        continue;
      }
      ids[view.getUint16(off, false)]!++;
      this.#addPid(pids, view.getInt32(off + 4, false), 1);
    }
  }

  #shortRecord(view: DataView, off: number, length: number, le: boolean): void {
    if (length >= 2) this.#eventCounts[view.getUint16(off, le)]!++;
    this.#short++;
  }

  #addPid(pids: Uint32Array, pid: number, n: number): void {
    if (pid >= 0 && pid < PID_TABLE) {
      const before = pids[pid] as number;
      if (before === 0) this.#touch(pid);
      pids[pid] = before + n;
    } else {
      this.#otherPids.set(pid, (this.#otherPids.get(pid) ?? 0) + n);
    }
  }

  #touch(pid: number): void {
    if (this.#touchedCount === this.#touched.length) {
      const bigger = new Int32Array(this.#touched.length * 2);
      bigger.set(this.#touched);
      this.#touched = bigger;
    }
    this.#touched[this.#touchedCount++] = pid;
  }

  #eventName(id: number): string {
    const registry = this.#context?.registry;
    if (registry === undefined) return `#${id}`;
    if (registry.generation !== this.#namesGeneration) {
      this.#names.clear();
      this.#namesGeneration = registry.generation;
    }
    let name = this.#names.get(id);
    if (name === undefined) {
      const found = registry.lookup(id);
      name = found.status === 'ok' ? `${found.format.system}:${found.format.name}` : `#${id}`;
      this.#names.set(id, name);
    }
    return name;
  }

  /** The counts since the last take(), by event and by task, then zeroed. */
  take(): IntervalCounts {
    const events: CountEntry[] = [];
    const ids = this.#eventCounts;
    for (let id = 0; id < EVENT_IDS; id++) {
      const n = ids[id] as number;
      if (n !== 0) {
        events.push({ key: id, name: this.#eventName(id), count: n });
        ids[id] = 0;
      }
    }
    const tasks: CountEntry[] = [];
    const pids = this.#pidCounts;
    const tasksNames = this.#context?.tasks;
    for (let i = 0; i < this.#touchedCount; i++) {
      const pid = this.#touched[i] as number;
      tasks.push({ key: pid, name: tasksNames?.comm(pid) ?? '<...>', count: pids[pid] as number });
      pids[pid] = 0;
    }
    this.#touchedCount = 0;
    for (const [pid, n] of this.#otherPids) tasks.push({ key: pid, name: tasksNames?.comm(pid) ?? '<...>', count: n });
    this.#otherPids.clear();
    return { events, tasks };
  }

  /** Records too short for a pid, so far. */
  get shortRecords(): number {
    return this.#short;
  }

  async close(_end: SinkEnd): Promise<SinkReport> {
    return { kind: this.kind, path: null, bytes: 0, events: this.#events, notes: [] };
  }

  abort(): void {
    this.#cursors = [];
  }
}
