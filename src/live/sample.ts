// What the live view is fed with, once per refresh interval: a sample of
// the capture's cumulative counters (from the readers, the kernel's stats
// and the meta pages) and, from the counting sink, what arrived in the
// interval by event and by task.
//
// Counters are cumulative since the capture started, so a late or missed
// sample loses no information: rates come from differences.

import type { PolicyDecision } from '../capture/adaptive-policy.js';

export type ReadMode = 'mmap' | 'read';

/** One kernel CPU buffer. */
export interface CpuSample {
  readonly cpu: number;
  /** The path reading it now. */
  readonly mode: ReadMode;
  /** Data records delivered so far. */
  readonly events: number;
  /** Data-area bytes consumed so far. */
  readonly bytes: number;
  /** Events the kernel overwrote before they were read, so far (exact). */
  readonly lost: number;
  /** Events a full non-overwrite buffer refused, so far. */
  readonly dropped: number;
  /** How full the ring is now, 0..100 (written and unread sub-buffers over all). */
  readonly fillPercent: number;
  /** Sub-buffer size in bytes. */
  readonly subbufSize: number;
  /** This CPU's buffer size (buffer_size_kb). */
  readonly bufferKb: number;
  /** Reader wake-ups so far, when the capture counts them. */
  readonly wakeups?: number;
}

/** One application ring. */
export interface RingSample {
  readonly name: string;
  readonly events: number;
  readonly bytes: number;
  /** Events overwritten (overwrite mode) before they were read, so far. */
  readonly lost: number;
  /** Events the ring refused (discard or block mode), so far. */
  readonly dropped: number;
  readonly fillPercent: number;
}

export interface LiveSample {
  /** When the counters were read, in milliseconds of a monotonic clock. */
  readonly atMs: number;
  /** The trace clock's name (trace_clock). */
  readonly clock: string;
  /** The kernel buffer: '' for the top level, else the instance name. */
  readonly buffer: string;
  readonly cpus: readonly CpuSample[];
  readonly rings: readonly RingSample[];
  /** tracering's own CPU use over the last interval, in percent of one core (all its threads). */
  readonly selfCpuPercent: number;
  /** Adaptive-capture decisions taken since the previous sample (AdaptivePolicy.observe()'s result, all CPUs). */
  readonly decisions?: readonly PolicyDecision[];
}

/** A count for one event id or one pid, with its name. */
export interface CountEntry {
  /** The event id, or the pid. */
  readonly key: number;
  /** 'system:event' for events; the comm for tasks. */
  readonly name: string;
  readonly count: number;
}

/** What the counting sink saw since the previous sample. */
export interface IntervalCounts {
  readonly events: readonly CountEntry[];
  readonly tasks: readonly CountEntry[];
}
