// Memory for an application ring: a SharedArrayBuffer (between threads) or
// a file mapped MAP_SHARED (between processes, e.g. /dev/shm/NAME). Both
// give plain views for data and Int32/BigInt64 views for Atomics; they
// differ in how a side sleeps and wakes the other: Atomics.wait/notify on
// a SharedArrayBuffer, futex on a file mapping (Atomics.wait refuses
// non-shared memory and Atomics.notify cannot reach another process).

import fs from 'node:fs';
import { InvalidArgumentError, MalformedInputError, RingOpenError, TraceringError, isSystemError } from '../errors.js';
import { RING_LOCATOR_BYTES, RING_TRAILER_CHECK_BYTES, checkRingTrailer, ringBytes, ringTrailerOffset } from '../layout/ring-control.js';
import { type FutexResult, native } from '../native.js';

export interface RingMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly i32: Int32Array;
  readonly i64: BigInt64Array;
  /** The file behind the memory, or null for a SharedArrayBuffer. */
  readonly path: string | null;
  /** Sleeps the calling thread while i32[index] === expected (at most timeoutMs). */
  wait(index: number, expected: number, timeoutMs: number): FutexResult;
  /** The same without blocking the event loop. */
  waitAsync(index: number, expected: number, timeoutMs: number): Promise<FutexResult>;
  /** Wakes up to `count` sleepers on i32[index]. */
  notify(index: number, count: number): number;
  close(): void;
}

// Word views cover whole words only: memory of any length gets views (a
// ring's own length is a multiple of 4096; the geometry check says so).
function views(buffer: ArrayBuffer | SharedArrayBuffer) {
  return {
    bytes: new Uint8Array(buffer),
    view: new DataView(buffer),
    i32: new Int32Array(buffer, 0, Math.floor(buffer.byteLength / 4)),
    i64: new BigInt64Array(buffer, 0, Math.floor(buffer.byteLength / 8)),
  };
}

/** A system error from opening or reading a ring file, as a coded error. */
function openError(path: string, error: unknown): unknown {
  if (error instanceof TraceringError || !isSystemError(error)) return error;
  const reason = error.code as string;
  const what =
    reason === 'ENOENT' ? 'no such file' : reason === 'EISDIR' ? 'is a directory, not a ring file' : reason === 'EACCES' || reason === 'EPERM' ? 'permission denied' : error.message;
  return new RingOpenError(`cannot open ring ${path}: ${what}`, reason, { cause: error });
}

function preadExactly(fd: number, length: number, position: number): DataView {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, position + done);
    if (n <= 0) break; // the file shrank meanwhile: the zeros fail the checks
    done += n;
  }
  return new DataView(buf.buffer, buf.byteOffset, length);
}

export class SharedRingMemory implements RingMemory {
  readonly buffer: SharedArrayBuffer;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly i32: Int32Array;
  readonly i64: BigInt64Array;
  readonly path = null;

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    ({ bytes: this.bytes, view: this.view, i32: this.i32, i64: this.i64 } = views(buffer));
  }

  static allocate(size: number): SharedRingMemory {
    return new SharedRingMemory(new SharedArrayBuffer(size));
  }

  wait(index: number, expected: number, timeoutMs: number): FutexResult {
    return Atomics.wait(this.i32, index, expected, timeoutMs);
  }

  async waitAsync(index: number, expected: number, timeoutMs: number): Promise<FutexResult> {
    const wait = Atomics.waitAsync(this.i32, index, expected, timeoutMs);
    if (!wait.async) return wait.value;
    // A pending Atomics.waitAsync does not keep Node's event loop alive: a
    // process whose only work is this wait would exit. A timer holds it until
    // the wait settles; it must not expire first, because the wait's own
    // timeout is delivered from another thread and can arrive after it.
    const keepAlive = setInterval(() => {}, 2 ** 30);
    try {
      return await wait.value;
    } finally {
      clearInterval(keepAlive);
    }
  }

  notify(index: number, count: number): number {
    return Atomics.notify(this.i32, index, count);
  }

  close(): void {
    // garbage collected with its last view
  }
}

export class FileRingMemory implements RingMemory {
  readonly buffer: ArrayBuffer;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly i32: Int32Array;
  readonly i64: BigInt64Array;
  readonly path: string;
  #closed = false;

  private constructor(path: string, buffer: ArrayBuffer) {
    this.path = path;
    this.buffer = buffer;
    ({ bytes: this.bytes, view: this.view, i32: this.i32, i64: this.i64 } = views(buffer));
  }

  /** Creates the file (it must not exist) with `size` zero bytes and maps it. */
  static create(path: string, size: number): FileRingMemory {
    let fd: number;
    try {
      fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    } catch (error) {
      if (isSystemError(error, 'EEXIST')) throw new InvalidArgumentError(`${path} exists: remove it or open it instead`);
      throw openError(path, error);
    }
    try {
      fs.ftruncateSync(fd, size);
      return new FileRingMemory(path, native.mmap(fd, size, 0, true));
    } catch (error) {
      fs.rmSync(path, { force: true });
      throw error;
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Maps an existing ring file: the ring's own length, after checking its
   * geometry with plain reads (a file that is not a ring, or is cut short,
   * is refused before any view exists).
   */
  static open(path: string): FileRingMemory {
    let fd: number;
    try {
      fd = fs.openSync(path, fs.constants.O_RDWR);
    } catch (error) {
      throw openError(path, error);
    }
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile()) throw new RingOpenError(`cannot open ring ${path}: not a regular file`, 'EINVAL');
      const size = stat.size;
      if (size < 4096) throw new MalformedInputError(`${path} is too small to be a tracering ring (${size} bytes)`);
      const locator = preadExactly(fd, RING_LOCATOR_BYTES, 0);
      const at = ringTrailerOffset(locator);
      if (at + RING_TRAILER_CHECK_BYTES > size) throw new MalformedInputError(`${path}: not a tracering ring: geometry exceeds the file`);
      const g = checkRingTrailer(locator, preadExactly(fd, RING_TRAILER_CHECK_BYTES, at), size);
      return new FileRingMemory(path, native.mmap(fd, ringBytes(g), 0, true));
    } catch (error) {
      throw openError(path, error);
    } finally {
      fs.closeSync(fd);
    }
  }

  wait(index: number, expected: number, timeoutMs: number): FutexResult {
    return native.futexWait(this.i32, index, expected, timeoutMs);
  }

  waitAsync(index: number, expected: number, timeoutMs: number): Promise<FutexResult> {
    return native.futexWaitAsync(this.i32, index, expected, timeoutMs);
  }

  notify(index: number, count: number): number {
    return native.futexWake(this.i32, index, count);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    native.munmap(this.buffer);
  }
}
