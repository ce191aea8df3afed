// Anything that yields one CPU's records batch by batch: a kernel per-CPU
// reader, a file of recorded sub-buffers, an application ring.

import type { RecordBatch } from './record.js';

/** Anything that yields one CPU's records batch by batch: a kernel reader, a recorded file, an application ring. */
export interface BatchSource {
  readonly cpu: number;
  /**
   * The next batch, or null when there is none (for now, or ever for a
   * file). The batch stays valid until the next call.
   */
  next(): RecordBatch | null;
  /** Further next() calls would only return events written after the last one. */
  readonly caughtUp: boolean;
}
