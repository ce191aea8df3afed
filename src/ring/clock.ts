// Timestamps for application events: CLOCK_MONOTONIC, the clock behind the
// kernel's `mono` trace_clock, so app and kernel events share a timeline
// (process.hrtime() reads it through libuv).
//
// A writer keeps times as nanoseconds relative to a 64-bit base taken when
// it starts: relative values stay exact Numbers for 2^53 ns (104 days), and
// deltas between events never need BigInt.

const hrtime = process.hrtime;

/** The current CLOCK_MONOTONIC time as [seconds, nanoseconds]. */
export function monotonicParts(): [number, number] {
  const t = hrtime();
  return [t[0], t[1]];
}

/** Exact (hi, lo) of seconds * 1e9 + nanoseconds, without BigInt. */
export function partsToHiLo(sec: number, ns: number): [number, number] {
  // sec * 1e9 in 16-bit halves of sec keeps every product below 2^53.
  const high = (sec >>> 16) * 1e9; // scaled by 2^16
  const low = (sec & 0xffff) * 1e9 + ns;
  const highHi = Math.floor(high / 65536);
  const highLo = (high - highHi * 65536) * 65536;
  let lo = highLo + (low % 4294967296);
  let hi = highHi + Math.floor(low / 4294967296);
  if (lo >= 4294967296) {
    lo -= 4294967296;
    hi++;
  }
  return [hi, lo];
}

/** base + rel as (hi, lo), rel a non-negative exact Number. */
export function addRelative(baseHi: number, baseLo: number, rel: number): [number, number] {
  const relHi = Math.floor(rel / 4294967296);
  let lo = baseLo + (rel - relHi * 4294967296);
  let hi = baseHi + relHi;
  if (lo >= 4294967296) {
    lo -= 4294967296;
    hi++;
  }
  return [hi, lo];
}

/** (hi, lo) - base as a Number (exact when the result is below 2^53 in magnitude). */
export function relativeTo(baseHi: number, baseLo: number, hi: number, lo: number): number {
  return (hi - baseHi) * 4294967296 + (lo - baseLo);
}
