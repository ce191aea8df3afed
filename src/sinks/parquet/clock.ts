// The `ts` column's clock. Kernel timestamps count in the buffer's trace
// clock, application rings' in CLOCK_MONOTONIC. Where the input has a
// reading of that clock beside CLOCK_BOOTTIME (SinkInput.clockPairs), ts is
// moved onto the boot clock by that offset (a constant: clocks that drift
// against boot time, such as local, drift by parts per million); the boot
// clock itself needs no reading. Clocks that do not count nanoseconds
// (counter, uptime, x86-tsc) stay as they are.

import type { ClockPair } from '../sink.js';

/** Trace clocks that count nanoseconds. */
const NS_CLOCKS = new Set(['local', 'global', 'mono', 'mono_raw', 'boot', 'perf', 'tai']);

const TWO32 = 4294967296;

export interface TsClock {
  /** The clock `ts` is on after conversion: 'boot', or the source clock's own name. */
  readonly clock: string;
  /** The source clock. */
  readonly source: string;
  /** Added to every timestamp (ns): low word (unsigned), high word (signed). */
  readonly offsetLo: number;
  readonly offsetHi: number;
  readonly offset: bigint;
}

function split(offset: bigint): { offsetLo: number; offsetHi: number } {
  return { offsetLo: Number(BigInt.asUintN(32, offset)), offsetHi: Number(BigInt.asIntN(32, offset >> 32n)) };
}

/** How timestamps of `source` (a trace clock name, or 'mono' for rings) become ts. */
export function tsClock(source: string, pairs: readonly ClockPair[]): TsClock {
  if (source === 'boot') return { clock: 'boot', source, offset: 0n, ...split(0n) };
  if (NS_CLOCKS.has(source)) {
    const pair = pairs.find((p) => p.clock === source);
    if (pair !== undefined) {
      const offset = pair.bootNs - pair.traceNs;
      return { clock: 'boot', source, offset, ...split(offset) };
    }
    if (source === 'mono' && pairs.length > 0) {
      const p = pairs[0]!;
      const offset = p.bootNs - p.monoNs;
      return { clock: 'boot', source, offset, ...split(offset) };
    }
  }
  return { clock: source, source, offset: 0n, ...split(0n) };
}

/** Realtime minus boot time (ns), from the first reading, or null. */
export function realtimeOffset(pairs: readonly ClockPair[]): bigint | null {
  const p = pairs[0];
  return p === undefined ? null : p.realtimeNs - p.bootNs;
}

/** Writes ts = (hi, lo) + offset into `out` at pair index `at` (low word, then high word). */
export function putTs(out: Int32Array, at: number, hi: number, lo: number, c: TsClock): void {
  let l = lo + c.offsetLo;
  let carry = 0;
  if (l >= TWO32) {
    l -= TWO32;
    carry = 1;
  }
  out[2 * at] = l | 0;
  out[2 * at + 1] = (hi + c.offsetHi + carry) | 0;
}
