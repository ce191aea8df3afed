// Event formats by id, loaded from a directory laid out like tracefs (the
// live /sys/kernel/tracing or a capture such as test/fixtures/sched/tracefs).
//
// Ids are assigned per boot and modules add events at run time, so an
// unknown id triggers one reload of the formats (rate-limited); if the id
// is still unknown the lookup answers "unknown" instead of throwing, so a
// stream of records never stops on it. A format file that fails to parse
// is kept as a failure: its id (when readable) answers "malformed".
//
// Formats are parsed lazily, by id: a load reads only each file's head
// (name and ID lines) to index it, and parses a format the first time its
// id (or name) is asked for. A recording or a tracefs holds ~1000 formats
// and a trace uses a few hundred at most; parsing all of them was most of
// report's fixed cost. Whatever asks for the whole set (formats(), size,
// failures) parses everything first, so it sees what an eager load saw.

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
  /** Event directories: [system, event] pairs (only of `systems`, when given and the source can narrow its listing). */
  listEvents(systems?: ReadonlySet<string>): [string, string][];
  /** Text of events/<system>/<event>/format. */
  readFormat(system: string, event: string): string;
  /**
   * The first bytes of events/<system>/<event>/format, at least its name
   * and ID lines when they are there (optional: readFormat is used instead).
   */
  readFormatHead?(system: string, event: string): string;
  /** Text of a file relative to the root (events/header_page, printk_formats...), or null if absent. */
  readOptional(relative: string): string | null;
  /** Names in a directory relative to the root (options/), or [] (optional: virtual sources may not list). */
  listDir?(relative: string): string[];
}

/** Names of system and event directories we accept (no path tricks). */
const DIR_NAME = /^[A-Za-z0-9_.:+-]{1,256}$/;
/** Largest format file read (a hostile capture could hold anything). */
const MAX_FILE = 8 << 20;
/** Bytes of a format file read to index it: its name and ID lines come first. */
const FORMAT_HEAD_BYTES = 1024;

/**
 * One read buffer for every file: a fresh 64 KiB buffer per file (a
 * thousand format files per load) was tens of MB of garbage per load.
 */
let readBuffer: Buffer | null = null;

/** Reads a file whole (or its first `limit` bytes), refusing files over MAX_FILE. */
function readBounded(file: string, limit = Number.POSITIVE_INFINITY): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = (readBuffer ??= Buffer.allocUnsafe(65536));
    const spilled: Buffer[] = [];
    let used = 0;
    let total = 0;
    // Until end of file: tracefs files come in page-sized short reads.
    while (total < limit) {
      if (used === buf.length) {
        spilled.push(Buffer.from(buf));
        used = 0;
      }
      const n = fs.readSync(fd, buf, used, Math.min(buf.length - used, limit - total), null);
      if (n <= 0) break;
      used += n;
      total += n;
      if (total > MAX_FILE) throw new MalformedInputError(`${file}: larger than ${MAX_FILE} bytes`);
    }
    if (spilled.length === 0) return buf.toString('utf8', 0, used);
    spilled.push(buf.subarray(0, used));
    return Buffer.concat(spilled).toString('utf8');
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
  listEvents(systems?: ReadonlySet<string>): [string, string][] {
    const events = path.join(this.root, 'events');
    const out: [string, string][] = [];
    // Only the systems asked for, when told: the live tracefs has ~100, each a directory to list.
    const names =
      systems === undefined
        ? fs
            .readdirSync(events, { withFileTypes: true })
            .filter((d) => d.isDirectory())
            .map((d) => d.name)
        : [...systems];
    for (const system of names) {
      if (!DIR_NAME.test(system)) continue;
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(path.join(events, system), { withFileTypes: true });
      } catch {
        continue; // not there, or removed meanwhile (module unload)
      }
      for (const ev of entries) {
        if (ev.isDirectory() && DIR_NAME.test(ev.name)) out.push([system, ev.name]);
      }
    }
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  }

  readFormat(system: string, event: string): string {
    if (!DIR_NAME.test(system) || !DIR_NAME.test(event)) throw new MalformedInputError(`invalid event name ${system}/${event}`);
    return readBounded(path.join(this.root, 'events', system, event, 'format'));
  }

  readFormatHead(system: string, event: string): string {
    if (!DIR_NAME.test(system) || !DIR_NAME.test(event)) throw new MalformedInputError(`invalid event name ${system}/${event}`);
    return readBounded(path.join(this.root, 'events', system, event, 'format'), FORMAT_HEAD_BYTES);
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

/** A format file indexed by its head, parsed on first use. */
interface Pending {
  readonly system: string;
  readonly event: string;
  /** The whole text when it had to be read to find the ID (sources without readFormatHead). */
  readonly text: string | null;
}

const ID_LINE = /^ID:\s*([0-9]{1,5})\s*$/m;

/** The ID line's value, if there is one and it fits 16 bits. */
function idOf(text: string): number | null {
  const m = ID_LINE.exec(text);
  return m !== null && Number(m[1]) <= 0xffff ? Number(m[1]) : null;
}

/** Event formats by id, loaded from format files (on demand, and reloaded when an unknown id appears). */
export class EventRegistry {
  readonly source: FormatSource;
  #byId = new Map<number, EventFormat>();
  #byName = new Map<string, EventFormat>();
  /** Indexed, not yet parsed: by id, and by "system/event" (directory names). */
  #pending = new Map<number, Pending>();
  #pendingByName = new Map<string, number>();
  /** Files whose ID could not be read from their head: parsed in full by #parseAll(). */
  #unindexed: Pending[] = [];
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

  /** Format files that could not be parsed (parses every format). */
  get failures(): readonly FormatFailure[] {
    this.#parseAll();
    return this.#failures;
  }

  /** Formats loaded (parses every format). */
  get size(): number {
    this.#parseAll();
    return this.#byId.size;
  }

  /**
   * (Re)indexes every format file: reads each one's head for its ID (the
   * formats are parsed on first use). I/O errors of single files become
   * failures; a missing events/ throws.
   */
  load(): void {
    const pageText = this.source.readOptional('events/header_page');
    const eventText = this.source.readOptional('events/header_event');
    this.#headerPage = pageText !== null ? parseHeaderPage(pageText, 'events/header_page') : null;
    this.#headerEvent = eventText !== null ? parseHeaderEvent(eventText, 'events/header_event') : null;
    const pending = new Map<number, Pending>();
    const pendingByName = new Map<string, number>();
    const unindexed: Pending[] = [];
    const failures: FormatFailure[] = [];
    const source = this.source;
    for (const [system, event] of source.listEvents(this.#systems ?? undefined)) {
      if (this.#systems !== null && !this.#systems.has(system)) continue;
      let id: number | null = null;
      let text: string | null = null;
      try {
        if (source.readFormatHead !== undefined) id = idOf(source.readFormatHead(system, event));
        if (id === null) {
          text = source.readFormat(system, event);
          id = idOf(text);
        }
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') continue; // directories without a format file (or removed meanwhile)
        failures.push({ system, event, id: null, error: error as Error });
        continue;
      }
      const entry: Pending = { system, event, text };
      if (id === null) {
        unindexed.push(entry); // no ID line: parsing it says why
        continue;
      }
      const clash = pending.get(id);
      if (clash !== undefined) {
        // The first one listed keeps the id, as an eager load kept it.
        const error = new MalformedInputError(`events/${system}/${event}/format: ID ${id} is also used by ${clash.system}/${clash.event}`);
        failures.push({ system, event, id, error });
        continue;
      }
      pending.set(id, entry);
      pendingByName.set(`${system}/${event}`, id);
    }
    this.#byId = new Map();
    this.#byName = new Map();
    this.#pending = pending;
    this.#pendingByName = pendingByName;
    this.#unindexed = unindexed;
    this.#failures = failures;
    this.#failedIds = new Map();
    this.#unknown.clear();
    this.#generation++;
  }

  /** Parses the pending format of `id`; its failure is kept (status 'malformed'). */
  #parse(id: number): EventFormat | undefined {
    const entry = this.#pending.get(id);
    if (entry === undefined) return undefined;
    this.#pending.delete(id);
    this.#pendingByName.delete(`${entry.system}/${entry.event}`);
    const { system, event } = entry;
    let text = entry.text;
    try {
      text ??= this.source.readFormat(system, event);
    } catch (error) {
      // Gone since it was indexed (a module unloaded): unknown, as if never listed.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      this.#fail({ system, event, id, error: error as Error });
      return undefined;
    }
    try {
      const f = parseFormatFile(text, { system, longSize: this.longSize, source: `events/${system}/${event}/format` });
      if (f.id !== id) throw new MalformedInputError(`events/${system}/${event}/format: ID ${f.id} changed from ${id} since it was indexed`);
      this.#byId.set(id, f);
      this.#byName.set(`${system}/${f.name}`, f);
      return f;
    } catch (error) {
      this.#fail({ system, event, id, error: error as Error });
      return undefined;
    }
  }

  #fail(failure: FormatFailure): void {
    this.#failures.push(failure);
    if (failure.id !== null && !this.#byId.has(failure.id)) this.#failedIds.set(failure.id, failure);
  }

  /** Parses every pending format (what an eager load did). */
  #parseAll(): void {
    for (const id of [...this.#pending.keys()]) this.#parse(id);
    const unindexed = this.#unindexed;
    this.#unindexed = [];
    for (const { system, event, text } of unindexed) {
      try {
        const f = parseFormatFile(text ?? this.source.readFormat(system, event), {
          system,
          longSize: this.longSize,
          source: `events/${system}/${event}/format`,
        });
        // Parsed without an ID line it could not be (parseFormatFile requires one); kept for safety.
        if (this.#byId.has(f.id)) throw new MalformedInputError(`events/${system}/${event}/format: ID ${f.id} is used twice`);
        this.#byId.set(f.id, f);
        this.#byName.set(`${system}/${f.name}`, f);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        this.#failures.push({ system, event, id: null, error: error as Error });
      }
    }
  }

  /** The format of `id`, without reloading. */
  get(id: number): EventFormat | undefined {
    return this.#byId.get(id) ?? this.#parse(id);
  }

  /** The format of system/name. */
  find(system: string, name: string): EventFormat | undefined {
    const key = `${system}/${name}`;
    const found = this.#byName.get(key);
    if (found !== undefined) return found;
    const id = this.#pendingByName.get(key);
    if (id !== undefined) {
      const f = this.#parse(id);
      if (f !== undefined && f.name === name) return f;
    }
    // A format whose name line differs from its directory's name.
    if (this.#pending.size === 0 && this.#unindexed.length === 0) return this.#byName.get(key);
    this.#parseAll();
    return this.#byName.get(key);
  }

  /** Every format (parses them all). */
  formats(): IterableIterator<EventFormat> {
    this.#parseAll();
    return this.#byId.values();
  }

  /**
   * The format of `id`. An unknown id reloads the formats once (at most one
   * reload per interval); an id still unknown afterwards is remembered and
   * answered "unknown" without further reloads. Never throws.
   */
  lookup(id: number): EventLookup {
    const f = this.get(id);
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
        const again = this.get(id);
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
