// tracering stream [-B NAME] [-e EVENT...] [--ring PATH...] [--json]:
// streams kernel events and application rings merged by time, as the
// kernel's text (with trace_pipe's loss markers) or JSON Lines, until
// Ctrl-C or --duration.

import { TraceSource } from '../../kernel/trace-source.js';
import { Instance, Tracefs } from '../../kernel/tracefs.js';
import { loadDecodeContext } from '../../output/decode-context.js';
import { TimelineRenderer } from '../../output/report.js';
import type { BatchSource } from '../../layout/batch-source.js';
import type { CommandScope } from '../command-scope.js';
import { stdoutBytesWriter } from '../format.js';
import { openRings, ringUsage, waitForRings } from '../rings.js';
import { openTarget, targetOptions, targetUsage } from '../target.js';
import { UsageError, parseChoice, parseCommandArgs, parseSeconds } from '../usage.js';

export const usage = `usage: tracering stream [-B NAME] [-e EVENT...] [--ring PATH...] [--json] [--mode M] [--duration S]

Streams kernel events (-e) and application rings (--ring), merged by
timestamp, as the kernel's text or JSON Lines, until Ctrl-C (or S seconds).
Events this command enables are disabled again when it exits. With both,
the instance's clock must be mono (set on an instance this command creates)
so app and kernel events share a timeline; ring events show CPU numbers
after the kernel's.

${targetUsage}
  -e EVENT        system:event or system (repeatable)
${ringUsage}
  --json          JSON Lines with typed fields
  --mode M        mmap, read or auto (default), for kernel buffers
  --duration S    stop after S seconds
  --kallsyms FILE kernel symbols (default /proc/kallsyms)`;

export async function run(argv: string[], scope: CommandScope): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    {
      ...targetOptions,
      event: { type: 'string', short: 'e', multiple: true },
      ring: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      mode: { type: 'string' },
      duration: { type: 'string' },
      kallsyms: { type: 'string' },
    },
    usage,
  );
  const events = values.event ?? [];
  const ringPaths = values.ring ?? [];
  if (events.length === 0 && ringPaths.length === 0) throw new UsageError(`stream needs -e EVENT or --ring PATH\n\n${usage}`);
  const mode = parseChoice(values.mode, '--mode', ['auto', 'mmap', 'read'] as const, 'auto');
  const durationMs = parseSeconds(values.duration, '--duration');

  const sources: BatchSource[] = [];
  let kernel: { source: TraceSource; root: string; array: string } | null = null;
  if (events.length > 0) {
    const array = openTarget(values, scope);
    const root = Tracefs.locate(values.tracefs === undefined ? {} : { root: values.tracefs }).root;
    if (ringPaths.length > 0 && array.traceClock !== 'mono') {
      if (array instanceof Instance && array.created) array.traceClock = 'mono';
      else process.stderr.write(`tracering: the ${array.label} uses the ${array.traceClock} clock, app rings the mono clock: their timestamps do not line up\n`);
    }
    array.enableEvents(events);
    scope.defer(() => array.disableEvents(events));
    const source = TraceSource.open(array, { mode });
    scope.defer(() => source.close());
    sources.push(...source.readers);
    kernel = { source, root, array: array.path };
  }
  const firstRingCpu = kernel === null ? 0 : Math.max(-1, ...kernel.source.readers.map((r) => r.cpu)) + 1;
  const rings = openRings(ringPaths, firstRingCpu, scope);
  sources.push(...rings.readers);

  const ctx = loadDecodeContext({
    ...(kernel !== null ? { root: kernel.root, array: kernel.array } : {}),
    formats: rings.formats,
    ...(values.kallsyms !== undefined ? { kallsyms: values.kallsyms } : {}),
  });
  const renderer = new TimelineRenderer(sources, ctx, { format: values.json ? 'json' : 'text', writeBytes: stdoutBytesWriter() });
  const render = () => {
    rings.nameWriters(ctx.tasks);
    renderer.run();
  };

  const stop = new AbortController();
  scope.signal.addEventListener('abort', () => stop.abort(), { once: true });
  if (durationMs !== undefined) setTimeout(() => stop.abort(), durationMs).unref();
  const loops: Array<Promise<unknown>> = [];
  if (kernel !== null) loops.push(kernel.source.watch({ onReady: render, signal: stop.signal }));
  if (rings.readers.length > 0) {
    loops.push(
      (async () => {
        while (!stop.signal.aborted) {
          render();
          await waitForRings(rings.readers, 100, stop.signal);
        }
      })(),
    );
  }
  await Promise.all(loops);
  render();
  return 0;
}
