// Bounded reads of trace.dat bytes, in the file's endianness: from memory
// (a section body) or straight from the file (v6 inline metadata). Every
// read is checked against the end of its region first, so a hostile size
// or count fails with MalformedInputError instead of reading past the end
// or allocating what the file does not hold.

import fs from 'node:fs';
import { MalformedInputError } from '../errors.js';
import { Limits } from './constants.js';

const utf8 = new TextDecoder('utf-8');

export function decodeText(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** What the metadata parsers read from: a region with a position. */
export interface Cursor {
  /** Absolute position (file offset, or index in memory). */
  readonly position: number;
  /** Bytes left before the end of the region. */
  readonly remaining: number;
  u8(what: string): number;
  u16(what: string): number;
  u32(what: string): number;
  /** A u64 that must fit a JavaScript number exactly (sizes, offsets). */
  u64(what: string): number;
  /** A u64 as it is. */
  u64Big(what: string): bigint;
  /** A NUL-terminated string (the NUL is consumed, not returned). */
  cstring(what: string, max?: number): string;
  /** `length` bytes: a view for memory cursors, a copy for file cursors. */
  bytes(length: number, what: string): Uint8Array;
  skip(length: number, what: string): void;
}

function fail(label: string, message: string): never {
  throw new MalformedInputError(`${label}: ${message}`);
}

/** A cursor over bytes in memory. */
export class ByteCursor implements Cursor {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #le: boolean;
  readonly #label: string;
  /** Offset of bytes[0] in the file, for messages. */
  readonly #base: number;
  #pos = 0;

  constructor(bytes: Uint8Array, littleEndian: boolean, label: string, base = 0) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#le = littleEndian;
    this.#label = label;
    this.#base = base;
  }

  get position(): number {
    return this.#base + this.#pos;
  }

  get remaining(): number {
    return this.#bytes.length - this.#pos;
  }

  #need(n: number, what: string): number {
    if (n > this.#bytes.length - this.#pos) {
      fail(this.#label, `truncated ${what}: needs ${n} bytes at offset ${this.position}, ${this.remaining} left`);
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  u8(what: string): number {
    return this.#bytes[this.#need(1, what)]!;
  }

  u16(what: string): number {
    return this.#view.getUint16(this.#need(2, what), this.#le);
  }

  u32(what: string): number {
    return this.#view.getUint32(this.#need(4, what), this.#le);
  }

  u64(what: string): number {
    const at = this.#need(8, what);
    return toNumber(this.#view, at, this.#le, this.#label, what);
  }

  u64Big(what: string): bigint {
    return this.#view.getBigUint64(this.#need(8, what), this.#le);
  }

  cstring(what: string, max: number = Limits.string): string {
    const end = this.#bytes.indexOf(0, this.#pos);
    if (end < 0) fail(this.#label, `${what} at offset ${this.position} has no terminating NUL`);
    if (end - this.#pos > max) fail(this.#label, `${what} at offset ${this.position} is longer than ${max} bytes`);
    const text = decodeText(this.#bytes.subarray(this.#pos, end));
    this.#pos = end + 1;
    return text;
  }

  bytes(length: number, what: string): Uint8Array {
    const at = this.#need(length, what);
    return this.#bytes.subarray(at, at + length);
  }

  skip(length: number, what: string): void {
    this.#need(length, what);
  }
}

function toNumber(view: DataView, at: number, le: boolean, label: string, what: string): number {
  const lo = view.getUint32(at + (le ? 0 : 4), le);
  const hi = view.getUint32(at + (le ? 4 : 0), le);
  if (hi > 0x1fffff) fail(label, `${what} (0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}) is out of range`);
  return hi * 4294967296 + lo;
}

/** A trace.dat opened for reading (a file by fd, or bytes in memory): its size, bounded preads. */
export class FileBytes {
  readonly path: string;
  /** -1 for bytes in memory. */
  readonly fd: number;
  readonly size: number;
  readonly littleEndian: boolean;
  readonly #memory: Uint8Array | null;

  constructor(path: string, fd: number, size: number, littleEndian: boolean, memory: Uint8Array | null = null) {
    this.path = path;
    this.fd = fd;
    this.size = size;
    this.littleEndian = littleEndian;
    this.#memory = memory;
  }

  /** The same bytes read with another endianness. */
  withEndianness(littleEndian: boolean): FileBytes {
    return new FileBytes(this.path, this.fd, this.size, littleEndian, this.#memory);
  }

  /** Throws unless [offset, offset + length) lies inside the file. */
  check(offset: number, length: number, what: string): void {
    if (!(Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0 && offset + length <= this.size)) {
      fail(this.path, `${what} (${length} bytes at offset ${offset}) lies beyond the end of the file (${this.size} bytes)`);
    }
  }

  /** Exactly `length` bytes at `offset`, in a new buffer. */
  read(offset: number, length: number, what: string): Uint8Array {
    this.check(offset, length, what);
    const out = new Uint8Array(length);
    this.readInto(out, 0, length, offset, what);
    return out;
  }

  readInto(into: Uint8Array, at: number, length: number, offset: number, what: string): void {
    this.check(offset, length, what);
    if (this.#memory !== null) {
      into.set(this.#memory.subarray(offset, offset + length), at);
      return;
    }
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, into, at + done, length - done, offset + done);
      if (n <= 0) fail(this.path, `${what}: the file ended early (it shrank while being read?)`);
      done += n;
    }
  }

  cursor(offset: number, end: number = this.size): FileCursor {
    return new FileCursor(this, offset, end);
  }
}

/** A cursor that reads through the file itself (no size limit on the region). */
export class FileCursor implements Cursor {
  readonly #file: FileBytes;
  readonly #end: number;
  readonly #scratch = new Uint8Array(8);
  readonly #view = new DataView(this.#scratch.buffer);
  #pos: number;

  constructor(file: FileBytes, offset: number, end: number) {
    this.#file = file;
    this.#pos = offset;
    this.#end = Math.min(end, file.size);
  }

  get position(): number {
    return this.#pos;
  }

  get remaining(): number {
    return Math.max(0, this.#end - this.#pos);
  }

  #fixed(n: number, what: string): number {
    if (n > this.remaining) fail(this.#file.path, `truncated ${what}: needs ${n} bytes at offset ${this.#pos}, ${this.remaining} left`);
    this.#file.readInto(this.#scratch, 0, n, this.#pos, what);
    this.#pos += n;
    return 0;
  }

  u8(what: string): number {
    this.#fixed(1, what);
    return this.#scratch[0]!;
  }

  u16(what: string): number {
    this.#fixed(2, what);
    return this.#view.getUint16(0, this.#file.littleEndian);
  }

  u32(what: string): number {
    this.#fixed(4, what);
    return this.#view.getUint32(0, this.#file.littleEndian);
  }

  u64(what: string): number {
    this.#fixed(8, what);
    return toNumber(this.#view, 0, this.#file.littleEndian, this.#file.path, what);
  }

  u64Big(what: string): bigint {
    this.#fixed(8, what);
    return this.#view.getBigUint64(0, this.#file.littleEndian);
  }

  cstring(what: string, max: number = Limits.string): string {
    const start = this.#pos;
    const window = new Uint8Array(256);
    const parts: Uint8Array[] = [];
    let length = 0;
    for (;;) {
      const n = Math.min(window.length, this.remaining);
      if (n === 0) fail(this.#file.path, `${what} at offset ${start} has no terminating NUL`);
      this.#file.readInto(window, 0, n, this.#pos, what);
      const nul = window.subarray(0, n).indexOf(0);
      const take = nul < 0 ? n : nul;
      length += take;
      if (length > max) fail(this.#file.path, `${what} at offset ${start} is longer than ${max} bytes`);
      parts.push(window.slice(0, take));
      this.#pos += take;
      if (nul >= 0) {
        this.#pos += 1;
        break;
      }
    }
    const all = new Uint8Array(length);
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return decodeText(all);
  }

  bytes(length: number, what: string): Uint8Array {
    if (length > this.remaining) {
      fail(this.#file.path, `truncated ${what}: needs ${length} bytes at offset ${this.#pos}, ${this.remaining} left`);
    }
    const out = this.#file.read(this.#pos, length, what);
    this.#pos += length;
    return out;
  }

  skip(length: number, what: string): void {
    if (length > this.remaining) {
      fail(this.#file.path, `truncated ${what}: needs ${length} bytes at offset ${this.#pos}, ${this.remaining} left`);
    }
    this.#pos += length;
  }
}
