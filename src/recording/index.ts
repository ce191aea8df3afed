// tracering/recording: snapshots (tracefs-like directories) and reading
// them back.

export { Recording, FileCpuReader, type RecordingMeta } from './recording.js';
export { writeSnapshot, type SnapshotOptions, type SnapshotSummary } from './snapshot.js';
