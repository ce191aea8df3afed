// I/O errors on a user's output path (ENOSPC, EACCES, EISDIR, ENOTDIR, EROFS)
// as coded errors that name the path, never a stack trace.

import { OutputError, TraceringError } from '../errors.js';

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ENOENT: 'no such file or directory',
  EROFS: 'read-only file system',
  EEXIST: 'it exists already',
  EXDEV: 'it is on another file system',
  EMFILE: 'too many open files',
  EIO: 'an I/O error',
};

/** The error to throw for `error` while doing `what` to `path` (non-system errors pass through). */
export function fileError(error: unknown, path: string, what: string): Error {
  if (error instanceof TraceringError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string') return error instanceof Error ? error : new Error(String(error));
  const reason = REASONS[code] ?? (error as Error).message;
  return new OutputError(path, `cannot ${what} ${path}: ${reason} (${code})`, code, { cause: error });
}
