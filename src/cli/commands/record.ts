// tracering record: trace-cmd's verb and flags. Records a private instance
// (or -B NAME) into a file its tools open (trace.dat), a Perfetto trace, a
// recording directory, or Parquet; until Ctrl-C/SIGTERM, until COMMAND
// exits, or for --duration seconds.

import { resolve } from 'node:path';
import { OUTPUT_NICE_STEPS } from '../../capture/capture.js';
import type { StagingPolicy } from '../../capture/staging-ring.js';
import { type RecordOptions, type RecordSummary, record } from '../../pipeline/record.js';
import { type OutputKind, type SinkOptions, createSink, outputKindOf } from '../../sinks/factory.js';
import type { TraceSink } from '../../sinks/sink.js';
import '../../sinks/formats.js';
import type { CommandScope } from '../command-scope.js';
import { printJson } from '../format.js';
import { eventRequests } from '../live-options.js';
import { recordLive } from '../live-session.js';
import { ProgressLine, summaryJson, summaryText } from '../progress.js';
import { UsageError, parseChoice, parseCommandArgs, parseSeconds } from '../usage.js';

export const usage = `usage: tracering record [-B NAME] [-e EVENT [-f FILTER]]... [-P PID]... [-F] [-b KB]
                        [--subbuf KB] [-C CLOCK] [-M CPUMASK] [-o FILE] [--duration S]
                        [--mode auto|mmap|read] [-q] [--json] [--progress] [--ring PATH]...
                        [--file-version 6|7] [--compression zstd|none] [--format F]
                        [--drain] [--staging-mb N] [--staging-policy drop-oldest|block]
                        [-- COMMAND ARGS...]

Records kernel events into FILE until Ctrl-C or SIGTERM, until COMMAND
exits, or for S seconds. Without -B it records a private instance of its
own, never the top-level buffer. The output's kind comes from its name:
  *.dat                       trace.dat (trace-cmd report, KernelShark); the default, trace.dat
  *.perfetto-trace, *.pftrace Perfetto (ui.perfetto.dev)
  a directory                 a recording laid out like tracefs (tracering report DIR)
  --format parquet DIR        Parquet segments for query engines

  -B NAME          record instance NAME (created if absent, then removed at exit)
  -e EVENT         system, system:event, an event name, a glob (sched:sched_wak*), or all; repeatable
  -f FILTER        a kernel filter for the -e before it ('prev_pid != 0')
  -P PID           trace only PID (repeatable)
  -F               trace only COMMAND and its children
  -b KB            per-CPU buffer size in KiB
  --subbuf KB      sub-buffer size in KiB
  -C CLOCK         trace clock (local, global, mono, boot, ...)
  -M CPUMASK       trace only the CPUs in CPUMASK (hex, as tracing_cpumask)
  -o FILE          output (default trace.dat)
  --duration S     stop after S seconds
  --mode M         mmap, read or auto (default)
  --drain          record what the buffer holds now and stop (settings untouched, nothing cleared)
  --ring PATH      also record an application ring (repeatable)
  --file-version V trace.dat version 6 or 7 (default 7)
  --compression C  trace.dat compression: zstd (needs Node 22.15+) or none; default zstd where available
  --format F       dat, perfetto, snapshot or parquet (default: from -o)
  --segment-mb N   Parquet: rotate segments at N MB
  --segment-s S    Parquet: rotate segments every S seconds
  --staging-mb N   memory for pages between reading and writing (default: an eighth of the
                   available memory, at most 2 GiB; only what a backlog fills is used)
  --staging-policy P  when writing falls behind for longer than staging holds: drop-oldest, or block (the default for files)
  --progress       show progress on stderr even when it is not a terminal
  --live           show the live view (tracering top) while recording; q stops the recording
  -q               print nothing
  --json           print the summary as JSON
  --tracefs DIR    tracefs mount point`;

const options = {
  instance: { type: 'string', short: 'B' },
  event: { type: 'string', short: 'e', multiple: true },
  filter: { type: 'string', short: 'f', multiple: true },
  pid: { type: 'string', short: 'P', multiple: true },
  'trace-command': { type: 'boolean', short: 'F' },
  'buffer-kb': { type: 'string', short: 'b' },
  subbuf: { type: 'string' },
  clock: { type: 'string', short: 'C' },
  cpumask: { type: 'string', short: 'M' },
  output: { type: 'string', short: 'o' },
  duration: { type: 'string' },
  mode: { type: 'string' },
  drain: { type: 'boolean' },
  ring: { type: 'string', multiple: true },
  'file-version': { type: 'string' },
  compression: { type: 'string' },
  format: { type: 'string' },
  'segment-mb': { type: 'string' },
  'segment-s': { type: 'string' },
  'staging-mb': { type: 'string' },
  'staging-policy': { type: 'string' },
  progress: { type: 'boolean' },
  live: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  json: { type: 'boolean' },
  kallsyms: { type: 'string' },
  tracefs: { type: 'string' },
} as const;

/**
 * Splits argv into our options and the traced command: everything after
 * `--`, or from the first word that is not an option or an option's value
 * (`tracering record -e sched ls -l`, as trace-cmd takes it).
 */
export function splitCommand(argv: readonly string[]): { ours: string[]; command: string[] } {
  const takesValue = new Set<string>();
  for (const [name, o] of Object.entries(options)) {
    if (o.type === 'string') {
      takesValue.add(`--${name}`);
      if ('short' in o) takesValue.add(`-${o.short}`);
    }
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return { ours: argv.slice(0, i), command: argv.slice(i + 1) };
    if (a.startsWith('-')) {
      if (takesValue.has(a)) i++;
      continue;
    }
    return { ours: argv.slice(0, i), command: argv.slice(i) };
  }
  return { ours: [...argv], command: [] };
}

function positiveInt(value: string | undefined, name: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0 || n > max) throw new UsageError(`${name} must be a positive integer up to ${max}`);
  return n;
}

export async function run(argv: string[], scope: CommandScope): Promise<number> {
  const { ours, command } = splitCommand(argv);
  const parsed = parseCommandArgs(ours, options, usage);
  const { values, positionals } = parsed;
  if (positionals.length > 0) throw new UsageError(`unexpected ${JSON.stringify(positionals[0])}\n\n${usage}`);
  const events = eventRequests(ours, options);
  const pids = (values.pid ?? []).map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`-P takes a process id (got ${JSON.stringify(p)})`);
    return n;
  });
  if (values['trace-command'] && command.length === 0) throw new UsageError('-F needs a COMMAND to trace');
  if (events.length === 0 && !values.drain && (values.ring ?? []).length === 0) {
    throw new UsageError(`record needs -e EVENT (or --drain, or --ring)\n\n${usage}`);
  }
  const mode = parseChoice(values.mode, '--mode', ['auto', 'mmap', 'read'] as const, 'auto');
  const durationMs = parseSeconds(values.duration, '--duration');
  const fileVersion = parseChoice(values['file-version'], '--file-version', ['6', '7'] as const, '7');
  const compression = values.compression === undefined ? undefined : parseChoice(values.compression, '--compression', ['zstd', 'none'] as const, 'none');
  const out = resolve(values.output ?? 'trace.dat');
  const kind: OutputKind = outputKindOf(out, values.format);
  const stagingMb = positiveInt(values['staging-mb'], '--staging-mb', 1 << 16);
  // A file must not lose what was read: block; a live consumer would rather drop.
  const policy: StagingPolicy = parseChoice(values['staging-policy'], '--staging-policy', ['drop-oldest', 'block'] as const, 'block');
  const quiet = values.quiet === true;
  const notes: string[] = [];
  const sinkOptions: SinkOptions = {
    fileVersion: fileVersion === '6' ? 6 : 7,
    ...(compression !== undefined ? { compression } : {}),
    ...(values['segment-mb'] !== undefined ? { segmentMb: positiveInt(values['segment-mb'], '--segment-mb', 1 << 20)! } : {}),
    ...(values['segment-s'] !== undefined ? { segmentS: positiveInt(values['segment-s'], '--segment-s', 1 << 30)! } : {}),
    onNote: (n) => notes.push(n),
  };
  const sink: TraceSink = await createSink(kind, out, sinkOptions);
  const tty = process.stderr.isTTY === true;
  const progress = !quiet && !values.live && (tty || values.progress === true) && !values.json ? new ProgressLine({ tty }) : null;
  const bytesWritten = () => sink.bytesWritten ?? 0;
  const note = (n: string) => {
    if (!quiet) process.stderr.write(`tracering: ${n}\n`);
  };
  for (const n of notes.splice(0)) note(n);
  const recordOptions = {
    ...(values.tracefs !== undefined ? { tracefs: values.tracefs } : {}),
    ...(values.instance !== undefined ? { instance: values.instance } : {}),
    events,
    pids,
    ...(command.length > 0 ? { command } : {}),
    traceCommandOnly: values['trace-command'] === true,
    ...(values['buffer-kb'] !== undefined ? { bufferKb: positiveInt(values['buffer-kb'], '-b', 1 << 24)! } : {}),
    ...(values.subbuf !== undefined ? { subbufKb: positiveInt(values.subbuf, '--subbuf', 1 << 14)! } : {}),
    // Perfetto's timeline is CLOCK_BOOTTIME: an instance of our own records on it exactly.
    ...(values.clock !== undefined ? { clock: values.clock } : kind === 'perfetto' && values.instance === undefined ? { clock: 'boot' } : {}),
    ...(values.cpumask !== undefined ? { cpumask: values.cpumask } : {}),
    mode,
    ...(durationMs !== undefined ? { durationMs } : {}),
    signal: scope.signal,
    drain: values.drain === true,
    rings: values.ring ?? [],
    sinks: [sink],
    // Files want full pages; a second of delay costs nothing there.
    coalesceMs: 1000,
    // and rounds of a few hundred KiB: one wake-up and one write per round, not per page.
    roundPages: 64,
    // Reading wins the CPU over writing (the staging ring holds the difference).
    yieldToCapture: OUTPUT_NICE_STEPS,
    staging: { policy, ...(stagingMb !== undefined ? { bytes: stagingMb * 1048576 } : {}) },
    ...(values.kallsyms !== undefined ? { kallsyms: values.kallsyms } : {}),
    onNote: note,
  } satisfies RecordOptions;
  let summary: RecordSummary;
  if (values.live) {
    if (!process.stdout.isTTY) throw new UsageError('--live needs a terminal on stdout');
    const { signal: _signal, durationMs: _duration, ...rest } = recordOptions;
    ({ summary } = await recordLive(
      rest,
      { output: 'screen', signal: scope.signal, ...(durationMs !== undefined ? { durationMs } : {}) },
    ));
  } else {
    summary = await record({ ...recordOptions, ...(progress !== null ? { onProgress: (p) => progress.update(p, bytesWritten()) } : {}) });
  }
  progress?.done();
  for (const n of notes.splice(0)) summary.notes.push(n);
  if (values.json) printJson(summaryJson(summary));
  else if (!quiet) process.stderr.write(summaryText(summary, tty));
  return 0;
}
