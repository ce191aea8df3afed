// Which timestamps Perfetto gets, and how it maps them to its trace time
// (CLOCK_BOOTTIME).
//
//   boot              written as they are: Perfetto's default, exact
//   local, global,    written as they are, each bundle labelled with the
//   perf, mono_raw    clock (ftrace_clock) and a (trace clock, boot) pair
//                     that trace_processor aligns them by
//   mono, tai         Perfetto has no FtraceClock value for these: converted
//                     to boot here by the pair's offset (boot - mono is
//                     constant except across a suspend)
//   counter, x86-tsc, not nanoseconds: refused
//   uptime
//
// A pair is one reading of the trace clock (per_cpu/cpu0/stats `now ts:`,
// or clock_gettime for mono/mono_raw/tai) between two CLOCK_BOOTTIME
// readings, whose midpoint is the pair's boot time (readClockPair).

import { UnsupportedError } from '../../errors.js';
import type { ClockPair } from '../sink.js';
import { FtraceClock } from './fields.js';

const NOT_NANOSECONDS = new Set(['counter', 'x86-tsc', 'uptime']);
const LABELLED: Record<string, number> = { local: FtraceClock.local, global: FtraceClock.global, perf: FtraceClock.local, mono_raw: FtraceClock.monoRaw };
const CONVERTED = new Set(['mono', 'tai']);

export interface ClockPlan {
  readonly traceClock: string;
  /** FtraceClock written in every bundle, or null (boot: the field is left out). */
  readonly ftraceClock: number | null;
  /** The (trace clock, boot) pair written with ftraceClock. */
  readonly pair: ClockPair | null;
  /** Added to every kernel timestamp (mono, tai → boot); 0n for none. */
  readonly offsetNs: bigint;
  /** What a reader should know (no pair recorded, say). */
  readonly notes: readonly string[];
}

/** Thrown at open() for a trace clock Perfetto cannot place on its timeline. */
export function checkTraceClock(clock: string): void {
  if (NOT_NANOSECONDS.has(clock)) {
    throw new UnsupportedError(
      `trace clock "${clock}" does not count nanoseconds: Perfetto cannot place its timestamps; record with trace_clock boot (or local, global, mono)`,
    );
  }
  if (clock !== 'boot' && !(clock in LABELLED) && !CONVERTED.has(clock)) {
    throw new UnsupportedError(`trace clock "${clock}" is not one Perfetto output knows (boot, local, global, perf, mono, mono_raw, tai)`);
  }
}

/** The first pair of `clock` among `pairs`. */
export function pairFor(clock: string, pairs: readonly ClockPair[]): ClockPair | null {
  return pairs.find((p) => p.clock === clock) ?? null;
}

export function planClocks(clock: string, pairs: readonly ClockPair[]): ClockPlan {
  checkTraceClock(clock);
  if (clock === 'boot') return { traceClock: clock, ftraceClock: null, pair: null, offsetNs: 0n, notes: [] };
  const pair = pairFor(clock, pairs);
  if (pair === null) {
    return {
      traceClock: clock,
      ftraceClock: null,
      pair: null,
      offsetNs: 0n,
      notes: [`no (${clock}, boot) clock pair was recorded: ${clock} timestamps are written as boot time, unconverted`],
    };
  }
  if (CONVERTED.has(clock)) return { traceClock: clock, ftraceClock: null, pair, offsetNs: pair.bootNs - pair.traceNs, notes: [] };
  return { traceClock: clock, ftraceClock: LABELLED[clock]!, pair, offsetNs: 0n, notes: [] };
}

export { monoBootNow, parseNowTs, readClockPair } from '../../kernel/clock-pair.js';
