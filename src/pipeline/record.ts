// record(): the library face of `tracering record`. Sets up a trace array
// (a private instance unless one is named), captures it on the capture
// thread, feeds every sink, and puts everything back however it ends:
// normal end, error, abort, or a forced process exit.

import type { BufferAdvice, PolicyDecision } from '../capture/adaptive-policy.js';
import { Capture, type CaptureOptions } from '../capture/capture.js';
import type { StagingPolicy } from '../capture/staging-ring.js';
import { type CpuReaderCounters, newCounters } from '../consumer/counters.js';
import { InvalidArgumentError, type WarningHandler, emitProcessWarning } from '../errors.js';
import { readClockPair } from '../kernel/clock-pair.js';
import { systemsOf } from '../kernel/event-select.js';
import { type EventRequest, TraceSession } from '../kernel/session.js';
import type { ModeChoice } from '../kernel/trace-source.js';
import type { TraceArray } from '../kernel/trace-array.js';
import { Instance, Tracefs } from '../kernel/tracefs.js';
import { AppRing } from '../ring/app-ring.js';
import type { ClockPair, EndReason, SinkEnd, SinkReport, TraceSink } from '../sinks/sink.js';
import { type LiveRing, LiveInput, readAllStats } from './live-input.js';
import { runLive } from './run-live.js';
import { type CommandExit, TracedCommand } from './traced-command.js';

/** What record() captures, and into which sinks. */
export interface RecordOptions {
  /** Where tracefs is (default: found, or mounted as root). */
  tracefs?: string;
  /** Record this instance (created if absent, removed at the end if created); default a private instance. */
  instance?: string;
  /**
   * Consume the top-level buffer instead (only with `drain`: its settings
   * are the system's, and tracering never changes them).
   */
  topLevel?: boolean;
  /** Events, as trace-cmd's -e takes them, each with an optional filter. */
  events?: ReadonlyArray<string | EventRequest>;
  /** Trace only these PIDs. */
  pids?: readonly number[];
  /** Run this command and stop when it exits. */
  command?: readonly string[];
  /** Trace only the command and its children (-F). */
  traceCommandOnly?: boolean;
  bufferKb?: number;
  subbufKb?: number;
  clock?: string;
  cpumask?: string;
  mode?: ModeChoice;
  durationMs?: number;
  signal?: AbortSignal;
  /** Consume what the buffers hold now and stop: no settings are changed, nothing is cleared. */
  drain?: boolean;
  /** Empty the buffers before tracing starts (default true; a stream takes what is there too). */
  clear?: boolean;
  /** Application rings to record beside the kernel's buffers. */
  rings?: readonly string[];
  sinks: readonly TraceSink[];
  staging?: { bytes?: number; policy?: StagingPolicy };
  /** Join partly filled sub-buffers for up to this long before they reach the sinks (files: fewer, fuller pages). Default 0. */
  coalesceMs?: number;
  /** `--mode auto`: the path each CPU starts on (default mmap, lowest latency; files: read(), cheaper at full pages). */
  startPath?: 'mmap' | 'read';
  /** Rounds of pages reach the sinks once this many are staged (or every 100 ms): fewer wake-ups for files. Default 1. */
  roundPages?: number;
  /** Nice steps this thread gives the capture thread once it runs (CaptureOptions.yieldToCapture). Default 0. */
  yieldToCapture?: number;
  kallsyms?: string | null;
  onWarning?: WarningHandler;
  /** Things to tell a person (an adopted instance, a fallback). */
  onNote?: (note: string) => void;
  /** After every round of pages: for progress displays. */
  onProgress?: (progress: RecordProgress) => void;
  /** Once tracing is on and the capture reads: what is being recorded (live views). */
  onStarted?: (info: RecordStarted) => void;
  /** Wall-clock source for progress (tests); default Date.now. */
  now?: () => number;
}

export interface RecordStarted {
  array: TraceArray;
  /** The buffer's name in outputs ('' for a private instance or the top level). */
  bufferName: string;
  clock: string;
  readers: ReadonlyArray<{ cpu: number; mode: string; subbufSize: number }>;
}

/** Progress of a recording, after every round of pages. */
export interface RecordProgress {
  /** Adaptive-capture decisions since the previous report. */
  decisions?: readonly PolicyDecision[];
  elapsedMs: number;
  cpus: ReadonlyArray<{ cpu: number; mode: string; counters: Readonly<CpuReaderCounters>; stagingLost: number }>;
  /** Share of staging memory in use, 0..1. */
  stagingFill: number;
}

/** What a recording did: where, how long, why it ended, counters per CPU, sink reports. */
export interface RecordSummary {
  instance: string;
  /** The instance was created (or adopted) for this recording and removed after. */
  created: boolean;
  mode: string;
  clock: string;
  reason: EndReason;
  elapsedMs: number;
  cpus: Array<{ cpu: number; mode: string; stagingLost: number; stats: string | null } & CpuReaderCounters>;
  total: CpuReaderCounters & { stagingLost: number };
  reports: SinkReport[];
  command: ({ pid: number } & CommandExit) | null;
  /** What `--mode auto` decided, with reasons. */
  decisions: readonly PolicyDecision[];
  /** The buffer size advised for the next start, when this one overflowed or nearly did. */
  advice: BufferAdvice | null;
  notes: string[];
  end: SinkEnd;
}

function sum(cpus: RecordSummary['cpus']): RecordSummary['total'] {
  const total = { ...newCounters(), stagingLost: 0 };
  for (const c of cpus) {
    for (const k of Object.keys(total) as Array<keyof typeof total>) total[k] += c[k];
  }
  return total;
}

/** A clock pair, or null where the clock cannot be read (a counter clock has no `now ts:` in ns). */
function tryClockPair(array: TraceArray): ClockPair | null {
  try {
    return readClockPair(array);
  } catch {
    return null;
  }
}

/** Records a trace array into sinks (a private instance unless one is named), and puts everything back however it ends. */
export async function record(options: RecordOptions): Promise<RecordSummary> {
  const notes: string[] = [];
  const note = (n: string) => {
    notes.push(n);
    options.onNote?.(n);
  };
  const onWarning = options.onWarning ?? emitProcessWarning;
  const now = options.now ?? Date.now;
  const tracefs = Tracefs.locate(options.tracefs === undefined ? {} : { root: options.tracefs });
  for (const r of tracefs.removeAbandonedInstances()) {
    note(r.removed ? `removed instance ${r.name}, left behind by tracering pid ${r.pid} (killed)` : `could not remove instance ${r.name} left by pid ${r.pid}: ${r.error}`);
  }

  // Everything below is undone in reverse order, on every path.
  const undo: Array<() => void> = [];
  let capture: Capture | null = null;
  const cleanup = () => {
    if (capture !== null && !capture.staging.closed) capture.hardStopSync();
    let first: unknown;
    while (undo.length > 0) {
      try {
        undo.pop()!();
      } catch (error) {
        first ??= error;
      }
    }
    if (first !== undefined) throw first;
  };
  // A forced exit (a second Ctrl-C) must still unmap, restore and remove.
  const onExit = () => {
    try {
      cleanup();
    } catch {
      // exiting anyway
    }
  };
  process.once('exit', onExit);

  let command: TracedCommand | null = null;
  try {
    if (options.topLevel && !options.drain) {
      throw new InvalidArgumentError('the top-level buffer can only be drained (record an instance to trace with settings)');
    }
    const array: Instance | TraceArray = options.topLevel
      ? tracefs.topLevel
      : options.instance !== undefined
        ? tracefs.openInstance(options.instance)
        : tracefs.createUniqueInstance('tracering');
    const created = array instanceof Instance && array.created;
    if (array instanceof Instance) undo.push(() => array.release());
    if (array instanceof Instance && array.adoptedFrom !== null) {
      note(`instance ${array.name} was left behind by tracering pid ${array.adoptedFrom.pid} (killed); adopting it, it is removed at the end`);
    }
    const events = (options.events ?? []).map((e) => (typeof e === 'string' ? { event: e } : e));
    if (options.command !== undefined && options.command.length > 0) {
      command = await TracedCommand.spawn(options.command);
      const held = command;
      undo.push(() => held.cancel());
    }
    let session: TraceSession | null = null;
    if (!options.drain) {
      const pids = [...(options.pids ?? [])];
      if (options.traceCommandOnly && command !== null) pids.push(command.pid);
      session = TraceSession.apply(array, {
        events,
        ...(pids.length > 0 ? { pids } : {}),
        followForks: options.traceCommandOnly === true && command !== null,
        ...(options.bufferKb !== undefined ? { bufferKb: options.bufferKb } : {}),
        ...(options.subbufKb !== undefined ? { subbufKb: options.subbufKb } : {}),
        ...(options.clock !== undefined ? { clock: options.clock } : {}),
        ...(options.cpumask !== undefined ? { cpumask: options.cpumask } : {}),
      });
      const s = session;
      // An instance about to be removed needs no restoring.
      undo.push(() => {
        if (!created) s.restore();
      });
    }
    const rings: LiveRing[] = [];
    for (const path of options.rings ?? []) {
      const ring = AppRing.open(path);
      undo.push(() => ring.close());
      const reader = ring.reader({ cpu: 0 });
      undo.push(() => ring.releaseReader());
      rings.push({ ring, reader, path });
    }
    const captureOptions: CaptureOptions = {
      onWarning,
      ...(options.mode !== undefined ? { mode: options.mode } : {}),
      ...(options.staging?.bytes !== undefined ? { stagingBytes: options.staging.bytes } : {}),
      ...(options.staging?.policy !== undefined ? { policy: options.staging.policy } : {}),
      ...(options.coalesceMs !== undefined ? { coalesceMs: options.coalesceMs } : {}),
      ...(options.startPath !== undefined ? { startPath: options.startPath } : {}),
      ...(options.yieldToCapture !== undefined ? { yieldToCapture: options.yieldToCapture } : {}),
    };
    // A drain's figures are from before anything is read (its `trace`
    // header); a recording's from when tracing starts (read by the input).
    const startStats = options.drain ? readAllStats(array, array.cpus()) : undefined;
    capture = await Capture.start(array, captureOptions);
    const running = capture;
    undo.push(() => {
      if (!running.staging.closed) running.hardStopSync();
    });
    const clock = array.traceClock;
    session?.start({ clear: options.clear !== false });
    const started = now();
    const pairs: ClockPair[] = [];
    const pair = tryClockPair(array);
    if (pair !== null) pairs.push(pair);
    const input = new LiveInput(capture, {
      tracefsRoot: tracefs.root,
      // A private instance is this recording's own: outputs show it as the top-level buffer, as trace-cmd record does.
      ...(options.instance === undefined && !options.topLevel ? { bufferName: '' } : {}),
      rings,
      clockPairs: pairs,
      ...(startStats !== undefined ? { startStats } : {}),
      onWarning,
      ...(options.kallsyms !== undefined ? { kallsyms: options.kallsyms } : {}),
      ...(session !== null && session.selectors.length > 0 ? { systems: ['ftrace', ...systemsOf(session.selectors)] } : {}),
    });
    command?.release();
    options.onStarted?.({ array, bufferName: input.bufferName, clock, readers: capture.readers });
    const modes = new Map(capture.readers.map((r) => [r.cpu, r.mode as string]));
    const modeOf = (cpu: number) => {
      const i = running.readers.findIndex((r) => r.cpu === cpu);
      return running.modes[i] ?? modes.get(cpu) ?? '?';
    };
    const result = await runLive(input, options.sinks, {
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      ...(options.durationMs !== undefined ? { durationMs: options.durationMs } : {}),
      ...(command !== null ? { until: command.exited } : options.drain ? { until: Promise.resolve(), untilReason: 'drained' as const } : {}),
      ...(options.roundPages !== undefined ? { roundPages: options.roundPages } : {}),
      beforeStop: () => session?.stopTracing(),
      endClockPairs: () => {
        const p = tryClockPair(array);
        return p === null ? [] : [p];
      },
      ...(options.onProgress !== undefined
        ? {
            afterRound: () =>
              options.onProgress!({
                elapsedMs: now() - started,
                decisions: running.takeDecisions(),
                cpus: running.counters.map((c, q) => ({
                  cpu: c.cpu,
                  mode: modeOf(c.cpu),
                  counters: c.counters,
                  stagingLost: running.staging.dropped(q).events,
                })),
                stagingFill: running.staging.fill(),
              }),
          }
        : {}),
    });
    await capture.close();
    const cpus = result.end.buffers[0]!.cpus.map((c) => ({
      cpu: c.cpu,
      mode: modeOf(c.cpu),
      stagingLost: c.stagingLost,
      stats: c.stats,
      ...c.counters,
    }));
    const exit = command !== null ? await command.exited : null;
    if (exit !== null && exit.code === 127) note(`the command ${JSON.stringify(command!.argv[0])} could not be run (exit status 127: not found?)`);
    return {
      instance: array.name ?? '',
      created,
      mode: options.mode === 'auto' || options.mode === undefined ? `auto (${[...new Set(running.modes)].join('+') || 'none'})` : [...new Set(running.modes)].join('+') || 'none',
      clock,
      reason: result.reason,
      elapsedMs: now() - started,
      cpus,
      total: sum(cpus),
      reports: result.reports,
      command: exit === null ? null : { pid: command!.pid, ...exit },
      decisions: [...running.decisions],
      advice: running.advice,
      notes,
      end: result.end,
    };
  } finally {
    process.off('exit', onExit);
    cleanup();
  }
}
