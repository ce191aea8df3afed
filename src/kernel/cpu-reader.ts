// A consumer of one per-CPU ring buffer, by mapping (mmap + GET_READER) or by
// read() of the same trace_pipe_raw file. Both yield RecordBatches.

import type { BatchSource } from '../layout/batch-source.js';
import type { SubbufLayout } from '../layout/subbuf.js';

export type ReaderMode = 'mmap' | 'read';

export interface CpuReaderCounters {
  /** Data records delivered. */
  events: number;
  /** Data-area bytes consumed (records, headers and padding). */
  bytes: number;
  /** Sub-buffers started (new reader ids or pages read). */
  subbufs: number;
  /** Events the kernel overwrote before we read them. */
  lost: number;
  /** Events refused by a full buffer in non-overwrite mode (from the kernel's stats at finish). */
  dropped: number;
  /** Sub-buffers dropped in part because their records were inconsistent. */
  corrupt: number;
  /** Buffer resets seen while reading (echo > trace, clock change). */
  resets: number;
  /** Events that another consumer took from this buffer while we read it. */
  consumedElsewhere: number;
}

export function newCounters(): CpuReaderCounters {
  return { events: 0, bytes: 0, subbufs: 0, lost: 0, dropped: 0, corrupt: 0, resets: 0, consumedElsewhere: 0 };
}

export interface CpuReader extends BatchSource {
  readonly mode: ReaderMode;
  /** The trace_pipe_raw descriptor, for readiness polling. */
  readonly fd: number;
  readonly layout: SubbufLayout;
  readonly counters: Readonly<CpuReaderCounters>;
  /**
   * True when the last next() reached the data the writer is still
   * producing: further calls would only return events written since. A
   * consumer whose own activity is traced (syscall events, say) never sees
   * an empty buffer; this is where it should stop and wait instead.
   */
  readonly caughtUp: boolean;
  /**
   * Ends accounting: settles lost events against the kernel's counters and
   * fills `dropped`. Call after the last next(); reading may continue after.
   */
  finish(): void;
  /** Releases the mapping or buffer and closes the fd. Idempotent. */
  close(): void;
}
