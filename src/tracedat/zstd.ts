// zstd for trace.dat: trace-cmd compresses metadata sections as one block
// and CPU data in chunks of 10 pages, each a single zstd frame written
// without a content size (the chunk header carries it).
//
// Decompression uses Node's zlib.zstdDecompressSync where the running Node
// has it (22.15+), else the pure-JS fzstd (Node 20). Compression needs
// Node's zlib.zstdCompressSync; elsewhere it is a coded UnsupportedError.
//
// Hostile frames: Node's decoder stops at maxOutputLength. fzstd has no
// such limit, so a scan of the frame first (cheap: it reads 3 bytes per
// block and skips the bodies) bounds what it may produce to ~2x the
// expected size, bounds the window it allocates, and checks the frame's
// own content size if it has one; the output length is checked after.

import { decompress as fzstdDecompress } from 'fzstd';
import { MalformedInputError, UnsupportedError } from '../errors.js';
import { zlib } from '../lazy-builtins.js';

interface NodeZstd {
  zstdCompressSync?: (data: Uint8Array, options?: { params?: Record<number, number> }) => Buffer;
  zstdDecompressSync?: (data: Uint8Array, options?: { maxOutputLength?: number }) => Buffer;
  constants: Record<string, number>;
}

// Loaded with this module (lazy-builtins): not by CLI commands that never touch trace.dat.
const nodeZstd = zlib() as unknown as NodeZstd;

/** Which decoder reads zstd here: Node's own, or fzstd. */
export const zstdDecoder: 'node' | 'fzstd' = typeof nodeZstd.zstdDecompressSync === 'function' ? 'node' : 'fzstd';

/** True where this Node can write zstd (zlib.zstdCompressSync, Node 22.15+ / 24). */
export const zstdCanCompress: boolean = typeof nodeZstd.zstdCompressSync === 'function';

/** The version written in the file's compression header ("zstd\0VERSION\0"). */
export const zstdVersion: string = (process.versions as Record<string, string | undefined>)['zstd'] ?? '1.5.4';

const ZSTD_MAGIC = 0xfd2fb528;
const BLOCK_MAX = 128 * 1024;
const MAX_RATIO = BLOCK_MAX / 4;
const MAX_WINDOW = 8 << 20;

/**
 * Decompresses one frame of exactly `size` bytes into `into` (or a new
 * buffer), returning the bytes. `what` names it in errors.
 */
export function zstdDecompress(src: Uint8Array, size: number, what: string, into?: Uint8Array): Uint8Array {
  // No zstd frame expands more than 128 KiB per 4 input bytes (an RLE block): a larger claim is a lie.
  if (size > src.length * MAX_RATIO) throw new MalformedInputError(`${what}: ${src.length} compressed bytes cannot hold ${size} bytes`);
  if (zstdDecoder === 'node') {
    let result: Buffer;
    try {
      result = nodeZstd.zstdDecompressSync!(src, { maxOutputLength: Math.max(1, size) });
    } catch (error) {
      throw new MalformedInputError(`${what}: zstd data does not decompress to ${size} bytes (${(error as Error).message})`, { cause: error });
    }
    if (result.length !== size) {
      throw new MalformedInputError(`${what}: zstd data decompresses to ${result.length} bytes, the header says ${size}`);
    }
    if (into === undefined || into.length < size) return new Uint8Array(result.buffer, result.byteOffset, result.length);
    into.set(result);
    return into.subarray(0, size);
  }
  scanFrame(src, size, what);
  // fzstd sizes its own output: 5x faster than decoding into a given buffer (measured in bench/tracedat.ts).
  let result: Uint8Array;
  try {
    result = fzstdDecompress(src);
  } catch (error) {
    throw new MalformedInputError(`${what}: bad zstd data (${(error as Error).message})`, { cause: error });
  }
  if (result.length !== size) throw new MalformedInputError(`${what}: zstd data decompresses to ${result.length} bytes, the header says ${size}`);
  if (into === undefined || into.length < size) return result;
  into.set(result);
  return into.subarray(0, size);
}

/** Checks that `src` is one zstd frame whose blocks cannot produce much more than `size` bytes. */
function scanFrame(src: Uint8Array, size: number, what: string): void {
  const bad = (why: string): never => {
    throw new MalformedInputError(`${what}: bad zstd frame (${why})`);
  };
  if (src.length < 6) bad('too short');
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  if (view.getUint32(0, true) !== ZSTD_MAGIC) bad('no zstd magic');
  const fhd = src[4]!;
  const fcsFlag = fhd >> 6;
  const single = (fhd & 0x20) !== 0;
  if ((fhd & 0x08) !== 0) bad('reserved bit set');
  const dictBytes = [0, 1, 2, 4][fhd & 3]!;
  const fcsBytes = [single ? 1 : 0, 2, 4, 8][fcsFlag]!;
  let at = 5 + (single ? 0 : 1) + dictBytes;
  if (at + fcsBytes > src.length) bad('truncated header');
  if (!single) {
    // The decoder allocates the window: no more than the data needs, or 8 MiB.
    const wd = src[5]!;
    const base = 2 ** (10 + (wd >> 3));
    const window = base + (base / 8) * (wd & 7);
    if (window > Math.max(2 * size, MAX_WINDOW)) bad(`window of ${window} bytes for ${size} bytes of data`);
  }
  if (fcsBytes > 0) {
    let fcs = 0;
    for (let i = fcsBytes - 1; i >= 0; i--) fcs = fcs * 256 + src[at + i]!;
    if (fcsBytes === 2) fcs += 256;
    if (fcs !== size) bad(`content size ${fcs}, expected ${size}`);
  }
  at += fcsBytes;
  const maxBlocks = 2 * Math.ceil(size / BLOCK_MAX) + 2;
  let exact = 0;
  for (let blocks = 0; ; blocks++) {
    if (blocks >= maxBlocks) bad(`more than ${maxBlocks} blocks for ${size} bytes`);
    if (at + 3 > src.length) bad('truncated block header');
    const header = src[at]! | (src[at + 1]! << 8) | (src[at + 2]! << 16);
    at += 3;
    const last = (header & 1) !== 0;
    const type = (header >> 1) & 3;
    const blockSize = header >>> 3;
    if (type === 3) bad('reserved block type');
    if (blockSize > BLOCK_MAX) bad('block larger than 128 KiB');
    if (type !== 2) exact += blockSize;
    if (exact > size) bad(`more than ${size} bytes`);
    at += type === 1 ? 1 : blockSize;
    if (at > src.length) bad('truncated block');
    if (last) break;
  }
  if ((fhd & 0x04) !== 0) at += 4;
  if (at !== src.length) bad(at > src.length ? 'truncated checksum' : 'bytes after the frame');
}

/** Compresses `src` into one zstd frame; needs zlib.zstdCompressSync. */
export function zstdCompress(src: Uint8Array, level = 3): Buffer {
  if (!zstdCanCompress) {
    throw new UnsupportedError(`zstd compression needs Node 22.15 or later (zlib.zstdCompressSync); this is Node ${process.versions.node}: use compression 'none'`);
  }
  const levelParam = nodeZstd.constants['ZSTD_c_compressionLevel'] ?? 100;
  return nodeZstd.zstdCompressSync!(src, { params: { [levelParam]: level } });
}
