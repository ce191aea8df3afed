// Thrift's compact protocol, write side only: what Parquet's page headers
// and file footer need (structs, i32, i64, binary, bool, lists). Field
// headers carry the id as a delta from the previous field of the same
// struct, so fields must be written in increasing id order.

import { ByteWriter } from './bytes.js';

/** Compact protocol type nibbles. */
export const TType = { TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 } as const;
export type TType = (typeof TType)[keyof typeof TType];

const encoder = new TextEncoder();

export class CompactWriter {
  readonly out: ByteWriter;
  /** Last field id of each open struct (innermost last). */
  readonly #lastIds: number[] = [];
  #lastId = 0;

  constructor(out: ByteWriter = new ByteWriter()) {
    this.out = out;
  }

  #field(id: number, type: TType): void {
    const delta = id - this.#lastId;
    if (delta > 0 && delta <= 15) this.out.u8((delta << 4) | type);
    else {
      this.out.u8(type);
      this.out.zigzag(id);
    }
    this.#lastId = id;
  }

  i32(id: number, v: number): void {
    this.#field(id, TType.I32);
    this.out.zigzag(v);
  }

  /** An i8 field (one byte, not a varint). */
  i8(id: number, v: number): void {
    this.#field(id, TType.BYTE);
    this.out.u8(v & 0xff);
  }

  i16(id: number, v: number): void {
    this.#field(id, TType.I16);
    this.out.zigzag(v);
  }

  /** An i64 field of a value within ±2^52 (sizes, offsets, counts). */
  i64(id: number, v: number): void {
    this.#field(id, TType.I64);
    this.out.zigzag(v);
  }

  bool(id: number, v: boolean): void {
    this.#field(id, v ? TType.TRUE : TType.FALSE);
  }

  binary(id: number, bytes: Uint8Array): void {
    this.#field(id, TType.BINARY);
    this.out.varint(bytes.length);
    this.out.append(bytes);
  }

  string(id: number, s: string): void {
    this.binary(id, encoder.encode(s));
  }

  /** Opens a struct-valued field; close it with end(). */
  struct(id: number): void {
    this.#field(id, TType.STRUCT);
    this.begin();
  }

  /** Starts a struct value (a list element, or the top-level struct). */
  begin(): void {
    this.#lastIds.push(this.#lastId);
    this.#lastId = 0;
  }

  /** Ends the innermost struct (writes STOP). */
  end(): void {
    this.out.u8(0);
    this.#lastId = this.#lastIds.pop() ?? 0;
  }

  /** A list field header; then write `size` elements of `element` type. */
  list(id: number, element: TType, size: number): void {
    this.#field(id, TType.LIST);
    if (size < 15) this.out.u8((size << 4) | element);
    else {
      this.out.u8(0xf0 | element);
      this.out.varint(size);
    }
  }

  /** A list element of type I32 (or an enum). */
  elementI32(v: number): void {
    this.out.zigzag(v);
  }

  elementString(s: string): void {
    const bytes = encoder.encode(s);
    this.out.varint(bytes.length);
    this.out.append(bytes);
  }
}
