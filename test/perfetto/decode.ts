// Reading the sink's output back, two ways:
//  - a schema-free protobuf reader (wire format only), walked against the
//    project's proto subset (proto/perfetto-subset.proto) so that any field
//    number the subset does not declare, or declares with another wire type,
//    is reported;
//  - protobufjs over the same subset, for typed values.

import fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const SUBSET_PATH = join(root, 'proto', 'perfetto-subset.proto');

let loaded: protobuf.Root | null = null;
export function subset(): protobuf.Root {
  loaded ??= protobuf.loadSync(SUBSET_PATH);
  return loaded;
}

export interface RawField {
  no: number;
  wire: number;
  /** varint / fixed: as bigint; length-delimited: the bytes. */
  int: bigint;
  bytes: Uint8Array;
}

/** The fields of one message, schema-free. Throws on malformed wire data. */
export function rawFields(buf: Uint8Array): RawField[] {
  const out: RawField[] = [];
  let p = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (p >= buf.length) throw new Error('truncated varint');
      const b = buf[p++]!;
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
    }
    throw new Error('varint longer than 10 bytes');
  };
  while (p < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (no === 0) throw new Error(`field number 0 at ${p}`);
    switch (wire) {
      case 0:
        out.push({ no, wire, int: varint(), bytes: new Uint8Array(0) });
        break;
      case 1: {
        if (p + 8 > buf.length) throw new Error('truncated fixed64');
        const v = new DataView(buf.buffer, buf.byteOffset + p, 8).getBigUint64(0, true);
        p += 8;
        out.push({ no, wire, int: v, bytes: new Uint8Array(0) });
        break;
      }
      case 2: {
        const len = Number(varint());
        if (p + len > buf.length) throw new Error(`length ${len} past the end at ${p}`);
        out.push({ no, wire, int: 0n, bytes: buf.subarray(p, p + len) });
        p += len;
        break;
      }
      case 5: {
        if (p + 4 > buf.length) throw new Error('truncated fixed32');
        const v = new DataView(buf.buffer, buf.byteOffset + p, 4).getUint32(0, true);
        p += 4;
        out.push({ no, wire, int: BigInt(v), bytes: new Uint8Array(0) });
        break;
      }
      default:
        throw new Error(`wire type ${wire} (field ${no}) at ${p}`);
    }
  }
  return out;
}

const VARINT_TYPES = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'bool']);
const FIXED64_TYPES = new Set(['double', 'fixed64', 'sfixed64']);

/**
 * Walks `buf` as message `typeName` of the subset, schema-free, and returns
 * a description of every field the subset does not declare (or declares
 * with another wire type). Empty: every byte is accounted for.
 */
export function unknownFields(buf: Uint8Array, typeName = 'perfetto.protos.Trace'): string[] {
  const problems: string[] = [];
  const walk = (bytes: Uint8Array, type: protobuf.Type, path: string) => {
    for (const f of rawFields(bytes)) {
      const field = type.fieldsById[f.no];
      if (field === undefined) {
        problems.push(`${path}: field ${f.no} (wire ${f.wire}) is not in ${type.fullName}`);
        continue;
      }
      field.resolve();
      const sub = field.resolvedType;
      if (sub instanceof protobuf.Type) {
        if (f.wire !== 2) problems.push(`${path}.${field.name}: message with wire type ${f.wire}`);
        else walk(f.bytes, sub, `${path}.${field.name}`);
      } else if (sub instanceof protobuf.Enum || VARINT_TYPES.has(field.type)) {
        const packedOk = field.repeated && f.wire === 2;
        if (f.wire !== 0 && !packedOk) problems.push(`${path}.${field.name}: ${field.type} with wire type ${f.wire}`);
        if (sub instanceof protobuf.Enum && f.wire === 0 && sub.valuesById[Number(f.int)] === undefined) {
          problems.push(`${path}.${field.name}: ${f.int} is not a value of ${sub.name}`);
        }
      } else if (FIXED64_TYPES.has(field.type)) {
        if (f.wire !== 1 && !(field.repeated && f.wire === 2)) problems.push(`${path}.${field.name}: ${field.type} with wire type ${f.wire}`);
      } else if (field.type === 'string' || field.type === 'bytes') {
        if (f.wire !== 2) problems.push(`${path}.${field.name}: ${field.type} with wire type ${f.wire}`);
      }
      if (problems.length > 20) return;
    }
  };
  walk(buf, subset().lookupType(typeName), typeName.split('.').pop()!);
  return problems;
}

/** Plain-object form: 64-bit integers as strings (exact), enums as numbers. */
export type Obj = Record<string, unknown>;

export function decodeTrace(buf: Uint8Array): { packet: Obj[] } {
  const Trace = subset().lookupType('perfetto.protos.Trace');
  const msg = Trace.decode(buf);
  const obj = Trace.toObject(msg, { longs: String, enums: Number, arrays: true, defaults: false, oneofs: false }) as { packet?: Obj[] };
  return { packet: obj.packet ?? [] };
}

export function readTrace(path: string): { bytes: Uint8Array; packets: Obj[] } {
  const bytes = new Uint8Array(fs.readFileSync(path));
  return { bytes, packets: decodeTrace(bytes).packet };
}

/** A list of plain objects from a repeated field (absent: empty). */
export function list(o: Obj | undefined, name: string): Obj[] {
  return ((o?.[name] as Obj[] | undefined) ?? []) as Obj[];
}

export function big(v: unknown): bigint {
  if (v === undefined || v === null) return 0n;
  return BigInt(v as string | number);
}

/** Bundles of one CPU, in file order. */
export function bundlesOf(packets: readonly Obj[], cpu: number): Obj[] {
  return packets.map((p) => p.ftraceEvents as Obj | undefined).filter((b): b is Obj => b !== undefined && (b.cpu ?? 0) === cpu);
}
