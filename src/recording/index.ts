// tracering/recording: reading recording directories (tracefs-like
// captures); writing them is tracering/pipeline's writeSnapshot().

export { Recording, FileCpuReader, type RecordingMeta } from './recording.js';
