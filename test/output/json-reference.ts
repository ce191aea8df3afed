// The JSON Lines writer as it was before the byte writer (strings per
// event via EventDecoder.toObject and JSON.stringify): the reference the
// byte writer (src/output/json-lines.ts) must match exactly. 64-bit values
// follow the rule of json-lines.ts (numbers within ±(2^53 - 1), else
// strings: "0x…" for the plan's hex fields, decimal otherwise), computed
// here from BigInts; companions (NAME_sym, NAME_str) from their string
// render and JSON.stringify.

import { EventDecoder, type FieldValue } from '../../src/decode/field-decoder.js';
import type { EventRegistry } from '../../src/decode/registry.js';
import type { EventRenderer } from '../../src/decode/renderer.js';
import { type JsonFieldPlan, jsonFieldPlan } from '../../src/output/json-fields.js';
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

const SAFE = (1n << 53n) - 1n;

function int64(v: bigint, hexField: boolean): string {
  if (v >= -SAFE && v <= SAFE) return v.toString();
  return hexField ? `"0x${BigInt.asUintN(64, v).toString(16)}"` : `"${v.toString()}"`;
}

function value(v: FieldValue, hexField: boolean): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'bigint') return int64(v, hexField);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Uint8Array) return `"${hex(v)}"`;
  return `[${(v as ReadonlyArray<number | bigint>).map((x) => (typeof x === 'bigint' ? int64(x, hexField) : String(x))).join(',')}]`;
}

export class JsonLinesReference {
  readonly #registry: EventRegistry;
  readonly #tasks: TaskNames;
  readonly #le: boolean;
  readonly #renderer: EventRenderer | undefined;
  readonly #decoders = new Map<number, { decoder: EventDecoder; plan: JsonFieldPlan } | null>();
  #generation = -1;

  constructor(registry: EventRegistry, tasks: TaskNames, littleEndian = true, renderer?: EventRenderer) {
    this.#registry = registry;
    this.#tasks = tasks;
    this.#le = littleEndian;
    this.#renderer = renderer;
  }

  #decoder(id: number): { decoder: EventDecoder; plan: JsonFieldPlan } | null {
    if (this.#generation !== this.#registry.generation) {
      this.#decoders.clear();
      this.#generation = this.#registry.generation;
    }
    let d = this.#decoders.get(id);
    if (d === undefined) {
      const found = this.#registry.lookup(id);
      d = found.status === 'ok' ? { decoder: new EventDecoder(found.format, { littleEndian: this.#le }), plan: jsonFieldPlan(found.format, this.#renderer, this.#le) } : null;
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
    const ts = BigInt(tsToDecimal(batch.tsHi(i), batch.tsLo(i)));
    let s = `{"ts":${int64(ts, false)},"cpu":${batch.cpu},"pid":${pid},"comm":${JSON.stringify(this.#tasks.comm(pid))},"flags":"${flags}"`;
    const found = this.#decoder(id);
    if (found === null) {
      return `${s},"id":${id},"event":null,"payload":"${hex(batch.bytes.subarray(off, off + len))}"}\n`;
    }
    const { decoder, plan } = found;
    const f = decoder.format;
    s += `,"system":${JSON.stringify(f.system)},"event":${JSON.stringify(f.name)},"fields":{`;
    const fields = decoder.toObject(view, batch.bytes, off, len, false);
    const ctx = { view, bytes: batch.bytes, base: off, len };
    let first = true;
    for (const key of Object.keys(fields)) {
      s += `${first ? '' : ','}${JSON.stringify(key)}:${value(fields[key]!, plan.hex.has(key))}`;
      first = false;
      for (const c of plan.companions.get(key) ?? []) {
        const text = c.text(ctx);
        s += `,${JSON.stringify(c.key)}:${text === null ? 'null' : JSON.stringify(text)}`;
      }
    }
    return `${s}}}\n`;
  }

  lost(cpu: number, count: number): string {
    return `{"lost":${count < 0 ? 'null' : count},"cpu":${cpu}}\n`;
  }
}
