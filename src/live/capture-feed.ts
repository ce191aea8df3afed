// The live view's feed from a running recording: each poll reads every
// CPU's stats file (the kernel's overrun, dropped events, and the bytes
// waiting: the ring's fill) beside the capture thread's counters, and what
// the counting sink saw since the last poll.

import type { PolicyDecision } from '../capture/adaptive-policy.js';
import { parseCpuStats } from '../kernel/cpu-stats.js';
import type { TraceArray } from '../kernel/trace-array.js';
import type { RecordProgress, RecordStarted } from '../pipeline/record.js';
import type { LiveFeed, LiveTick } from './live-view.js';
import type { CpuSample, LiveSample, RingSample } from './sample.js';
import { SelfCpuMeter } from './self-cpu.js';
import type { TopSink } from './top-sink.js';

export class CaptureFeed implements LiveFeed {
  readonly #top: TopSink;
  readonly #self = new SelfCpuMeter();
  #started: RecordStarted | null = null;
  #progress: RecordProgress | null = null;
  #decisions: PolicyDecision[] = [];
  #waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  #failure: unknown = null;
  #bufferKb = new Map<number, number>();

  constructor(top: TopSink) {
    this.#top = top;
  }

  /** The recording has started (record's onStarted). */
  started(info: RecordStarted): void {
    this.#started = info;
    for (const r of info.readers) this.#bufferKb.set(r.cpu, readBufferKb(info.array, r.cpu));
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve();
  }

  /** The recording failed before or while running: polls reject with its error. */
  fail(error: unknown): void {
    this.#failure = error;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(error);
  }

  /** The latest counters (record's onProgress). */
  progress(p: RecordProgress): void {
    this.#progress = p;
    if (p.decisions !== undefined) this.#decisions.push(...p.decisions);
  }

  async poll(): Promise<LiveTick> {
    if (this.#failure !== null) throw this.#failure;
    if (this.#started === null) await new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    const info = this.#started!;
    const progress = this.#progress;
    const cpus: CpuSample[] = info.readers.map((r) => {
      const mine = progress?.cpus.find((c) => c.cpu === r.cpu);
      let lost = mine?.counters.lost ?? 0;
      let dropped = 0;
      let fill = 0;
      const bufferKb = this.#bufferKb.get(r.cpu) ?? 0;
      try {
        const stats = parseCpuStats(info.array.readText(`per_cpu/cpu${r.cpu}/stats`));
        // The kernel's own counters: what it overwrote and what it refused.
        lost = Math.max(lost, stats.overrun);
        dropped = stats.droppedEvents;
        fill = bufferKb > 0 ? Math.min(100, (stats.bytes / (bufferKb * 1024)) * 100) : 0;
      } catch {
        // the instance is going away
      }
      return {
        cpu: r.cpu,
        mode: (mine?.mode ?? r.mode) === 'read' ? 'read' : 'mmap',
        events: mine?.counters.events ?? 0,
        bytes: mine?.counters.bytes ?? 0,
        lost: lost + (mine?.stagingLost ?? 0),
        dropped,
        fillPercent: fill,
        subbufSize: r.subbufSize,
        bufferKb,
      };
    });
    const rings: RingSample[] = this.#top.tallies
      .filter((t) => t.ring !== null)
      .map((t) => ({ name: t.ring!, events: t.events, bytes: t.bytes, lost: t.lost, dropped: 0, fillPercent: 0 }));
    const sample: LiveSample = {
      atMs: performance.now(),
      clock: info.clock,
      buffer: info.bufferName,
      cpus,
      rings,
      selfCpuPercent: this.#self.read(),
      decisions: this.#decisions.splice(0),
    };
    return { sample, counts: this.#top.take() };
  }
}

function readBufferKb(array: TraceArray, cpu: number): number {
  try {
    return Number.parseInt(array.readText(`per_cpu/cpu${cpu}/buffer_size_kb`), 10) || 0;
  } catch {
    return 0;
  }
}
