// Public API of tracering.

export * from './errors.js';

// Binary layout
export { RecordBatch, WalkState, walkRecords, maxRecords } from './layout/record.js';
export {
  type SubbufLayout,
  type SubbufHeader,
  hostSubbufLayout,
  readSubbufHeader,
  newSubbufHeader,
  dataSize,
  RB_MISSED_EVENTS,
  RB_MISSED_STORED,
  LOST_UNKNOWN,
} from './layout/subbuf.js';
export { MetaPage, type MetaSnapshot, META, TRACE_MMAP_IOCTL_GET_READER } from './layout/meta-page.js';
export { tsToBigInt, tsFromBigInt, tsToNumber, tsCompare, tsToDecimal } from './layout/timestamp.js';

// Kernel access
export { Tracefs, Instance, type LocateOptions } from './kernel/tracefs.js';
export { TraceArray, type EventSpec, parseEventSpec } from './kernel/trace-array.js';
export type { CpuStats } from './kernel/cpu-stats.js';
export type { CpuReader, CpuReaderCounters, ReaderMode } from './kernel/cpu-reader.js';
export { MappedCpuReader, peekMetaPage } from './kernel/mapped-cpu-reader.js';
export { ReadCpuReader } from './kernel/read-cpu-reader.js';
export {
  TraceSource,
  openCpuReader,
  type ModeChoice,
  type CpuReaderOptions,
  type TraceSourceOptions,
  type StreamOptions,
  type SourceSummary,
  type BatchHandler,
} from './kernel/trace-source.js';
export { findBufferUsers, type BufferUser } from './kernel/buffer-users.js';
