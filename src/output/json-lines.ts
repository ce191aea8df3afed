// Events as JSON Lines with typed fields. Integers keep every digit: a
// 64-bit value is written as its exact decimal digits (valid JSON; readers
// in most languages keep it exact, JavaScript's JSON.parse rounds past 2^53).
//
// Lines are written as UTF-8 bytes into a TextOut (writeLine, the hot
// path): what repeats is cached as bytes (per pid `"pid"` and `"comm"`,
// per flags value the latency columns, per format a generated writer of
// the fields, json-emit.ts), the rest is written from the record.

import type { EventRegistry } from '../decode/registry.js';
import { Lit, TextOut } from '../decode/text-out.js';
import type { RecordBatch } from '../layout/record.js';
import { type JsonEmit, compileJsonEmit } from './json-emit.js';
import { put9, putU64, writeHexString } from './json-out.js';
import { latencyFlags } from './line-prefix.js';
import { LatencyColumns, PidTextCache } from './prefix-caches.js';
import type { TaskNames } from './task-names.js';

const CPU_CACHED = 1024;
const TWO32 = 4294967296;

const LINE_START = new Lit('{"ts":');
const UNKNOWN_ID = new Lit('","id":');
const UNKNOWN_PAYLOAD = new Lit(',"event":null,"payload":');
const LINE_END = new Lit('}\n');

/** Stores a constant's bytes at `p` as words (room reserved: length + 3); returns the end. */
function putLit(dv: DataView, p: number, l: Lit): number {
  const w = l.words;
  const n = l.length;
  for (let k = 0; k < (n + 3) >>> 2; k++) dv.setInt32(p + 4 * k, w[k]!, true);
  return p + n;
}

/** A constant, written word by word when short (no set() call). */
function copyLit(out: TextOut, l: Lit): void {
  if (l.length > 64) {
    out.lit(l);
    return;
  }
  out.reserve(l.length + 8);
  out.pos = putLit(out.dv, out.pos, l);
  if (!l.ascii) out.markNonAscii();
}

/** Events as JSON Lines with typed fields (64-bit values keep every digit). */
export class JsonLines {
  readonly #registry: EventRegistry;
  readonly #le: boolean;
  /** Writers by event id (16 bits): null for events without a usable format. */
  readonly #emitters: Array<JsonEmit | null | undefined> = new Array<JsonEmit | null | undefined>(65536);
  #generation = -1;
  /** `,"pid":N,"comm":"…","flags":"` per pid. */
  readonly #pidText: PidTextCache;
  /** `,"cpu":N` for the first CPUs. */
  readonly #cpuText: Lit[] = [];
  readonly #latency = new LatencyColumns(latencyFlags);
  readonly #scratch = new TextOut(4096);
  /** Decimal seconds of the last timestamp, and its nanoseconds (Infinity: none yet). */
  #secsText = new Lit('');
  #secsBase = Infinity;

  constructor(registry: EventRegistry, tasks: TaskNames, littleEndian = true) {
    this.#registry = registry;
    this.#le = littleEndian;
    this.#pidText = new PidTextCache(tasks, (pid) => `,"pid":${pid},"comm":${JSON.stringify(tasks.comm(pid))},"flags":"`);
  }

  #emitter(id: number): JsonEmit | null {
    if (this.#generation !== this.#registry.generation) {
      this.#emitters.fill(undefined);
      this.#generation = this.#registry.generation;
    }
    let e = this.#emitters[id];
    if (e === undefined) {
      const found = this.#registry.lookup(id);
      e = found.status === 'ok' ? compileJsonEmit(found.format, this.#le) : null;
      this.#emitters[id] = e;
    }
    return e;
  }

  /** `,"cpu":N` */
  #cpuLit(cpu: number): Lit {
    let text = this.#cpuText[cpu];
    if (text === undefined) {
      text = new Lit(`,"cpu":${cpu}`);
      if (cpu >= 0 && cpu < CPU_CACHED) this.#cpuText[cpu] = text;
    }
    return text;
  }

  /** Decimal of the timestamp at `p` (20 bytes reserved). */
  #ts(u: Uint8Array, d: DataView, p: number, hi: number, lo: number): number {
    if (hi < 0x200000) {
      // Within the second of the last timestamp: its digits, then nine more.
      const v = hi * TWO32 + lo;
      const r = v - this.#secsBase;
      if (r >= 0 && r < 1e9) return put9(u, d, putLit(d, p, this.#secsText), r);
      if (v >= 1e9) {
        const secs = Math.floor(v / 1e9);
        this.#secsText = new Lit(String(secs));
        this.#secsBase = secs * 1e9;
        return put9(u, d, putLit(d, p, this.#secsText), v - this.#secsBase);
      }
    }
    return putU64(u, d, p, hi, lo);
  }

  /** line() as UTF-8 bytes appended to `out`. */
  writeLine(out: TextOut, batch: RecordBatch, i: number): void {
    const view = batch.view;
    const le = this.#le;
    const off = batch.offset(i);
    const len = batch.length(i);
    const cpu = this.#cpuLit(batch.cpu);
    const pid = this.#pidText.get(view.getInt32(off + 4, le));
    // `{"ts":N,"cpu":C,"pid":P,"comm":"…","flags":"xxxxx` with one reserve.
    out.reserve(LINE_START.length + 20 + cpu.length + pid.length + 5 + 8);
    const u = out.buf;
    const d = out.dv;
    let p = putLit(d, out.pos, LINE_START);
    p = this.#ts(u, d, p, batch.tsHi(i), batch.tsLo(i));
    p = putLit(d, p, cpu);
    p = putLit(d, p, pid);
    if (!pid.ascii) out.markNonAscii();
    out.pos = this.#latency.put(u, d, p, view.getUint8(off + 2), view.getUint8(off + 3));
    const id = view.getUint16(off, le);
    const emit = this.#emitter(id);
    if (emit !== null) {
      emit(out, view, batch.bytes, off, len);
      return;
    }
    copyLit(out, UNKNOWN_ID);
    out.u32(id);
    copyLit(out, UNKNOWN_PAYLOAD);
    writeHexString(out, batch.bytes, off, len);
    copyLit(out, LINE_END);
  }

  /** One event as a JSON object on one line (newline included). */
  line(batch: RecordBatch, i: number): string {
    const out = this.#scratch;
    out.reset();
    this.writeLine(out, batch, i);
    return out.toString();
  }

  /** A loss line for `count` events on `cpu`. */
  lost(cpu: number, count: number): string {
    return `{"lost":${count < 0 ? 'null' : count},"cpu":${cpu}}\n`;
  }
}
