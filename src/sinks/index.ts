// tracering/sinks: the interface every output format implements, the
// sinks (kernel text and JSON Lines, trace.dat, snapshot directories) and
// the table that picks one for a path.

export { createSink, outputKindOf, registerSink, type OutputKind, type SinkFactory, type SinkOptions } from './factory.js';
export type {
  BufferInput,
  ClockPair,
  CpuCursor,
  CpuEnd,
  EndReason,
  MachineInfo,
  PageRun,
  RingInput,
  SinkEnd,
  SinkInput,
  SinkReport,
  TraceSink,
} from './sink.js';
export { PERFETTO_EXTENSIONS, PerfettoSink, type PerfettoSinkOptions, createPerfettoSink, isPerfettoPath } from './perfetto/index.js';
export { SnapshotSink, type SnapshotSinkOptions } from './snapshot-sink.js';
export { TextFileSink } from './text-file-sink.js';
export { TextSink, type TextSinkOptions } from './text-sink.js';
export { TraceDatSink, type TraceDatSinkOptions } from './tracedat-sink.js';
