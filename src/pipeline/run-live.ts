// Sinks over a live capture: rounds of staged pages go to every sink until
// the capture is told to stop (duration, signal, the traced command exits)
// and has drained everything; then each sink closes with the final
// counters. Reading never waits for the sinks (the capture thread reads);
// sinks wait for their outputs.

import type { CpuCounters } from '../capture/protocol.js';
import { newCounters } from '../consumer/counters.js';
import type { CpuEnd, EndReason, SinkEnd, SinkReport, TraceSink } from '../sinks/sink.js';
import type { OpenedInput } from './input.js';
import type { LiveInput } from './live-input.js';

/** When a live run stops, and hooks around it. */
export interface LiveRunOptions {
  signal?: AbortSignal;
  durationMs?: number;
  /** Stop when this settles (the traced command exited). */
  until?: Promise<unknown>;
  /** The end reason `until` stands for (default 'command-exited'). */
  untilReason?: EndReason;
  /** Called once when stopping begins, before the final drain (stop tracing here). */
  beforeStop?: (reason: EndReason) => void;
  /** Called after every round (progress lines, live views). */
  afterRound?: () => void;
  /** Clock readings at the end, for SinkEnd. */
  endClockPairs?: () => SinkEnd['clockPairs'];
  /** Rounds are taken at least this often when data trickles (default 100 ms). */
  flushIntervalMs?: number;
  /** A round waits for this many staged pages (or flushIntervalMs): fewer, larger rounds for files. Default 1. */
  roundPages?: number;
}

/** How a live run ended, and the sinks' reports. */
export interface LiveResult {
  reason: EndReason;
  end: SinkEnd;
  reports: SinkReport[];
}

/** Runs sinks over a live capture until it is told to stop and has drained. */
export async function runLive(input: LiveInput, sinks: readonly TraceSink[], options: LiveRunOptions = {}): Promise<LiveResult> {
  const capture = input.capture;
  const opened: OpenedInput[] = [];
  let reason: EndReason | null = null;
  let wake: (() => void) | null = null;
  const stop = (why: EndReason) => {
    if (reason !== null) return;
    reason = why;
    try {
      options.beforeStop?.(why);
    } finally {
      capture.stop();
      wake?.();
    }
  };
  const onAbort = () => stop('signal');
  const timer = options.durationMs === undefined ? null : setTimeout(() => stop('duration'), options.durationMs);
  let failure: unknown = null;
  let finished: CpuCounters[] | null = null;
  capture.done.then(
    (cpus) => {
      finished = cpus;
      wake?.();
    },
    (error) => {
      failure = error;
      wake?.();
    },
  );
  try {
    for (const sink of sinks) {
      const i = input.open();
      opened.push(i);
      await sink.open(i);
    }
    if (options.signal?.aborted) stop('signal');
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    options.until?.then(
      () => stop(options.untilReason ?? 'command-exited'),
      () => stop(options.untilReason ?? 'command-exited'),
    );
    const staging = capture.staging;
    const flushMs = options.flushIntervalMs ?? 100;
    const roundPages = options.roundPages ?? 1;
    for (;;) {
      if (failure !== null) throw failure;
      const seen = staging.publishedSeq;
      const doneBefore = finished !== null;
      const pages = input.takeRound();
      if (pages > 0) {
        for (const sink of sinks) await sink.consume();
        input.releaseRound();
        options.afterRound?.();
        continue;
      }
      input.releaseRound();
      // Everything published before the capture finished has been taken.
      if (doneBefore) {
        if (input.takeTrailingLosses() > 0) for (const sink of sinks) await sink.consume();
        input.releaseRound();
        break;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        staging.waitForData(seen, reason !== null ? 20 : flushMs, reason !== null ? 1 : roundPages).then(resolve, resolve);
      });
      wake = null;
      if (options.afterRound !== undefined && pages === 0) options.afterRound();
    }
    const end = endOf(input, reason ?? 'drained', finished ?? [], options.endClockPairs?.() ?? []);
    const reports: SinkReport[] = [];
    for (const sink of sinks) reports.push(await sink.close(end));
    return { reason: end.reason, end, reports };
  } catch (error) {
    for (const sink of sinks) {
      try {
        await sink.abort(error);
      } catch {
        // the first error is the one to report
      }
    }
    throw error;
  } finally {
    if (timer !== null) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    for (const i of opened) i.close();
  }
}

function endOf(input: LiveInput, reason: EndReason, counters: readonly CpuCounters[], clockPairs: SinkEnd['clockPairs']): SinkEnd {
  const capture = input.capture;
  const cpus = capture.readers.map((r, q): CpuEnd => {
    let stats: string | null = null;
    try {
      stats = capture.array.readText(`per_cpu/cpu${r.cpu}/stats`);
    } catch {
      // instance going away
    }
    return {
      cpu: r.cpu,
      stats,
      counters: counters.find((c) => c.cpu === r.cpu)?.counters ?? newCounters(),
      stagingLost: capture.staging.dropped(q).events,
    };
  });
  return {
    reason,
    buffers: [{ name: input.bufferName, cpus }],
    rings: input.rings.map((r) => ({ name: r.ring.name, events: r.reader.counters.events, lost: r.reader.counters.lost })),
    clockPairs,
  };
}
