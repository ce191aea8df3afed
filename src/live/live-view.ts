// Runs the live view: every interval it polls the feed (the capture's
// counters and the counting sink's counts), updates the model and shows
// the frame: full screen on a terminal (keys, resize), one plain-text frame
// (--once), or one JSON line per interval (--json).
//
// The terminal is restored on every way out: q, Ctrl-C (a key in raw
// mode), the abort signal (SIGINT/SIGTERM through the command scope), an
// exception from the feed, and the process's exit.

import { InvalidArgumentError } from '../errors.js';
import { plainText } from './ansi.js';
import { frameJson } from './frame-json.js';
import { parseKeys } from './keys.js';
import { type GridSize, layoutFrame } from './layout.js';
import { type LiveFrame, LiveModel } from './model.js';
import type { IntervalCounts, LiveSample } from './sample.js';
import { TerminalScreen } from './terminal.js';

export interface LiveTick {
  readonly sample: LiveSample;
  /** What the counting sink saw since the previous poll (TopSink.take()). */
  readonly counts?: IntervalCounts;
}

/** Where the view's figures come from: called once at the start and then once per interval. */
export interface LiveFeed {
  poll(): LiveTick | Promise<LiveTick>;
}

export type LiveOutput = 'screen' | 'once' | 'json';

export interface LiveViewOptions {
  readonly feed: LiveFeed;
  readonly output: LiveOutput;
  /** Refresh interval (`-d SECONDS`); default 1000 ms. */
  readonly intervalMs?: number;
  /** The model to feed (default a new one; pass one with `startMs` to have rates from the first poll). */
  readonly model?: LiveModel;
  readonly stdout?: NodeJS.WriteStream;
  readonly stdin?: NodeJS.ReadStream;
  /** Ends the view (SIGINT/SIGTERM from the command scope). */
  readonly signal?: AbortSignal;
  /** Stop after this long (json and screen); default: until quit or signal. */
  readonly durationMs?: number;
  /** The grid for --once (default the terminal's size, else 80x24). */
  readonly size?: GridSize;
  /** Called after every frame shown (for the capture's progress or tests). */
  readonly onFrame?: (frame: LiveFrame) => void;
}

export type LiveEndReason = 'quit' | 'signal' | 'once' | 'duration' | 'output-closed';

export interface LiveViewEnd {
  readonly reason: LiveEndReason;
  /** Frames shown (screen draws on ticks, JSON lines, or 1 for --once). */
  readonly frames: number;
  readonly frame: LiveFrame;
}

export const MIN_INTERVAL_MS = 100;
export const MAX_INTERVAL_MS = 3_600_000;

/** A sleep that stop() cuts short. */
class Sleeper {
  #timer: NodeJS.Timeout | null = null;
  #wake: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, Math.max(0, ms));
    });
  }

  wake(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#wake?.();
    this.#wake = null;
  }
}

export async function runLiveView(options: LiveViewOptions): Promise<LiveViewEnd> {
  const intervalMs = options.intervalMs ?? 1000;
  if (!Number.isFinite(intervalMs) || intervalMs < MIN_INTERVAL_MS || intervalMs > MAX_INTERVAL_MS) {
    throw new InvalidArgumentError(`refresh interval must be ${MIN_INTERVAL_MS / 1000}..${MAX_INTERVAL_MS / 1000} seconds, got ${intervalMs / 1000}`);
  }
  const stdout = options.stdout ?? process.stdout;
  const model = options.model ?? new LiveModel();
  if (options.output === 'screen' && !stdout.isTTY) {
    throw new InvalidArgumentError('the live view needs a terminal: use --once or --json when output is not one');
  }
  const tick = async () => {
    const t = await options.feed.poll();
    model.update(t.sample, t.counts);
  };
  const sleeper = new Sleeper();
  let stopped: LiveEndReason | null = null;
  const stop = (reason: LiveEndReason) => {
    stopped ??= reason;
    sleeper.wake();
  };
  const onAbort = () => stop('signal');
  if (options.signal?.aborted) stopped = 'signal';
  options.signal?.addEventListener('abort', onAbort);
  const started = performance.now();
  const endAt = options.durationMs === undefined ? Number.POSITIVE_INFINITY : started + options.durationMs;
  try {
    await tick();
    if (options.output === 'once') {
      if (stopped === null) await sleeper.sleep(intervalMs);
      await tick();
      const size = options.size ?? { columns: stdout.isTTY ? stdout.columns || 80 : 80, rows: stdout.isTTY ? stdout.rows || 24 : 24 };
      const frame = model.frame();
      stdout.write(plainText(layoutFrame(frame, size)));
      options.onFrame?.(frame);
      return { reason: 'once', frames: 1, frame };
    }
    const loop: ViewLoop = { options, model, stdout, intervalMs, endAt, tick, sleeper, stopped: () => stopped, stop };
    return await (options.output === 'json' ? runJson(loop) : runScreen(loop));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    sleeper.wake();
  }
}

/** What a refresh loop (JSON lines or the screen) runs with. */
interface ViewLoop {
  readonly options: LiveViewOptions;
  readonly model: LiveModel;
  readonly stdout: NodeJS.WriteStream;
  readonly intervalMs: number;
  readonly endAt: number;
  /** Polls the feed into the model. */
  readonly tick: () => Promise<void>;
  readonly sleeper: Sleeper;
  readonly stopped: () => LiveEndReason | null;
  readonly stop: (r: LiveEndReason) => void;
}

async function runJson(loop: ViewLoop): Promise<LiveViewEnd> {
  const { options, model, stdout, intervalMs, endAt, tick, sleeper, stopped, stop } = loop;
  const onError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') stop('output-closed');
  };
  stdout.on('error', onError);
  let frames = 0;
  let decisionsSince = Number.NEGATIVE_INFINITY;
  let next = performance.now() + intervalMs;
  try {
    for (;;) {
      await sleeper.sleep(Math.min(next, endAt) - performance.now());
      const reason = stopped() ?? (performance.now() >= endAt ? 'duration' : null);
      if (reason === 'output-closed') return { reason, frames, frame: model.frame() };
      await tick();
      const frame = model.frame();
      const tables = { events: model.top('events', 10), tasks: model.top('tasks', 10) };
      stdout.write(`${JSON.stringify(frameJson(frame, decisionsSince, tables))}\n`);
      if (frame.decisions.length > 0) decisionsSince = (frame.decisions.at(-1) as { atMs: number }).atMs;
      frames++;
      options.onFrame?.(frame);
      if (reason !== null) return { reason, frames, frame };
      next = Math.max(next + intervalMs, performance.now());
    }
  } finally {
    stdout.off('error', onError);
  }
}

async function runScreen(loop: ViewLoop): Promise<LiveViewEnd> {
  const { options, model, stdout, intervalMs, endAt, tick, sleeper, stopped, stop } = loop;
  const screen = new TerminalScreen(stdout, options.stdin ?? process.stdin);
  const draw = () => screen.draw(layoutFrame(model.frame(), screen.size));
  let frames = 0;
  try {
    screen.start({
      onInput(chunk) {
        for (const key of parseKeys(chunk)) {
          if (key === 'quit') {
            stop('quit');
            return;
          }
          if (model.help && key !== 'help') {
            model.toggleHelp(); // any key closes the help
            continue;
          }
          if (key === 'pause') model.togglePause();
          else if (key === 'zero') model.zero();
          else if (key === 'sort') model.cycleSort();
          else if (key === 'events') model.showTable('events');
          else if (key === 'tasks') model.showTable('tasks');
          else if (key === 'help') model.toggleHelp();
        }
        draw();
      },
      onResize: draw,
    });
    draw();
    let next = performance.now() + intervalMs;
    for (;;) {
      await sleeper.sleep(Math.min(next, endAt) - performance.now());
      const reason = stopped() ?? (performance.now() >= endAt ? 'duration' : null);
      if (reason !== null) return { reason, frames, frame: model.frame() };
      await tick();
      draw();
      frames++;
      options.onFrame?.(model.frame());
      next = Math.max(next + intervalMs, performance.now());
    }
  } finally {
    screen.restore();
  }
}
