// A recording shown in the live view (`tracering top`, `record --live`):
// the counting sink rides along with the recording's other sinks, the view
// polls the capture every interval, and whichever ends first ends both
// (q in the view stops the recording; the recording's end stops the view).

import type { RecordOptions, RecordSummary } from '../pipeline/record.js';
import { record } from '../pipeline/record.js';
import { CaptureFeed } from '../live/capture-feed.js';
import { type LiveOutput, type LiveViewEnd, runLiveView } from '../live/live-view.js';
import { TopSink } from '../live/top-sink.js';

export interface LiveSessionOptions {
  output: LiveOutput;
  intervalMs?: number;
  signal: AbortSignal;
  durationMs?: number;
}

export async function recordLive(
  options: Omit<RecordOptions, 'signal' | 'durationMs' | 'onStarted'>,
  live: LiveSessionOptions,
): Promise<{ summary: RecordSummary; view: LiveViewEnd }> {
  const top = new TopSink();
  const feed = new CaptureFeed(top);
  const stopRecording = new AbortController();
  const viewDone = new AbortController();
  const recording = record({
    ...options,
    sinks: [...options.sinks, top],
    signal: stopRecording.signal,
    onStarted: (info) => feed.started(info),
    onProgress: (p) => {
      feed.progress(p);
      options.onProgress?.(p);
    },
  }).finally(() => viewDone.abort());
  recording.catch((error) => feed.fail(error));
  // The view ends on q, a signal, its duration, or the recording's end.
  const signal = AbortSignal.any([live.signal, viewDone.signal]);
  let view: LiveViewEnd;
  try {
    view = await runLiveView({
      feed,
      output: live.output,
      signal,
      ...(live.intervalMs !== undefined ? { intervalMs: live.intervalMs } : {}),
      ...(live.durationMs !== undefined ? { durationMs: live.durationMs } : {}),
    });
  } finally {
    stopRecording.abort();
  }
  return { summary: await recording, view };
}
