// One CPU's recorded pages in a trace.dat, as a PageFill for PageStream:
// read straight from the file, or decompressed a chunk at a time (u32
// chunk count, then per chunk u32 csize, u32 usize, zstd frame). Memory
// stays at one chunk (plus its compressed bytes) whatever the file size.

import { MalformedInputError } from '../errors.js';
import type { PageFill } from '../layout/page-stream.js';
import type { FileBytes } from './bytes.js';
import { Limits } from './constants.js';
import { zstdDecompress } from './zstd.js';

/** Where a CPU's data is in a trace.dat. */
export interface CpuRegion {
  readonly cpu: number;
  /** File offset of the data (for compressed data: of the chunk count). */
  readonly offset: number;
  /** Bytes of data as the BUFFER option gives them. */
  readonly size: number;
}

/** Pages stored as they are: whole pages; a trailing partial one is zero-filled. */
export function plainPages(file: FileBytes, region: CpuRegion): PageFill {
  file.check(region.offset, region.size, `CPU ${region.cpu} data`);
  let pos = region.offset;
  const end = region.offset + region.size;
  return (into, pageSize, maxPages) => {
    let n = 0;
    while (n < maxPages && pos < end) {
      const take = Math.min(pageSize, end - pos);
      file.readInto(into, n * pageSize, take, pos, `CPU ${region.cpu} page`);
      if (take < pageSize) into.fill(0, n * pageSize + take, (n + 1) * pageSize);
      pos += take;
      n++;
    }
    return n;
  };
}

/** Chunk-compressed pages. */
export class ChunkedPages {
  readonly #file: FileBytes;
  readonly #region: CpuRegion;
  readonly #what: string;
  /** End of the bytes the chunks may occupy. */
  readonly #end: number;
  readonly #header = new Uint8Array(8);
  readonly #headerView = new DataView(this.#header.buffer);
  #count = -1;
  #index = 0;
  #pos: number;
  #compressed = new Uint8Array(0);
  #chunk = new Uint8Array(0);
  #chunkLength = 0;
  #chunkPos = 0;

  constructor(file: FileBytes, region: CpuRegion) {
    this.#file = file;
    this.#region = region;
    this.#what = `${file.path}: CPU ${region.cpu} data`;
    // The size in the BUFFER option excludes the 4-byte count (trace-cmd 3.1.6); some writers include it.
    this.#end = Math.min(file.size, region.offset + 4 + region.size);
    this.#pos = region.offset;
  }

  readonly fill: PageFill = (into, pageSize, maxPages) => {
    let n = 0;
    while (n < maxPages) {
      if (this.#chunkPos >= this.#chunkLength && !this.#nextChunk()) break;
      const take = Math.min(pageSize, this.#chunkLength - this.#chunkPos);
      into.set(this.#chunk.subarray(this.#chunkPos, this.#chunkPos + take), n * pageSize);
      if (take < pageSize) into.fill(0, n * pageSize + take, (n + 1) * pageSize);
      this.#chunkPos += take;
      n++;
    }
    return n;
  };

  #nextChunk(): boolean {
    const le = this.#file.littleEndian;
    if (this.#count < 0) {
      if (this.#region.size === 0) {
        this.#count = 0;
        return false;
      }
      if (this.#pos + 4 > this.#end) throw new MalformedInputError(`${this.#what}: no room for the chunk count`);
      this.#file.readInto(this.#header, 0, 4, this.#pos, 'chunk count');
      this.#count = this.#headerView.getUint32(0, le);
      this.#pos += 4;
    }
    if (this.#index >= this.#count) return false;
    if (this.#pos + 8 > this.#end) throw new MalformedInputError(`${this.#what}: chunk ${this.#index} of ${this.#count} lies beyond its data`);
    this.#file.readInto(this.#header, 0, 8, this.#pos, 'chunk header');
    const csize = this.#headerView.getUint32(0, le);
    const usize = this.#headerView.getUint32(4, le);
    this.#pos += 8;
    if (csize > this.#end - this.#pos) {
      throw new MalformedInputError(`${this.#what}: chunk ${this.#index} claims ${csize} compressed bytes, ${this.#end - this.#pos} left`);
    }
    if (usize > Limits.chunkBytes) throw new MalformedInputError(`${this.#what}: chunk ${this.#index} claims ${usize} bytes (limit ${Limits.chunkBytes})`);
    if (this.#compressed.length < csize) this.#compressed = new Uint8Array(csize);
    const src = this.#compressed.subarray(0, csize);
    this.#file.readInto(src, 0, csize, this.#pos, 'chunk');
    this.#pos += csize;
    if (this.#chunk.length < usize) this.#chunk = new Uint8Array(usize);
    zstdDecompress(src, usize, `${this.#what}, chunk ${this.#index}`, this.#chunk);
    this.#chunkLength = usize;
    this.#chunkPos = 0;
    this.#index++;
    return true;
  }
}
