// The Perfetto output (see perfetto-sink.ts).
export { PERFETTO_EXTENSIONS, PerfettoSink, type PerfettoSinkOptions, createPerfettoSink, isPerfettoPath } from './perfetto-sink.js';
export { type ClockPlan, checkTraceClock, planClocks, readClockPair } from './clocks.js';
