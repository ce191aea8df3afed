// tracering stream [-B NAME] -e EVENT... [--json]: enables events and
// streams every CPU merged by time, as the kernel's text (with trace_pipe's
// loss markers) or JSON Lines, until Ctrl-C or --duration.

import { TraceSource } from '../../kernel/trace-source.js';
import { Tracefs } from '../../kernel/tracefs.js';
import { loadDecodeContext } from '../../output/decode-context.js';
import { TimelineRenderer } from '../../output/report.js';
import type { CommandScope } from '../command-scope.js';
import { stdoutWriter } from '../format.js';
import { openTarget, targetOptions, targetUsage } from '../target.js';
import { UsageError, parseChoice, parseCommandArgs, parseSeconds } from '../usage.js';

export const usage = `usage: tracering stream [-B NAME] -e EVENT... [--json] [--mode M] [--duration S]

Streams events from every CPU, merged by timestamp, as the kernel's text or
JSON Lines, until Ctrl-C (or S seconds). Events this command enables are
disabled again when it exits.

${targetUsage}
  -e EVENT        system:event or system (repeatable)
  --json          JSON Lines with typed fields
  --mode M        mmap, read or auto (default)
  --duration S    stop after S seconds
  --kallsyms FILE kernel symbols (default /proc/kallsyms)`;

export async function run(argv: string[], scope: CommandScope): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    {
      ...targetOptions,
      event: { type: 'string', short: 'e', multiple: true },
      json: { type: 'boolean' },
      mode: { type: 'string' },
      duration: { type: 'string' },
      kallsyms: { type: 'string' },
    },
    usage,
  );
  const events = values.event ?? [];
  if (events.length === 0) throw new UsageError(`stream needs at least one -e EVENT\n\n${usage}`);
  const mode = parseChoice(values.mode, '--mode', ['auto', 'mmap', 'read'] as const, 'auto');
  const durationMs = parseSeconds(values.duration, '--duration');
  const array = openTarget(values, scope);
  const root = Tracefs.locate(values.tracefs === undefined ? {} : { root: values.tracefs }).root;

  array.enableEvents(events);
  scope.defer(() => array.disableEvents(events));
  const source = TraceSource.open(array, { mode });
  scope.defer(() => source.close());
  const ctx = loadDecodeContext({
    root,
    array: array.path,
    ...(values.kallsyms !== undefined ? { kallsyms: values.kallsyms } : {}),
  });
  const renderer = new TimelineRenderer(source.readers, ctx, { format: values.json ? 'json' : 'text', write: stdoutWriter() });
  const ended = await source.watch({
    onReady: () => renderer.run(),
    signal: scope.signal,
    ...(durationMs !== undefined ? { durationMs } : {}),
  });
  if (ended === 'stopped') renderer.run();
  return 0;
}
