// Error classes with stable `code` strings (the model is Node core's
// ERR_* codes). Programs branch on `code`, never on message text.

/** A Node system error (the fields fs and child_process errors carry). */
export interface SystemErrorLike extends Error {
  code?: string;
  errno?: number;
  syscall?: string;
  path?: string;
}

/** The base class of every error tracering raises: `code` is stable, the message is for people. */
export class TraceringError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
  override get name(): string {
    return this.constructor.name;
  }
}

/** tracefs is not mounted and could not be mounted. */
export class TracefsNotFoundError extends TraceringError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_TRACEFS_NOT_FOUND', message, options);
  }
}

/** The process lacks the privileges a tracefs operation needs. */
export class TracefsPermissionError extends TraceringError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_TRACEFS_PERMISSION', message, options);
  }
}

/** A tracefs file refused an operation with EBUSY for a reason other than a mapping. */
export class TracefsBusyError extends TraceringError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_TRACEFS_BUSY', message, options);
  }
}

/** Resize, sub-buffer size change or snapshot refused because a per-CPU buffer is memory-mapped. */
export class BufferMappedError extends TraceringError {
  /** Processes known to map the buffer (this one included). */
  readonly pids: readonly number[];
  constructor(message: string, pids: readonly number[], options?: { cause?: unknown }) {
    super('ERR_BUFFER_MAPPED', message, options);
    this.pids = pids;
  }
}

/** The kernel cannot memory-map this buffer (kernel < 6.10, or a persistent buffer). */
export class MmapUnsupportedError extends TraceringError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_MMAP_UNSUPPORTED', message, options);
  }
}

/** The CPU has no ring buffer (never online since the buffer was created). */
export class CpuBufferMissingError extends TraceringError {
  readonly cpu: number;
  constructor(cpu: number, message: string, options?: { cause?: unknown }) {
    super('ERR_CPU_NO_BUFFER', message, options);
    this.cpu = cpu;
  }
}

/** Another consumer holds this per-CPU buffer. */
export class ConcurrentReaderError extends TraceringError {
  readonly cpu: number;
  constructor(cpu: number, message: string, options?: { cause?: unknown }) {
    super('ERR_CONCURRENT_READER', message, options);
    this.cpu = cpu;
  }
}

/** An application ring already has a live writer (one writer per ring). */
export class RingWriterBusyError extends TraceringError {
  constructor(message: string) {
    super('ERR_RING_WRITER_BUSY', message);
  }
}

/** An event or event system does not exist in this tracefs. */
export class EventNotFoundError extends TraceringError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_EVENT_NOT_FOUND', message, options);
  }
}

/** A sub-buffer's header or records are inconsistent. */
export class CorruptSubbufError extends TraceringError {
  /** Byte offset (in the data area) of the first bad record, or -1 for the header. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super('ERR_CORRUPT_SUBBUF', message);
    this.offset = offset;
  }
}

/** An input file (recording, format file, meta page) is malformed. */
export class MalformedInputError extends TraceringError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_MALFORMED_INPUT', message, options);
  }
}

/** A value passed by the caller is out of range or of the wrong shape. */
export class InvalidArgumentError extends TraceringError {
  constructor(message: string) {
    super('ERR_INVALID_ARG_VALUE', message);
  }
}

/** The running kernel lacks a feature (for example CONFIG_TRACER_SNAPSHOT). */
export class UnsupportedError extends TraceringError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_UNSUPPORTED', message, options);
  }
}

/** The operation needs an open object that was already closed. */
export class ClosedError extends TraceringError {
  constructor(message: string) {
    super('ERR_CLOSED', message);
  }
}

/**
 * Writing an output file failed (ENOSPC, EACCES, EISDIR, ENOTDIR, EROFS...).
 * Nothing is left under the final name.
 */
export class OutputError extends TraceringError {
  /** The output path the caller asked for. */
  readonly path: string;
  /** The system error code behind it ('ENOSPC'...), or null. */
  readonly errno: string | null;
  constructor(path: string, message: string, errno: string | null, options?: { cause?: unknown }) {
    super('ERR_OUTPUT', message, options);
    this.path = path;
    this.errno = errno;
  }
}

/** The reader of our output went away (EPIPE: `tracering report x | head`). Not a failure. */
export class OutputClosedError extends TraceringError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_OUTPUT_CLOSED', message, options);
  }
}

/**
 * A file or directory the user named as an input (a recording, a
 * kallsyms file) could not be read: EISDIR, ENOTDIR, EACCES, ENOENT...
 * `errno` is the system code ("EISDIR"), `syscall` the failed call. (A path
 * written to fails with OutputError.)
 */
export class FileAccessError extends TraceringError {
  readonly path: string;
  readonly errno: string;
  readonly syscall: string;
  constructor(message: string, path: string, errno: string, syscall: string, options?: { cause?: unknown }) {
    super('ERR_FILE_ACCESS', message, options);
    this.path = path;
    this.errno = errno;
    this.syscall = syscall;
  }
}

/** A recording's per-CPU data is damaged (corrupt or truncated sub-buffers, missing files); raised by `report --strict`. */
export class CorruptRecordingError extends TraceringError {
  constructor(message: string) {
    super('ERR_CORRUPT_RECORDING', message);
  }
}

/** An application ring's control words or page headers are inconsistent (corrupt memory, or a crashed peer). */
export class RingCorruptError extends TraceringError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_RING_CORRUPT', message, options);
  }
}

/** An application ring file could not be opened (missing, a directory, no permission). */
export class RingOpenError extends TraceringError {
  /** The system error code behind it (ENOENT, EISDIR, EACCES, ...). */
  readonly reason: string;
  constructor(message: string, reason: string, options?: { cause?: unknown }) {
    super('ERR_RING_OPEN', message, options);
    this.reason = reason;
  }
}

/** Whether `error` is a Node system error (with `code` if given). */
export function isSystemError(error: unknown, code?: string): error is SystemErrorLike {
  if (!(error instanceof Error)) return false;
  const c = (error as SystemErrorLike).code;
  return typeof c === 'string' && (code === undefined || c === code);
}

/** Warnings (not errors) carry a code too: `process.emitWarning(msg, { code })`. */
export const WarningCode = {
  concurrentReader: 'TRACERING_CONCURRENT_READER',
  corruptSubbuf: 'TRACERING_CORRUPT_SUBBUF',
  blockOption: 'TRACERING_BLOCK_OPTION',
  bufferReset: 'TRACERING_BUFFER_RESET',
  mmapFallback: 'TRACERING_MMAP_FALLBACK',
  symbols: 'TRACERING_SYMBOLS',
  adaptive: 'TRACERING_ADAPTIVE',
  ringWriterDied: 'TRACERING_RING_WRITER_DIED',
  ringStalled: 'TRACERING_RING_STALLED',
  /** A Parquet output directory held incomplete files of an earlier run (moved aside). */
  parquetLeftover: 'TRACERING_PARQUET_LEFTOVER',
  /** A recording's per-CPU file ends in a partial sub-buffer, or is missing. */
  truncatedRecording: 'TRACERING_TRUNCATED_RECORDING',
  /** A recording without kernel_constants: enum values come from the running kernel's BTF, or print as numbers. */
  kernelConstants: 'TRACERING_KERNEL_CONSTANTS',
  /** header_page, buffer_subbuf_size_kb, tracering.json and the data disagree on the sub-buffer size. */
  geometry: 'TRACERING_GEOMETRY',
  /** The kernel's stats count events in a buffer that holds none after a final drain: counted as lost. */
  uncountedLoss: 'TRACERING_UNCOUNTED_LOSS',
} as const;
export type WarningCode = (typeof WarningCode)[keyof typeof WarningCode];

/** A warning: a stable code and a message. */
export interface TraceringWarning {
  code: WarningCode;
  message: string;
  cpu?: number;
}

/** Receives warnings. */
export type WarningHandler = (warning: TraceringWarning) => void;

/** The default warning handler: process.emitWarning with the code. */
export const emitProcessWarning: WarningHandler = (w) => {
  process.emitWarning(w.message, { type: 'TraceringWarning', code: w.code });
};
