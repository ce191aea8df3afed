// The adaptive capture policy (`--mode auto`): from measured rates, per CPU,
// which path reads the buffer (mmap or read()), and for the buffer the
// wake-up watermark (buffer_percent) and how often to look below it (the
// flush interval); when the fill level says loss is coming, act on it.
//
// Pure and deterministic: time and counters come in with the samples, and
// every change comes out as a decision record with its reason (for the
// progress line, the live view and the summary). Nothing here touches the
// kernel; the capture applies what it is told.
//
// Why these rules (calibrated on Linux 6.18 with `tracering drain`; see
// DEFAULT_POLICY):
// - At full pages read() is the cheaper path: GET_READER walks every event
//   of the page to keep the meta page's `read` counter, read() swaps the
//   page out and copies it. mmap wins at low rates: no copy, and the reader
//   sees events on the page the writer is still filling (lowest latency).
//   So a CPU moves to read() when its rate stays high and back to mmap when
//   it stays low, with a gap between the two thresholds and a minimum time
//   between switches so a rate near a threshold does not flap.
// - buffer_percent is one value for the whole buffer: the busiest CPU sets
//   it, low enough that a wake-up comes while that CPU's ring still has
//   room for the time a consumer may take to respond, high enough that a
//   wake-up carries many events.
// - Below the watermark nothing wakes the reader: the flush interval bounds
//   how long data waits (latency at low rates) and shrinks as the ring
//   fills (read more often when loss is coming).
// - A mapped buffer cannot be resized; a ring that overflows anyway gets a
//   buffer size for the next start, from the peak rate seen.

export type CapturePath = 'mmap' | 'read';

export interface PolicyConfig {
  /** A CPU on mmap moves to read() once its rate has stayed above this (events/s) for `switchAfterMs`. */
  readAboveEventsPerSec: number;
  /** A CPU on read() moves back to mmap once its rate has stayed below this for `returnAfterMs`. */
  mmapBelowEventsPerSec: number;
  switchAfterMs: number;
  returnAfterMs: number;
  /** No CPU switches path twice within this long. */
  minDwellMs: number;
  /** Fill at or above which the policy reads more often and lowers the watermark. */
  fillWarnPercent: number;
  /** Fill at or above which loss is near: switch to the cheaper path at once, read as often as allowed. */
  fillDangerPercent: number;
  /** How long a consumer may take to respond to a wake-up: the watermark leaves room for this much data. */
  reactionMs: number;
  /** A wake-up should carry about this much data (fewer wake-ups at high rates). */
  wakeEveryMs: number;
  minBufferPercent: number;
  maxBufferPercent: number;
  /** Flush interval bounds: the shortest, and the longest (the latency bound at low rates). */
  minFlushMs: number;
  maxFlushMs: number;
  /** Smoothing time constant of the rate the path decision uses. */
  smoothingMs: number;
  /** The buffer size advised for the next start holds this long at the peak rate. */
  adviseHoldMs: number;
  /** Changes of buffer_percent smaller than this (points) are not worth a decision. */
  watermarkStep: number;
}

/**
 * Calibrated on this kernel (2 CPUs, 4 KiB sub-buffers, 28-byte marker
 * records; figures in the issue 9 report): read() costs less CPU per event
 * than mmap from a few thousand events/s up, about 2x less at full pages;
 * below that both cost the same idle wake-ups and mmap's latency wins.
 */
export const DEFAULT_POLICY: Readonly<PolicyConfig> = Object.freeze({
  readAboveEventsPerSec: 50_000,
  mmapBelowEventsPerSec: 10_000,
  switchAfterMs: 3_000,
  returnAfterMs: 10_000,
  minDwellMs: 15_000,
  fillWarnPercent: 50,
  fillDangerPercent: 80,
  reactionMs: 200,
  wakeEveryMs: 100,
  minBufferPercent: 1,
  maxBufferPercent: 50,
  minFlushMs: 10,
  maxFlushMs: 250,
  smoothingMs: 2_000,
  adviseHoldMs: 1_000,
  watermarkStep: 5,
});

/** What the capture knows about one CPU buffer when it starts. */
export interface CpuSetup {
  readonly cpu: number;
  /** Sub-buffer size in bytes. */
  readonly subbufSize: number;
  /** Sub-buffers in this CPU's ring. */
  readonly subbufs: number;
  /** The path it starts on. */
  readonly path: CapturePath;
}

export interface PolicySetup {
  readonly cpus: readonly CpuSetup[];
  /** False where the kernel cannot map the buffer (< 6.10): read() only, nothing to decide. */
  readonly mmapAvailable: boolean;
  /** buffer_percent when the capture starts. */
  readonly bufferPercent: number;
  readonly startMs: number;
  readonly config?: Partial<PolicyConfig>;
}

/** Cumulative counters of one CPU at one instant (as the capture reads them). */
export interface RateSample {
  readonly cpu: number;
  readonly events: number;
  readonly bytes: number;
  /** 0..100: written and unread sub-buffers over all. */
  readonly fillPercent: number;
  /** Reader wake-ups so far. */
  readonly wakeups: number;
  /** Events lost (overwritten) and dropped (refused) so far. */
  readonly lost: number;
  readonly dropped: number;
}

export type DecisionKind = 'path' | 'watermark' | 'flush' | 'buffer-advice';

/** One change the policy made, and why. */
export interface PolicyDecision {
  readonly atMs: number;
  /** The CPU, or -1 for the whole buffer (buffer_percent). */
  readonly cpu: number;
  readonly kind: DecisionKind;
  /** 'path': 'mmap'/'read'; 'watermark': buffer_percent; 'flush': ms; 'buffer-advice': buffer_size_kb. */
  readonly from: CapturePath | number;
  readonly to: CapturePath | number;
  /** A sentence a person can read: what was seen, what was done. */
  readonly reason: string;
}

/** What the capture should run with now. */
export interface CaptureSettings {
  readonly bufferPercent: number;
  readonly cpus: ReadonlyArray<{ readonly cpu: number; readonly path: CapturePath; readonly flushMs: number }>;
}

/** Buffer size for the next start, when this one overflowed or nearly did. */
export interface BufferAdvice {
  /** buffer_size_kb to use (per CPU). */
  readonly bufferKb: number;
  readonly reason: string;
}

interface CpuState {
  readonly setup: CpuSetup;
  path: CapturePath;
  flushMs: number;
  lastSwitchMs: number;
  /** Since when the smoothed rate has been above the read threshold / below the mmap threshold (NaN: not). */
  highSinceMs: number;
  lowSinceMs: number;
  smoothedRate: number;
  /** Rates of the last interval. */
  rate: number;
  byteRate: number;
  peakByteRate: number;
  last: RateSample | null;
  lastMs: number;
  adviceKb: number;
}

/** A counter's growth; a counter that went backwards (buffer reset) restarted from 0. */
function growth(now: number, before: number): number {
  return now >= before ? now - before : now;
}

function fmtRate(r: number): string {
  if (r >= 1e6) return `${(r / 1e6).toFixed(2)}M`;
  if (r >= 1e4) return `${Math.round(r / 1e3)}k`;
  if (r >= 1e3) return `${(r / 1e3).toFixed(1)}k`;
  return String(Math.round(r));
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** The smallest power of two >= kb, at least `floor` (buffer sizes the kernel rounds to sub-buffers anyway). */
function roundUpKb(kb: number, floor: number): number {
  let v = Math.max(1, floor);
  while (v < kb) v *= 2;
  return v;
}

export class AdaptivePolicy {
  readonly config: Readonly<PolicyConfig>;
  readonly #mmapAvailable: boolean;
  readonly #cpus = new Map<number, CpuState>();
  #bufferPercent: number;
  readonly #log: PolicyDecision[] = [];

  constructor(setup: PolicySetup) {
    this.config = Object.freeze({ ...DEFAULT_POLICY, ...setup.config });
    const c = this.config;
    if (!(c.mmapBelowEventsPerSec < c.readAboveEventsPerSec)) {
      throw new RangeError('adaptive policy: mmapBelowEventsPerSec must be below readAboveEventsPerSec (the gap is the hysteresis)');
    }
    this.#mmapAvailable = setup.mmapAvailable;
    this.#bufferPercent = setup.bufferPercent;
    for (const cpu of setup.cpus) {
      this.#cpus.set(cpu.cpu, {
        setup: cpu,
        path: setup.mmapAvailable ? cpu.path : 'read',
        flushMs: c.maxFlushMs,
        lastSwitchMs: Number.NEGATIVE_INFINITY,
        highSinceMs: Number.NaN,
        lowSinceMs: Number.NaN,
        smoothedRate: 0,
        rate: 0,
        byteRate: 0,
        peakByteRate: 0,
        last: null,
        lastMs: setup.startMs,
        adviceKb: 0,
      });
    }
  }

  /** What to run with now. */
  settings(): CaptureSettings {
    return {
      bufferPercent: this.#bufferPercent,
      cpus: [...this.#cpus.values()].map((s) => ({ cpu: s.setup.cpu, path: s.path, flushMs: s.flushMs })),
    };
  }

  /** Every decision so far, oldest first (for the summary). */
  get decisions(): readonly PolicyDecision[] {
    return this.#log;
  }

  /** The buffer size for the next start, if this capture overflowed or came near it. */
  advice(): BufferAdvice | null {
    let best: CpuState | null = null;
    for (const s of this.#cpus.values()) if (s.adviceKb > 0 && (best === null || s.adviceKb > best.adviceKb)) best = s;
    if (best === null) return null;
    return {
      bufferKb: best.adviceKb,
      reason: `CPU ${best.setup.cpu} peaked at ${(best.peakByteRate / 1e6).toFixed(1)} MB/s; ${best.adviceKb} KiB per CPU holds ${this.config.adviseHoldMs} ms of that`,
    };
  }

  /**
   * Takes one sample of every CPU's counters at `atMs` and returns the
   * decisions taken (already applied to settings()).
   */
  observe(atMs: number, samples: readonly RateSample[]): PolicyDecision[] {
    const out: PolicyDecision[] = [];
    const demands: number[] = [];
    for (const sample of samples) {
      const s = this.#cpus.get(sample.cpu);
      if (s === undefined) continue;
      this.#measure(s, atMs, sample);
      if (s.last === null) continue;
      this.#decidePath(s, atMs, sample, out);
      this.#decideFlush(s, atMs, sample, out);
      this.#decideAdvice(s, atMs, sample, out);
      demands.push(this.#watermarkFor(s, sample));
    }
    if (demands.length > 0) this.#decideWatermark(atMs, Math.min(...demands), samples, out);
    for (const sample of samples) {
      const s = this.#cpus.get(sample.cpu);
      if (s !== undefined) {
        s.last = sample;
        s.lastMs = atMs;
      }
    }
    for (const d of out) this.#log.push(d);
    return out;
  }

  #measure(s: CpuState, atMs: number, sample: RateSample): void {
    const prev = s.last;
    const dt = atMs - s.lastMs;
    if (prev === null || dt <= 0) return;
    s.rate = (growth(sample.events, prev.events) * 1000) / dt;
    s.byteRate = (growth(sample.bytes, prev.bytes) * 1000) / dt;
    if (s.byteRate > s.peakByteRate) s.peakByteRate = s.byteRate;
    // Exponential smoothing with a time constant, so irregular sample intervals weigh right.
    const alpha = 1 - Math.exp(-dt / this.config.smoothingMs);
    s.smoothedRate += alpha * (s.rate - s.smoothedRate);
  }

  #switch(s: CpuState, atMs: number, to: CapturePath, reason: string, out: PolicyDecision[]): void {
    out.push({ atMs, cpu: s.setup.cpu, kind: 'path', from: s.path, to, reason });
    s.path = to;
    s.lastSwitchMs = atMs;
    s.highSinceMs = Number.NaN;
    s.lowSinceMs = Number.NaN;
  }

  #decidePath(s: CpuState, atMs: number, sample: RateSample, out: PolicyDecision[]): void {
    if (!this.#mmapAvailable) return;
    const c = this.config;
    const r = s.smoothedRate;
    s.highSinceMs = r > c.readAboveEventsPerSec ? (Number.isNaN(s.highSinceMs) ? atMs : s.highSinceMs) : Number.NaN;
    s.lowSinceMs = r < c.mmapBelowEventsPerSec ? (Number.isNaN(s.lowSinceMs) ? atMs : s.lowSinceMs) : Number.NaN;
    const dwelt = atMs - s.lastSwitchMs >= c.minDwellMs;
    if (s.path === 'mmap') {
      if (sample.fillPercent >= c.fillDangerPercent) {
        // Loss is near: the cheaper path now, whatever the dwell.
        this.#switch(s, atMs, 'read', `ring ${Math.round(sample.fillPercent)}% full at ${fmtRate(s.rate)} events/s: read() drains full pages for less CPU`, out);
      } else if (dwelt && !Number.isNaN(s.highSinceMs) && atMs - s.highSinceMs >= c.switchAfterMs) {
        this.#switch(
          s,
          atMs,
          'read',
          `${fmtRate(r)} events/s for ${((atMs - s.highSinceMs) / 1000).toFixed(0)} s (above ${fmtRate(c.readAboveEventsPerSec)}): read() costs less per event at full pages`,
          out,
        );
      }
    } else if (dwelt && sample.fillPercent < c.fillWarnPercent && !Number.isNaN(s.lowSinceMs) && atMs - s.lowSinceMs >= c.returnAfterMs) {
      this.#switch(
        s,
        atMs,
        'mmap',
        `${fmtRate(r)} events/s for ${((atMs - s.lowSinceMs) / 1000).toFixed(0)} s (below ${fmtRate(c.mmapBelowEventsPerSec)}): mmap for the lowest latency`,
        out,
      );
    }
  }

  /** Ring capacity of a CPU in data bytes. */
  #capacity(s: CpuState): number {
    return s.setup.subbufs * (s.setup.subbufSize - 16);
  }

  #decideFlush(s: CpuState, atMs: number, sample: RateSample, out: PolicyDecision[]): void {
    const c = this.config;
    // Time until the ring is full at the current rate; look four times within it.
    const room = (this.#capacity(s) * (100 - sample.fillPercent)) / 100;
    const untilFull = s.byteRate > 0 ? (room / s.byteRate) * 1000 : Number.POSITIVE_INFINITY;
    let target = clamp(untilFull / 4, c.minFlushMs, c.maxFlushMs);
    if (sample.fillPercent >= c.fillDangerPercent) target = c.minFlushMs;
    else if (sample.fillPercent >= c.fillWarnPercent) target = Math.min(target, Math.max(c.minFlushMs, c.maxFlushMs / 4));
    // Powers of two between the bounds: small rate wobbles do not change it.
    let flush = c.minFlushMs;
    while (flush * 2 <= target) flush *= 2;
    if (flush === s.flushMs) return;
    const why =
      sample.fillPercent >= c.fillWarnPercent
        ? `ring ${Math.round(sample.fillPercent)}% full: read more often`
        : Number.isFinite(untilFull)
          ? `at ${fmtRate(s.rate)} events/s the ring fills in ${Math.round(untilFull)} ms`
          : 'no data: the latency bound';
    out.push({ atMs, cpu: s.setup.cpu, kind: 'flush', from: s.flushMs, to: flush, reason: why });
    s.flushMs = flush;
  }

  /** The buffer_percent this CPU asks for. */
  #watermarkFor(s: CpuState, sample: RateSample): number {
    const c = this.config;
    if (sample.fillPercent >= c.fillWarnPercent) return c.minBufferPercent;
    const capacity = this.#capacity(s);
    // A wake-up every wakeEveryMs of data, but early enough that the rest of the ring holds reactionMs more.
    const wake = (100 * s.byteRate * c.wakeEveryMs) / 1000 / capacity;
    const headroom = 100 - (100 * s.byteRate * c.reactionMs) / 1000 / capacity;
    return Math.floor(clamp(Math.min(wake, headroom), c.minBufferPercent, c.maxBufferPercent));
  }

  #decideWatermark(atMs: number, demand: number, samples: readonly RateSample[], out: PolicyDecision[]): void {
    const c = this.config;
    const urgent = demand === c.minBufferPercent && samples.some((x) => x.fillPercent >= c.fillWarnPercent);
    if (demand === this.#bufferPercent || (!urgent && Math.abs(demand - this.#bufferPercent) < c.watermarkStep)) return;
    const busiest = [...this.#cpus.values()].reduce((a, b) => (b.byteRate > a.byteRate ? b : a));
    const reason = urgent
      ? 'a ring is filling: wake the reader at the first full sub-buffer'
      : `CPU ${busiest.setup.cpu} at ${(busiest.byteRate / 1e6).toFixed(2)} MB/s: wake every ~${c.wakeEveryMs} ms of data with ${c.reactionMs} ms of room left`;
    out.push({ atMs, cpu: -1, kind: 'watermark', from: this.#bufferPercent, to: demand, reason });
    this.#bufferPercent = demand;
  }

  #decideAdvice(s: CpuState, atMs: number, sample: RateSample, out: PolicyDecision[]): void {
    const c = this.config;
    const prev = s.last as RateSample;
    const lostNow = growth(sample.lost, prev.lost) + growth(sample.dropped, prev.dropped);
    if (lostNow === 0 && sample.fillPercent < c.fillDangerPercent) return;
    const currentKb = Math.ceil((s.setup.subbufs * s.setup.subbufSize) / 1024);
    const needKb = roundUpKb((s.peakByteRate * c.adviseHoldMs) / 1000 / 1024, currentKb * 2);
    if (needKb <= s.adviceKb) return;
    const what = lostNow > 0 ? `${lostNow} events lost` : `ring ${Math.round(sample.fillPercent)}% full`;
    out.push({
      atMs,
      cpu: s.setup.cpu,
      kind: 'buffer-advice',
      from: s.adviceKb > 0 ? s.adviceKb : currentKb,
      to: needKb,
      reason: `${what} at ${(s.byteRate / 1e6).toFixed(1)} MB/s: start next time with buffer_size_kb ${needKb} (a mapped buffer cannot be resized now)`,
    });
    s.adviceKb = needKb;
  }
}
