// tracering reset [-B NAME]... [--all-abandoned]: like trace-cmd reset,
// limited to instances (the top-level buffer belongs to the system).
// Without -B, removes the instances tracering runs created and could not
// remove because they were killed. With -B NAME: tracing off, every event
// and filter off, PID filters and the buffer cleared; the instance is
// removed too if a dead tracering run created it, or with --remove.

import { InvalidArgumentError } from '../../errors.js';
import { Tracefs } from '../../kernel/tracefs.js';
import type { CommandScope } from '../command-scope.js';
import { printJson } from '../format.js';
import { UsageError, parseCommandArgs } from '../usage.js';

export const usage = `usage: tracering reset [-B NAME]... [--remove] [--json]

Without -B: removes instances left behind by killed tracering runs.
With -B NAME: resets the instance (tracing off, events and filters off,
set_event_pid emptied, buffer cleared); --remove removes it as well.
Never touches the top-level buffer.

  -B NAME      an instance to reset (repeatable)
  --remove     remove the instances named by -B
  --json       print what was done as JSON
  --tracefs DIR  tracefs mount point`;

export async function run(argv: string[], _scope: CommandScope): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      instance: { type: 'string', short: 'B', multiple: true },
      remove: { type: 'boolean' },
      json: { type: 'boolean' },
      tracefs: { type: 'string' },
    },
    usage,
  );
  if (positionals.length > 0) throw new UsageError(`unexpected ${JSON.stringify(positionals[0])}\n\n${usage}`);
  const tracefs = Tracefs.locate(values.tracefs === undefined ? {} : { root: values.tracefs });
  const done: Array<{ instance: string; action: string; error?: string }> = [];
  for (const r of tracefs.removeAbandonedInstances()) {
    done.push({ instance: r.name, action: r.removed ? `removed (left by killed pid ${r.pid})` : 'could not remove', ...(r.error ? { error: r.error } : {}) });
  }
  for (const name of values.instance ?? []) {
    if (!tracefs.instanceExists(name)) throw new InvalidArgumentError(`no tracefs instance ${name}`);
    const inst = tracefs.openInstance(name, { create: false });
    inst.tracingOn = false;
    inst.disableAllEvents();
    for (const system of inst.eventSystems()) {
      try {
        inst.writeText(`events/${system}/filter`, '0');
      } catch {
        // systems without a filter file
      }
    }
    inst.writeText('set_event_pid', '');
    inst.clear();
    if (values.remove || inst.created) {
      inst.remove();
      done.push({ instance: name, action: inst.adoptedFrom ? `reset and removed (left by killed pid ${inst.adoptedFrom.pid})` : 'reset and removed' });
    } else {
      inst.tracingOn = true;
      done.push({ instance: name, action: 'reset' });
    }
  }
  if (values.json) printJson({ done });
  else for (const d of done) process.stdout.write(`${d.instance}: ${d.action}${d.error ? ` (${d.error})` : ''}\n`);
  return 0;
}
