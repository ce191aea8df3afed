// The trace file being written: bytes go to a temporary file beside the
// final name, which is renamed into place at close (a reader never sees a
// half-written trace under the final name); abort removes it. Every failure
// on the output path is an OutputError naming the path and the errno.

import fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { OutputError, isSystemError } from '../../errors.js';

function fail(path: string, what: string, error: unknown): OutputError {
  const errno = isSystemError(error) ? (error.code ?? null) : null;
  const detail = error instanceof Error ? error.message : String(error);
  return new OutputError(path, `cannot ${what} ${path}: ${detail}`, errno, { cause: error });
}

export class OutputFile {
  readonly path: string;
  readonly tempPath: string;
  #fd: number;
  /** Bytes written so far. */
  written = 0;

  private constructor(path: string, tempPath: string, fd: number) {
    this.path = path;
    this.tempPath = tempPath;
    this.#fd = fd;
  }

  static create(path: string): OutputFile {
    let isDir = false;
    try {
      isDir = fs.statSync(path).isDirectory();
    } catch {
      // absent: the usual case
    }
    if (isDir) throw new OutputError(path, `cannot write ${path}: it is a directory`, 'EISDIR');
    const tempPath = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
    let fd: number;
    try {
      fd = fs.openSync(tempPath, 'wx', 0o644);
    } catch (error) {
      throw fail(path, 'create', error);
    }
    return new OutputFile(path, tempPath, fd);
  }

  write(bytes: Uint8Array): void {
    if (this.#fd < 0) throw new OutputError(this.path, `${this.path} is already closed`, null);
    let done = 0;
    try {
      while (done < bytes.byteLength) done += fs.writeSync(this.#fd, bytes, done, bytes.byteLength - done);
    } catch (error) {
      throw fail(this.path, 'write', error);
    }
    this.written += bytes.byteLength;
  }

  /** Flushes, closes and renames the file into place. */
  commit(): void {
    const fd = this.#fd;
    this.#fd = -1;
    try {
      fs.fsyncSync(fd);
    } catch (error) {
      fs.closeSync(fd);
      this.#removeTemp();
      throw fail(this.path, 'write', error);
    }
    fs.closeSync(fd);
    try {
      fs.renameSync(this.tempPath, this.path);
    } catch (error) {
      this.#removeTemp();
      throw fail(this.path, 'rename the finished trace to', error);
    }
  }

  /** Closes and removes the temporary file (idempotent). */
  discard(): void {
    if (this.#fd >= 0) {
      try {
        fs.closeSync(this.#fd);
      } catch {
        // closing is all that is left to do
      }
      this.#fd = -1;
    }
    this.#removeTemp();
  }

  #removeTemp(): void {
    try {
      fs.rmSync(this.tempPath, { force: true });
    } catch {
      // nothing more can be done
    }
  }
}
