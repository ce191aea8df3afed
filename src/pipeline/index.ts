// tracering/pipeline: what connects inputs (a live capture, a recording, a
// trace.dat) to sinks: record(), the live and file runs, input opening.

export type { InputSource, OpenedInput } from './input.js';
export { LiveInput, type LiveInputOptions, type LiveRing } from './live-input.js';
export { openInput, type InputOptions } from './open-input.js';
export { record, type RecordOptions, type RecordProgress, type RecordSummary } from './record.js';
export { runFileSinks } from './run-file.js';
export { runLive, type LiveResult, type LiveRunOptions } from './run-live.js';
export { TracedCommand, type CommandExit } from './traced-command.js';
