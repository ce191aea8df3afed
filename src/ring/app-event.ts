// Writing one declared application event: reserve a record of the exact
// size, fill the fields and dynamic data in place, commit.

import { InvalidArgumentError } from '../errors.js';
import type { SchemaValues } from '../api/ring-types.js';
import type { EventLayout, EventSchema, FieldSlot } from './schema.js';
import type { RingWriter } from './writer.js';

/** A value AppEvent.write() takes. */
export type AppFieldValue = number | bigint | boolean | string | Uint8Array;

const encoder = new TextEncoder();
const TWO32 = 4294967296;

/**
 * One declared application event type. `S` is its schema when it was
 * declared in this program (AppRing.defineEvent): write() then takes the
 * fields' values typed, and events() yields its events typed.
 */
export class AppEvent<S extends EventSchema = EventSchema> {
  readonly layout: EventLayout;
  readonly id: number;
  readonly #slots: readonly FieldSlot[];
  readonly #dynamic: boolean;

  constructor(layout: EventLayout) {
    this.layout = layout;
    this.id = layout.id;
    this.#slots = layout.slots;
    this.#dynamic = layout.slots.some((s) => s.kind === 'string' || s.kind === 'bytes');
  }

  /** Writes the event with `values` in field order; false if the ring dropped it. */
  write(writer: RingWriter, ...values: SchemaValues<S>): boolean;
  write(writer: RingWriter, ...args: AppFieldValue[]): boolean {
    const values = args;
    const slots = this.#slots;
    if (values.length !== slots.length) {
      throw new InvalidArgumentError(`${this.layout.name} takes ${slots.length} values, got ${values.length}`);
    }
    let size = this.layout.fixedSize;
    let encoded: Array<Uint8Array | null> | null = null;
    if (this.#dynamic) {
      encoded = slots.map((slot, i) => {
        if (slot.kind === 'string') return encoder.encode(`${String(values[i])}\0`);
        if (slot.kind === 'bytes') {
          const v = values[i];
          if (!(v instanceof Uint8Array)) throw new InvalidArgumentError(`${slot.name} needs a Uint8Array`);
          return v;
        }
        return null;
      });
      for (const e of encoded) if (e) size += e.length;
      if (size > 0xffff) throw new InvalidArgumentError(`${this.layout.name}: ${size} bytes is more than __data_loc can address`);
    }
    const at = writer.reserveEvent(this.id, size);
    if (at < 0) return false;
    const view = writer.view;
    let dyn = this.layout.fixedSize;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i] as FieldSlot;
      const v = values[i] as AppFieldValue;
      const p = at + slot.offset;
      switch (slot.kind) {
        case 'int':
          writeInt(view, p, slot.size, v);
          break;
        case 'fixed-string': {
          const dest = writer.bytes.subarray(p, p + slot.size);
          dest.fill(0);
          // Leave room for the terminating NUL the kernel's %s relies on.
          encoder.encodeInto(String(v), dest.subarray(0, slot.size - 1));
          break;
        }
        default: {
          const data = (encoded as Array<Uint8Array | null>)[i] as Uint8Array;
          writer.bytes.set(data, at + dyn);
          view.setUint32(p, (dyn | (data.length << 16)) >>> 0, true);
          dyn += data.length;
        }
      }
    }
    writer.commit();
    return true;
  }
}

function writeInt(view: DataView, at: number, size: number, v: AppFieldValue): void {
  if (size === 8) {
    const big = typeof v === 'bigint' ? BigInt.asUintN(64, v) : BigInt.asUintN(64, BigInt(Math.trunc(Number(v))));
    view.setUint32(at, Number(big & 0xffffffffn), true);
    view.setUint32(at + 4, Number(big >> 32n), true);
    return;
  }
  const n = typeof v === 'boolean' ? (v ? 1 : 0) : Number(v);
  if (size === 4) view.setUint32(at, n >>> 0, true);
  else if (size === 2) view.setUint16(at, n & 0xffff, true);
  else view.setUint8(at, n & 0xff);
}

/** Splits a 64-bit value given as a Number (exact below 2^53) into words. */
export function splitNumber(n: number): [hi: number, lo: number] {
  const hi = Math.floor(n / TWO32);
  return [hi >>> 0, (n - hi * TWO32) >>> 0];
}
