// One CPU's pages of one buffer while recording: appended to a temp file
// next to the output, as they come (flat memory). With zstd, pages gather
// into chunks of PAGES_IN_CHUNK and each full chunk is compressed and
// appended as {u32 csize, u32 usize, frame} (trace-cmd's chunk layout; the
// u32 chunk count goes in front at assembly).

import fs from 'node:fs';
import { PAGES_IN_CHUNK } from './constants.js';
import { writeAt } from './file-io.js';
import { zstdCompress } from './zstd.js';

export class CpuSpool {
  readonly path: string;
  readonly cpu: number;
  readonly #fd: number;
  readonly #pageSize: number;
  readonly #littleEndian: boolean;
  readonly #zstdLevel: number | null;
  /** Pages waiting for a chunk to fill (zstd only). */
  readonly #pending: Uint8Array;
  #pendingPages = 0;
  /** Bytes in the spool file. */
  #size = 0;
  #pages = 0;
  #chunks = 0;
  #closed = false;

  /** `zstdLevel`: null for uncompressed pages. */
  constructor(path: string, cpu: number, pageSize: number, littleEndian: boolean, zstdLevel: number | null) {
    this.path = path;
    this.cpu = cpu;
    this.#pageSize = pageSize;
    this.#littleEndian = littleEndian;
    this.#zstdLevel = zstdLevel;
    this.#pending = new Uint8Array(zstdLevel === null ? 0 : pageSize * PAGES_IN_CHUNK);
    this.#fd = fs.openSync(path, 'w+', 0o600);
  }

  get fd(): number {
    return this.#fd;
  }

  /** Bytes in the spool file (for zstd, Σ(8 + csize): the BUFFER option's CPU size). */
  get size(): number {
    return this.#size;
  }

  get pages(): number {
    return this.#pages;
  }

  /** Compressed chunks written (zstd). */
  get chunks(): number {
    return this.#chunks;
  }

  get compressed(): boolean {
    return this.#zstdLevel !== null;
  }

  /** Appends whole pages (bytes.length is a multiple of the page size). */
  append(bytes: Uint8Array): void {
    const count = bytes.length / this.#pageSize;
    if (this.#zstdLevel === null) {
      writeAt(this.#fd, bytes, this.#size);
      this.#size += bytes.length;
      this.#pages += count;
      return;
    }
    let at = 0;
    while (at < bytes.length) {
      const room = (PAGES_IN_CHUNK - this.#pendingPages) * this.#pageSize;
      const take = Math.min(room, bytes.length - at);
      this.#pending.set(bytes.subarray(at, at + take), this.#pendingPages * this.#pageSize);
      this.#pendingPages += take / this.#pageSize;
      at += take;
      if (this.#pendingPages === PAGES_IN_CHUNK) this.#flushChunk();
    }
    this.#pages += count;
  }

  /** Compresses what is pending into a last (short) chunk. */
  flush(): void {
    if (this.#zstdLevel !== null && this.#pendingPages > 0) this.#flushChunk();
  }

  #flushChunk(): void {
    const raw = this.#pending.subarray(0, this.#pendingPages * this.#pageSize);
    const frame = zstdCompress(raw, this.#zstdLevel ?? 3);
    const head = new Uint8Array(8);
    const view = new DataView(head.buffer);
    view.setUint32(0, frame.length, this.#littleEndian);
    view.setUint32(4, raw.length, this.#littleEndian);
    writeAt(this.#fd, head, this.#size);
    writeAt(this.#fd, frame, this.#size + 8);
    this.#size += 8 + frame.length;
    this.#chunks++;
    this.#pendingPages = 0;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    fs.closeSync(this.#fd);
  }

  /** Closes and deletes the spool file. */
  remove(): void {
    this.close();
    fs.rmSync(this.path, { force: true });
  }
}
