// tracering top [-B NAME] [-e EVENT [-f FILTER]]... [--ring PATH]...: a live
// full-screen view of the buffers while tracing: per-CPU rates, ring fill,
// losses (in red, never hidden), the top events and tasks. Without a
// terminal: --once (one frame as text) or --json (a line per interval).

import { OUTPUT_NICE_STEPS } from '../../capture/capture.js';
import type { StagingPolicy } from '../../capture/staging-ring.js';
import type { CommandScope } from '../command-scope.js';
import { eventRequests, liveOptions, liveUsage } from '../live-options.js';
import { recordLive } from '../live-session.js';
import { UsageError, parseChoice, parseCommandArgs, parseSeconds } from '../usage.js';

export const usage = `usage: tracering top [-B NAME] [-e EVENT [-f FILTER]]... [--ring PATH]... [-d SECONDS]
                     [--once | --json] [--mode auto|mmap|read] [--duration S]

A live view of the trace buffers, refreshed every second: per CPU events/s,
MB/s, ring fill and what was lost and dropped (from the kernel's counters),
the top events or tasks, and a minute of history. Keys: q quit, p pause,
z zero, s sort, e events, t tasks, ? help. Without -B it traces a private
instance.

  -B NAME          view instance NAME (created if absent, removed at exit if created)
  -e EVENT         system, system:event, an event name, a glob, or all (repeatable; default sched)
  -f FILTER        a kernel filter for the -e before it
  --ring PATH      also show an application ring (repeatable)
  -d SECONDS       refresh interval (default 1)
  --once           print one frame as plain text and exit (no terminal needed)
  --json           print one JSON line per interval (no terminal needed)
  --mode M         mmap, read or auto (default)
  --duration S     stop after S seconds
${liveUsage}`;

export async function run(argv: string[], scope: CommandScope): Promise<number> {
  const { values } = parseCommandArgs(argv, liveOptions, usage);
  const events = eventRequests(argv);
  if (values.once && values.json) throw new UsageError('--once and --json exclude each other');
  const output = values.once ? 'once' : values.json ? 'json' : 'screen';
  const interval = parseSeconds(values.delay, '-d');
  const durationMs = parseSeconds(values.duration, '--duration');
  const mode = parseChoice(values.mode, '--mode', ['auto', 'mmap', 'read'] as const, 'auto');
  const policy: StagingPolicy = parseChoice(values['staging-policy'], '--staging-policy', ['drop-oldest', 'block'] as const, 'drop-oldest');
  const { summary } = await recordLive(
    {
      ...(values.tracefs !== undefined ? { tracefs: values.tracefs } : {}),
      ...(values.instance !== undefined ? { instance: values.instance } : {}),
      events: events.length > 0 ? events : [{ event: 'sched' }],
      rings: values.ring ?? [],
      mode,
      clear: false,
      sinks: [],
      staging: { policy },
      yieldToCapture: OUTPUT_NICE_STEPS,
      onNote: (n) => process.stderr.write(`tracering: ${n}\n`),
    },
    {
      output,
      signal: scope.signal,
      ...(interval !== undefined ? { intervalMs: interval } : {}),
      ...(durationMs !== undefined ? { durationMs } : {}),
    },
  );
  void summary;
  return 0;
}
