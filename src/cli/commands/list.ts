// tracering list [-e [REGEX]] [-F [--full]] [-o] [-C] [-t] [-B NAME]: what
// the kernel offers, as trace-cmd list prints it: events (with their
// format under -F), options, clocks, tracers, instances.

import fs from 'node:fs';
import { availableEvents } from '../../kernel/event-select.js';
import type { TraceArray } from '../../kernel/trace-array.js';
import { Tracefs } from '../../kernel/tracefs.js';
import type { CommandScope } from '../command-scope.js';
import { UsageError, parseCommandArgs } from '../usage.js';

export const usage = `usage: tracering list [-e [REGEX]] [-F [--full]] [-o] [-C] [-t] [-B NAME] [--instances]

Lists what the kernel offers, as trace-cmd list does. Without a selection,
events, tracers and options.

  -e [REGEX]   events (system:event), those matching REGEX if given
  -F           with -e: each event's format
  --full       with -F: include the print fmt
  -o           trace options (no-prefixed when off)
  -C           trace clocks, the active one in brackets
  -t           tracers
  --instances  tracefs instances
  -B NAME      an existing instance's options, clocks and events (not created)
  --tracefs DIR  tracefs mount point`;

function compileRegex(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw new UsageError(`-e ${JSON.stringify(pattern)}: not a regular expression: ${(error as Error).message}`);
  }
}

function eventsText(array: TraceArray, regex: RegExp | null, formats: boolean, full: boolean): string {
  let out = '';
  for (const [system, events] of availableEvents(array)) {
    for (const event of events) {
      const name = `${system}:${event}`;
      if (regex !== null && !regex.test(name)) continue;
      if (!formats) {
        out += `${name}\n`;
        continue;
      }
      let text: string;
      try {
        text = fs.readFileSync(array.file(`events/${system}/${event}/format`), 'utf8');
      } catch {
        continue;
      }
      if (!full) text = text.replace(/\nprint fmt:[^\n]*\n?/, '\n');
      out += `system: ${system}\n${text.endsWith('\n') ? text : `${text}\n`}\n`;
    }
  }
  return out;
}

export async function run(argv: string[], _scope: CommandScope): Promise<number> {
  // -e takes an optional REGEX: `-e` alone, or `-e PATTERN`.
  const args = [...argv];
  let regex: RegExp | null = null;
  let wantEvents = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== '-e') continue;
    wantEvents = true;
    const next = args[i + 1];
    if (next !== undefined && !next.startsWith('-')) {
      regex = compileRegex(next);
      args.splice(i, 2);
    } else args.splice(i, 1);
    i--;
  }
  const { values, positionals } = parseCommandArgs(
    args,
    {
      formats: { type: 'boolean', short: 'F' },
      full: { type: 'boolean' },
      options: { type: 'boolean', short: 'o' },
      clocks: { type: 'boolean', short: 'C' },
      tracers: { type: 'boolean', short: 't' },
      instances: { type: 'boolean' },
      instance: { type: 'string', short: 'B' },
      tracefs: { type: 'string' },
    },
    usage,
  );
  if (positionals.length > 0) throw new UsageError(`unexpected ${JSON.stringify(positionals[0])}\n\n${usage}`);
  const tracefs = Tracefs.locate(values.tracefs === undefined ? {} : { root: values.tracefs });
  const array = values.instance === undefined ? tracefs.topLevel : tracefs.openInstance(values.instance, { create: false });
  const any = wantEvents || values.options || values.clocks || values.tracers || values.instances;
  let out = '';
  if (!any) {
    out += `events:\n${eventsText(array, null, false, false)}\ntracers:\n${array.readText('available_tracers')}\noptions:\n${array.readText('trace_options')}`;
  } else {
    if (wantEvents || values.formats) out += eventsText(array, regex, values.formats === true, values.full === true);
    if (values.tracers) out += array.readText('available_tracers');
    if (values.options) out += array.readText('trace_options');
    if (values.clocks) out += array.readText('trace_clock');
    if (values.instances) out += tracefs.instances().map((n) => `${n}\n`).join('');
  }
  process.stdout.write(out);
  return 0;
}
