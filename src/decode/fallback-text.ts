// "[FAILED TO PARSE] name=value ..." of an event whose print fmt cannot be
// compiled: every non-common field as EventDecoder.toObject() gives it,
// written as bytes (integers and strings directly, other kinds through
// their object-form value).

import type { EventDecoder, FieldValue } from './field-decoder.js';
import type { FieldFormat } from './format-file.js';
import type { Emit, RenderContext } from './printfmt/context.js';
import { FixedStringCache } from './strings.js';
import { Lit, type TextOut } from './text-out.js';

/** A field's value in the listing: hex for 8-byte integers, bytes as hex pairs, arrays in braces. */
export function showValue(v: FieldValue): string {
  if (typeof v === 'bigint') return `0x${BigInt.asUintN(64, v).toString(16)}`;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Array.from(v, (b) => b.toString(16).padStart(2, '0')).join('');
  return `{${(v as readonly (number | bigint)[]).map((x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : String(x))).join(',')}}`;
}

/** Writes one field's value; false when toObject() leaves the field out. */
type FieldWriter = (c: RenderContext, out: TextOut) => boolean;

function fieldWriter(f: FieldFormat, decoder: EventDecoder): FieldWriter {
  const le = decoder.littleEndian;
  const o = f.offset;
  const size = f.size;
  if (f.kind === 'int' || f.kind === 'pointer') {
    const signed = f.kind === 'int' && f.signed;
    if (size === 8) {
      const loAt = le ? o : o + 4;
      const hiAt = le ? o + 4 : o;
      return (c, out) => {
        if (o + size > c.len) return false;
        out.str('0x');
        out.hex64(c.view.getUint32(c.base + hiAt, le), c.view.getUint32(c.base + loAt, le));
        return true;
      };
    }
    return (c, out) => {
      if (o + size > c.len) return false;
      const at = c.base + o;
      const v = size === 1
        ? signed ? c.view.getInt8(at) : c.view.getUint8(at)
        : size === 2
          ? signed ? c.view.getInt16(at, le) : c.view.getUint16(at, le)
          : signed ? c.view.getInt32(at, le) : c.view.getUint32(at, le);
      out.int(v);
      return true;
    };
  }
  if (f.isString && f.kind === 'array' && FixedStringCache.fits(size)) {
    return (c, out) => {
      if (o + size <= c.len) out.cString(c.bytes, c.view, c.base + o, size);
      else out.str(decoder.value(f, c.view, c.bytes, c.base, c.len) as string);
      return true;
    };
  }
  return (c, out) => {
    const v = decoder.value(f, c.view, c.bytes, c.base, c.len);
    if (v === undefined) return false;
    out.str(showValue(v));
    return true;
  };
}

/** The "[FAILED TO PARSE] ..." text of `decoder`'s event. */
export function fieldListEmitter(decoder: EventDecoder): Emit {
  const fields = decoder.format.fields.filter((f) => !f.common);
  const bare = fields.map((f) => new Lit(`${f.name}=`));
  const spaced = fields.map((f) => new Lit(` ${f.name}=`));
  const writers = fields.map((f) => fieldWriter(f, decoder));
  const head = new Lit('[FAILED TO PARSE] ');
  return (c, out) => {
    out.lit(head);
    // Fields left out do not leave a separator behind.
    let first = true;
    for (let i = 0; i < writers.length; i++) {
      const at = out.pos;
      out.lit(first ? bare[i]! : spaced[i]!);
      if (writers[i]!(c, out)) first = false;
      else out.pos = at;
    }
  };
}
