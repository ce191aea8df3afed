// One CPU's pages of one buffer while recording: appended to a temp file
// next to the output, as they come (flat memory). With zstd, pages gather
// into chunks of PAGES_IN_CHUNK and each full chunk is compressed and
// appended as {u32 csize, u32 usize, frame} (trace-cmd's chunk layout; the
// u32 chunk count goes in front at assembly).

import fs from 'node:fs';
import { PAGES_IN_CHUNK } from './constants.js';
import { writeAt } from './file-io.js';
import { zstdCompress } from './zstd.js';

/** Uncompressed pages are written in runs of about this many bytes. */
const WRITE_BYTES = 256 * 1024;
/** Runs per writev (Linux's IOV_MAX). */
const IOV_MAX = 1024;

export class CpuSpool {
  readonly path: string;
  readonly cpu: number;
  readonly #fd: number;
  readonly #pageSize: number;
  readonly #littleEndian: boolean;
  readonly #zstdLevel: number | null;
  /**
   * Pages waiting: for zstd, for a chunk to fill; uncompressed, for a
   * write of WRITE_BYTES (one write per few dozen pages, not per page).
   */
  readonly #pending: Uint8Array;
  #pendingPages = 0;
  /** Uncompressed runs borrowed until flush() (see borrow), and their bytes. */
  readonly #borrowed: Uint8Array[] = [];
  #borrowedBytes = 0;
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
    this.#pending = new Uint8Array(zstdLevel === null ? Math.max(pageSize, Math.floor(WRITE_BYTES / pageSize) * pageSize) : pageSize * PAGES_IN_CHUNK);
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

  /**
   * Appends whole pages that stay valid until flush(): uncompressed, they
   * are not copied but written then, all at once (writev). Compressed,
   * they are copied into the chunk as append() does.
   */
  borrow(bytes: Uint8Array): void {
    if (this.#zstdLevel !== null) return this.append(bytes);
    if (this.#pendingPages > 0) this.#flushPlain();
    this.#borrowed.push(bytes);
    this.#borrowedBytes += bytes.length;
    this.#size += bytes.length;
    this.#pages += bytes.length / this.#pageSize;
    if (this.#borrowed.length >= IOV_MAX) this.#flushBorrowed();
  }

  /** Appends whole pages (bytes.length is a multiple of the page size). */
  append(bytes: Uint8Array): void {
    const count = bytes.length / this.#pageSize;
    if (this.#borrowed.length > 0) this.#flushBorrowed();
    if (this.#zstdLevel === null) {
      const used = this.#pendingPages * this.#pageSize;
      if (used + bytes.length > this.#pending.length) this.#flushPlain();
      if (bytes.length >= this.#pending.length) {
        writeAt(this.#fd, bytes, this.#size);
        this.#size += bytes.length;
      } else {
        this.#pending.set(bytes, this.#pendingPages * this.#pageSize);
        this.#pendingPages += count;
        this.#size += bytes.length;
      }
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

  /** Writes what is pending: the last (short) chunk for zstd, buffered pages otherwise. */
  flush(): void {
    if (this.#borrowed.length > 0) this.#flushBorrowed();
    if (this.#pendingPages === 0) return;
    if (this.#zstdLevel !== null) this.#flushChunk();
    else this.#flushPlain();
  }

  /** Buffered pages to the file; #size already counts them. */
  #flushPlain(): void {
    const bytes = this.#pendingPages * this.#pageSize;
    if (bytes === 0) return;
    writeAt(this.#fd, this.#pending.subarray(0, bytes), this.#size - bytes);
    this.#pendingPages = 0;
  }

  /** Borrowed runs to the file, one writev (finishing a short write run by run); #size already counts them. */
  #flushBorrowed(): void {
    const runs = this.#borrowed;
    const start = this.#size - this.#borrowedBytes;
    const done = fs.writevSync(this.#fd, runs, start);
    if (done < this.#borrowedBytes) {
      // A short write: the rest run by run (writeAt loops on short writes itself).
      let at = 0;
      for (const run of runs) {
        const end = at + run.length;
        if (end > done) writeAt(this.#fd, run.subarray(Math.max(0, done - at)), start + Math.max(at, done));
        at = end;
      }
    }
    runs.length = 0;
    this.#borrowedBytes = 0;
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
