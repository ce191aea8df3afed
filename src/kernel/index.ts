// tracering/kernel: tracefs access (locating and mounting, instances and
// their settings), per-CPU readers (mapped and read()), the all-CPU
// source, other-consumer detection.

export { findBufferUsers, type BufferUser } from './buffer-users.js';
export { readClockPair } from './clock-pair.js';
export type { CpuReader, CpuReaderCounters, ReaderMode } from './cpu-reader.js';
export { type CpuStats, parseCpuStats } from './cpu-stats.js';
export { type EventRef, type ResolvedSelector, availableEvents, resolveSelectors } from './event-select.js';
export { MappedCpuReader, peekMetaPage } from './mapped-cpu-reader.js';
export { ReadCpuReader } from './read-cpu-reader.js';
export { EventFilterError, type EventRequest, type SessionSettings, TraceSession } from './session.js';
export { TraceArray, type EventSpec, parseEventSpec } from './trace-array.js';
export {
  TraceSource,
  openCpuReader,
  type ModeChoice,
  type CpuReaderOptions,
  type TraceSourceOptions,
  type StreamOptions,
  type SourceSummary,
  type BatchHandler,
} from './trace-source.js';
export { Tracefs, Instance, type LocateOptions } from './tracefs.js';
