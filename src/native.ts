// Typed access to the native addon (native/tracering.c).
//
// node-gyp-build picks a prebuilt binary from prebuilds/<platform>-<arch>/
// when the package ships one, and falls back to build/Release otherwise.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from './package-root.js';

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
  /**
   * read()s whole pages back to back (see native/tracering.c). With
   * `stopBelow` > 0 the batch also ends after a page, not the first, whose
   * commit holds fewer data bytes than that (the writer's page).
   */
  readPages(fd: number, into: Uint8Array, pageSize: number, maxPages: number, stopBelow?: number, longSize?: number): number;
  /**
   * read()s sub-buffers of `fd` straight into free slots of a staging ring
   * and publishes the clean ones (native/stage-pages.c); returns a
   * STAGE_STATUS. `out` (7 numbers): pages, events, data bytes, the slot of
   * a handed-off page, 1 when the waiting output thread must be woken, 1
   * when the handed-off page is the writer's, the data bytes of the last
   * page read (-1: none). `exemptFirst`: a small first page does not end
   * the call (readPages' rule; false when the page before it was small).
   */
  stagePages(
    fd: number,
    memory: Uint8Array,
    descriptor: Int32Array,
    queue: number,
    maxPages: number,
    stopBelow: number,
    minCommit: number,
    longSize: number,
    exemptFirst: boolean,
    out: Float64Array,
  ): StageStatus;
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

/** What ended a native.stagePages() call (native/stage-pages.c's STAGE_*). */
export const STAGE_STATUS = {
  /** maxPages staged: call again. */
  more: 0,
  /** read() found nothing more. */
  empty: 1,
  /** Stopped after the page the writer is on. */
  writer: 2,
  /** The page in slot out[3] needs the JavaScript reader; the slot is free again. */
  handoff: 3,
  /** No free slot: the staging policy decides. */
  noSlot: 4,
  /** The staging ring was aborted. */
  abort: 5,
} as const;
export type StageStatus = (typeof STAGE_STATUS)[keyof typeof STAGE_STATUS];

/** Clock ids clockNs() takes (Linux's clockid_t values). */
export const CLOCK_IDS = { realtime: 0, monotonic: 1, processCputime: 2, threadCputime: 3, monotonicRaw: 4, boottime: 7, tai: 11 } as const;

export const POLL_READABLE = 1;
export const POLL_WRITABLE = 2;
export const POLL_DISCONNECT = 4;
export const POLL_PRIORITIZED = 8;

const require = createRequire(import.meta.url);

/**
 * The binary node-gyp-build would choose in the two usual cases, a local
 * build or our own prebuild for this platform, found without loading
 * node-gyp-build (2.5 ms, paid by the main and the capture thread at every
 * start). Anything else (its environment overrides, other prebuild tags)
 * goes to node-gyp-build itself.
 */
function knownAddon(root: string): string | null {
  if (process.env['PREBUILDS_ONLY'] || process.env['TRACERING_PREBUILD']) return null;
  const local = join(root, 'build', 'Release', 'tracering.node');
  if (fs.existsSync(local)) return local;
  // node-gyp-build's libc rule: musl on Alpine, unless LIBC says otherwise.
  const libc = process.env['LIBC'] ?? (fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc');
  const prebuilt = join(root, 'prebuilds', `${process.platform}-${process.arch}`, `tracering.napi.${libc}.node`);
  return fs.existsSync(prebuilt) ? prebuilt : null;
}

function loadAddon(): NativeBinding {
  const root = packageRoot();
  const known = knownAddon(root);
  if (known !== null) return require(known) as NativeBinding;
  return (require('node-gyp-build') as (dir: string) => unknown)(root) as NativeBinding;
}

export const native = loadAddon();
