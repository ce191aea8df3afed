// Page compression with Node's own zlib (native code; the asynchronous
// calls run on libuv's thread pool, off the JavaScript thread). GZIP is
// read by every Parquet engine; ZSTD needs Node 22.15 or later.

import os from 'node:os';
import { zlib } from '../../../lazy-builtins.js';
import { UnsupportedError } from '../../../errors.js';
import { Codec } from './metadata.js';

export type CompressionName = 'gzip' | 'zstd' | 'none';

export interface Compressor {
  readonly name: CompressionName;
  readonly codec: Codec;
  compress(bytes: Uint8Array): Promise<Uint8Array> | Uint8Array;
}

/** Pages smaller than this are compressed synchronously (a thread-pool round trip costs more). */
const SYNC_BELOW = 16384;

/**
 * Compressions running on the thread pool at once. Each holds a zlib
 * state (hundreds of KiB) from its start: when a segment ends, thousands of
 * pages are handed over together, and they wait here, as bytes only.
 */
const MAX_RUNNING = Math.max(2, Math.min(8, os.availableParallelism()));
let running = 0;
const waiting: Array<() => void> = [];

function limited<T>(start: () => Promise<T>): Promise<T> {
  const run = (): Promise<T> => {
    running++;
    return start().finally(() => {
      running--;
      waiting.shift()?.();
    });
  };
  if (running < MAX_RUNNING) return run();
  return new Promise<T>((resolve, reject) => waiting.push(() => run().then(resolve, reject)));
}

type ZstdFn = (buf: Uint8Array, options: object, cb: (error: Error | null, result: Buffer) => void) => void;
type ZstdSyncFn = (buf: Uint8Array, options: object) => Buffer;
type NodeZstd = { zstdCompress?: ZstdFn; zstdCompressSync?: ZstdSyncFn; constants: Record<string, number> };
const zstdOf = (): NodeZstd => zlib() as unknown as NodeZstd;

export function zstdAvailable(): boolean {
  const zstd = zstdOf();
  return typeof zstd.zstdCompress === 'function' && typeof zstd.zstdCompressSync === 'function';
}

export function createCompressor(name: CompressionName, level?: number): Compressor {
  switch (name) {
    case 'none':
      return { name, codec: Codec.UNCOMPRESSED, compress: (b) => b };
    case 'gzip': {
      const options = { level: level ?? 1 };
      return {
        name,
        codec: Codec.GZIP,
        compress: (b) =>
          b.length < SYNC_BELOW
            ? zlib().gzipSync(b, options)
            : limited(() => new Promise((resolve, reject) => zlib().gzip(b, options, (e, r) => (e ? reject(e) : resolve(r))))),
      };
    }
    case 'zstd': {
      if (!zstdAvailable()) throw new UnsupportedError(`zstd compression needs Node 22.15 or later (this is ${process.version}); use gzip`);
      const zstd = zstdOf();
      const key = zstd.constants.ZSTD_c_compressionLevel ?? 100;
      const options = { params: { [key]: level ?? 1 } };
      const async = zstd.zstdCompress!;
      const sync = zstd.zstdCompressSync!;
      return {
        name,
        codec: Codec.ZSTD,
        compress: (b) =>
          b.length < SYNC_BELOW ? sync(b, options) : limited(() => new Promise((resolve, reject) => async(b, options, (e, r) => (e ? reject(e) : resolve(r))))),
      };
    }
  }
}
