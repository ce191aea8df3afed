// tracering stream [-B NAME] [-e EVENT [-f FILTER]]... [--ring PATH...] [--json]:
// streams kernel events and application rings merged by time, as the
// kernel's text (with trace_pipe's loss markers) or JSON Lines, until
// Ctrl-C or --duration. Reading runs on its own thread: a slow output (a
// pipe read slowly) fills the staging memory, then loses pages there,
// counted and shown like the kernel's losses, instead of stalling reading.

import { OUTPUT_NICE_STEPS } from '../../capture/capture.js';
import type { StagingPolicy } from '../../capture/staging-ring.js';
import { FdWriter } from '../../output/fd-writer.js';
import { TimelineRenderer } from '../../output/report.js';
import { loadDecodeContext } from '../../output/decode-context.js';
import { record } from '../../pipeline/record.js';
import { TextSink } from '../../sinks/text-sink.js';
import type { CommandScope } from '../command-scope.js';
import { stdoutBytesWriter } from '../format.js';
import { eventRequests } from '../live-options.js';
import { summaryText } from '../progress.js';
import { openRings, ringUsage, waitForRings } from '../rings.js';
import { targetUsage } from '../target.js';
import { UsageError, parseChoice, parseCommandArgs, parseSeconds } from '../usage.js';

export const usage = `usage: tracering stream [-B NAME] [-e EVENT [-f FILTER]]... [--ring PATH...] [--json] [--mode M]
                        [--duration S] [--staging-mb N] [--staging-policy drop-oldest|block] [--summary]

Streams kernel events (-e) and application rings (--ring), merged by
timestamp, as the kernel's text or JSON Lines, until Ctrl-C (or S seconds).
Without -B it uses a private instance. On an instance that existed, the
settings it changes are put back at exit. With both -e and --ring, the
instance's clock must be mono (set on an instance this command creates).

${targetUsage}
  -e EVENT        system, system:event, an event name, a glob, or all (repeatable)
  -f FILTER       a kernel filter for the -e before it
${ringUsage}
  --json          JSON Lines with typed fields
  --mode M        mmap, read or auto (default), for kernel buffers
  --duration S    stop after S seconds
  --staging-mb N  memory for pages between reading and output (default: an eighth of the
                  available memory, at most 2 GiB; only what a backlog fills is used)
  --staging-policy P  when the output falls behind for longer than staging holds:
                  drop-oldest (default; counted, with LOST lines) or block (the kernel then overwrites)
  --summary       print per-CPU counts (events, lost, dropped) on stderr at the end
  --kallsyms FILE kernel symbols (default /proc/kallsyms)`;

const options = {
  instance: { type: 'string', short: 'B' },
  tracefs: { type: 'string' },
  event: { type: 'string', short: 'e', multiple: true },
  filter: { type: 'string', short: 'f', multiple: true },
  ring: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  mode: { type: 'string' },
  duration: { type: 'string' },
  kallsyms: { type: 'string' },
  'staging-mb': { type: 'string' },
  'staging-policy': { type: 'string' },
  summary: { type: 'boolean' },
} as const;

export async function run(argv: string[], scope: CommandScope): Promise<number> {
  const { values } = parseCommandArgs(argv, options, usage);
  const events = eventRequests(argv, options);
  const ringPaths = values.ring ?? [];
  if (events.length === 0 && ringPaths.length === 0) throw new UsageError(`stream needs -e EVENT or --ring PATH\n\n${usage}`);
  const mode = parseChoice(values.mode, '--mode', ['auto', 'mmap', 'read'] as const, 'auto');
  const durationMs = parseSeconds(values.duration, '--duration');
  if (events.length === 0) return streamRings(ringPaths, values.json === true, durationMs, scope);
  const policy: StagingPolicy = parseChoice(values['staging-policy'], '--staging-policy', ['drop-oldest', 'block'] as const, 'drop-oldest');
  const stagingMb = values['staging-mb'] === undefined ? undefined : Number(values['staging-mb']);
  if (stagingMb !== undefined && !(Number.isInteger(stagingMb) && stagingMb > 0 && stagingMb <= 65536)) {
    throw new UsageError('--staging-mb must be a positive integer');
  }

  const out = new FdWriter(1);
  scope.defer(() => out.close());
  const sink = new TextSink({ format: values.json ? 'json' : 'text', output: out, lostMarkers: true });
  const summary = await record({
    ...(values.tracefs !== undefined ? { tracefs: values.tracefs } : {}),
    ...(values.instance !== undefined ? { instance: values.instance } : {}),
    events,
    // App and kernel events share a timeline on the mono clock.
    ...(ringPaths.length > 0 ? { clock: 'mono' } : {}),
    rings: ringPaths,
    mode,
    clear: false,
    ...(durationMs !== undefined ? { durationMs } : {}),
    signal: scope.signal,
    sinks: [sink],
    staging: { policy, ...(stagingMb !== undefined ? { bytes: stagingMb * 1048576 } : {}) },
    // Reading wins the CPU over decoding and writing (the staging ring holds the difference).
    yieldToCapture: OUTPUT_NICE_STEPS,
    ...(values.kallsyms !== undefined ? { kallsyms: values.kallsyms } : {}),
    onNote: (n) => process.stderr.write(`tracering: ${n}\n`),
  });
  if (values.summary) process.stderr.write(summaryText(summary, process.stderr.isTTY === true));
  return 0;
}

/** Application rings alone: read here, no kernel buffer involved. */
async function streamRings(paths: readonly string[], json: boolean, durationMs: number | undefined, scope: CommandScope): Promise<number> {
  const rings = openRings(paths, 0, scope);
  const ctx = loadDecodeContext({ formats: rings.formats });
  const renderer = new TimelineRenderer(rings.sources, ctx, { format: json ? 'json' : 'text', writeBytes: stdoutBytesWriter() });
  const render = () => {
    rings.nameWriters(ctx.tasks);
    renderer.run();
  };
  const stop = new AbortController();
  scope.signal.addEventListener('abort', () => stop.abort(), { once: true });
  if (durationMs !== undefined) setTimeout(() => stop.abort(), durationMs).unref();
  while (!stop.signal.aborted) {
    for (const s of rings.sources) s.startRound();
    render();
    await waitForRings(rings.readers, 100, stop.signal);
  }
  render();
  return 0;
}
