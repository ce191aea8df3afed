// Building trace.dat byte layouts in memory: the metadata bodies (same in
// v6 and v7), options and their payloads, in the file's endianness.

import type { CpuRegion } from './cpu-data.js';

const utf8 = new TextEncoder();

/** Text or its bytes. */
export type Text = string | Uint8Array;

export function textBytes(text: Text): Uint8Array {
  return typeof text === 'string' ? utf8.encode(text) : text;
}

/** A growable byte buffer with endian-aware appends. */
export class ByteWriter {
  #bytes = new Uint8Array(256);
  #view = new DataView(this.#bytes.buffer);
  #length = 0;
  readonly #le: boolean;

  constructor(littleEndian: boolean) {
    this.#le = littleEndian;
  }

  get length(): number {
    return this.#length;
  }

  #room(n: number): number {
    if (this.#length + n > this.#bytes.length) {
      let size = this.#bytes.length * 2;
      while (size < this.#length + n) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.#bytes.subarray(0, this.#length));
      this.#bytes = grown;
      this.#view = new DataView(grown.buffer);
    }
    const at = this.#length;
    this.#length += n;
    return at;
  }

  u8(v: number): this {
    const at = this.#room(1);
    this.#bytes[at] = v;
    return this;
  }

  u16(v: number): this {
    const at = this.#room(2);
    this.#view.setUint16(at, v, this.#le);
    return this;
  }

  u32(v: number): this {
    const at = this.#room(4);
    this.#view.setUint32(at, v >>> 0, this.#le);
    return this;
  }

  i32(v: number): this {
    const at = this.#room(4);
    this.#view.setInt32(at, v, this.#le);
    return this;
  }

  u64(v: number | bigint): this {
    const at = this.#room(8);
    this.#view.setBigUint64(at, BigInt(v), this.#le);
    return this;
  }

  bytes(b: Uint8Array): this {
    const at = this.#room(b.length);
    this.#bytes.set(b, at);
    return this;
  }

  /** The string's bytes and a NUL. */
  cstring(text: Text): this {
    return this.bytes(textBytes(text)).u8(0);
  }

  /** Patches a u64 already written at `at`. */
  setU64(at: number, v: number): void {
    this.#view.setBigUint64(at, BigInt(v), this.#le);
  }

  finish(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }
}

/** An event system as a trace.dat stores it: its name and format files. */
export interface EncodedSystem {
  readonly name: string;
  readonly formats: readonly Text[];
}

export function encodeHeaderInfo(w: ByteWriter, headerPage: Text, headerEvent: Text): void {
  const page = textBytes(headerPage);
  const event = textBytes(headerEvent);
  w.cstring('header_page').u64(page.length).bytes(page);
  w.cstring('header_event').u64(event.length).bytes(event);
}

export function encodeFormatList(w: ByteWriter, formats: readonly Text[]): void {
  w.u32(formats.length);
  for (const f of formats) {
    const b = textBytes(f);
    w.u64(b.length).bytes(b);
  }
}

export function encodeEventFormats(w: ByteWriter, systems: readonly EncodedSystem[]): void {
  w.u32(systems.length);
  for (const s of systems) {
    w.cstring(s.name);
    encodeFormatList(w, s.formats);
  }
}

export function encodeU32Text(w: ByteWriter, text: Text | null): void {
  const b = text === null ? new Uint8Array(0) : textBytes(text);
  w.u32(b.length).bytes(b);
}

export function encodeU64Text(w: ByteWriter, text: Text | null): void {
  const b = text === null ? new Uint8Array(0) : textBytes(text);
  w.u64(b.length).bytes(b);
}

/** An option: {u16 id, u32 size, data}. */
export function encodeOption(w: ByteWriter, id: number, data: Uint8Array): void {
  w.u16(id).u32(data.length).bytes(data);
}

/** Text options are NUL-terminated. */
export function textOption(text: Text): Uint8Array {
  const b = textBytes(text);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

export function u32Option(v: number, littleEndian: boolean): Uint8Array {
  return new ByteWriter(littleEndian).u32(v).finish();
}

/** v7 BUFFER: u64 section offset, name\0, clock\0, u32 page size, u32 nCPU, nCPU x {u32 cpu, u64 offset, u64 size}. */
export function bufferOptionV7(littleEndian: boolean, sectionOffset: number, name: string, clock: string, pageSize: number, cpus: readonly CpuRegion[]): Uint8Array {
  const w = new ByteWriter(littleEndian).u64(sectionOffset).cstring(name).cstring(clock).u32(pageSize).u32(cpus.length);
  for (const c of cpus) w.u32(c.cpu).u64(c.offset).u64(c.size);
  return w.finish();
}

/** v6 BUFFER: u64 offset of the instance's "flyrecord\0", name\0. */
export function bufferOptionV6(littleEndian: boolean, offset: number, name: string): Uint8Array {
  return new ByteWriter(littleEndian).u64(offset).cstring(name).finish();
}
