// trace.dat options: {u16 id, u32 size, data}. What each id holds is in
// /work/shared/spec/formats.md A3; ids this reader does not know are
// skipped (and listed), as trace-cmd does.

import { MalformedInputError } from '../errors.js';
import { ByteCursor, decodeText } from './bytes.js';
import { Limits, Option } from './constants.js';

/** One option as stored, in file order. */
export interface RawOption {
  readonly id: number;
  readonly size: number;
}

/** A CPUSTAT option: one CPU's per_cpu/cpuN/stats text at the end of the recording. */
export interface CpuStat {
  /** The buffer it belongs to ('' for the top level). */
  readonly buffer: string;
  readonly cpu: number;
  /** The stats text after the "CPU: N" line. */
  readonly text: string;
}

/** TSC to nanoseconds conversion (the TSC2NSEC option). */
export interface Tsc2Nsec {
  readonly mult: number;
  readonly shift: number;
  readonly offset: bigint;
}

/** A trace.dat's options section, decoded. */
export interface TraceDatOptions {
  /** Every option of every options block, in file order (DONE excluded). */
  readonly list: readonly RawOption[];
  readonly cpuStats: readonly CpuStat[];
  /** TRACECLOCK: the trace_clock file ("[local] global ..."). */
  readonly traceClock: string | null;
  readonly uname: string | null;
  /** VERSION: the writer's version string. */
  readonly version: string | null;
  readonly cpuCount: number | null;
  readonly date: string | null;
  readonly offset: string | null;
  readonly tsc2nsec: Tsc2Nsec | null;
  readonly traceId: bigint | null;
  readonly hooks: readonly string[];
  /** Ids skipped because this reader does not know them. */
  readonly unknown: readonly number[];
}

/** A BUFFER (or BUFFER_TEXT) option as read, before its section is checked. */
export interface BufferOption {
  readonly latency: boolean;
  /** v7: offset of the BUFFER section header; v6: offset of the instance's "flyrecord\0". */
  readonly offset: number;
  readonly name: string;
  /** v7 only (v6 options carry no clock). */
  readonly clock: string | null;
  readonly pageSize: number | null;
  readonly cpus: readonly { cpu: number; offset: number; size: number }[];
}

/** Option text: NUL-terminated ASCII; trailing NULs dropped. */
export function optionText(data: Uint8Array): string {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  return decodeText(data.subarray(0, end));
}

/** The clock marked with [brackets] in a trace_clock text, or the text itself when it has no marker. */
export function selectedClock(text: string): string {
  return /\[([^\]\s]+)\]/.exec(text)?.[1] ?? text.trim();
}

/** Accumulates the options of one file as they are read. */
export class OptionCollector {
  readonly list: RawOption[] = [];
  readonly cpuStats: CpuStat[] = [];
  readonly buffers: BufferOption[] = [];
  /** Section offsets from the v7 pointer options (HEADER_INFO..CMDLINES, STRINGS). */
  readonly sections = new Map<number, number>();
  traceClock: string | null = null;
  uname: string | null = null;
  version: string | null = null;
  cpuCount: number | null = null;
  date: string | null = null;
  offset: string | null = null;
  tsc2nsec: Tsc2Nsec | null = null;
  traceId: bigint | null = null;
  readonly hooks: string[] = [];
  readonly unknown: number[] = [];
  /** Buffer name CPUSTAT options apply to ("\nBuffer: NAME\n\n" switches it). */
  #statBuffer = '';
  readonly #le: boolean;
  readonly #v7: boolean;
  readonly #label: string;

  constructor(littleEndian: boolean, v7: boolean, label: string) {
    this.#le = littleEndian;
    this.#v7 = v7;
    this.#label = label;
  }

  /** Takes one option (not DONE). */
  add(id: number, data: Uint8Array): void {
    this.list.push({ id, size: data.length });
    const c = new ByteCursor(data, this.#le, `${this.#label}: option ${id}`);
    switch (id) {
      case Option.DATE:
        this.date = optionText(data);
        break;
      case Option.OFFSET:
        this.offset = optionText(data);
        break;
      case Option.CPUSTAT:
        this.#cpuStat(optionText(data));
        break;
      case Option.BUFFER:
      case Option.BUFFER_TEXT:
        if (this.buffers.length >= Limits.buffers) throw new MalformedInputError(`${this.#label}: more than ${Limits.buffers} buffers`);
        this.buffers.push(this.#buffer(c, id === Option.BUFFER_TEXT));
        break;
      case Option.TRACECLOCK:
        this.traceClock = optionText(data);
        break;
      case Option.UNAME:
        this.uname = optionText(data);
        break;
      case Option.VERSION:
        this.version = optionText(data);
        break;
      case Option.HOOK:
        this.hooks.push(optionText(data));
        break;
      case Option.CPUCOUNT: {
        const n = c.u32('CPUCOUNT');
        if (n > Limits.cpus) throw new MalformedInputError(`${this.#label}: CPUCOUNT ${n} is above ${Limits.cpus}`);
        this.cpuCount = n;
        break;
      }
      case Option.TRACEID:
        if (data.length >= 8) this.traceId = c.u64Big('TRACEID');
        break;
      case Option.TSC2NSEC:
        if (data.length >= 16) this.tsc2nsec = { mult: c.u32('TSC2NSEC mult'), shift: c.u32('TSC2NSEC shift'), offset: c.u64Big('TSC2NSEC offset') };
        break;
      case Option.STRINGS:
      case Option.HEADER_INFO:
      case Option.FTRACE_EVENTS:
      case Option.EVENT_FORMATS:
      case Option.KALLSYMS:
      case Option.PRINTK:
      case Option.CMDLINES:
        if (this.#v7 && data.length >= 8) this.sections.set(id, c.u64(`option ${id} section offset`));
        break;
      case Option.PROCMAPS:
      case Option.TIME_SHIFT:
      case Option.GUEST:
        break; // known, not needed to read the events
      default:
        this.unknown.push(id);
    }
  }

  #cpuStat(text: string): void {
    const buffer = /^\s*Buffer: (.*)\n/.exec(text);
    if (buffer !== null) {
      this.#statBuffer = buffer[1]!;
      return;
    }
    const cpu = /^CPU: (\d{1,5})\n/.exec(text);
    if (cpu === null) return; // not the layout trace-cmd writes: kept in list, not parsed
    this.cpuStats.push({ buffer: this.#statBuffer, cpu: Number(cpu[1]), text: text.slice(cpu[0].length) });
  }

  #buffer(c: ByteCursor, latency: boolean): BufferOption {
    const offset = c.u64('BUFFER offset');
    const name = c.cstring('BUFFER name', 256);
    if (!this.#v7) return { latency: false, offset, name, clock: null, pageSize: null, cpus: [] };
    const clock = c.cstring('BUFFER clock', 256);
    if (latency) return { latency: true, offset, name, clock, pageSize: null, cpus: [] };
    const pageSize = c.u32('BUFFER page size');
    const count = c.u32('BUFFER CPU count');
    // 20 bytes per CPU: a count the option cannot hold fails before any allocation.
    if (count * 20 > c.remaining) throw new MalformedInputError(`${this.#label}: BUFFER "${name}" lists ${count} CPUs in ${c.remaining} bytes`);
    const cpus: { cpu: number; offset: number; size: number }[] = [];
    for (let i = 0; i < count; i++) {
      cpus.push({ cpu: c.u32('BUFFER cpu'), offset: c.u64('BUFFER cpu offset'), size: c.u64('BUFFER cpu size') });
    }
    return { latency: false, offset, name, clock, pageSize, cpus };
  }

  result(): TraceDatOptions {
    return {
      list: this.list,
      cpuStats: this.cpuStats,
      traceClock: this.traceClock,
      uname: this.uname,
      version: this.version,
      cpuCount: this.cpuCount,
      date: this.date,
      offset: this.offset,
      tsc2nsec: this.tsc2nsec,
      traceId: this.traceId,
      hooks: this.hooks,
      unknown: this.unknown,
    };
  }
}
