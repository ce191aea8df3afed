// Translation of errno failures into tracering errors: on tracefs files
// (translateFsError), and on paths the user named (userPathError).

import {
  FileAccessError,
  OutputError,
  type SystemErrorLike,
  TracefsBusyError,
  TracefsNotFoundError,
  TracefsPermissionError,
  TraceringError,
  isSystemError,
} from '../errors.js';

/** Wraps a failed file operation on `path`; unknown failures are returned as they are. */
export function translateFsError(error: unknown, path: string, action: string): unknown {
  if (!isSystemError(error)) return error;
  switch (error.code) {
    case 'EACCES':
    case 'EPERM':
      return new TracefsPermissionError(
        `${action} ${path}: ${error.code} (tracefs needs root or CAP_SYS_ADMIN; this kernel may also forbid the file)`,
        { cause: error },
      );
    case 'EBUSY':
      return new TracefsBusyError(`${action} ${path}: the kernel reports EBUSY`, { cause: error });
    case 'ENOENT':
      return new TracefsNotFoundError(`${action} ${path}: no such tracefs file`, { cause: error });
    default:
      return error;
  }
}

export function rethrowFs(error: unknown, path: string, action: string): never {
  const translated = translateFsError(error, path, action);
  if (translated instanceof TraceringError || translated instanceof Error) throw translated;
  throw error;
}

// ---- I/O on paths the user named as inputs (recordings, kallsyms files) ----

/** What the common errno codes mean for a file the user named. */
const USER_PATH_REASONS: Readonly<Record<string, string>> = {
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a component of the path is not a directory',
  ENOENT: 'no such file or directory',
  EEXIST: 'already exists',
  ENOTEMPTY: 'the directory is not empty',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EIO: 'input/output error',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENXIO: 'no such device or address',
  ENODEV: 'no such device',
  EBADF: 'bad file descriptor',
  EINVAL: 'invalid argument',
  EXDEV: 'cross-device link',
  ETXTBSY: 'text file busy',
  EAGAIN: 'resource temporarily unavailable',
};

/** A failed system call (errno and syscall set), not one of tracering's errors nor Node's own ERR_* codes. */
function fromSystemCall(error: unknown): error is SystemErrorLike {
  if (error instanceof TraceringError || !isSystemError(error)) return false;
  return typeof error.syscall === 'string' || typeof error.errno === 'number';
}

/** "no space left on the device (ENOSPC)" for a system error's code. */
export function describeErrno(code: string): string {
  const reason = USER_PATH_REASONS[code];
  return reason === undefined ? code : `${reason} (${code})`;
}

/**
 * A coded error for a failed read of a path the user named as an input (a
 * recording, a kallsyms file): FileAccessError; `what` is the operation
 * ("read", "open", "list"). Errors that are not system errors, and
 * tracering's own, are returned as they are. (Output paths: fileError() in
 * src/sinks/file-errors.ts gives OutputError.)
 */
export function userPathError(error: unknown, path: string, what: string): unknown {
  if (!fromSystemCall(error)) return error;
  const code = error.code ?? 'EIO';
  const syscall = error.syscall ?? what;
  return new FileAccessError(`cannot ${what} ${path}: ${describeErrno(code)}`, path, code, syscall, { cause: error });
}

/** Throws userPathError(error, path, what). */
export function rethrowUserPath(error: unknown, path: string, what: string): never {
  throw userPathError(error, path, what);
}

/** Calls that write, and failures only writing has: an output's error (OutputError), not an input's. */
const WRITING_CALLS = new Set(['write', 'writev', 'pwrite', 'ftruncate', 'fsync', 'fdatasync', 'mkdir', 'mkdtemp', 'rename', 'unlink', 'rmdir', 'copyfile', 'link', 'symlink', 'utime', 'futime', 'chmod', 'fchmod', 'chown', 'fchown']);
const WRITING_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EROFS']);

/**
 * A system error that reached the top of a command without being
 * translated (it carries errno and syscall) as a coded error: OutputError
 * (ERR_OUTPUT) when it came from writing, FileAccessError (ERR_FILE_ACCESS)
 * otherwise; anything else is returned as it is.
 */
export function strayToCoded(error: unknown): unknown {
  if (!fromSystemCall(error)) return error;
  const e = error;
  const code = e.code ?? 'EIO';
  const syscall = e.syscall ?? 'a system call';
  const where = typeof e.path === 'string' ? ` ${e.path}` : '';
  const message = `${syscall}${where} failed: ${describeErrno(code)}`;
  if (WRITING_CALLS.has(syscall) || WRITING_ERRORS.has(code)) return new OutputError(e.path ?? '', message, code, { cause: error });
  return new FileAccessError(message, e.path ?? '', code, syscall, { cause: error });
}
