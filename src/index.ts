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

// Decoding: format files, typed decoders, print fmt, kernel text
export * from './decode/index.js';
export { KernelText, type KernelTextOptions, type HeaderFigures } from './output/kernel-text.js';
export { JsonLines } from './output/json-lines.js';
export { CpuMerger, type MergeVisitor } from './output/merge.js';
export { TimelineRenderer, type OutputFormat, type RenderOptions, type RenderSummary } from './output/report.js';
export { TaskNames } from './output/task-names.js';
export { loadDecodeContext, loadSymbols, type DecodeContext, type DecodeContextOptions } from './output/decode-context.js';
export { latencyFlags, clockInNs } from './output/line-prefix.js';
export type { BatchSource } from './layout/batch-source.js';

// Recordings
export { Recording, FileCpuReader, type RecordingMeta } from './recording/recording.js';
export { writeSnapshot, type SnapshotOptions, type SnapshotSummary } from './recording/snapshot.js';

// Application rings
export { AppRing, type AppRingOptions, type RingHandle, type RingStats } from './ring/app-ring.js';
export { AppEvent, type AppFieldValue } from './ring/app-event.js';
export { RingWriter, type RingWriterOptions, type ClockMode } from './ring/writer.js';
export { RingReader, RingChannel } from './ring/reader.js';
export { type EventSchema, type FieldType, APP_EVENT_ID_BASE } from './ring/schema.js';
export { type RingMode, RING_MODES } from './layout/ring-control.js';
export { MappedConsumer, type MappedChannel } from './consumer/mapped-consumer.js';
export { TraceApi, type Span, TRACE_API_SYSTEM, TRACE_API_EVENTS } from './ring/trace-api.js';

// Perfetto output
export { createPerfettoSink, PerfettoSink, type PerfettoSinkOptions, isPerfettoPath, PERFETTO_EXTENSIONS, readClockPair } from './sinks/perfetto/index.js';
