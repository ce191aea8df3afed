// File output for the trace.dat writer: positioned writes that loop on
// short writes, range copies (copy_file_range, with a read/write fallback
// where the kernel or filesystem cannot), and the mapping of system
// errors to OutputError.

import fs from 'node:fs';
import { OutputError, TraceringError, isSystemError } from '../errors.js';
import { native } from '../native.js';

/** Writes all of `bytes` at `position`. */
export function writeAt(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
  }
}

/** Errors after which copy_file_range cannot work here, and a plain copy can. */
const COPY_FALLBACK = new Set(['EXDEV', 'ENOSYS', 'EINVAL', 'EOPNOTSUPP', 'ENOTSUP', 'EBADF', 'EPERM']);

/** What a copy moved. */
export interface CopyStats {
  /** Bytes moved by copy_file_range. */
  ranged: number;
  /** Bytes moved by read/write after a fallback. */
  copied: number;
}

/**
 * Copies `length` bytes from fdIn at offIn to fdOut at offOut: with
 * copy_file_range (in-kernel; on filesystems with reflinks, no data moves)
 * and, from wherever it stops working, with read/write. Throws if fdIn
 * ends early.
 */
export function copyRange(fdIn: number, offIn: number, fdOut: number, offOut: number, length: number, stats?: CopyStats, useRange = true): void {
  let done = 0;
  if (useRange) {
    try {
      while (done < length) {
        const n = native.copyFileRange(fdIn, offIn + done, fdOut, offOut + done, length - done);
        if (n === 0) throw new Error(`copy source ended after ${done} of ${length} bytes`);
        done += n;
      }
    } catch (error) {
      if (!isSystemError(error) || !COPY_FALLBACK.has(error.code ?? '')) throw error;
    }
    if (stats) stats.ranged += done;
  }
  if (done === length) return;
  const buffer = Buffer.allocUnsafe(Math.min(1 << 20, length - done));
  const start = done;
  while (done < length) {
    const n = fs.readSync(fdIn, buffer, 0, Math.min(buffer.length, length - done), offIn + done);
    if (n <= 0) throw new Error(`copy source ended after ${done} of ${length} bytes`);
    writeAt(fdOut, buffer.subarray(0, n), offOut + done);
    done += n;
  }
  if (stats) stats.copied += done - start;
}

/** An OutputError for `path` from whatever a write threw (system errors keep their code). */
export function outputError(path: string, action: string, error: unknown): OutputError {
  if (error instanceof OutputError) return error;
  const code = isSystemError(error) && !(error instanceof TraceringError) ? (error.code ?? null) : null;
  const detail = code !== null ? `${code}${describe(code)}` : (error as Error).message;
  return new OutputError(path, `cannot ${action} ${path}: ${detail}`, code, { cause: error });
}

function describe(code: string): string {
  switch (code) {
    case 'ENOSPC':
      return ' (no space left on the device)';
    case 'EACCES':
    case 'EPERM':
      return ' (permission denied)';
    case 'EROFS':
      return ' (read-only file system)';
    case 'ENOENT':
      return ' (the directory does not exist)';
    case 'ENOTDIR':
      return ' (a part of the path is not a directory)';
    case 'EISDIR':
      return ' (it is a directory)';
    case 'EDQUOT':
      return ' (disk quota exceeded)';
    default:
      return '';
  }
}
