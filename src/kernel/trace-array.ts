// A trace array: the top-level tracefs directory or an instance under
// instances/. Settings, events and per-CPU files of one ring buffer.

import fs from 'node:fs';
import { join } from 'node:path';
import {
  BufferMappedError,
  EventNotFoundError,
  InvalidArgumentError,
  TracefsBusyError,
  UnsupportedError,
} from '../errors.js';
import { findMappingPids } from './buffer-users.js';
import { type CpuStats, parseCpuStats } from './cpu-stats.js';
import { rethrowFs } from './fs-errors.js';

const NAME = /^[A-Za-z0-9_.+-]+$/;

/** Event selector: "system:event", "system" or "system:*". */
export interface EventSpec {
  system: string;
  event: string | null;
}

/** Parses `system:event` (or `system` / `event`). */
export function parseEventSpec(spec: string): EventSpec {
  const [system = '', event, extra] = spec.split(':');
  if (extra !== undefined || !NAME.test(system) || system === '.' || system === '..') {
    throw new InvalidArgumentError(`bad event selector ${JSON.stringify(spec)} (expected system:event or system)`);
  }
  if (event === undefined || event === '*' || event === '') return { system, event: null };
  if (!NAME.test(event) || event === '.' || event === '..') {
    throw new InvalidArgumentError(`bad event name in ${JSON.stringify(spec)}`);
  }
  return { system, event };
}

/** A trace array: the top-level buffer or an instance, with its files (events, options, buffers). */
export class TraceArray {
  /** Absolute path of the directory. */
  readonly path: string;
  /** Instance name, or null for the top-level buffer. */
  readonly name: string | null;

  constructor(path: string, name: string | null) {
    this.path = path;
    this.name = name;
  }

  get label(): string {
    return this.name === null ? 'top-level buffer' : `instance ${this.name}`;
  }

  /** Absolute path of a file of the trace array. */
  file(relative: string): string {
    return join(this.path, relative);
  }

  /** Reads a file of the trace array as text. */
  readText(relative: string): string {
    const path = this.file(relative);
    try {
      return fs.readFileSync(path, 'utf8');
    } catch (error) {
      rethrowFs(error, path, 'read');
    }
  }

  /** Writes `value` into a file of the trace array. */
  writeText(relative: string, value: string): void {
    const path = this.file(relative);
    try {
      // One write() per value: tracefs parses each write on its own.
      const fd = fs.openSync(path, 'w');
      try {
        fs.writeSync(fd, value);
      } finally {
        fs.closeSync(fd);
      }
    } catch (error) {
      rethrowFs(error, path, 'write');
    }
  }

  /** Whether a file or directory exists in the trace array. */
  exists(relative: string): boolean {
    return fs.existsSync(this.file(relative));
  }

  /** CPUs with a per_cpu directory (every possible CPU), ascending. */
  cpus(): number[] {
    const dir = this.file('per_cpu');
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch (error) {
      rethrowFs(error, dir, 'list');
    }
    return names
      .map((n) => /^cpu(\d+)$/.exec(n)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** Path of file `name` of CPU `cpu` (`per_cpu/cpuN/name`). */
  cpuFile(cpu: number, name: string): string {
    return this.file(`per_cpu/cpu${cpu}/${name}`);
  }

  /** CPU `cpu`'s stats file, parsed. */
  cpuStats(cpu: number): CpuStats {
    return parseCpuStats(this.readText(`per_cpu/cpu${cpu}/stats`));
  }

  // --- sizing -------------------------------------------------------------
  // Resizes are refused with EBUSY while a per-CPU buffer is mapped; say so.

  #resize(relative: string, value: number, what: string, cpu?: number): void {
    if (!Number.isInteger(value) || value <= 0) throw new InvalidArgumentError(`${what} must be a positive integer`);
    try {
      this.writeText(relative, String(value));
    } catch (error) {
      if (error instanceof TracefsBusyError) throw this.#mappedError(what, error, cpu);
      throw error;
    }
  }

  #mappedError(what: string, busy: TracefsBusyError, cpu?: number): Error {
    const pids = findMappingPids(this.path, cpu);
    if (pids.length === 0) return busy;
    const who = pids.map((p) => (p === process.pid ? `${p} (this process)` : String(p))).join(', ');
    return new BufferMappedError(
      `cannot change ${what} of the ${this.label}: its ring buffer is memory-mapped by pid ${who}; unmap it first`,
      pids,
      { cause: busy },
    );
  }

  /** Per-CPU ring size in KiB of payload (all CPUs). Prefer the meta page's figures when mapped. */
  get bufferSizeKb(): number {
    return Number.parseInt(this.readText('buffer_size_kb'), 10);
  }
  /** Sets every CPU's buffer size (KiB). */
  setBufferSizeKb(kb: number): void {
    this.#resize('buffer_size_kb', kb, 'buffer_size_kb');
  }
  /** Sets one CPU's buffer size (KiB). */
  setCpuBufferSizeKb(cpu: number, kb: number): void {
    this.#resize(`per_cpu/cpu${cpu}/buffer_size_kb`, kb, `cpu${cpu} buffer_size_kb`, cpu);
  }

  /** Sub-buffer size in KiB (kernel 6.8+). */
  get subbufSizeKb(): number {
    return Number.parseInt(this.readText('buffer_subbuf_size_kb'), 10);
  }
  /** Sets the sub-buffer size (KiB). */
  setSubbufSizeKb(kb: number): void {
    if (!this.exists('buffer_subbuf_size_kb')) {
      throw new UnsupportedError('this kernel cannot change the sub-buffer size (buffer_subbuf_size_kb needs 6.8+)');
    }
    this.#resize('buffer_subbuf_size_kb', kb, 'buffer_subbuf_size_kb');
  }

  /** Arms the snapshot buffer (CONFIG_TRACER_SNAPSHOT); refused while mapped. */
  armSnapshot(): void {
    if (!this.exists('snapshot')) {
      throw new UnsupportedError('this kernel has no snapshot support (CONFIG_TRACER_SNAPSHOT is off)');
    }
    try {
      this.writeText('snapshot', '1');
    } catch (error) {
      if (error instanceof TracefsBusyError) throw this.#mappedError('the snapshot', error);
      throw error;
    }
  }

  // --- settings -----------------------------------------------------------

  /** Wake-up watermark 0..100: percent of the ring that must fill before readers wake. */
  get bufferPercent(): number {
    return Number.parseInt(this.readText('buffer_percent'), 10);
  }
  set bufferPercent(percent: number) {
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
      throw new InvalidArgumentError('buffer_percent must be an integer in 0..100');
    }
    this.writeText('buffer_percent', String(percent));
  }

  /** Selected trace clock (the bracketed name in trace_clock). */
  get traceClock(): string {
    const text = this.readText('trace_clock');
    return /\[([^\]]+)\]/.exec(text)?.[1] ?? text.trim();
  }
  /** Changing the clock resets the buffer. */
  set traceClock(name: string) {
    if (!NAME.test(name)) throw new InvalidArgumentError(`bad clock name ${JSON.stringify(name)}`);
    this.writeText('trace_clock', name);
  }

  /** Whether trace option `name` is on. */
  option(name: string): boolean {
    if (!NAME.test(name)) throw new InvalidArgumentError(`bad option name ${JSON.stringify(name)}`);
    return this.readText(`options/${name}`).trim() === '1';
  }
  /** Turns trace option `name` on or off. */
  setOption(name: string, on: boolean): void {
    if (!NAME.test(name)) throw new InvalidArgumentError(`bad option name ${JSON.stringify(name)}`);
    this.writeText(`options/${name}`, on ? '1' : '0');
  }

  get tracingOn(): boolean {
    return this.readText('tracing_on').trim() === '1';
  }
  set tracingOn(on: boolean) {
    this.writeText('tracing_on', on ? '1' : '0');
  }

  /** Empties every CPU buffer and zeroes the counters (allowed while mapped). */
  clear(): void {
    const path = this.file('trace');
    try {
      fs.closeSync(fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_TRUNC));
    } catch (error) {
      rethrowFs(error, path, 'reset');
    }
  }

  // --- events -------------------------------------------------------------

  #eventDir(spec: EventSpec): string {
    const rel = spec.event === null ? `events/${spec.system}` : `events/${spec.system}/${spec.event}`;
    if (!this.exists(`${rel}/enable`)) {
      throw new EventNotFoundError(
        spec.event === null
          ? `no event system ${spec.system} in this kernel`
          : `no event ${spec.system}:${spec.event} in this kernel`,
      );
    }
    return rel;
  }

  /** Enables events by "system:event" or "system". */
  enableEvents(specs: Iterable<string>): void {
    for (const spec of specs) this.writeText(`${this.#eventDir(parseEventSpec(spec))}/enable`, '1');
  }

  /** Disables the events `specs` select. */
  disableEvents(specs: Iterable<string>): void {
    for (const spec of specs) this.writeText(`${this.#eventDir(parseEventSpec(spec))}/enable`, '0');
  }

  /**
   * Sets the kernel-side filter of events selected by `spec` (for example
   * "common_pid == 42"); an empty filter clears it. The kernel checks the
   * expression and refuses a bad one (EINVAL).
   */
  setEventFilter(spec: string, filter: string): void {
    if (filter.includes('\n')) throw new InvalidArgumentError('an event filter is a single line');
    this.writeText(`${this.#eventDir(parseEventSpec(spec))}/filter`, filter === '' ? '0' : filter);
  }

  /** Disables every event. */
  disableAllEvents(): void {
    this.writeText('events/enable', '0');
  }

  /** Event systems this kernel offers. */
  eventSystems(): string[] {
    const dir = this.file('events');
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  }
}
