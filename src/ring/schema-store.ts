// The schema area of a ring: the format files of its event types,
// appended as [u32 length][text] records ("system: NAME\n" then the format
// file). Definitions are rare; a small lock word serialises appenders, and
// readers see a record once schemaEnd covers it.

import fs from 'node:fs';
import type { FormatSource } from '../decode/registry.js';
import { InvalidArgumentError, MalformedInputError } from '../errors.js';
import { CTRL, ctrlOffset } from '../layout/ring-control.js';
import { native } from '../native.js';
import type { RingControl } from './control.js';
import { APP_EVENT_ID_BASE, APP_EVENT_ID_MAX, HEADER_EVENT_TEXT, headerPageText } from './schema.js';

interface StoredFormat {
  system: string;
  name: string;
  text: string;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const LOCK = CTRL.schemaLock;
const MAX_EVENT_TYPES = APP_EVENT_ID_MAX - APP_EVENT_ID_BASE + 1;

/** Whether a thread id names a live thread (of any process: /proc/TID resolves for every thread). */
function threadExists(tid: number): boolean {
  return tid > 0 && fs.existsSync(`/proc/${tid}`);
}

export class SchemaStore implements FormatSource {
  readonly label: string;
  readonly #ctl: RingControl;
  readonly #start: number;
  readonly #capacity: number;
  /** The last parse, and the schemaEnd it covered. */
  #parsed: { end: number; list: StoredFormat[]; byName: Map<string, StoredFormat> } | null = null;

  constructor(ctl: RingControl, label: string) {
    this.#ctl = ctl;
    this.label = label;
    this.#start = ctrlOffset(ctl.geometry) + ctl.geometry.ctrlBytes;
    this.#capacity = ctl.geometry.schemaBytes;
  }

  /**
   * Every stored format, in definition order. The area only grows: what a
   * given end covers is parsed once (a registry asks once per event).
   */
  entries(): readonly StoredFormat[] {
    const end = this.#ctl.load(CTRL.schemaEnd);
    if (this.#parsed !== null && this.#parsed.end === end) return this.#parsed.list;
    if (end < 0 || end > this.#capacity) throw new MalformedInputError(`${this.label}: schema area end ${end} is out of range`);
    const bytes = this.#ctl.memory.bytes;
    const view = this.#ctl.memory.view;
    const list: StoredFormat[] = [];
    const byName = new Map<string, StoredFormat>();
    let at = 0;
    while (at + 4 <= end) {
      // Each record takes an event id: more records than ids is not a schema area.
      if (list.length === MAX_EVENT_TYPES) throw new MalformedInputError(`${this.label}: more than ${MAX_EVENT_TYPES} event formats`);
      const len = view.getUint32(this.#start + at, true);
      if (len === 0 || at + 4 + len > end) throw new MalformedInputError(`${this.label}: schema record at ${at} is cut short`);
      const text = decoder.decode(bytes.subarray(this.#start + at + 4, this.#start + at + 4 + len));
      const m = /^system: ([A-Za-z_][A-Za-z0-9_]*)\n/.exec(text);
      const name = /^name: (\S+)$/m.exec(text)?.[1];
      if (!m || !name) throw new MalformedInputError(`${this.label}: schema record at ${at} has no system or name`);
      const entry = { system: m[1] as string, name, text: text.slice(m[0].length) };
      list.push(entry);
      const key = `${entry.system}\0${name}`;
      if (!byName.has(key)) byName.set(key, entry);
      at += 4 + ((len + 3) & ~3);
    }
    this.#parsed = { end, list, byName };
    return list;
  }

  /** The id the next definition gets. */
  nextId(): number {
    return APP_EVENT_ID_BASE + this.entries().length;
  }

  /** Appends a format; `make(id)` builds it once the id is known (under the lock). */
  append<T extends { system: string; name: string; formatText: string }>(make: (id: number) => T): T {
    const ctl = this.#ctl;
    this.#lock(native.gettid());
    try {
      const existing = this.entries();
      const made = make(APP_EVENT_ID_BASE + existing.length);
      if (existing.some((e) => e.system === made.system && e.name === made.name)) {
        throw new InvalidArgumentError(`${made.system}:${made.name} is already defined in ${this.label}`);
      }
      const text = encoder.encode(`system: ${made.system}\n${made.formatText}`);
      const end = ctl.load(CTRL.schemaEnd);
      const next = end + 4 + ((text.length + 3) & ~3);
      if (next > this.#capacity) throw new InvalidArgumentError(`${this.label}: the schema area is full (${this.#capacity} bytes)`);
      ctl.memory.view.setUint32(this.#start + end, text.length, true);
      ctl.memory.bytes.set(text, this.#start + end + 4);
      ctl.store(CTRL.schemaEnd, next);
      return made;
    } finally {
      ctl.store(LOCK, 0);
    }
  }

  /**
   * Takes the appenders' lock (it holds the holder's thread id): a holder
   * that died is taken over, a live one waited for at most a second.
   */
  #lock(tid: number): void {
    const ctl = this.#ctl;
    let deadline = 0;
    for (let spins = 0; !ctl.cas(LOCK, 0, tid); spins++) {
      if (spins < 1000) continue;
      const holder = ctl.load(LOCK);
      if (holder === 0) continue;
      if (!threadExists(holder)) {
        if (ctl.cas(LOCK, holder, tid)) return;
        continue;
      }
      const now = Date.now();
      if (deadline === 0) deadline = now + 1000;
      else if (now > deadline) throw ctl.corrupt(`its schema area stays locked by thread ${holder}`);
      ctl.memory.wait(ctl.word(LOCK), holder, 1);
    }
  }

  // FormatSource: the ring seen as a tracefs events/ directory.
  listEvents(): [string, string][] {
    return this.entries().map((e) => [e.system, e.name]);
  }

  readFormat(system: string, event: string): string {
    this.entries();
    const found = this.#parsed?.byName.get(`${system}\0${event}`);
    if (!found) throw Object.assign(new Error(`no format for ${system}:${event}`), { code: 'ENOENT' });
    return found.text;
  }

  readOptional(relative: string): string | null {
    if (relative === 'events/header_page') return headerPageText(this.#ctl.geometry.subbufSize);
    if (relative === 'events/header_event') return HEADER_EVENT_TEXT;
    return null;
  }
}
