// Readings of a trace array's clock beside the system clocks, to map trace
// timestamps onto BOOTTIME (Perfetto's clock) or wall time. The trace
// clock is read where Perfetto reads it, the `now ts:` line of a CPU's
// stats file (microseconds), between two CLOCK_BOOTTIME readings whose
// midpoint is the pair's boot time; mono, mono_raw, tai and boot are read
// from the system clock itself, to the nanosecond.

import fs from 'node:fs';
import { UnsupportedError } from '../errors.js';
import { CLOCK_IDS, native } from '../native.js';
import type { ClockPair } from '../sinks/sink.js';
import type { TraceArray } from './trace-array.js';

/** `now ts:` of a stats file in ns ("969.757203" is seconds with microseconds; a counter clock prints a count). */
export function parseNowTs(text: string): bigint | null {
  const m = /^now ts:\s*(\d+)(?:\.(\d{1,9}))?\s*$/m.exec(text);
  if (m === null) return null;
  if (m[2] === undefined) return BigInt(m[1]!);
  return BigInt(m[1]!) * 1_000_000_000n + BigInt(m[2].padEnd(9, '0'));
}

const SYSTEM_CLOCKS: Record<string, number> = { mono: CLOCK_IDS.monotonic, mono_raw: CLOCK_IDS.monotonicRaw, tai: CLOCK_IDS.tai };

/**
 * Reads `array`'s trace clock once between two CLOCK_BOOTTIME readings:
 * the pair Perfetto maps the trace clock by. Call it at record start and
 * end (SinkInput.clockPairs, SinkEnd.clockPairs).
 */
export function readClockPair(array: TraceArray): ClockPair {
  const clock = array.traceClock;
  const system = SYSTEM_CLOCKS[clock];
  const statsPath = array.cpuFile(array.cpus()[0] ?? 0, 'stats');
  const boot0 = native.clockNs(CLOCK_IDS.boottime);
  let traceNs: bigint | null;
  if (clock === 'boot') traceNs = boot0;
  else if (system !== undefined) traceNs = native.clockNs(system);
  else traceNs = parseNowTs(fs.readFileSync(statsPath, 'utf8'));
  const boot1 = native.clockNs(CLOCK_IDS.boottime);
  if (traceNs === null) throw new UnsupportedError(`${statsPath} has no "now ts:" line to pair the ${clock} clock with`);
  const bootNs = clock === 'boot' ? boot0 : boot0 + (boot1 - boot0) / 2n;
  // mono and realtime at the same instant: each read between two boot readings, moved back to bootNs.
  const mono = monoBootNow();
  const b2 = native.clockNs(CLOCK_IDS.boottime);
  const realtime = native.clockNs(CLOCK_IDS.realtime);
  const b3 = native.clockNs(CLOCK_IDS.boottime);
  return {
    clock,
    traceNs,
    bootNs,
    monoNs: mono.monoNs - (mono.bootNs - bootNs),
    realtimeNs: realtime - (b2 + (b3 - b2) / 2n - bootNs),
  };
}

/** A (mono, boot) pair of the running system, for rings when the input has none. */
export function monoBootNow(): { monoNs: bigint; bootNs: bigint } {
  const b0 = native.clockNs(CLOCK_IDS.boottime);
  const monoNs = native.clockNs(CLOCK_IDS.monotonic);
  const b1 = native.clockNs(CLOCK_IDS.boottime);
  return { monoNs, bootNs: b0 + (b1 - b0) / 2n };
}
