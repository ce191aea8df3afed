// Event selectors as trace-cmd takes them (`-e`): "system", "system:event",
// a bare event name from any system, globs in either part
// ("sched:sched_wak*", "*:*_exit"), and "all". Resolved against the events
// a trace array offers, so a misspelt name fails before tracing starts.

import fs from 'node:fs';
import { EventNotFoundError, InvalidArgumentError } from '../errors.js';
import type { TraceArray } from './trace-array.js';

const PART = /^[A-Za-z0-9_.+*?\[\]!-]+$/;

/** One event: its system and name. */
export interface EventRef {
  readonly system: string;
  readonly event: string;
}

/** A selector resolved against the events a trace array offers. */
export interface ResolvedSelector {
  /** What the user typed. */
  readonly spec: string;
  /** A whole system ("sched"), or null when the selector names events. */
  readonly system: string | null;
  /** Every event it covers. */
  readonly events: readonly EventRef[];
}

/** fnmatch(3)-style glob (`*`, `?`, `[...]`) as a RegExp. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close < 0) throw new InvalidArgumentError(`unclosed [ in event selector ${JSON.stringify(glob)}`);
      let set = glob.slice(i + 1, close);
      if (set.startsWith('!')) set = `^${set.slice(1)}`;
      re += `[${set.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const isGlob = (s: string) => /[*?[]/.test(s);

/** The events of one system's directory, sorted; null when it is not there. */
function systemEvents(root: string, system: string): string[] | null {
  try {
    return fs
      .readdirSync(`${root}/${system}`, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return null; // not a system, or a module went away meanwhile
  }
}

/** The events a trace array offers, by system. */
export function availableEvents(array: TraceArray): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const root = array.file('events');
  let systems: fs.Dirent[];
  try {
    systems = fs.readdirSync(root, { withFileTypes: true });
  } catch (error) {
    throw new EventNotFoundError(`cannot list ${root}: ${(error as Error).message}`, { cause: error });
  }
  for (const s of systems) {
    if (!s.isDirectory()) continue;
    const events = systemEvents(root, s.name);
    if (events !== null) out.set(s.name, events);
  }
  return new Map([...out].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
}

/**
 * When every selector names its system without a glob ("sched",
 * "sched:sched_switch"), only those systems' events, listed directly: the
 * full listing reads ~100 directories. Null when some selector needs it
 * (globs, all, a bare event name: a name that is no system's directory).
 */
function namedSystemsOnly(array: TraceArray, specs: readonly string[]): Map<string, string[]> | null {
  const systems = new Set<string>();
  for (const spec of specs) {
    const parts = spec.split(':');
    if (spec === 'all' || parts.length > 2 || parts.some((p) => p === '' || !PART.test(p) || isGlob(p))) return null;
    systems.add(parts[0]!);
  }
  const root = array.file('events');
  const out = new Map<string, string[]>();
  for (const system of [...systems].sort()) {
    const events = systemEvents(root, system);
    if (events === null) return null;
    out.set(system, events);
  }
  return out;
}

/** Resolves one selector; throws EventNotFoundError when it matches nothing. */
export function resolveSelector(spec: string, available: Map<string, string[]>): ResolvedSelector {
  if (spec === 'all') {
    return { spec, system: null, events: [...available].flatMap(([system, evs]) => evs.map((event) => ({ system, event }))) };
  }
  const parts = spec.split(':');
  if (parts.length > 2 || parts.some((p) => p === '' || !PART.test(p))) {
    throw new InvalidArgumentError(`bad event selector ${JSON.stringify(spec)} (system, system:event, an event name, globs or all)`);
  }
  if (parts.length === 1) {
    const [name] = parts as [string];
    if (!isGlob(name) && available.has(name)) {
      return { spec, system: name, events: available.get(name)!.map((event) => ({ system: name, event })) };
    }
    // A bare event name (or glob) from any system; a glob may name systems too.
    const re = globToRegExp(name);
    const events: EventRef[] = [];
    for (const [system, evs] of available) for (const event of evs) if (re.test(event)) events.push({ system, event });
    if (events.length === 0 && isGlob(name)) {
      for (const [system, evs] of available) if (re.test(system)) for (const event of evs) events.push({ system, event });
    }
    if (events.length === 0) throw notFound(spec, available);
    return { spec, system: null, events };
  }
  const [sysPart, evPart] = parts as [string, string];
  const sysRe = globToRegExp(sysPart);
  const systems = [...available.keys()].filter((s) => sysRe.test(s));
  if (evPart === '*' && systems.length === 1 && !isGlob(sysPart)) {
    const system = systems[0]!;
    return { spec, system, events: available.get(system)!.map((event) => ({ system, event })) };
  }
  const evRe = globToRegExp(evPart);
  const events: EventRef[] = [];
  for (const system of systems) for (const event of available.get(system)!) if (evRe.test(event)) events.push({ system, event });
  if (events.length === 0) throw notFound(spec, available);
  return { spec, system: null, events };
}

function notFound(spec: string, available: Map<string, string[]>): EventNotFoundError {
  const needle = spec.split(':').pop()!.replace(/[*?[\]!]/g, '').toLowerCase();
  const near: string[] = [];
  if (needle.length >= 3) {
    for (const [system, evs] of available) {
      if (system.includes(needle)) near.push(system);
      for (const e of evs) if (e.includes(needle)) near.push(`${system}:${e}`);
      if (near.length >= 5) break;
    }
  }
  const hint = near.length > 0 ? ` (did you mean ${near.slice(0, 5).join(', ')}?)` : '';
  return new EventNotFoundError(`no event matches ${JSON.stringify(spec)} in this kernel${hint}`);
}

/** Resolves every selector against the array's events. */
export function resolveSelectors(array: TraceArray, specs: readonly string[]): ResolvedSelector[] {
  const available = namedSystemsOnly(array, specs) ?? availableEvents(array);
  return specs.map((s) => resolveSelector(s, available));
}

/** The systems covered by the resolved selectors (for loading formats early). */
export function systemsOf(selectors: readonly ResolvedSelector[]): string[] {
  return [...new Set(selectors.flatMap((s) => s.events.map((e) => e.system)))].sort();
}
