// Typed access to the native addon (native/tracering.c).
//
// node-gyp-build picks a prebuilt binary from prebuilds/<platform>-<arch>/
// when the package ships one, and falls back to build/Release otherwise.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** fd readiness on the current environment's event loop (uv_poll). */
export interface NativePoller {
  /** Starts (or changes) watching; `events` is a mask of POLL_* bits. */
  start(events: number): void;
  stop(): void;
  /** Closes the handle; the poller cannot be restarted. */
  close(): void;
}

export interface NativeBinding {
  mmap(fd: number, length: number, offset: number, writable?: boolean): ArrayBuffer;
  munmap(buffer: ArrayBuffer): void;
  isMapped(buffer: ArrayBuffer): boolean;
  ioctl(fd: number, request: number): number;
  readPages(fd: number, into: Uint8Array, pageSize: number, maxPages: number): number;
  flock(fd: number, exclusive: boolean, wait: boolean): boolean;
  setThreadAffinity(cpus: readonly number[]): void;
  getThreadAffinity(): number[];
  currentCpu(): number;
  gettid(): number;
  futexWake(words: Int32Array, index: number, count?: number): number;
  futexWait(words: Int32Array, index: number, expected: number, timeoutMs?: number): FutexResult;
  futexWaitAsync(words: Int32Array, index: number, expected: number, timeoutMs: number): Promise<FutexResult>;
  monotonicNs(): bigint;
  /** clock_gettime of one of the CLOCK_IDS, in ns. */
  clockNs(id: number): bigint;
  /** copy_file_range(2) looped over short copies: bytes copied (short only at fdIn's end, or before an error deferred to the next call). */
  copyFileRange(fdIn: number, offIn: number, fdOut: number, offOut: number, length: number): number;
  readonly pageSize: number;
  readonly Poller: new (fd: number, onEvent: (status: number, events: number) => void) => NativePoller;
}

export type FutexResult = 'ok' | 'not-equal' | 'timed-out';

/** Clock ids clockNs() takes (Linux's clockid_t values). */
export const CLOCK_IDS = { realtime: 0, monotonic: 1, monotonicRaw: 4, boottime: 7, tai: 11 } as const;

export const POLL_READABLE = 1;
export const POLL_WRITABLE = 2;
export const POLL_DISCONNECT = 4;
export const POLL_PRIORITIZED = 8;

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const load = require('node-gyp-build') as (dir: string) => unknown;

export const native = load(packageRoot) as NativeBinding;
