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
//   room for the time a consumer may take to respond; otherwise as high as
//   allowed (fewer wake-ups, each carrying more).
// - Settings go down at once when the rate calls for it and back up only
//   after the rate has left room for a while (Ratchet): no flapping.
// - Below the watermark nothing wakes the reader: the flush interval bounds
//   how long data waits (latency at low rates) and shrinks as the ring
//   fills (read more often when loss is coming).
// - A mapped buffer cannot be resized; a ring that overflows anyway gets a
//   buffer size for the next start, from the peak rate seen.

import { InvalidArgumentError } from '../errors.js';

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
  minBufferPercent: number;
  maxBufferPercent: number;
  /** Flush interval bounds: the shortest, and the longest (the latency bound at low rates). */
  minFlushMs: number;
  maxFlushMs: number;
  /** Smoothing time constant of the rate the path decision uses. */
  smoothingMs: number;
  /** The buffer size advised for the next start holds this long at the peak rate. */
  adviseHoldMs: number;
  /** The values buffer_percent takes (ascending): a small rate wobble does not move it. */
  watermarkLadder: readonly number[];
  /** The watermark and the flush interval go down at once (safety) but up only after the demand has held this long. */
  raiseAfterMs: number;
  /**
   * More wake-ups per second than this on a CPU, carrying fewer than
   * `minEventsPerWakeup` events each, means the reader wakes for nothing
   * (or feeds itself: its own syscalls traced): the watermark goes up a rung at once.
   */
  maxWakeupsPerSec: number;
  minEventsPerWakeup: number;
}

/**
 * Calibrated on Linux 6.18 (2 CPUs, 4 KiB sub-buffers, 16 MiB per CPU,
 * 28-byte marker records from a paced writer on the other CPU; CPU time of
 * `tracering drain --mode M --duration 5` above its idle run, median of 3):
 * mmap / read() cost 109 / 66 ns per event at 100k events/s, 76 / 39 at
 * 300k, 60 / 26 at 1M (system time alone 38 / 10.5: GET_READER's walk of
 * every event); at 20k the two are within the noise of the idle wake-ups.
 * mmap's extra cost is ~0.4% of a core at 100k events/s and ~3.4% at 1M:
 * above 100k read() pays; below 20k mmap's latency is worth its cost.
 */
/** Fill beyond the watermark a wake-up's latency may add (see #filling). */
const WAKE_SLACK_PERCENT = 10;

export const DEFAULT_POLICY: Readonly<PolicyConfig> = Object.freeze({
  readAboveEventsPerSec: 100_000,
  mmapBelowEventsPerSec: 20_000,
  switchAfterMs: 3_000,
  returnAfterMs: 10_000,
  minDwellMs: 15_000,
  fillWarnPercent: 50,
  fillDangerPercent: 80,
  reactionMs: 200,
  minBufferPercent: 1,
  maxBufferPercent: 50,
  minFlushMs: 10,
  maxFlushMs: 250,
  smoothingMs: 2_000,
  adviseHoldMs: 1_000,
  watermarkLadder: Object.freeze([1, 2, 5, 10, 20, 35, 50]),
  raiseAfterMs: 30_000,
  maxWakeupsPerSec: 1000,
  minEventsPerWakeup: 16,
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
  readonly flush: Ratchet;
  lastSwitchMs: number;
  /** Since when the smoothed rate has been above the read threshold / below the mmap threshold (NaN: not). */
  highSinceMs: number;
  lowSinceMs: number;
  /** Rates of the last interval, and smoothed. */
  rate: number;
  wakeRate: number;
  byteRate: number;
  smoothedRate: number;
  smoothedByteRate: number;
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

/**
 * A setting that goes down at once (safety) and up only after a higher
 * target has held for a while, then to the lowest target seen meanwhile:
 * a rate that keeps spiking keeps it where the spikes need it.
 */
class Ratchet {
  value: number;
  #since = Number.NaN;
  #floor = Number.POSITIVE_INFINITY;

  constructor(value: number) {
    this.value = value;
  }

  /** The new value if it changed, else null. */
  offer(atMs: number, target: number, holdMs: number): number | null {
    if (target < this.value) {
      this.value = target;
      this.#since = Number.NaN;
      return target;
    }
    if (target === this.value) {
      this.#since = Number.NaN;
      return null;
    }
    if (Number.isNaN(this.#since)) {
      this.#since = atMs;
      this.#floor = target;
    } else {
      this.#floor = Math.min(this.#floor, target);
    }
    if (atMs - this.#since < holdMs) return null;
    this.value = this.#floor;
    this.#since = Number.NaN;
    return this.value;
  }

  /** Sets the value now (a reason stronger than the rate). */
  force(value: number): void {
    this.value = value;
    this.#since = Number.NaN;
  }
}

export class AdaptivePolicy {
  readonly config: Readonly<PolicyConfig>;
  readonly #mmapAvailable: boolean;
  readonly #cpus = new Map<number, CpuState>();
  readonly #watermark: Ratchet;
  readonly #log: PolicyDecision[] = [];
  /** The last #watermarkFor() answer came from the flush-interval floor, not from reactionMs. */
  #floored = false;

  constructor(setup: PolicySetup) {
    this.config = Object.freeze({ ...DEFAULT_POLICY, ...setup.config });
    const c = this.config;
    if (!(c.mmapBelowEventsPerSec < c.readAboveEventsPerSec)) {
      throw new InvalidArgumentError('adaptive policy: mmapBelowEventsPerSec must be below readAboveEventsPerSec (the gap is the hysteresis)');
    }
    if (c.watermarkLadder.length === 0 || c.watermarkLadder.some((v, i) => v < 0 || v > 100 || (i > 0 && v <= (c.watermarkLadder[i - 1] as number)))) {
      throw new InvalidArgumentError('adaptive policy: watermarkLadder must ascend within 0..100');
    }
    if (!(c.minFlushMs > 0 && c.minFlushMs <= c.maxFlushMs)) throw new InvalidArgumentError('adaptive policy: need 0 < minFlushMs <= maxFlushMs');
    this.#mmapAvailable = setup.mmapAvailable;
    this.#watermark = new Ratchet(setup.bufferPercent);
    for (const cpu of setup.cpus) {
      this.#cpus.set(cpu.cpu, {
        setup: cpu,
        path: setup.mmapAvailable ? cpu.path : 'read',
        flush: new Ratchet(this.#flushStep(c.maxFlushMs)),
        lastSwitchMs: Number.NEGATIVE_INFINITY,
        highSinceMs: Number.NaN,
        lowSinceMs: Number.NaN,
        rate: 0,
        wakeRate: 0,
        byteRate: 0,
        smoothedRate: 0,
        smoothedByteRate: 0,
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
      bufferPercent: this.#watermark.value,
      cpus: [...this.#cpus.values()].map((s) => ({ cpu: s.setup.cpu, path: s.path, flushMs: s.flush.value })),
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
   * decisions taken (already applied to settings()). The first sample of a
   * CPU is its baseline.
   */
  observe(atMs: number, samples: readonly RateSample[]): PolicyDecision[] {
    const out: PolicyDecision[] = [];
    let demand = Number.POSITIVE_INFINITY;
    let floored = false;
    let urgent = false;
    let idleWaker: CpuState | null = null;
    for (const sample of samples) {
      const s = this.#cpus.get(sample.cpu);
      if (s === undefined || atMs <= s.lastMs) continue;
      if (s.last !== null) {
        this.#measure(s, atMs, sample);
        this.#decidePath(s, atMs, sample, out);
        this.#decideFlush(s, atMs, sample, out);
        this.#decideAdvice(s, atMs, sample, out);
        const want = this.#watermarkFor(s, sample);
        if (want < demand) {
          demand = want;
          floored = this.#floored;
        }
        if (this.#filling(sample)) urgent = true;
        else if (s.wakeRate > this.config.maxWakeupsPerSec && s.rate < s.wakeRate * this.config.minEventsPerWakeup) idleWaker ??= s;
      }
      s.last = sample;
      s.lastMs = atMs;
    }
    if (Number.isFinite(demand)) {
      if (!urgent && idleWaker !== null) this.#raiseWatermark(atMs, idleWaker, out);
      else this.#decideWatermark(atMs, demand, urgent, out, floored);
    }
    for (const d of out) this.#log.push(d);
    return out;
  }

  #measure(s: CpuState, atMs: number, sample: RateSample): void {
    const prev = s.last as RateSample;
    const dt = atMs - s.lastMs;
    s.rate = (growth(sample.events, prev.events) * 1000) / dt;
    s.wakeRate = (growth(sample.wakeups, prev.wakeups) * 1000) / dt;
    s.byteRate = (growth(sample.bytes, prev.bytes) * 1000) / dt;
    if (s.byteRate > s.peakByteRate) s.peakByteRate = s.byteRate;
    // Exponential smoothing with a time constant, so irregular sample intervals weigh right.
    const alpha = 1 - Math.exp(-dt / this.config.smoothingMs);
    s.smoothedRate += alpha * (s.rate - s.smoothedRate);
    s.smoothedByteRate += alpha * (s.byteRate - s.smoothedByteRate);
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
      const lost = s.last === null ? 0 : growth(sample.lost, s.last.lost);
      if (lost > 0) {
        // Loss is here: mmap did not keep up. The cheaper path now, whatever the dwell.
        this.#switch(s, atMs, 'read', `the kernel overwrote ${lost} events at ${fmtRate(s.rate)} events/s: read() drains full pages for less CPU`, out);
      } else if (sample.fillPercent >= c.fillDangerPercent) {
        // Loss is near: the cheaper path now, whatever the dwell.
        this.#switch(s, atMs, 'read', `ring ${Math.round(sample.fillPercent)}% full at ${fmtRate(s.rate)} events/s: read() drains full pages for less CPU`, out);
      } else if (dwelt && !Number.isNaN(s.highSinceMs) && atMs - s.highSinceMs >= c.switchAfterMs) {
        const secs = ((atMs - s.highSinceMs) / 1000).toFixed(0);
        this.#switch(s, atMs, 'read', `${fmtRate(r)} events/s for ${secs} s (above ${fmtRate(c.readAboveEventsPerSec)}): read() costs less per event at full pages`, out);
      }
    } else if (dwelt && sample.fillPercent < c.fillWarnPercent && !Number.isNaN(s.lowSinceMs) && atMs - s.lowSinceMs >= c.returnAfterMs) {
      const secs = ((atMs - s.lowSinceMs) / 1000).toFixed(0);
      this.#switch(s, atMs, 'mmap', `${fmtRate(r)} events/s for ${secs} s (below ${fmtRate(c.mmapBelowEventsPerSec)}): mmap for the lowest latency`, out);
    }
  }

  /** Ring capacity of a CPU in data bytes. */
  #capacity(s: CpuState): number {
    return s.setup.subbufs * (s.setup.subbufSize - 16);
  }

  /** The largest power-of-two multiple of minFlushMs not above `ms`. */
  #flushStep(ms: number): number {
    let flush = this.config.minFlushMs;
    while (flush * 2 <= ms) flush *= 2;
    return flush;
  }

  #decideFlush(s: CpuState, atMs: number, sample: RateSample, out: PolicyDecision[]): void {
    const c = this.config;
    // Look four times before the ring would be full at the current rate (the faster of now and smoothed).
    const rate = Math.max(s.byteRate, s.smoothedByteRate);
    const room = (this.#capacity(s) * (100 - sample.fillPercent)) / 100;
    const untilFull = rate > 0 ? (room / rate) * 1000 : Number.POSITIVE_INFINITY;
    let target = clamp(untilFull / 4, c.minFlushMs, c.maxFlushMs);
    if (sample.fillPercent >= c.fillDangerPercent) target = c.minFlushMs;
    else if (sample.fillPercent >= c.fillWarnPercent) target = Math.min(target, Math.max(c.minFlushMs, c.maxFlushMs / 4));
    const from = s.flush.value;
    const to = s.flush.offer(atMs, this.#flushStep(target), c.raiseAfterMs);
    if (to === null) return;
    const why =
      sample.fillPercent >= c.fillWarnPercent
        ? `ring ${Math.round(sample.fillPercent)}% full: read more often`
        : to < from
          ? `at ${(rate / 1e6).toFixed(2)} MB/s the ring would be full in ${Math.round(untilFull)} ms`
          : `the rate has left room for ${(c.raiseAfterMs / 1000).toFixed(0)} s: back towards the latency bound`;
    out.push({ atMs, cpu: s.setup.cpu, kind: 'flush', from, to, reason: why });
  }

  /**
   * The ring fills faster than it is read: at or above fillWarnPercent, and
   * beyond what the watermark itself lets in (the kernel wakes the reader
   * only there: a ring at the watermark, plus the wake-up's latency, is
   * the watermark working, not a ring filling up).
   */
  #filling(sample: RateSample): boolean {
    return sample.fillPercent >= this.config.fillWarnPercent && sample.fillPercent > this.#watermark.value + WAKE_SLACK_PERCENT;
  }

  /**
   * The buffer_percent this CPU asks for: wake the reader while the rest of
   * the ring still holds reactionMs of data at the current rate (the
   * faster of now and smoothed). Higher means fewer wake-ups; the flush
   * interval, not the watermark, bounds latency at low rates.
   */
  #watermarkFor(s: CpuState, sample: RateSample): number {
    const c = this.config;
    const rate = Math.max(s.byteRate, s.smoothedByteRate);
    const filling = this.#filling(sample);
    // A filling ring wants the reader woken at once...
    const wanted = filling ? 0 : 100 - (100 * rate * c.reactionMs) / 1000 / this.#capacity(s);
    // ...but a ring too small for reactionMs is guarded by the flush timer (a
    // look every quarter of the time to full, the shortest interval when
    // filling): a wake-up before one flush interval's data has arrived only
    // repeats that look, hundreds of times a second, and at high rates each
    // such wake-up takes the writer's partial sub-buffer (measured at 7 M
    // events/s on read(): 2.7x the system time, half the events). No lower
    // than that fill, up to a quarter of the ring.
    const flushMs = filling ? c.minFlushMs : s.flush.value;
    const floor = Math.min((100 * rate * flushMs) / 1000 / this.#capacity(s), 25);
    this.#floored = floor > wanted;
    return Math.max(wanted, floor);
  }

  #decideWatermark(atMs: number, demand: number, urgent: boolean, out: PolicyDecision[], floored = false): void {
    const c = this.config;
    const ladder = c.watermarkLadder;
    // The highest rung at or below the demand and maxBufferPercent (the lowest rung when the demand is below all).
    let target = ladder[0] as number;
    for (const v of ladder) if (v <= Math.min(demand, c.maxBufferPercent)) target = v;
    const from = this.#watermark.value;
    target = Math.max(target, c.minBufferPercent);
    // Up to the flush-interval floor at once: below it, wake-ups only repeat the flush timer's look.
    const raiseToFloor = floored && target > from;
    if (raiseToFloor) this.#watermark.force(target);
    const to = raiseToFloor ? target : this.#watermark.offer(atMs, target, c.raiseAfterMs);
    if (to === null) return;
    const busiest = [...this.#cpus.values()].reduce((a, b) => (Math.max(b.byteRate, b.smoothedByteRate) > Math.max(a.byteRate, a.smoothedByteRate) ? b : a));
    const mbs = (Math.max(busiest.byteRate, busiest.smoothedByteRate) / 1e6).toFixed(2);
    const reason = raiseToFloor
      ? `CPU ${busiest.setup.cpu} at ${mbs} MB/s: wake the reader once one flush interval's data has arrived (earlier wake-ups repeat the flush timer's look)`
      : urgent
      ? 'a ring is filling: wake the reader at the first full sub-buffer'
      : to < from
        ? `CPU ${busiest.setup.cpu} at ${mbs} MB/s: wake the reader with ${c.reactionMs} ms of room left in its ring${floored ? ` (it holds less: at one flush interval's data, the flush timer guards the rest)` : ''}`
        : `rates have left room for ${(c.raiseAfterMs / 1000).toFixed(0)} s (busiest CPU ${busiest.setup.cpu} at ${mbs} MB/s): fewer wake-ups`;
    out.push({ atMs, cpu: -1, kind: 'watermark', from, to, reason });
  }

  /** Wake-ups that carry next to nothing: one rung up now. */
  #raiseWatermark(atMs: number, s: CpuState, out: PolicyDecision[]): void {
    const ladder = this.config.watermarkLadder;
    const from = this.#watermark.value;
    const to = ladder.find((v) => v > from);
    if (to === undefined) return;
    this.#watermark.force(to);
    const each = s.wakeRate > 0 ? s.rate / s.wakeRate : 0;
    out.push({
      atMs,
      cpu: -1,
      kind: 'watermark',
      from,
      to,
      reason: `CPU ${s.setup.cpu}: ${Math.round(s.wakeRate)} wake-ups/s carrying ${each.toFixed(1)} events each (the reader wakes for nothing or feeds itself): fewer wake-ups`,
    });
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
      reason: `${what} at ${(s.byteRate / 1e6).toFixed(1)} MB/s: start next time with buffer_size_kb ${needKb} (a mapped buffer cannot be resized while mapped)`,
    });
    s.adviceKb = needKb;
  }
}
