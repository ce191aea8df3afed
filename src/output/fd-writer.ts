// Bytes to a file descriptor (stdout, a pipe, a file) without blocking the
// event loop: whole writes go through at once; what a full non-blocking
// pipe refuses is copied and written when the fd is writable again, and
// `drained()` tells the producer when to go on (backpressure). Ctrl-C keeps
// working while a slow reader holds us up.

import fs from 'node:fs';
import { OutputClosedError } from '../errors.js';
import { POLL_WRITABLE, native, type NativePoller } from '../native.js';

export class FdWriter {
  readonly fd: number;
  /** Bytes accepted so far. */
  written = 0;
  readonly #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #poller: NativePoller | null = null;
  #waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  #failed: unknown = null;

  constructor(fd: number) {
    this.fd = fd;
  }

  /** Bytes waiting for the fd to become writable. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Writes `bytes` (which the caller may reuse as soon as this returns). */
  write(bytes: Uint8Array): void {
    if (this.#failed !== null) throw this.#failed;
    this.written += bytes.byteLength;
    if (this.#pendingBytes > 0) {
      this.#queue(bytes);
      return;
    }
    const done = this.#writeSome(bytes);
    if (done < bytes.byteLength) this.#queue(bytes.subarray(done));
  }

  /** Settles once every accepted byte has been written (at once when nothing waits). */
  drained(): Promise<void> {
    if (this.#failed !== null) return Promise.reject(this.#failed);
    if (this.#pendingBytes === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Writes what waits synchronously (at exit), as far as the fd takes it. */
  flushSync(): void {
    while (this.#pending.length > 0 && this.#failed === null) {
      const head = this.#pending[0]!;
      const done = this.#writeSome(head, true);
      this.#pendingBytes -= done;
      if (done < head.byteLength) this.#pending[0] = head.subarray(done);
      else this.#pending.shift();
    }
  }

  close(): void {
    this.#poller?.close();
    this.#poller = null;
  }

  #queue(bytes: Uint8Array): void {
    this.#pending.push(Uint8Array.prototype.slice.call(bytes));
    this.#pendingBytes += bytes.byteLength;
    if (this.#poller === null) {
      this.#poller = new native.Poller(this.fd, (status) => this.#onWritable(status));
    }
    this.#poller.start(POLL_WRITABLE);
  }

  /** Bytes of `bytes` written now (stops at EAGAIN unless `block`). */
  #writeSome(bytes: Uint8Array, block = false): number {
    let done = 0;
    while (done < bytes.byteLength) {
      try {
        done += fs.writeSync(this.fd, bytes, done, bytes.byteLength - done);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' && !block) return done;
        if (code === 'EAGAIN') {
          Atomics.wait(PAUSE, 0, 0, 1);
          continue;
        }
        this.#fail(code === 'EPIPE' ? new OutputClosedError('the reader of the output went away', { cause: error }) : error);
        throw this.#failed;
      }
    }
    return done;
  }

  #onWritable(status: number): void {
    if (status < 0) {
      this.#fail(new OutputClosedError(`the output (fd ${this.fd}) failed (${status})`));
      return;
    }
    try {
      while (this.#pending.length > 0) {
        const head = this.#pending[0]!;
        const done = this.#writeSome(head);
        this.#pendingBytes -= done;
        if (done < head.byteLength) {
          this.#pending[0] = head.subarray(done);
          return; // still full: the poller stays on
        }
        this.#pending.shift();
      }
    } catch {
      return; // #fail told the waiters
    }
    this.#poller?.stop();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve();
  }

  #fail(error: unknown): void {
    this.#failed ??= error;
    this.#poller?.stop();
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(this.#failed);
  }
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));
