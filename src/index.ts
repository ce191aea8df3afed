// tracering: the package root. The front door (events(), batches(),
// record()), application rings, the errors, and the types they use. The
// layers underneath have their own entry points:
//
//   tracering/layout     the binary layout: meta page, sub-buffers, records, timestamps
//   tracering/kernel     tracefs, instances, per-CPU readers, TraceSource
//   tracering/consumer   the mapping protocol's consumer side, loss accounting
//   tracering/decode     format files, typed decoders, print fmt, kallsyms
//   tracering/output     kernel text, JSON Lines, the CPU merge, decode contexts
//   tracering/recording  snapshot directories, written and read
//   tracering/ring       application rings: memory, writer, reader, schemas
//   tracering/sinks      the sink interface and the output formats
//   tracering/tracedat   trace-cmd's trace.dat, read and written
//   tracering/capture    the capture thread and its staging ring
//   tracering/pipeline   record(), live and file runs, inputs

export * from './errors.js';
export * from './api/index.js';
export type { FieldValue } from './decode/field-decoder.js';
export type { ModeChoice } from './kernel/trace-source.js';
export type { EventRequest } from './kernel/session.js';
export type { StagingPolicy } from './capture/staging-ring.js';
export { record, type RecordOptions, type RecordProgress, type RecordSummary } from './pipeline/record.js';
export type { CpuReaderCounters } from './consumer/counters.js';
export type { EndReason, SinkEnd, SinkReport, TraceSink } from './sinks/sink.js';
export { AppRing, type AppRingOptions, type RingHandle, type RingStats } from './ring/app-ring.js';
export { AppEvent, type AppFieldValue } from './ring/app-event.js';
export { RingWriter, type RingWriterOptions, type ClockMode } from './ring/writer.js';
export type { EventSchema, FieldType } from './ring/schema.js';
export type { RingMode } from './layout/ring-control.js';
export { TraceApi, type Span, TRACE_API_SYSTEM, TRACE_API_EVENTS } from './ring/trace-api.js';
