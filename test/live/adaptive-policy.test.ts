// The adaptive capture policy on simulated rate traces: it switches path
// when a rate holds beyond a threshold, not on a blip, never twice within
// the dwell however the rate wobbles; the watermark and the flush interval
// follow the rate without flapping; a filling ring acts at once; losses
// give a buffer size for the next start. Every decision has a reason.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdaptivePolicy, type CapturePath, DEFAULT_POLICY, type PolicyDecision, type PolicySetup, type RateSample } from '../../src/capture/adaptive-policy.js';

const RECORD = 28; // bytes per event (a 16-byte marker write)

interface Trace {
  seconds: number;
  /** wake-ups per second (default 10) */
  wakeups?: (cpu: number, ms: number) => number;
  stepMs?: number;
  /** events/s of a CPU at a time */
  rate: (cpu: number, ms: number) => number;
  fill?: (cpu: number, ms: number) => number;
  /** cumulative lost events */
  lost?: (cpu: number, ms: number) => number;
}

function setup(over: Partial<PolicySetup> = {}, path: CapturePath = 'mmap'): PolicySetup {
  return {
    cpus: [0, 1].map((cpu) => ({ cpu, subbufSize: 4096, subbufs: 352, path })), // 1408 KiB, the default
    mmapAvailable: true,
    bufferPercent: 50,
    startMs: 0,
    ...over,
  };
}

/** Feeds the trace to the policy; returns every decision and the path of CPU 0 after each step. */
function simulate(policy: AdaptivePolicy, trace: Trace, cpus = [0, 1]) {
  const step = trace.stepMs ?? 1000;
  const events = cpus.map(() => 0);
  const wakeups = cpus.map(() => 0);
  const decisions: PolicyDecision[] = [];
  const paths: CapturePath[] = [];
  for (let ms = 0; ms <= trace.seconds * 1000; ms += step) {
    const samples: RateSample[] = cpus.map((cpu, i) => {
      if (ms > 0) events[i]! += Math.round((trace.rate(cpu, ms) * step) / 1000);
      if (ms > 0) wakeups[i]! += Math.round(((trace.wakeups?.(cpu, ms) ?? 10) * step) / 1000);
      return {
        cpu,
        events: events[i]!,
        bytes: events[i]! * RECORD,
        fillPercent: trace.fill?.(cpu, ms) ?? 2,
        wakeups: wakeups[i]!,
        lost: trace.lost?.(cpu, ms) ?? 0,
        dropped: 0,
      };
    });
    decisions.push(...policy.observe(ms, samples));
    paths.push(policy.settings().cpus[0]!.path);
  }
  return { decisions, paths };
}

const pathSwitches = (ds: PolicyDecision[], cpu = 0) => ds.filter((d) => d.kind === 'path' && d.cpu === cpu);

/** A deterministic pseudo-random sequence in [0, 1). */
function noise(seed: number): (i: number) => number {
  return (i) => {
    let x = (seed * 2654435761 + i * 40503) >>> 0;
    x ^= x >>> 13;
    x = Math.imul(x, 0x5bd1e995) >>> 0;
    return ((x ^ (x >>> 15)) >>> 0) / 4294967296;
  };
}

describe('adaptive policy: path', () => {
  it('stays on mmap at low rates, with few wake-ups and the latency bound', () => {
    const policy = new AdaptivePolicy(setup());
    const { decisions } = simulate(policy, { seconds: 120, rate: () => 1000 });
    assert.deepEqual(decisions, [], 'nothing to change');
    assert.deepEqual(policy.settings().cpus.map((c) => c.path), ['mmap', 'mmap']);
    assert.equal(policy.settings().cpus[0]!.flushMs, 160, 'the longest flush step within maxFlushMs');
    assert.equal(policy.settings().bufferPercent, 50, 'the highest watermark: the flush interval bounds latency');
  });

  it('moves a CPU to read() once a high rate has held, and back to mmap once a low rate has held', () => {
    const policy = new AdaptivePolicy(setup());
    const rate = (cpu: number, ms: number) => (cpu === 0 && ms > 10_000 && ms <= 60_000 ? 500_000 : 2000);
    const { decisions, paths } = simulate(policy, { seconds: 120, rate });
    const sw = pathSwitches(decisions);
    assert.deepEqual(sw.map((d) => [d.from, d.to]), [
      ['mmap', 'read'],
      ['read', 'mmap'],
    ]);
    const [up, down] = sw as [PolicyDecision, PolicyDecision];
    // Not on the first high sample: the smoothed rate must stay above the threshold for switchAfterMs.
    assert.ok(up.atMs >= 11_000 + DEFAULT_POLICY.switchAfterMs && up.atMs <= 20_000, `switched to read at ${up.atMs}`);
    assert.ok(down.atMs >= 60_000 + DEFAULT_POLICY.returnAfterMs && down.atMs <= 80_000, `back to mmap at ${down.atMs}`);
    assert.ok(down.atMs - up.atMs >= DEFAULT_POLICY.minDwellMs);
    assert.match(up.reason, /events\/s for \d+ s \(above 100k\): read\(\) costs less/);
    assert.match(down.reason, /below 20k.*mmap for the lowest latency/);
    assert.equal(pathSwitches(decisions, 1).length, 0, 'the quiet CPU stays where it was');
    assert.equal(paths.at(-1), 'mmap');
  });

  it('does not switch on a short burst', () => {
    const policy = new AdaptivePolicy(setup());
    const { decisions } = simulate(policy, { seconds: 60, rate: (_c, ms) => (ms === 20_000 ? 300_000 : 5000) });
    assert.equal(pathSwitches(decisions).length, 0);
  });

  it('does not flap on a rate wobbling around the threshold', () => {
    for (const seed of [1, 2, 3, 4]) {
      const r = noise(seed);
      const policy = new AdaptivePolicy(setup());
      // 5k..205k events/s, a new value every second: crosses both thresholds over and over
      // (without the smoothing, the sustain times and the dwell this flips ~50 times, and the
      // watermark and flush interval ~150 times each).
      const { decisions } = simulate(policy, { seconds: 300, rate: (_c, ms) => 5000 + 200_000 * r(ms / 1000) });
      const sw = pathSwitches(decisions);
      for (let i = 1; i < sw.length; i++) {
        assert.ok(sw[i]!.atMs - sw[i - 1]!.atMs >= DEFAULT_POLICY.minDwellMs, `seed ${seed}: switches at ${sw.map((d) => d.atMs).join(', ')}`);
      }
      assert.ok(sw.length <= 2, `seed ${seed}: ${sw.length} switches in 300 s`);
      const marks = decisions.filter((d) => d.kind === 'watermark').length;
      const flushes = decisions.filter((d) => d.kind === 'flush' && d.cpu === 0).length;
      assert.ok(marks <= 10, `seed ${seed}: ${marks} watermark changes in 300 s`);
      assert.ok(flushes <= 10, `seed ${seed}: ${flushes} flush changes in 300 s`);
    }
  });

  it('a square wave slower than the dwell switches each way, never faster than the dwell', () => {
    const policy = new AdaptivePolicy(setup());
    // 40 s at 400k, 40 s at 1k, three times.
    const { decisions } = simulate(policy, { seconds: 240, rate: (_c, ms) => (Math.floor(ms / 40_000) % 2 === 0 ? 400_000 : 1000) });
    const sw = pathSwitches(decisions);
    assert.deepEqual(sw.map((d) => d.to), ['read', 'mmap', 'read', 'mmap', 'read', 'mmap']);
    // A 5 s square wave is faster than the dwell: it may switch at most once per dwell.
    const fast = new AdaptivePolicy(setup());
    const f = pathSwitches(simulate(fast, { seconds: 240, rate: (_c, ms) => (Math.floor(ms / 5000) % 2 === 0 ? 400_000 : 1000) }).decisions);
    for (let i = 1; i < f.length; i++) assert.ok(f[i]!.atMs - f[i - 1]!.atMs >= DEFAULT_POLICY.minDwellMs);
    assert.ok(f.length <= 240_000 / DEFAULT_POLICY.minDwellMs);
  });

  it('without mmap (kernel < 6.10) reads, and never decides a path', () => {
    const policy = new AdaptivePolicy(setup({ mmapAvailable: false }));
    const { decisions } = simulate(policy, { seconds: 60, rate: (_c, ms) => (ms < 30_000 ? 500_000 : 100) });
    assert.equal(decisions.filter((d) => d.kind === 'path').length, 0);
    assert.deepEqual(policy.settings().cpus.map((c) => c.path), ['read', 'read']);
  });
});

describe('adaptive policy: filling rings and losses', () => {
  it('a ring near full: read() at once, read as often as allowed, the lowest watermark', () => {
    const policy = new AdaptivePolicy(setup());
    const fill = (cpu: number, ms: number) => (cpu === 1 && ms === 10_000 ? 85 : 5);
    const { decisions } = simulate(policy, { seconds: 12, rate: () => 50_000, fill });
    const at10 = decisions.filter((d) => d.atMs === 10_000);
    const path = at10.find((d) => d.kind === 'path' && d.cpu === 1);
    assert.ok(path, `decisions at 10 s: ${JSON.stringify(at10)}`);
    assert.equal(path.to, 'read');
    assert.match(path.reason, /85% full/);
    assert.equal(at10.find((d) => d.kind === 'flush' && d.cpu === 1)?.to, DEFAULT_POLICY.minFlushMs);
    const mark = decisions.filter((d) => d.kind === 'watermark').at(-1)!;
    assert.equal(mark.to, 1);
    assert.match(mark.reason, /filling/);
    assert.equal(policy.settings().cpus[0]!.path, 'mmap', 'the other CPU is not moved');
  });

  it('a loss on mmap: read() at the next sample, whatever the rate and the dwell; no loss on read() moves nothing', () => {
    const policy = new AdaptivePolicy(setup());
    // A rate below the read threshold (mmap would stay), but the kernel overwrote events at 5 s.
    const lost = (cpu: number, ms: number) => (cpu === 1 && ms >= 5_000 ? 300 : 0);
    const { decisions } = simulate(policy, { seconds: 8, rate: () => 50_000, lost });
    const paths = pathSwitches(decisions, 1);
    assert.equal(paths.length, 1, JSON.stringify(decisions));
    assert.equal(paths[0]!.atMs, 5_000);
    assert.equal(paths[0]!.to, 'read');
    assert.match(paths[0]!.reason, /overwrote 300 events/);
    assert.equal(pathSwitches(decisions, 0).length, 0, 'the other CPU is not moved');
    const onRead = new AdaptivePolicy(setup({}, 'read'));
    assert.equal(pathSwitches(simulate(onRead, { seconds: 8, rate: () => 50_000, lost }).decisions, 1).length, 0);
  });

  it('losses give a buffer size for the next start from the peak rate, once per increase', () => {
    const policy = new AdaptivePolicy(setup());
    const lost = (cpu: number, ms: number) => (cpu === 0 ? Math.max(0, ms - 20_000) : 0);
    const { decisions } = simulate(policy, { seconds: 40, rate: (cpu) => (cpu === 0 ? 2_000_000 : 10), lost });
    const advice = decisions.filter((d) => d.kind === 'buffer-advice');
    assert.equal(advice.length, 1, JSON.stringify(advice));
    const peakKb = (2_000_000 * RECORD) / 1024; // a second at the peak rate
    assert.ok((advice[0]!.to as number) >= peakKb && (advice[0]!.to as number) < 2 * peakKb, String(advice[0]!.to));
    assert.match(advice[0]!.reason, /1000 events lost at 56\.0 MB\/s: start next time with buffer_size_kb \d+ \(a mapped buffer cannot be resized while mapped\)/);
    assert.deepEqual(policy.advice(), {
      bufferKb: advice[0]!.to,
      reason: `CPU 0 peaked at 56.0 MB/s; ${advice[0]!.to} KiB per CPU holds 1000 ms of that`,
    });
    assert.equal(new AdaptivePolicy(setup()).advice(), null);
  });
});

describe('adaptive policy: watermark and flush interval', () => {
  it('follow the rate: lower at once when the rate rises, higher only once it has stayed down', () => {
    const policy = new AdaptivePolicy(setup());
    const rate = (_c: number, ms: number) => (ms > 10_000 && ms <= 30_000 ? 200_000 : 1000);
    const { decisions } = simulate(policy, { seconds: 120, rate });
    const marks = decisions.filter((d) => d.kind === 'watermark');
    // 5.6 MB/s on a 1.4 MB ring: 200 ms of room is left at 22%: rung 20, on the first fast sample.
    assert.deepEqual(marks.map((d) => [d.atMs, d.from, d.to]), [
      [11_000, 50, 20],
      [30_000 + DEFAULT_POLICY.raiseAfterMs + 1000, 20, 50],
    ]);
    assert.match(marks[0]!.reason, /CPU 0 at 5\.60 MB\/s: wake the reader with 200 ms of room left/);
    const flush = decisions.filter((d) => d.kind === 'flush' && d.cpu === 0);
    // Full in ~250 ms at that rate: a look every quarter of it, on the 10 ms ladder. Back up after
    // the hold, to the lowest need seen during it (the smoothed rate was still decaying), then all the way.
    const hold = DEFAULT_POLICY.raiseAfterMs;
    assert.deepEqual(flush.map((d) => [d.atMs, d.to]), [
      [11_000, 40],
      [31_000 + hold, 80],
      [32_000 + 2 * hold, 160],
    ]);
    assert.match(flush[0]!.reason, /would be full in 25\d ms/);
    for (const d of decisions) assert.ok(d.reason.length > 10, `a reason: ${JSON.stringify(d)}`);
  });

  it('a ring sized for the rate keeps the watermark high', () => {
    // 16 MiB per CPU at 28 MB/s (1M events/s): 200 ms of data is a third of it.
    const policy = new AdaptivePolicy(setup({ cpus: [0, 1].map((cpu) => ({ cpu, subbufSize: 4096, subbufs: 4096, path: 'read' as const })) }));
    simulate(policy, { seconds: 20, rate: () => 1_000_000 });
    assert.equal(policy.settings().bufferPercent, 50);
    assert.deepEqual(policy.settings().cpus.map((c) => c.path), ['read', 'read']);
  });

  it('wake-ups that carry next to nothing raise the watermark a rung at a time, at once', () => {
    const policy = new AdaptivePolicy(setup({ bufferPercent: 1 }));
    // A reader feeding itself: 20k wake-ups/s for 40k events/s. (Low rate otherwise: the ratchet alone
    // would raise the watermark only after its hold.)
    const wakeups = (cpu: number, ms: number) => (cpu === 1 && ms >= 5000 && ms < 9000 ? 20_000 : 10);
    const { decisions } = simulate(policy, { seconds: 10, rate: (cpu) => (cpu === 1 ? 40_000 : 100), wakeups });
    const marks = decisions.filter((d) => d.kind === 'watermark');
    assert.deepEqual(marks.map((d) => [d.atMs, d.from, d.to]), [
      [5000, 1, 2],
      [6000, 2, 5],
      [7000, 5, 10],
      [8000, 10, 20],
    ]);
    assert.match(marks[0]!.reason, /^CPU 1: 20000 wake-ups\/s carrying 2\.0 events each/);
    // Wake-ups that each bring many events are not the reader feeding itself; at this rate
    // (56 MB/s into a 1.4 MiB ring) the watermark goes at once to one flush interval's data.
    const busy = new AdaptivePolicy(setup({ bufferPercent: 1 }));
    const d = simulate(busy, { seconds: 10, rate: () => 2_000_000, wakeups: () => 20_000 }).decisions.filter((x) => x.kind === 'watermark');
    assert.deepEqual(d.map((x) => [x.from, x.to]), [[1, 20]]);
    assert.match(d[0]!.reason, /once one flush interval's data has arrived/);
  });

  it('is deterministic: the same trace gives the same decisions', () => {
    const r = noise(9);
    const trace: Trace = { seconds: 200, rate: (c, ms) => 300_000 * r(ms / 1000 + c * 1000) ** 3, fill: (_c, ms) => 100 * r(ms / 1000 + 7) ** 8 };
    const a = simulate(new AdaptivePolicy(setup()), trace).decisions;
    const b = simulate(new AdaptivePolicy(setup()), trace).decisions;
    assert.ok(a.length > 0);
    assert.deepEqual(a, b);
  });

  it('treats a counter that went backwards as restarted, and ignores samples not after the last', () => {
    const policy = new AdaptivePolicy(setup());
    policy.observe(0, [{ cpu: 0, events: 5_000_000, bytes: 140_000_000, fillPercent: 0, wakeups: 0, lost: 0, dropped: 0 }]);
    const d = policy.observe(1000, [{ cpu: 0, events: 10, bytes: 280, fillPercent: 0, wakeups: 0, lost: 0, dropped: 0 }]);
    assert.equal(d.filter((x) => x.kind === 'buffer-advice' || x.kind === 'path').length, 0, JSON.stringify(d));
    assert.deepEqual(policy.observe(1000, [{ cpu: 0, events: 99e9, bytes: 99e9, fillPercent: 99, wakeups: 0, lost: 9, dropped: 0 }]), []);
  });

  it('rejects a configuration without hysteresis', () => {
    assert.throws(
      () => new AdaptivePolicy(setup({ config: { readAboveEventsPerSec: 10_000, mmapBelowEventsPerSec: 10_000 } })),
      (e: Error & { code?: string }) => e.code === 'ERR_INVALID_ARG_VALUE',
    );
  });
});
