// A FormatSource held in memory: a snapshot of another thread's files
// (format files, header_page, saved_cmdlines...), taken when a sink opens
// and updated as the owner sends fresher copies of the files that change.

import type { FormatSource } from '../../../decode/registry.js';

export interface SourceSnapshot {
  readonly label: string;
  /** [system, event, format text]. */
  readonly formats: ReadonlyArray<readonly [string, string, string]>;
  /** Other files by relative path (null: absent). */
  readonly files: Readonly<Record<string, string | null>>;
}

/** Files a registry and the task lookup read (besides the format files). */
export const SNAPSHOT_FILES = ['events/header_page', 'events/header_event', 'trace_clock', 'saved_cmdlines', 'saved_tgids'];

/** The root-level files only (no format files). */
export function takeFiles(source: FormatSource): SourceSnapshot {
  const files: Record<string, string | null> = {};
  for (const path of SNAPSHOT_FILES) files[path] = source.readOptional(path);
  return { label: source.label, formats: [], files };
}

export function takeSnapshot(source: FormatSource, extra: readonly string[] = []): SourceSnapshot {
  const formats: Array<readonly [string, string, string]> = [];
  for (const [system, event] of source.listEvents()) {
    try {
      formats.push([system, event, source.readFormat(system, event)]);
    } catch {
      // removed meanwhile (module unload), or unreadable: the registry would skip it too
    }
  }
  const files: Record<string, string | null> = {};
  for (const path of [...SNAPSHOT_FILES, ...extra]) files[path] = source.readOptional(path);
  return { label: source.label, formats, files };
}

export class MemorySource implements FormatSource {
  readonly label: string;
  readonly #formats = new Map<string, string>();
  readonly #events: [string, string][] = [];
  readonly #files = new Map<string, string | null>();

  constructor(snapshot: SourceSnapshot) {
    this.label = snapshot.label;
    for (const [system, event, text] of snapshot.formats) {
      this.#formats.set(`${system}/${event}`, text);
      this.#events.push([system, event]);
    }
    this.update(snapshot.files);
  }

  /** The format files of a newer snapshot (an application ring defined more events). */
  replaceFormats(snapshot: SourceSnapshot): void {
    this.#formats.clear();
    this.#events.length = 0;
    for (const [system, event, text] of snapshot.formats) {
      this.#formats.set(`${system}/${event}`, text);
      this.#events.push([system, event]);
    }
  }

  /** Newer copies of some files. */
  update(files: Readonly<Record<string, string | null>>): void {
    for (const [path, text] of Object.entries(files)) this.#files.set(path, text);
  }

  listEvents(): [string, string][] {
    return this.#events.map(([s, e]) => [s, e]);
  }

  readFormat(system: string, event: string): string {
    const text = this.#formats.get(`${system}/${event}`);
    if (text === undefined) throw Object.assign(new Error(`no format for ${system}/${event}`), { code: 'ENOENT' });
    return text;
  }

  readOptional(relative: string): string | null {
    return this.#files.get(relative) ?? null;
  }
}
