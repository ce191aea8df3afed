// Turns records into the objects events() yields: one object per record,
// its fields decoded by the event's EventDecoder (object form: numbers,
// bigint for 64-bit values, strings, arrays), names from the decode
// context. Nothing it returns points into trace buffers, so events outlive
// the round their pages belonged to.

import { EventDecoder } from '../decode/field-decoder.js';
import { StringTable } from '../decode/strings.js';
import type { RecordBatch } from '../layout/record.js';
import type { DecodeContext } from '../output/decode-context.js';
import type { LostRecord, TraceEvent, UnknownRecord, UntypedFields } from './event-types.js';

const TWO32 = 4294967296n;

/** A decoded event; `ts` is made on first use (BigInt costs more than the rest of the object). */
class DecodedEvent implements TraceEvent {
  readonly type = 'event' as const;
  readonly system: string;
  readonly name: string;
  readonly id: number;
  readonly cpu: number;
  readonly tsHi: number;
  readonly tsLo: number;
  readonly pid: number;
  readonly comm: string;
  readonly fields: UntypedFields;

  constructor(system: string, name: string, id: number, cpu: number, tsHi: number, tsLo: number, pid: number, comm: string, fields: UntypedFields) {
    this.system = system;
    this.name = name;
    this.id = id;
    this.cpu = cpu;
    this.tsHi = tsHi;
    this.tsLo = tsLo;
    this.pid = pid;
    this.comm = comm;
    this.fields = fields;
  }

  get ts(): bigint {
    return BigInt(this.tsHi) * TWO32 + BigInt(this.tsLo);
  }
}

class RawRecord implements UnknownRecord {
  readonly type = 'unknown' as const;
  readonly name = null;
  readonly system = null;
  readonly id: number;
  readonly cpu: number;
  readonly tsHi: number;
  readonly tsLo: number;
  readonly pid: number;
  readonly payload: Uint8Array;

  constructor(id: number, cpu: number, tsHi: number, tsLo: number, pid: number, payload: Uint8Array) {
    this.id = id;
    this.cpu = cpu;
    this.tsHi = tsHi;
    this.tsLo = tsLo;
    this.pid = pid;
    this.payload = payload;
  }

  get ts(): bigint {
    return BigInt(this.tsHi) * TWO32 + BigInt(this.tsLo);
  }
}

/** A loss record. */
export function lostRecord(cpu: number, count: number): LostRecord {
  return { type: 'lost', name: null, system: null, cpu, count };
}

interface Known {
  readonly system: string;
  readonly name: string;
  readonly decoder: EventDecoder;
}

export class EventBuilder {
  readonly #ctx: DecodeContext;
  /** By event id: null when the id has no usable format. */
  readonly #byId: Array<Known | null | undefined> = new Array<Known | null | undefined>(65536);
  #generation = -1;
  /** Interned strings (comms, names repeat), shared by every event's decoder. */
  readonly #strings = new StringTable();

  constructor(ctx: DecodeContext) {
    this.#ctx = ctx;
  }

  #known(id: number): Known | null {
    const registry = this.#ctx.registry;
    if (this.#generation !== registry.generation) {
      this.#byId.fill(undefined);
      this.#generation = registry.generation;
    }
    let k = this.#byId[id];
    if (k === undefined) {
      const found = registry.lookup(id);
      k =
        found.status === 'ok'
          ? {
              system: found.format.system,
              name: found.format.name,
              decoder: new EventDecoder(found.format, { littleEndian: this.#ctx.littleEndian, strings: this.#strings }),
            }
          : null;
      this.#byId[id] = k;
    }
    return k;
  }

  /** Record `i` of `batch` as an object (an UnknownRecord when its format is missing or it is too short). */
  build(batch: RecordBatch, i: number): TraceEvent | UnknownRecord {
    const view = batch.view;
    const le = this.#ctx.littleEndian;
    const off = batch.offset(i);
    const len = batch.length(i);
    const tsHi = batch.tsHi(i);
    const tsLo = batch.tsLo(i);
    if (len < 8) return new RawRecord(len >= 2 ? view.getUint16(off, le) : -1, batch.cpu, tsHi, tsLo, -1, batch.bytes.slice(off, off + len));
    const id = view.getUint16(off, le);
    const pid = view.getInt32(off + 4, le);
    const k = this.#known(id);
    if (k === null) return new RawRecord(id, batch.cpu, tsHi, tsLo, pid, batch.bytes.slice(off, off + len));
    const fields = k.decoder.toObject(view, batch.bytes, off, len);
    return new DecodedEvent(k.system, k.name, id, batch.cpu, tsHi, tsLo, pid, this.#ctx.tasks.comm(pid), fields);
  }
}
