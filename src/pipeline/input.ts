// What sinks read from: a source of SinkInputs. Each sink gets its own
// input (its own cursors), so several sinks can read one file; a live
// capture hands every sink cursors over the same staged pages.

import type { SinkInput } from '../sinks/sink.js';

/** A SinkInput that must be closed. */
export interface OpenedInput extends SinkInput {
  /** Closes this input's cursors. */
  close(): void;
}

/** A source of SinkInputs: a recording, a trace.dat, or a live capture. */
export interface InputSource {
  /** 'recording' (a directory), 'trace.dat', or 'live' (a capture). */
  readonly kind: 'recording' | 'trace.dat' | 'live';
  readonly label: string;
  /** A fresh input with its own cursors. */
  open(): OpenedInput;
  /** Releases what the source holds (decode context, files). */
  close(): void;
}
