// Code generation of table row decoders (EventTable rows, see field-decoder.ts).
//
// One function per event format, built with new Function from validated
// integers and fixed DataView method names only: field names never reach
// the code (slots are addressed by index), so a hostile format file cannot
// inject code; lit() refuses any number that is not a small non-negative
// integer.
//
// Two loop shapes share the per-field code:
//  - RowsDecoder: records picked by an index array (or all of them), for
//    EventDecoder.decodeRecords();
//  - ListDecoder: records chained through a `next` array, for BatchDecoder
//    (which links the records of each event in one pass); it leaves out the
//    common_type slot, preset in every row of a table (EventTable.idSlot).
//
// Cost notes (V8, measured on the report benchmark's mixed recording, where
// a row costs ~10 machine instructions per slot): index sums are written
// `(x + k) | 0` so that TurboFan emits no overflow checks, and small fields
// sharing a 4-byte word within the fixed part (the common header's flags
// and preempt count) are extracted from one read of that word.

import { MalformedInputError } from '../errors.js';
import type { EventTable, Slot } from './field-decoder.js';
import { FORMAT_LIMITS } from './format-file.js';

/** Generated batch decoder: (view, records, indices, count, row0, data) => void. */
export type RowsDecoder = (
  view: DataView,
  records: Int32Array,
  indices: Int32Array | null,
  count: number,
  row0: number,
  data: Int32Array,
) => void;

/**
 * Generated list decoder: decodes the records chained from `first` through
 * `next` (-1 ends the chain) into rows 0.. of `data`. Returns the number of
 * rows, or -1 if `data` filled up before the chain ended (the caller grows
 * the table and calls again).
 */
export type ListDecoder = (view: DataView, records: Int32Array, next: Int32Array, first: number, data: Int32Array) => number;

/** Embeds a number into generated code, refusing anything but a small non-negative integer. */
export function lit(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > FORMAT_LIMITS.maxOffset * 2) throw new MalformedInputError(`refusing to generate code for value ${n}`);
  return String(n);
}

const GETTERS: Readonly<Record<string, string>> = {
  '1s': 'getInt8', '1u': 'getUint8', '2s': 'getInt16', '2u': 'getUint16', '4s': 'getInt32', '4u': 'getUint32',
};

/** `base + k` as generated code (no overflow check in optimised code). */
function plus(base: string, k: number): string {
  return k === 0 ? base : `(${base} + ${lit(k)}) | 0`;
}

/**
 * Statements filling the slots of one row (but `skip`): `view` and the
 * payload offset `o`, its length `L` (already checked against the format's
 * fixed size), row start `b` in `d`.
 */
function fieldLines(table: EventTable, le: boolean, skip: Slot | null): string[] {
  const LE = le ? 'true' : 'false';
  const fixedSize = table.format.fixedSize;
  const slots = table.slots.filter((s) => s !== skip);
  const lines: string[] = [];
  const at = (s: Slot, k: number): string => `d[${plus('b', s.index + k)}]`;
  // 1- and 2-byte integers by the aligned payload word holding them.
  const byWord = new Map<number, Slot[]>();
  for (const s of slots) {
    const f = s.field;
    if (s.kind !== 'int' || f.size >= 4) continue;
    const w = f.offset >> 2;
    if ((f.offset + f.size - 1) >> 2 !== w || w * 4 + 4 > fixedSize) continue;
    const list = byWord.get(w);
    if (list === undefined) byWord.set(w, [s]);
    else list.push(s);
  }
  for (const [w, inWord] of byWord) {
    if (inWord.length < 2) {
      byWord.delete(w);
      continue;
    }
    lines.push(`{ const w = view.getInt32(${plus('o', w * 4)}, ${LE});`);
    for (const s of inWord) {
      const bits = s.field.size * 8;
      // Bit position of the field's least significant bit within the word.
      const within = s.field.offset - w * 4;
      const shift = (le ? within : 4 - within - s.field.size) * 8;
      lines.push(
        s.signed
          ? `  ${at(s, 0)} = (w << ${lit(32 - shift - bits)}) >> ${lit(32 - bits)};`
          : `  ${at(s, 0)} = (w >>> ${lit(shift)}) & ${lit(2 ** bits - 1)};`,
      );
    }
    lines.push('}');
  }
  const combined = new Set([...byWord.values()].flat());
  for (const s of slots) {
    const f = s.field;
    if (combined.has(s)) continue;
    if (s.kind === 'int') {
      const getter = GETTERS[`${lit(f.size)}${s.signed ? 's' : 'u'}`];
      if (getter === undefined) throw new MalformedInputError(`no getter for size ${f.size}`);
      lines.push(f.size === 1 ? `${at(s, 0)} = view.${getter}(${plus('o', f.offset)});` : `${at(s, 0)} = view.${getter}(${plus('o', f.offset)}, ${LE});`);
    } else if (s.kind === 'wide') {
      lines.push(`${at(s, 0)} = view.getInt32(${plus('o', f.offset + (le ? 0 : 4))}, ${LE});`);
      lines.push(`${at(s, 1)} = view.getInt32(${plus('o', f.offset + (le ? 4 : 0))}, ${LE});`);
    } else if (s.kind === 'dynamic') {
      // offset/length from the loc word, clamped to the payload.
      const rel = f.kind === 'relative' ? f.offset + 4 : 0;
      lines.push(
        `{ const w = view.getUint32(${plus('o', f.offset)}, ${LE}); const p = (w & 65535) + ${lit(rel)}; const n = w >>> 16;` +
          ` if (p >= L) { ${at(s, 0)} = o + L; ${at(s, 1)} = 0; } else { ${at(s, 0)} = o + p; ${at(s, 1)} = n < L - p ? n : L - p; } }`,
      );
    }
  }
  return lines;
}

function compile<T>(body: string[]): T {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- only validated integers and fixed names are embedded
  return new Function(['"use strict";', ...body].join('\n'))() as T;
}

export function generateRowsDecoder(table: EventTable, le: boolean): RowsDecoder {
  return compile<RowsDecoder>([
    'return function decodeRows(view, records, indices, count, row0, d) {',
    '  for (let k = 0; k < count; k++) {',
    '    const i = (indices === null ? k : indices[k]) << 2;',
    '    const o = records[i];',
    '    const L = records[(i + 1) | 0];',
    `    const b = (row0 + k) * ${lit(table.stride)};`,
    '    d[b] = o;',
    `    if (L < ${lit(table.format.fixedSize)}) { d[(b + 1) | 0] = -1; continue; }`,
    '    d[(b + 1) | 0] = L;',
    ...fieldLines(table, le, null).map((l) => `    ${l}`),
    '  }',
    '};',
  ]);
}

export function generateListDecoder(table: EventTable, le: boolean): ListDecoder {
  return compile<ListDecoder>([
    'return function decodeList(view, records, next, first, d) {',
    '  const end = d.length;',
    '  let b = 0;',
    '  for (let i = first | 0; i >= 0; i = next[i]) {',
    '    if (b >= end) return -1;',
    '    const at = i << 2;',
    '    const o = records[at];',
    '    const L = records[(at + 1) | 0];',
    '    d[b] = o;',
    `    if (L < ${lit(table.format.fixedSize)}) d[(b + 1) | 0] = -1;`,
    '    else {',
    '      d[(b + 1) | 0] = L;',
    // The id slot is preset in every row (EventTable.idSlot): the chain holds records of this id only.
    ...fieldLines(table, le, table.idSlot).map((l) => `      ${l}`),
    '    }',
    `    b = (b + ${lit(table.stride)}) | 0;`,
    '  }',
    `  return (b / ${lit(table.stride)}) | 0;`,
    '};',
  ]);
}
