// A trace array set up for one recording: buffer sizes, clock, CPU mask,
// PID filters, events and their filters, applied in the order the kernel
// needs (sizes and clock reset the buffer), and put back as they were at
// the end (an instance the user already had keeps its settings; one we
// created is removed by its owner).

import fs from 'node:fs';
import { TraceringError } from '../errors.js';
import { type ResolvedSelector, resolveSelectors } from './event-select.js';
import type { TraceArray } from './trace-array.js';

/** The kernel refused an event filter; `kernelText` is what it left in the filter file. */
export class EventFilterError extends TraceringError {
  readonly event: string;
  readonly filter: string;
  readonly kernelText: string;
  constructor(event: string, filter: string, kernelText: string) {
    super('ERR_EVENT_FILTER', `the kernel refused the filter ${JSON.stringify(filter)} for ${event}:\n${kernelText.trimEnd()}`);
    this.event = event;
    this.filter = filter;
    this.kernelText = kernelText;
  }
}

/** An event selector and its filter. */
export interface EventRequest {
  /** A selector as trace-cmd takes it (system, system:event, event, glob, all). */
  event: string;
  /** A filter for the events it selects (the kernel's filter syntax). */
  filter?: string;
}

/** The settings a TraceSession applies to a trace array. */
export interface SessionSettings {
  events: readonly EventRequest[];
  /** Trace only these PIDs (set_event_pid). */
  pids?: readonly number[];
  /** Children of traced PIDs are traced too (the event-fork option). */
  followForks?: boolean;
  /** Per-CPU buffer size in KiB. */
  bufferKb?: number;
  /** Sub-buffer size in KiB. */
  subbufKb?: number;
  clock?: string;
  /** tracing_cpumask, hex as the kernel takes it. */
  cpumask?: string;
}

interface Saved {
  file: string;
  text: string;
}

function filterValue(text: string): string {
  const t = text.trim();
  // "none", or a system filter file's help text: no filter.
  return t === 'none' || t.startsWith('###') ? '0' : t;
}

/** Settings applied to a trace array for one recording, and put back as they were at the end. */
export class TraceSession {
  readonly array: TraceArray;
  readonly selectors: readonly ResolvedSelector[];
  /** What was changed, for restore(), most recent last. */
  readonly #saved: Saved[] = [];
  #restored = false;

  private constructor(array: TraceArray, selectors: ResolvedSelector[]) {
    this.array = array;
    this.selectors = selectors;
  }

  /**
   * Applies `settings` with tracing off. Tracing stays off: call start().
   * On failure, whatever was changed is put back before the error is thrown.
   */
  static apply(array: TraceArray, settings: SessionSettings): TraceSession {
    const selectors = resolveSelectors(
      array,
      settings.events.map((e) => e.event),
    );
    const session = new TraceSession(array, selectors);
    try {
      session.#set('tracing_on', '0');
      if (settings.bufferKb !== undefined) session.#set('buffer_size_kb', String(settings.bufferKb), () => array.setBufferSizeKb(settings.bufferKb!));
      if (settings.subbufKb !== undefined) session.#set('buffer_subbuf_size_kb', String(settings.subbufKb), () => array.setSubbufSizeKb(settings.subbufKb!));
      if (settings.clock !== undefined) {
        const clocks = array.readText('trace_clock');
        if (!clocks.split(/\s+/).some((c) => c.replace(/[[\]]/g, '') === settings.clock)) {
          throw new TraceringError('ERR_CLOCK_NOT_FOUND', `no trace clock ${JSON.stringify(settings.clock)}; this kernel has: ${clocks.trim().replace(/[[\]]/g, '')}`);
        }
        session.#set('trace_clock', settings.clock, () => {
          array.traceClock = settings.clock!;
        });
      }
      if (settings.cpumask !== undefined) session.#set('tracing_cpumask', settings.cpumask);
      if (settings.pids !== undefined && settings.pids.length > 0) {
        session.#set('set_event_pid', settings.pids.join(' '));
      }
      if (settings.followForks) session.#set('options/event-fork', '1');
      session.#enable(settings.events, selectors);
    } catch (error) {
      session.restore();
      throw error;
    }
    return session;
  }

  /** Writes `value` to `file` (or runs `write`), remembering the old text first. */
  #set(file: string, value: string, write?: () => void): void {
    const before = this.#read(file);
    if (before !== null && before.trim() === value && file !== 'tracing_on') return;
    if (before !== null) this.#saved.push({ file, text: before });
    if (write !== undefined) write();
    else this.array.writeText(file, value);
  }

  #read(file: string): string | null {
    try {
      return this.array.readText(file);
    } catch {
      return null;
    }
  }

  #enable(requests: readonly EventRequest[], selectors: readonly ResolvedSelector[]): void {
    // set_event lists what is on now: restore() turns off only what we turned on.
    const before = this.#read('set_event');
    if (before !== null) this.#saved.push({ file: 'set_event', text: before });
    for (const [i, sel] of selectors.entries()) {
      const filter = requests[i]?.filter;
      if (filter !== undefined) this.#applyFilter(sel, filter);
      if (sel.spec === 'all') this.array.writeText('events/enable', '1');
      else if (sel.system !== null) this.array.writeText(`events/${sel.system}/enable`, '1');
      else for (const e of sel.events) this.array.writeText(`events/${e.system}/${e.event}/enable`, '1');
    }
  }

  #applyFilter(sel: ResolvedSelector, filter: string): void {
    if (filter.includes('\n')) throw new TraceringError('ERR_INVALID_ARG_VALUE', 'an event filter is a single line');
    const files = sel.system !== null ? [`events/${sel.system}/filter`] : sel.events.map((e) => `events/${e.system}/${e.event}/filter`);
    for (const file of files) {
      const before = this.#read(file);
      if (before !== null) this.#saved.push({ file, text: filterValue(before) });
      try {
        this.array.writeText(file, filter);
      } catch (error) {
        const text = this.#read(file) ?? (error as Error).message;
        throw new EventFilterError(file.replace(/^events\/|\/filter$/g, '').replace('/', ':'), filter, text);
      }
    }
  }

  /** Empties the buffers (unless told not to) and turns tracing on. */
  start(options: { clear?: boolean } = {}): void {
    if (options.clear !== false) this.array.clear();
    this.array.tracingOn = true;
  }

  /** Turns tracing off (before the final drain, so it ends). */
  stopTracing(): void {
    try {
      this.array.tracingOn = false;
    } catch {
      // the instance is going away
    }
  }

  /** Puts back every setting changed, most recent first. Idempotent; errors are collected and the first thrown. */
  restore(): void {
    if (this.#restored) return;
    this.#restored = true;
    let first: unknown;
    for (const s of this.#saved.reverse()) {
      try {
        if (s.file === 'set_event') this.#restoreEvents(s.text);
        else if (s.file === 'set_event_pid') this.array.writeText(s.file, s.text.trim() === '' ? '' : s.text.trim().split(/\s+/).join(' '));
        else if (s.file === 'trace_clock') this.array.traceClock = /\[([^\]]+)\]/.exec(s.text)?.[1] ?? 'local';
        else if (s.file === 'buffer_size_kb') this.#restoreSize(s.file, s.text);
        else if (s.file === 'buffer_subbuf_size_kb') this.array.writeText(s.file, s.text.trim());
        else this.array.writeText(s.file, s.text.trim() === '' ? '0' : s.text.trim());
      } catch (error) {
        first ??= error;
      }
    }
    if (first !== undefined) throw first;
  }

  /** buffer_size_kb reads "7 (expanded: 1408)" before the buffer is first used. */
  #restoreSize(file: string, text: string): void {
    const kb = /^(\d+)/.exec(text.trim())?.[1];
    if (kb !== undefined) this.array.writeText(file, kb);
  }

  #restoreEvents(before: string): void {
    const wanted = new Set(before.split('\n').filter((l) => l !== ''));
    const now = (this.#read('set_event') ?? '').split('\n').filter((l) => l !== '');
    for (const line of now) {
      if (wanted.has(line)) continue;
      const [system, event] = line.split(':');
      if (system && event && fs.existsSync(this.array.file(`events/${system}/${event}/enable`))) {
        this.array.writeText(`events/${system}/${event}/enable`, '0');
      }
    }
    for (const line of wanted) {
      const [system, event] = line.split(':');
      if (system && event) this.array.writeText(`events/${system}/${event}/enable`, '1');
    }
  }
}
