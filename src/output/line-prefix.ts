// The kernel's per-line context for `trace` / `trace_pipe` text
// (kernel/trace/trace_output.c: trace_print_context, trace_print_lat_fmt):
//
//   "%16s-%-7d " comm-pid   ["(%7d) " tgid]   "[%03d] " cpu   flags5
//   " %5lu.%06lu: " (nanosecond clocks, rounded to µs) | " %12llu: " (others)

import { Lit, type TextOut } from '../decode/text-out.js';
import { tsDivMod } from '../layout/timestamp.js';
import { LatencyColumns, PidTextCache } from './prefix-caches.js';
import type { TaskNames } from './task-names.js';

// common_flags bits (enum trace_flag_type, 6.13+).
const IRQS_OFF = 0x01;
const NEED_RESCHED_LAZY = 0x02;
const NEED_RESCHED = 0x04;
const HARDIRQ = 0x08;
const SOFTIRQ = 0x10;
const PREEMPT_RESCHED = 0x20;
const NMI = 0x40;
const BH_OFF = 0x80;

function irqsOffChar(flags: number): string {
  if (flags & IRQS_OFF) return flags & BH_OFF ? 'D' : 'd';
  return flags & BH_OFF ? 'b' : '.';
}

function needReschedChar(flags: number): string {
  const nr = flags & NEED_RESCHED;
  const lazy = flags & NEED_RESCHED_LAZY;
  const pr = flags & PREEMPT_RESCHED;
  if (nr && lazy && pr) return 'B';
  if (nr && pr) return 'N';
  if (lazy && pr) return 'L';
  if (nr && lazy) return 'b';
  if (nr) return 'n';
  if (pr) return 'p';
  if (lazy) return 'l';
  return '.';
}

function irqContextChar(flags: number): string {
  const nmi = flags & NMI;
  const hard = flags & HARDIRQ;
  const soft = flags & SOFTIRQ;
  if (nmi && hard) return 'Z';
  if (nmi) return 'z';
  if (hard && soft) return 'H';
  if (hard) return 'h';
  if (soft) return 's';
  return '.';
}

const flagCache: Array<string | undefined> = new Array(65536);

/** The five latency columns from common_flags and common_preempt_count. */
export function latencyFlags(flags: number, preemptCount: number): string {
  const key = ((flags & 0xff) << 8) | (preemptCount & 0xff);
  let s = flagCache[key];
  if (s === undefined) {
    const depth = preemptCount & 0xf;
    const migrate = preemptCount >> 4;
    s =
      irqsOffChar(flags) +
      needReschedChar(flags) +
      irqContextChar(flags) +
      (depth ? depth.toString(16) : '.') +
      (migrate ? migrate.toString(16) : '.');
    flagCache[key] = s;
  }
  return s;
}

/** Clocks whose values are nanoseconds (printed as seconds.micros); others print raw. */
const NS_CLOCKS = new Set(['local', 'global', 'perf', 'mono', 'mono_raw', 'boot', 'tai']);

/** Whether trace clock `clock` counts nanoseconds (its timestamps print as seconds). */
export function clockInNs(clock: string): boolean {
  return NS_CLOCKS.has(clock);
}

const SPACES = '                ';

function padStart(s: string, width: number): string {
  return s.length >= width ? s : SPACES.slice(0, width - s.length) + s;
}

/** Three-digit zero-padded 000..999. */
const DIGITS3: string[] = [];
for (let i = 0; i < 1000; i++) DIGITS3.push(String(i).padStart(3, '0'));
/** The " %5lu." part of the last timestamp formatted (seconds change rarely). */
let lastSecs = -1;
let lastSecsText = '';

/** Seconds and microseconds of a nanosecond timestamp rounded as the kernel rounds ((ts + 500) / 1000), exact for any 64-bit value. */
function roundedSecsMicros(hi: number, lo: number): [secs: number, micros: number] {
  if (hi < 0x200000) {
    const us = Math.floor((hi * 4294967296 + lo + 500) / 1000);
    const secs = Math.floor(us / 1e6);
    return [secs, us - secs * 1e6];
  }
  let l = lo + 500;
  let h = hi;
  if (l >= 4294967296) {
    l -= 4294967296;
    h++;
  }
  const [uh, ul] = tsDivMod(h, l, 1000);
  const [sh, sl, rem] = tsDivMod(uh, ul, 1e6);
  // Seconds of a 64-bit ns value fit a double exactly (< 2^35).
  return [sh * 4294967296 + sl, rem];
}

/**
 * " %5lu.%06lu" of a nanosecond timestamp rounded to microseconds (the
 * kernel rounds: (ts + 500) / 1000), exactly for any 64-bit value.
 */
export function formatNsTimestamp(hi: number, lo: number): string {
  const [secs, micros] = roundedSecsMicros(hi, lo);
  if (secs !== lastSecs) {
    lastSecs = secs;
    lastSecsText = ` ${padStart(String(secs), 5)}.`;
  }
  const ms = Math.floor(micros / 1000);
  return lastSecsText + DIGITS3[ms]! + DIGITS3[micros - ms * 1000]!;
}

/** " %12llu" of a raw (non-nanosecond) timestamp. */
export function formatRawTimestamp(hi: number, lo: number): string {
  const v = hi < 0x200000 ? String(hi * 4294967296 + lo) : (BigInt(hi) * 4294967296n + BigInt(lo)).toString();
  return ` ${padStart(v, 12)}`;
}

/** "%16s-%-7d " */
export function formatTask(comm: string, pid: number): string {
  const p = String(pid);
  return `${padStart(comm, 16)}-${p}${p.length < 7 ? SPACES.slice(0, 7 - p.length) : ''} `;
}

/** "(%7d) " or "(-------) " */
export function formatTgid(tgid: number | undefined): string {
  return tgid === undefined ? '(-------) ' : `(${padStart(String(tgid), 7)}) `;
}

/** "[%03d] " */
export function formatCpu(cpu: number): string {
  return cpu < 10 ? `[00${cpu}] ` : cpu < 100 ? `[0${cpu}] ` : `[${cpu}] `;
}

// ---- the same columns as bytes (the hot path: KernelText.writeLine) ------

/** Writes the line prefix's columns as bytes, caching what repeats. */
export class PrefixWriter {
  readonly #tasks: TaskNames;
  /** "%16s-%-7d " per pid. */
  readonly #taskText: PidTextCache;
  readonly #cpuText: Lit[] = [];
  readonly #latency = new LatencyColumns(latencyFlags);
  #lastSecs = -1;
  #secsText = new Lit('');
  /** Nanoseconds where #lastSecs starts, minus the 500 of rounding (timestamps below 2^53). */
  #secsBase = Infinity;

  constructor(tasks: TaskNames) {
    this.#tasks = tasks;
    this.#taskText = new PidTextCache(tasks, (pid) => formatTask(tasks.comm(pid), pid));
  }

  /** "%16s-%-7d " */
  task(out: TextOut, pid: number): void {
    out.lit(this.#taskText.get(pid));
  }

  /** "(%7d) " or "(-------) " */
  tgid(out: TextOut, pid: number): void {
    out.str(formatTgid(this.#tasks.tgid(pid)));
  }

  /** "[%03d] " */
  cpu(out: TextOut, cpu: number): void {
    let text = this.#cpuText[cpu];
    if (text === undefined) {
      text = new Lit(formatCpu(cpu));
      if (cpu >= 0 && cpu < 65536) this.#cpuText[cpu] = text;
    }
    out.lit(text);
  }

  /** The five latency columns. */
  flags(out: TextOut, flags: number, preemptCount: number): void {
    out.reserve(8);
    out.pos = this.#latency.put(out.buf, out.dv, out.pos, flags, preemptCount);
  }

  /** formatNsTimestamp() as bytes. */
  nsTimestamp(out: TextOut, hi: number, lo: number): void {
    if (hi < 0x200000) {
      // Within the second of the last timestamp: one int32 division.
      const d = hi * 4294967296 + lo - this.#secsBase;
      if (d >= 0 && d < 1e9) {
        out.lit(this.#secsText);
        out.digits6(((d | 0) / 1000) | 0);
        return;
      }
    }
    const [secs, micros] = roundedSecsMicros(hi, lo);
    if (secs !== this.#lastSecs) {
      this.#lastSecs = secs;
      this.#secsText = new Lit(` ${padStart(String(secs), 5)}.`);
      this.#secsBase = hi < 0x200000 ? secs * 1e9 - 500 : Infinity;
    }
    out.lit(this.#secsText);
    out.digits6(micros);
  }

  /** formatRawTimestamp() as bytes. */
  rawTimestamp(out: TextOut, hi: number, lo: number): void {
    out.str(formatRawTimestamp(hi, lo));
  }
}
