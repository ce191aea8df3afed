// Several format sources seen as one: a kernel's events/ directory and the
// schema areas of application rings, so a single registry (and renderer)
// decodes a merged timeline.

import type { FormatSource } from './registry.js';

export class UnionFormatSource implements FormatSource {
  readonly label: string;
  readonly #sources: readonly FormatSource[];
  /**
   * "system NUL event" -> the sources that list it, in order, from the last
   * listEvents() (built on first need). Listing a kernel's events/ walks a
   * few thousand directories: once per (re)load, not once per format.
   */
  #owners: Map<string, FormatSource[]> | null = null;

  constructor(sources: readonly FormatSource[]) {
    this.#sources = sources;
    this.label = sources.map((s) => s.label).join(' + ');
  }

  listEvents(): [string, string][] {
    const owners = new Map<string, FormatSource[]>();
    const all: [string, string][] = [];
    for (const s of this.#sources) {
      for (const pair of s.listEvents()) {
        all.push(pair);
        const key = `${pair[0]}\0${pair[1]}`;
        const list = owners.get(key);
        if (list === undefined) owners.set(key, [s]);
        else list.push(s);
      }
    }
    this.#owners = owners;
    return all;
  }

  readFormat(system: string, event: string): string {
    return this.#first(system, event, (s) => s.readFormat(system, event));
  }

  /** The head of the format (what the registry indexes by), from the first source that lists it. */
  readFormatHead(system: string, event: string): string {
    return this.#first(system, event, (s) => (s.readFormatHead !== undefined ? s.readFormatHead(system, event) : s.readFormat(system, event)));
  }

  #first(system: string, event: string, read: (s: FormatSource) => string): string {
    if (this.#owners === null) this.listEvents();
    let last: unknown;
    for (const s of this.#owners?.get(`${system}\0${event}`) ?? []) {
      try {
        return read(s);
      } catch (error) {
        last = error;
      }
    }
    throw last ?? Object.assign(new Error(`no format for ${system}:${event}`), { code: 'ENOENT' });
  }

  /** The first source that has the file (the kernel's header_page comes first). */
  readOptional(relative: string): string | null {
    for (const s of this.#sources) {
      const text = s.readOptional(relative);
      if (text !== null) return text;
    }
    return null;
  }
}
