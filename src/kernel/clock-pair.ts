// Readings of a trace array's clock beside the system clocks, to map trace
// timestamps onto BOOTTIME (Perfetto's clock) or wall time. The trace
// clock is read where Perfetto reads it, the `now ts:` line of a CPU's
// stats file (microseconds), between two readings of the system clocks.
// For the `mono` and `boot` trace clocks the system clock itself is the
// trace clock, read to the nanosecond.

import { CLOCK_IDS, native } from '../native.js';
import type { ClockPair } from '../sinks/sink.js';
import type { TraceArray } from './trace-array.js';

function nowTs(array: TraceArray, cpu: number): bigint | null {
  let text: string;
  try {
    text = array.readText(`per_cpu/cpu${cpu}/stats`);
  } catch {
    return null;
  }
  const m = /^now ts:\s+(\d+)\.(\d{6})$/m.exec(text);
  return m === null ? null : BigInt(m[1]!) * 1_000_000_000n + BigInt(m[2]!) * 1000n;
}

export function readClockPair(array: TraceArray, clock: string, cpu = 0): ClockPair | null {
  const boot0 = native.clockNs(CLOCK_IDS.boottime);
  const mono0 = native.clockNs(CLOCK_IDS.monotonic);
  const real0 = native.clockNs(CLOCK_IDS.realtime);
  let traceNs: bigint | null;
  if (clock === 'mono') traceNs = mono0;
  else if (clock === 'boot') traceNs = boot0;
  else if (clock === 'mono_raw') traceNs = native.clockNs(CLOCK_IDS.monotonicRaw);
  else if (clock === 'tai') traceNs = native.clockNs(CLOCK_IDS.tai);
  else {
    traceNs = nowTs(array, cpu);
    if (traceNs === null) return null;
    // The stats file was read between the two readings: take the midpoint.
    const boot1 = native.clockNs(CLOCK_IDS.boottime);
    const mono1 = native.clockNs(CLOCK_IDS.monotonic);
    const real1 = native.clockNs(CLOCK_IDS.realtime);
    return { clock, traceNs, bootNs: (boot0 + boot1) / 2n, monoNs: (mono0 + mono1) / 2n, realtimeNs: (real0 + real1) / 2n };
  }
  return { clock, traceNs, bootNs: boot0, monoNs: mono0, realtimeNs: real0 };
}
