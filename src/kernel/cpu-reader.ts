// A consumer of one per-CPU ring buffer, by mapping (mmap + GET_READER) or by
// read() of the same trace_pipe_raw file. Both yield RecordBatches.

import type { CpuReaderCounters } from '../consumer/counters.js';
import type { BatchSource } from '../layout/batch-source.js';
import type { SubbufLayout } from '../layout/subbuf.js';

export { type CpuReaderCounters, addCounters, newCounters } from '../consumer/counters.js';

/** How a reader takes pages: 'mmap' (the ring-buffer mapping, Linux 6.10+) or 'read' (read() of trace_pipe_raw). */
export type ReaderMode = 'mmap' | 'read';

/** A reader of one CPU's kernel buffer, mapped or with read(). */
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
   * Sub-buffers already taken from the kernel that next() has not returned
   * yet (read() takes several per call; a mapping none). The kernel counts
   * them as read: a consumer that stops before they are returned loses them.
   */
  readonly buffered: number;
  /**
   * The last batch's records as whole sub-buffers in the kernel's format,
   * self-contained (what read() of trace_pipe_raw returns: the pages as the
   * kernel gave them, or for a mapping the batch rebuilt as one page).
   * Valid until the next call of next().
   */
  readonly lastPages: Uint8Array;
  /** The overrun counter value up to which losses are accounted (after finish(): all of them). */
  readonly lossAccountedTo: number;
  /**
   * Ends accounting: settles lost events against the kernel's counters and
   * fills `dropped`. Call after the last next(); reading may continue after.
   */
  finish(): void;
  /** Releases the mapping or buffer and closes the fd. Idempotent. */
  close(): void;
}
