// A trace.dat's metadata seen as a tracefs-like directory (FormatSource),
// so EventRegistry and the decoders load from it as from a recording:
// events/<system>/<event>/format, events/header_page, events/header_event,
// printk_formats, saved_cmdlines, trace_clock.

import type { FormatSource } from '../decode/registry.js';
import { decodeText } from './bytes.js';
import type { TraceDatMetadata } from './metadata.js';

const NAME_LINE = /^name:\s*(\S+)\s*$/m;

export class TraceDatFormatSource implements FormatSource {
  readonly label: string;
  readonly #metadata: TraceDatMetadata;
  readonly #formats = new Map<string, Uint8Array>();
  readonly #events: [string, string][] = [];
  readonly #traceClock: string;

  /** `traceClock`: the trace_clock text to answer (the buffer's clock marked with brackets). */
  constructor(label: string, metadata: TraceDatMetadata, traceClock: string) {
    this.label = label;
    this.#metadata = metadata;
    this.#traceClock = traceClock;
    const add = (system: string, format: Uint8Array, index: number) => {
      // The file stores formats without their event names; each format's "name:" line has it.
      const head = decodeText(format.subarray(0, 512));
      const name = NAME_LINE.exec(head)?.[1] ?? `unnamed_${index}`;
      const key = `${system}/${name}`;
      if (this.#formats.has(key)) return; // a duplicate would shadow: the first one stands
      this.#formats.set(key, format);
      this.#events.push([system, name]);
    };
    metadata.ftraceFormats.forEach((f, i) => add('ftrace', f, i));
    for (const system of metadata.eventSystems) system.formats.forEach((f, i) => add(system.name, f, i));
    this.#events.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  }

  listEvents(): [string, string][] {
    return this.#events.map(([s, e]) => [s, e]);
  }

  readFormat(system: string, event: string): string {
    const format = this.#formats.get(`${system}/${event}`);
    if (format === undefined) {
      const error = new Error(`${this.label}: no format for ${system}/${event}`) as NodeJS.ErrnoException;
      error.code = 'ENOENT'; // what a directory source answers for a missing file
      throw error;
    }
    return decodeText(format);
  }

  readOptional(relative: string): string | null {
    const m = this.#metadata;
    switch (relative) {
      case 'events/header_page':
        return m.headerPage === null ? null : decodeText(m.headerPage);
      case 'events/header_event':
        return m.headerEvent === null ? null : decodeText(m.headerEvent);
      case 'printk_formats':
        return m.printk === null ? null : decodeText(m.printk);
      case 'saved_cmdlines':
        return m.cmdlines === null ? null : decodeText(m.cmdlines);
      case 'trace_clock':
        return this.#traceClock;
    }
    const format = /^events\/([^/]+)\/([^/]+)\/format$/.exec(relative);
    if (format !== null) {
      const bytes = this.#formats.get(`${format[1]}/${format[2]}`);
      return bytes === undefined ? null : decodeText(bytes);
    }
    return null;
  }
}
