// Event formats by id, loaded from a directory laid out like tracefs (the
// live /sys/kernel/tracing or a capture such as test/fixtures/sched/tracefs).
//
// Ids are assigned per boot and modules add events at run time, so an
// unknown id triggers one reload of the formats (rate-limited); if the id
// is still unknown the lookup answers "unknown" instead of throwing, so a
// stream of records never stops on it. A format file that fails to parse
// is kept as a failure: its id (when readable) answers "malformed".

import fs from 'node:fs';
import path from 'node:path';
import { MalformedInputError } from '../errors.js';
import {
  type EventFormat,
  type HeaderEvent,
  type HeaderPage,
  parseFormatFile,
  parseHeaderEvent,
  parseHeaderPage,
} from './format-file.js';

/** Where format files come from. */
export interface FormatSource {
  /** A label for messages ("/sys/kernel/tracing"). */
  readonly label: string;
  /** Event directories: [system, event] pairs. */
  listEvents(): [string, string][];
  /** Text of events/<system>/<event>/format. */
  readFormat(system: string, event: string): string;
  /** Text of a file relative to the root (events/header_page, printk_formats...), or null if absent. */
  readOptional(relative: string): string | null;
  /** Names in a directory relative to the root (options/), or [] (optional: virtual sources may not list). */
  listDir?(relative: string): string[];
}

/** Names of system and event directories we accept (no path tricks). */
const DIR_NAME = /^[A-Za-z0-9_.:+-]{1,256}$/;
/** Largest format file read (a hostile capture could hold anything). */
const MAX_FILE = 8 << 20;

function readBounded(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    const buf = Buffer.allocUnsafe(65536);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      total += n;
      if (total > MAX_FILE) throw new MalformedInputError(`${file}: larger than ${MAX_FILE} bytes`);
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** A tracefs-like directory: <root>/events/<system>/<event>/format. */
export class DirectorySource implements FormatSource {
  readonly root: string;
  readonly label: string;

  constructor(root: string) {
    this.root = root;
    this.label = root;
  }

  /** Sorted by system, then event (readdir order differs between filesystems). */
  listEvents(): [string, string][] {
    const events = path.join(this.root, 'events');
    const out: [string, string][] = [];
    for (const sys of fs.readdirSync(events, { withFileTypes: true })) {
      if (!sys.isDirectory() || !DIR_NAME.test(sys.name)) continue;
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(path.join(events, sys.name), { withFileTypes: true });
      } catch {
        continue; // removed meanwhile (module unload)
      }
      for (const ev of entries) {
        if (ev.isDirectory() && DIR_NAME.test(ev.name)) out.push([sys.name, ev.name]);
      }
    }
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  }

  readFormat(system: string, event: string): string {
    if (!DIR_NAME.test(system) || !DIR_NAME.test(event)) throw new MalformedInputError(`invalid event name ${system}/${event}`);
    return readBounded(path.join(this.root, 'events', system, event, 'format'));
  }

  listDir(relative: string): string[] {
    const dir = path.join(this.root, relative);
    if (!dir.startsWith(path.join(this.root, path.sep))) return [];
    try {
      return fs.readdirSync(dir).filter((n) => DIR_NAME.test(n)).sort();
    } catch {
      return [];
    }
  }

  readOptional(relative: string): string | null {
    const file = path.join(this.root, relative);
    if (!file.startsWith(path.join(this.root, path.sep)) && file !== this.root) return null;
    try {
      return readBounded(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw error;
    }
  }
}

/** A format file that failed to parse, and why. */
export interface FormatFailure {
  readonly system: string;
  readonly event: string;
  /** The ID line, if it could be read. */
  readonly id: number | null;
  readonly error: Error;
}

/** What EventRegistry.lookup() answers for an id: its format, malformed, or unknown. */
export type EventLookup =
  | { readonly status: 'ok'; readonly format: EventFormat }
  | { readonly status: 'unknown'; readonly id: number; readonly message: string }
  | { readonly status: 'malformed'; readonly id: number; readonly message: string; readonly error: Error };

/** Options of EventRegistry. */
export interface RegistryOptions {
  /** Minimum time between reloads triggered by unknown ids (default 1000 ms). */
  reloadIntervalMs?: number;
  /** Only load these systems (default: all). */
  systems?: readonly string[];
  /** `long` size when there is no events/header_page (default 8). */
  longSize?: 4 | 8;
}

/** Event formats by id, loaded from format files (on demand, and reloaded when an unknown id appears). */
export class EventRegistry {
  readonly source: FormatSource;
  #byId = new Map<number, EventFormat>();
  #byName = new Map<string, EventFormat>();
  #failures: FormatFailure[] = [];
  #failedIds = new Map<number, FormatFailure>();
  /** Ids that stayed unknown after the reload they triggered. */
  readonly #unknown = new Set<number>();
  #lastReload = -Infinity;
  #generation = 0;
  #headerPage: HeaderPage | null = null;
  #headerEvent: HeaderEvent | null = null;
  readonly #reloadIntervalMs: number;
  readonly #systems: ReadonlySet<string> | null;
  readonly #defaultLongSize: 4 | 8;

  constructor(source: FormatSource, options: RegistryOptions = {}) {
    this.source = source;
    this.#reloadIntervalMs = options.reloadIntervalMs ?? 1000;
    this.#systems = options.systems !== undefined ? new Set(options.systems) : null;
    this.#defaultLongSize = options.longSize ?? 8;
    this.load();
  }

  /** Loads the formats of a tracefs-like directory. */
  static fromDirectory(root: string, options: RegistryOptions = {}): EventRegistry {
    return new EventRegistry(new DirectorySource(root), options);
  }

  /** Increases on every (re)load: caches keyed by id must be dropped when it changes. */
  get generation(): number {
    return this.#generation;
  }

  get headerPage(): HeaderPage | null {
    return this.#headerPage;
  }

  get headerEvent(): HeaderEvent | null {
    return this.#headerEvent;
  }

  /** The recording kernel's `long` size (from events/header_page). */
  get longSize(): 4 | 8 {
    return this.#headerPage?.commitSize ?? this.#defaultLongSize;
  }

  /** Format files that could not be parsed. */
  get failures(): readonly FormatFailure[] {
    return this.#failures;
  }

  get size(): number {
    return this.#byId.size;
  }

  /** (Re)reads every format file. I/O errors of single files become failures; a missing events/ throws. */
  load(): void {
    const pageText = this.source.readOptional('events/header_page');
    const eventText = this.source.readOptional('events/header_event');
    this.#headerPage = pageText !== null ? parseHeaderPage(pageText, 'events/header_page') : null;
    this.#headerEvent = eventText !== null ? parseHeaderEvent(eventText, 'events/header_event') : null;
    const longSize = this.longSize;
    const byId = new Map<number, EventFormat>();
    const byName = new Map<string, EventFormat>();
    const failures: FormatFailure[] = [];
    const failedIds = new Map<number, FormatFailure>();
    for (const [system, event] of this.source.listEvents()) {
      if (this.#systems !== null && !this.#systems.has(system)) continue;
      let text: string;
      try {
        text = this.source.readFormat(system, event);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') continue; // directories without a format file (or removed meanwhile)
        failures.push({ system, event, id: null, error: error as Error });
        continue;
      }
      try {
        const f = parseFormatFile(text, { system, longSize, source: `events/${system}/${event}/format` });
        const clash = byId.get(f.id);
        if (clash !== undefined) {
          throw new MalformedInputError(`events/${system}/${event}/format: ID ${f.id} is also used by ${clash.system}/${clash.name}`);
        }
        byId.set(f.id, f);
        byName.set(`${system}/${f.name}`, f);
      } catch (error) {
        const m = /^ID:\s*([0-9]{1,5})\s*$/m.exec(text);
        const id = m !== null && Number(m[1]) <= 0xffff ? Number(m[1]) : null;
        const failure: FormatFailure = { system, event, id, error: error as Error };
        failures.push(failure);
        if (id !== null && !byId.has(id)) failedIds.set(id, failure);
      }
    }
    this.#byId = byId;
    this.#byName = byName;
    this.#failures = failures;
    this.#failedIds = failedIds;
    this.#unknown.clear();
    this.#generation++;
  }

  /** The format of `id`, without reloading. */
  get(id: number): EventFormat | undefined {
    return this.#byId.get(id);
  }

  /** The format of system/name. */
  find(system: string, name: string): EventFormat | undefined {
    return this.#byName.get(`${system}/${name}`);
  }

  /** Every format loaded so far. */
  formats(): IterableIterator<EventFormat> {
    return this.#byId.values();
  }

  /**
   * The format of `id`. An unknown id reloads the formats once (at most one
   * reload per interval); an id still unknown afterwards is remembered and
   * answered "unknown" without further reloads. Never throws.
   */
  lookup(id: number): EventLookup {
    const f = this.#byId.get(id);
    if (f !== undefined) return { status: 'ok', format: f };
    if (!this.#unknown.has(id) && !this.#failedIds.has(id)) {
      const now = performance.now();
      if (now - this.#lastReload >= this.#reloadIntervalMs) {
        this.#lastReload = now;
        try {
          this.load();
        } catch {
          // The source went away: keep what we had.
        }
        const again = this.#byId.get(id);
        if (again !== undefined) return { status: 'ok', format: again };
        this.#unknown.add(id);
      }
    }
    const failed = this.#failedIds.get(id);
    if (failed !== undefined) {
      return {
        status: 'malformed',
        id,
        message: `event ${id} (${failed.system}/${failed.event}) has a malformed format file: ${failed.error.message}`,
        error: failed.error,
      };
    }
    return { status: 'unknown', id, message: `unknown event id ${id} (not in ${this.source.label}/events)` };
  }
}
