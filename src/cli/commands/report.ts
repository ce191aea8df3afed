// tracering report DIR [--kallsyms FILE] [--json]: decodes a recording (a
// directory laid out like tracefs, as `tracering snapshot` writes it) or a
// live tracefs trace array (consuming it, as trace_pipe would) into the
// kernel's text, or JSON Lines with typed fields.

import fs from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { TraceSource } from '../../kernel/trace-source.js';
import { Tracefs } from '../../kernel/tracefs.js';
import type { BatchSource } from '../../layout/batch-source.js';
import { loadDecodeContext } from '../../output/decode-context.js';
import { TimelineRenderer } from '../../output/report.js';
import { FdWriter } from '../../output/fd-writer.js';
import { openInput } from '../../pipeline/open-input.js';
import '../../pipeline/inputs.js';
import { runFileSinks } from '../../pipeline/run-file.js';
import { TextSink } from '../../sinks/text-sink.js';
import { parseCpuStats } from '../../kernel/cpu-stats.js';
import type { CommandScope } from '../command-scope.js';
import { stdoutBytesWriter } from '../format.js';
import { openRings } from '../rings.js';
import { UsageError, parseCommandArgs } from '../usage.js';

export const usage = `usage: tracering report DIR|FILE.dat [-B NAME] [--cpu N]... [--kallsyms FILE] [--json]
       tracering report --ring PATH... [--json]

Prints the events of a recording as the kernel's trace file does: a
recording directory (tracering record -o DIR, tracering snapshot), a
trace.dat (tracering's or trace-cmd's: v6 or v7, zstd or not, one or more
buffers), or a live tracefs trace array such as
/sys/kernel/tracing/instances/NAME, which is consumed like trace_pipe.

  -B NAME          the buffer (instance) of a multi-buffer trace.dat to print
  --cpu N          only CPU N (repeatable)
  --kallsyms FILE  kernel symbols (plain or .gz); default: the recording's,
                   else /proc/kallsyms
  --ring PATH      print (and consume) what application rings hold; repeatable
  --json           JSON Lines with typed fields instead of text`;

/** Header figures from per_cpu/cpuN/stats files, when all are there. */
function headerFromStats(dir: string, cpus: readonly number[]) {
  let entriesInBuffer = 0;
  let entriesWritten = 0;
  for (const cpu of cpus) {
    let text: string;
    try {
      text = fs.readFileSync(join(dir, `per_cpu/cpu${cpu}/stats`), 'utf8');
    } catch {
      return null;
    }
    const stats = parseCpuStats(text);
    entriesInBuffer += stats.entries;
    entriesWritten += stats.entries + stats.overrun;
  }
  return { entriesInBuffer, entriesWritten };
}

export async function run(argv: string[], scope: CommandScope): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      kallsyms: { type: 'string' },
      json: { type: 'boolean' },
      ring: { type: 'string', multiple: true },
      instance: { type: 'string', short: 'B' },
      cpu: { type: 'string', multiple: true },
    },
    usage,
  );
  if (values.ring !== undefined && positionals.length === 0) return reportRings(values.ring, values.json === true, scope);
  if (positionals.length !== 1) throw new UsageError(`report takes one recording (a directory or a trace.dat)\n\n${usage}`);
  const dir = resolve(positionals[0] as string);
  const live = fs.existsSync(join(dir, 'trace_marker'));
  const kallsyms = values.kallsyms ?? undefined;

  let sources: BatchSource[];
  let root: string;
  let cpus: readonly number[];
  let onlineCpus: number;
  if (live) {
    // A trace array: the root itself, or instances/NAME under it.
    root = fs.existsSync(join(dir, 'saved_cmdlines')) ? dir : dirname(dirname(dir));
    const tracefs = Tracefs.locate({ root });
    const array = dir === root ? tracefs.topLevel : tracefs.openInstance(dir.slice(root.length + '/instances/'.length), { create: false });
    cpus = array.cpus();
    onlineCpus = cpus.length;
    const source = TraceSource.open(array, { mode: 'auto' });
    scope.defer(() => source.close());
    sources = [...source.readers];
  } else {
    const cpus = (values.cpu ?? []).map((c) => {
      const n = Number(c);
      if (!Number.isInteger(n) || n < 0 || n > 8191) throw new UsageError(`--cpu takes a CPU number (got ${JSON.stringify(c)})`);
      return n;
    });
    return reportRecording(dir, {
      json: values.json === true,
      ...(kallsyms !== undefined ? { kallsyms } : {}),
      ...(values.instance !== undefined ? { buffer: values.instance } : {}),
      ...(cpus.length > 0 ? { cpus } : {}),
    }, scope);
  }
  const figures = headerFromStats(dir, cpus);
  const ctx = loadDecodeContext({ root, array: dir, ...(kallsyms !== undefined ? { kallsyms } : {}) });
  const renderer = new TimelineRenderer(sources, ctx, { format: values.json ? 'json' : 'text', writeBytes: stdoutBytesWriter() });
  if (figures !== null) renderer.header({ ...figures, cpus: onlineCpus });
  const summary = renderer.run();
  if (figures === null && !values.json) {
    process.stderr.write(`tracering: ${summary.events} events (no per-CPU stats for the header)\n`);
  }
  return 0;
}

/**
 * A recording prints as its `trace` file would: the header, no trace_pipe
 * loss markers, but the "CPU N buffer started" lines once events were
 * overwritten.
 */
async function reportRecording(
  path: string,
  options: { json: boolean; kallsyms?: string; buffer?: string; cpus?: number[] },
  scope: CommandScope,
): Promise<number> {
  const input = openInput(path, options.kallsyms !== undefined ? { kallsyms: options.kallsyms } : {});
  scope.defer(() => input.close());
  const out = new FdWriter(1);
  scope.defer(() => out.close());
  const sink = new TextSink({
    format: options.json ? 'json' : 'text',
    output: out,
    header: !options.json,
    // A directory prints as its `trace` file did; a trace.dat, like trace-cmd report, marks its losses.
    lostMarkers: input.kind === 'trace.dat',
    ...(options.buffer !== undefined ? { buffer: options.buffer } : {}),
    ...(options.cpus !== undefined ? { cpus: options.cpus } : {}),
  });
  const [report] = await runFileSinks(input, [sink]);
  if (!sink.hadHeader && !options.json) process.stderr.write(`tracering: ${report?.events ?? 0} events (no per-CPU stats for the header)\n`);
  return 0;
}

/** Everything the rings hold, merged by time. */
function reportRings(paths: readonly string[], json: boolean, scope: CommandScope): number {
  const rings = openRings(paths, 0, scope);
  const ctx = loadDecodeContext({ formats: rings.formats });
  rings.nameWriters(ctx.tasks);
  new TimelineRenderer(rings.readers, ctx, { format: json ? 'json' : 'text', writeBytes: stdoutBytesWriter() }).run();
  return 0;
}
