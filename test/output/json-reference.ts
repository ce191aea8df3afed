// The JSON Lines writer as it was before the byte writer (strings per
// event via EventDecoder.toObject and JSON.stringify): the reference the
// byte writer (src/output/json-lines.ts) must match exactly.

import { EventDecoder, type FieldValue } from '../../src/decode/field-decoder.js';
import type { EventRegistry } from '../../src/decode/registry.js';
import type { RecordBatch } from '../../src/layout/record.js';
import { tsToDecimal } from '../../src/layout/timestamp.js';
import { latencyFlags } from '../../src/output/line-prefix.js';
import type { TaskNames } from '../../src/output/task-names.js';

const HEX = '0123456789abcdef';

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += HEX[b >> 4]! + HEX[b & 15]!;
  return s;
}

function value(v: FieldValue): string {
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Uint8Array) return `"${hex(v)}"`;
  return `[${(v as ReadonlyArray<number | bigint>).map(String).join(',')}]`;
}

export class JsonLinesReference {
  readonly #registry: EventRegistry;
  readonly #tasks: TaskNames;
  readonly #le: boolean;
  readonly #decoders = new Map<number, EventDecoder | null>();
  #generation = -1;

  constructor(registry: EventRegistry, tasks: TaskNames, littleEndian = true) {
    this.#registry = registry;
    this.#tasks = tasks;
    this.#le = littleEndian;
  }

  #decoder(id: number): EventDecoder | null {
    if (this.#generation !== this.#registry.generation) {
      this.#decoders.clear();
      this.#generation = this.#registry.generation;
    }
    let d = this.#decoders.get(id);
    if (d === undefined) {
      const found = this.#registry.lookup(id);
      d = found.status === 'ok' ? new EventDecoder(found.format, { littleEndian: this.#le }) : null;
      this.#decoders.set(id, d);
    }
    return d;
  }

  /** One event as a JSON object on one line (newline included). */
  line(batch: RecordBatch, i: number): string {
    const view = batch.view;
    const off = batch.offset(i);
    const len = batch.length(i);
    const id = view.getUint16(off, this.#le);
    const pid = view.getInt32(off + 4, this.#le);
    const flags = latencyFlags(view.getUint8(off + 2), view.getUint8(off + 3));
    let s = `{"ts":${tsToDecimal(batch.tsHi(i), batch.tsLo(i))},"cpu":${batch.cpu},"pid":${pid},"comm":${JSON.stringify(this.#tasks.comm(pid))},"flags":"${flags}"`;
    const decoder = this.#decoder(id);
    if (decoder === null) {
      return `${s},"id":${id},"event":null,"payload":"${hex(batch.bytes.subarray(off, off + len))}"}\n`;
    }
    const f = decoder.format;
    s += `,"system":${JSON.stringify(f.system)},"event":${JSON.stringify(f.name)},"fields":{`;
    const fields = decoder.toObject(view, batch.bytes, off, len, false);
    let first = true;
    for (const key of Object.keys(fields)) {
      s += `${first ? '' : ','}${JSON.stringify(key)}:${value(fields[key]!)}`;
      first = false;
    }
    return `${s}}}\n`;
  }

  lost(cpu: number, count: number): string {
    return `{"lost":${count < 0 ? 'null' : count},"cpu":${cpu}}\n`;
  }
}
