// The top-level buffer's settings, saved before trace-cmd record runs and
// put back afterwards: trace-cmd touches the top-level buffer even with -B
// (it resets it, disables its events, rewrites its options and filters).
// Its contents cannot be saved; nothing else may use it (the project's rule),
// so only the settings matter.
//
// A saved copy also goes to a file before trace-cmd starts; a run killed
// with SIGKILL leaves it, and the next run restores from it first.
//
// Alone: `node --import tsx bench/record/toplevel.ts save|restore|diff FILE`.

import fs from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Plain settings files of the top level, restored by writing back what was read (order matters: see restore). */
const SCALARS = [
  'current_tracer',
  'trace_clock',
  'tracing_cpumask',
  'buffer_percent',
  'buffer_subbuf_size_kb',
  'saved_cmdlines_size',
  'tracing_thresh',
] as const;
/** List files: saved line by line, restored by truncating then appending each line. */
const LISTS = ['set_event_pid', 'set_event_notrace_pid', 'set_ftrace_pid', 'set_ftrace_notrace_pid'] as const;
const SYSCTLS = ['/proc/sys/kernel/kptr_restrict'] as const;

export interface TopLevelState {
  root: string;
  /** Event systems whose filters and triggers were read ('all', or a list). */
  systems: readonly string[] | 'all';
  /** Events whose filter and trigger files were read. */
  eventsScanned: number;
  /** Kernel settings outside tracefs that trace-cmd writes (kptr_restrict: lowered to read kallsyms, then put back). */
  sysctls: Record<string, string>;
  scalars: Record<string, string>;
  lists: Record<string, string[]>;
  /** options/NAME -> "0" | "1". */
  options: Record<string, string>;
  /** Per CPU buffer_size_kb ("7 (expanded: 1408)" keeps only the number). */
  cpuBufferKb: Record<string, string>;
  /** Enabled events, as set_event lists them ("system:event"). */
  setEvent: string[];
  /** "system/event" -> filter text, for events with a filter set. */
  filters: Record<string, string>;
  /** "system/event" -> trigger lines, for events with triggers. */
  triggers: Record<string, string[]>;
  tracingOn: string;
}

function read(root: string, rel: string): string | null {
  try {
    return fs.readFileSync(join(root, rel), 'utf8');
  } catch {
    return null;
  }
}

function write(root: string, rel: string, value: string, flag: 'w' | 'a' = 'w'): string | null {
  try {
    fs.writeFileSync(join(root, rel), value, { flag });
    return null;
  } catch (error) {
    return `${rel} <- ${JSON.stringify(value.slice(0, 80))}: ${(error as Error).message}`;
  }
}

const lines = (text: string | null) => (text ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
/** buffer_size_kb reads "7 (expanded: 1408)" or "1408"; the number is what was set. */
const firstWord = (text: string | null) => (text ?? '').trim().split(/\s+/)[0] ?? '';

/** Every event directory of `systems`: "system/event". */
function eventDirs(root: string, systems: readonly string[] | 'all'): string[] {
  const out: string[] = [];
  const events = join(root, 'events');
  for (const sys of fs.readdirSync(events, { withFileTypes: true })) {
    if (!sys.isDirectory() || (systems !== 'all' && !systems.includes(sys.name))) continue;
    for (const ev of fs.readdirSync(join(events, sys.name), { withFileTypes: true })) {
      if (ev.isDirectory()) out.push(`${sys.name}/${ev.name}`);
    }
  }
  return out;
}

export function saveTopLevel(root: string, systems: readonly string[] | 'all' = 'all'): TopLevelState {
  const scalars: Record<string, string> = {};
  for (const f of SCALARS) {
    const v = read(root, f);
    if (v === null) continue;
    // current_tracer/trace_clock list choices; the bracketed one is set.
    scalars[f] = f === 'trace_clock' ? (/\[([^\]]+)\]/.exec(v)?.[1] ?? v.trim()) : v.trim();
  }
  const lists: Record<string, string[]> = {};
  for (const f of LISTS) {
    const v = read(root, f);
    if (v !== null) lists[f] = lines(v).filter((l) => l !== 'no pid');
  }
  const options: Record<string, string> = {};
  for (const name of fs.readdirSync(join(root, 'options'))) {
    const v = read(root, `options/${name}`);
    if (v !== null) options[name] = v.trim();
  }
  const cpuBufferKb: Record<string, string> = {};
  for (const cpu of fs.readdirSync(join(root, 'per_cpu'))) cpuBufferKb[cpu] = firstWord(read(root, `per_cpu/${cpu}/buffer_size_kb`));
  const filters: Record<string, string> = {};
  const triggers: Record<string, string[]> = {};
  const events = eventDirs(root, systems);
  for (const ev of events) {
    const f = (read(root, `events/${ev}/filter`) ?? 'none').trim();
    if (f !== 'none') filters[ev] = f;
    const t = lines(read(root, `events/${ev}/trigger`));
    if (t.length > 0) triggers[ev] = t;
  }
  const sysctls: Record<string, string> = {};
  for (const f of SYSCTLS) {
    const v = read('/', f);
    if (v !== null) sysctls[f] = v.trim();
  }
  return {
    root,
    systems,
    eventsScanned: events.length,
    sysctls,
    scalars,
    lists,
    options,
    cpuBufferKb,
    setEvent: lines(read(root, 'set_event')).sort(),
    filters,
    triggers,
    tracingOn: (read(root, 'tracing_on') ?? '').trim(),
  };
}

/** Puts `s` back; returns the writes the kernel refused (empty when all went through). */
export function restoreTopLevel(s: TopLevelState): string[] {
  const root = s.root;
  const errors: string[] = [];
  const w = (rel: string, v: string, flag: 'w' | 'a' = 'w') => {
    const e = write(root, rel, v, flag);
    if (e !== null) errors.push(e);
  };
  const now = saveTopLevel(root, s.systems);
  // Tracing off while settings change; its saved value comes back last.
  w('tracing_on', '0');
  if (now.scalars.current_tracer !== s.scalars.current_tracer && s.scalars.current_tracer !== undefined) w('current_tracer', s.scalars.current_tracer);
  for (const [f, v] of Object.entries(s.scalars)) {
    if (f === 'current_tracer' || now.scalars[f] === v) continue;
    w(f, v);
  }
  for (const [f, want] of Object.entries(s.lists)) {
    if (JSON.stringify(now.lists[f]) === JSON.stringify(want)) continue;
    w(f, '');
    for (const l of want) w(f, `${l}\n`, 'a');
  }
  for (const [name, v] of Object.entries(s.options)) if (now.options[name] !== v) w(`options/${name}`, v);
  // Sizes: the same everywhere -> buffer_size_kb once; else per CPU.
  const sizes = new Set(Object.values(s.cpuBufferKb));
  if (JSON.stringify(now.cpuBufferKb) !== JSON.stringify(s.cpuBufferKb)) {
    if (sizes.size === 1) w('buffer_size_kb', [...sizes][0]!);
    else for (const [cpu, kb] of Object.entries(s.cpuBufferKb)) w(`per_cpu/${cpu}/buffer_size_kb`, kb);
  }
  // Filters and triggers before the events come back on.
  for (const ev of new Set([...Object.keys(now.filters), ...Object.keys(s.filters)])) {
    const want = s.filters[ev];
    if (now.filters[ev] === want) continue;
    w(`events/${ev}/filter`, want ?? '0');
  }
  for (const ev of new Set([...Object.keys(now.triggers), ...Object.keys(s.triggers)])) {
    const want = s.triggers[ev] ?? [];
    const have = now.triggers[ev] ?? [];
    if (JSON.stringify(want) === JSON.stringify(have)) continue;
    for (const t of have) w(`events/${ev}/trigger`, `!${t.replace(/ if .*$/, '').replace(/:count=\d+|:unlimited/g, '')}`, 'a');
    for (const t of want) w(`events/${ev}/trigger`, t, 'a');
  }
  if (JSON.stringify(now.setEvent) !== JSON.stringify(s.setEvent)) {
    w('set_event', '');
    for (const e of s.setEvent) w('set_event', `${e}\n`, 'a');
  }
  for (const [f, v] of Object.entries(s.sysctls ?? {})) {
    if (now.sysctls[f] === v) continue;
    const e = write('/', f, v);
    if (e !== null) errors.push(e);
  }
  w('tracing_on', s.tracingOn);
  return errors;
}

/** Differences between two states, one line each ("" when equal). */
export function diffTopLevel(a: TopLevelState, b: TopLevelState): string[] {
  const out: string[] = [];
  const cmp = (what: string, x: unknown, y: unknown) => {
    if (JSON.stringify(x) !== JSON.stringify(y)) out.push(`${what}: ${JSON.stringify(x)} -> ${JSON.stringify(y)}`);
  };
  cmp('tracing_on', a.tracingOn, b.tracingOn);
  for (const k of new Set([...Object.keys(a.sysctls ?? {}), ...Object.keys(b.sysctls ?? {})])) cmp(k, a.sysctls?.[k], b.sysctls?.[k]);
  for (const k of new Set([...Object.keys(a.scalars), ...Object.keys(b.scalars)])) cmp(k, a.scalars[k], b.scalars[k]);
  for (const k of new Set([...Object.keys(a.lists), ...Object.keys(b.lists)])) cmp(k, a.lists[k], b.lists[k]);
  for (const k of new Set([...Object.keys(a.options), ...Object.keys(b.options)])) cmp(`options/${k}`, a.options[k], b.options[k]);
  for (const k of new Set([...Object.keys(a.cpuBufferKb), ...Object.keys(b.cpuBufferKb)])) cmp(`per_cpu/${k}/buffer_size_kb`, a.cpuBufferKb[k], b.cpuBufferKb[k]);
  cmp('set_event', a.setEvent, b.setEvent);
  for (const k of new Set([...Object.keys(a.filters), ...Object.keys(b.filters)])) cmp(`events/${k}/filter`, a.filters[k], b.filters[k]);
  for (const k of new Set([...Object.keys(a.triggers), ...Object.keys(b.triggers)])) cmp(`events/${k}/trigger`, a.triggers[k], b.triggers[k]);
  return out;
}

/** How many settings a state holds (for "N settings compared"). */
export function settingCount(s: TopLevelState): number {
  return (
    1 + Object.keys(s.sysctls ?? {}).length + Object.keys(s.scalars).length + Object.keys(s.lists).length + Object.keys(s.options).length +
    Object.keys(s.cpuBufferKb).length + 1 + Object.keys(s.filters).length + Object.keys(s.triggers).length
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [cmd, file] = process.argv.slice(2);
  const root = process.env.TRACEFS ?? '/sys/kernel/tracing';
  if (cmd === 'save' && file) fs.writeFileSync(file, JSON.stringify(saveTopLevel(root), null, 1));
  else if (cmd === 'restore' && file) {
    const errors = restoreTopLevel(JSON.parse(fs.readFileSync(file, 'utf8')) as TopLevelState);
    for (const e of errors) console.error(e);
  } else if (cmd === 'diff' && file) {
    for (const d of diffTopLevel(JSON.parse(fs.readFileSync(file, 'utf8')) as TopLevelState, saveTopLevel(root))) console.log(d);
  } else {
    console.error('usage: toplevel.ts save|restore|diff FILE');
    process.exitCode = 2;
  }
}
