// Several format sources seen as one: a kernel's events/ directory and the
// schema areas of application rings, so a single registry (and renderer)
// decodes a merged timeline.

import type { FormatSource } from './registry.js';

export class UnionFormatSource implements FormatSource {
  readonly label: string;
  readonly #sources: readonly FormatSource[];

  constructor(sources: readonly FormatSource[]) {
    this.#sources = sources;
    this.label = sources.map((s) => s.label).join(' + ');
  }

  listEvents(): [string, string][] {
    return this.#sources.flatMap((s) => s.listEvents());
  }

  readFormat(system: string, event: string): string {
    let last: unknown;
    for (const s of this.#sources) {
      if (!s.listEvents().some(([sys, ev]) => sys === system && ev === event)) continue;
      try {
        return s.readFormat(system, event);
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
