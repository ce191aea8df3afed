// Translation of errno failures on tracefs files into tracering errors.

import {
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
