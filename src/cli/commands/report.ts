// tracering report DIR [--kallsyms FILE] [--json]: decodes a recording (a
// directory laid out like tracefs, as `tracering snapshot` writes it) or a
// live tracefs trace array (consuming it, as trace_pipe would) into the
// kernel's text, or JSON Lines with typed fields.

import fs from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CorruptRecordingError, type WarningHandler, emitProcessWarning } from '../../errors.js';
import type { BatchSource } from '../../layout/batch-source.js';
import { loadDecodeContext } from '../../output/decode-context.js';
import { TimelineRenderer } from '../../output/report.js';
import { FdWriter } from '../../output/fd-writer.js';
import { openInput } from '../../pipeline/open-input.js';
import { RecordingInput } from '../../pipeline/recording-input.js';
import { runFileSinks } from '../../pipeline/run-file.js';
import type { RecordingDamage } from '../../recording/recording.js';
import { TextSink } from '../../sinks/text-sink.js';
import { parseCpuStats } from '../../kernel/cpu-stats.js';
import type { CommandScope } from '../command-scope.js';
import { stdoutBytesWriter } from '../format.js';
import { UsageError, parseCommandArgs } from '../usage.js';

// Live trace arrays, rings and trace.dat files load their modules when
// named: a recording directory needs none of them (fixed cost of report).

export const usage = `usage: tracering report DIR|FILE.dat [-B NAME] [--cpu N]... [--kallsyms FILE] [--json] [--strict]
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
  --json           JSON Lines with typed fields instead of text
  --strict         exit with ERR_CORRUPT_RECORDING (status 1) when a
                   recording directory is damaged (corrupt or truncated
                   sub-buffers, missing data), after printing what could be
                   decoded; without it damage is a warning

JSON Lines: integers are numbers while exact in a double (|v| < 2^53),
else strings: "0x..." for pointers and fields the kernel prints in hex,
decimal otherwise. %ps/%pS fields get a NAME_sym beside them, and
__print_flags/__print_symbolic fields a NAME_str with the kernel's text.`;

/** Warnings on stderr, one line each, with their code. */
const cliWarning: WarningHandler = (w) => {
  process.stderr.write(`tracering: warning: ${w.message} [${w.code}]\n`);
};

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
      strict: { type: 'boolean' },
    },
    usage,
  );
  if (values.ring !== undefined && positionals.length === 0) return await reportRings(values.ring, values.json === true, scope);
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
    const [{ Tracefs }, { TraceSource }] = await Promise.all([import('../../kernel/tracefs.js'), import('../../kernel/trace-source.js')]);
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
    const out = new FdWriter(1);
    scope.defer(() => out.close());
    const report = await reportRecording(dir, {
      json: values.json === true,
      strict: values.strict === true,
      output: out,
      onWarning: cliWarning,
      ...(kallsyms !== undefined ? { kallsyms } : {}),
      ...(values.instance !== undefined ? { buffer: values.instance } : {}),
      ...(cpus.length > 0 ? { cpus } : {}),
    });
    if (!report.header && !values.json) process.stderr.write(`tracering: ${report.events} events (no per-CPU stats for the header)\n`);
    return 0;
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

export interface RecordingReportOptions {
  /** JSON Lines instead of kernel text. */
  json?: boolean;
  /** kallsyms file, null for none; default: the recording's, else /proc/kallsyms. */
  kallsyms?: string | null;
  /** The buffer of a multi-buffer trace.dat. */
  buffer?: string;
  /** Only these CPUs. */
  cpus?: number[];
  /** Throw CorruptRecordingError after printing when a recording directory is damaged. */
  strict?: boolean;
  /** Where the output goes. */
  output: FdWriter | ((bytes: Uint8Array) => void);
  /** Damage, geometry and kernel-constants warnings (default process.emitWarning). */
  onWarning?: WarningHandler;
}

/** What reportRecording printed, and what it found wrong. */
export interface RecordingReport {
  events: number;
  /** The `trace` header was printed (every CPU had stats for it). */
  header: boolean;
  /** What was wrong with a recording directory's per-CPU data (also given to onWarning). */
  damage: RecordingDamage[];
}

/**
 * `report` of a recording (a directory or a trace.dat): it prints as its
 * `trace` file would: the header, no trace_pipe loss markers, but the "CPU N
 * buffer started" lines once events were overwritten. A directory's damaged
 * per-CPU data is decoded as far as it goes, then reported (and with
 * `strict` raised as CorruptRecordingError).
 */
export async function reportRecording(path: string, options: RecordingReportOptions): Promise<RecordingReport> {
  if (!isDirectory(path)) await import('../../pipeline/inputs.js'); // trace.dat and other file inputs
  const onWarning = options.onWarning ?? emitProcessWarning;
  const input = openInput(path, { ...(options.kallsyms !== undefined ? { kallsyms: options.kallsyms } : {}), onWarning });
  try {
    const sink = new TextSink({
      format: options.json ? 'json' : 'text',
      output: options.output,
      header: !options.json,
      // A directory prints as its `trace` file did; a trace.dat, like trace-cmd report, marks its losses.
      lostMarkers: input.kind === 'trace.dat',
      ...(options.buffer !== undefined ? { buffer: options.buffer } : {}),
      ...(options.cpus !== undefined ? { cpus: options.cpus } : {}),
    });
    const [report] = await runFileSinks(input, [sink]);
    const damage = input instanceof RecordingInput ? input.damage() : [];
    for (const d of damage) {
      // The first problem was reported as it was found; repeat only what adds to it.
      if (d.adds) onWarning({ code: d.code, cpu: d.cpu, message: `recording damaged: ${d.sentence}` });
    }
    if (options.strict && damage.length > 0) {
      throw new CorruptRecordingError(`${path}: the recording is damaged (${damage.map((d) => d.sentence).join('; ')}); what could be decoded was printed`);
    }
    return { events: report?.events ?? 0, header: sink.hadHeader, damage };
  } finally {
    input.close();
  }
}

function isDirectory(path: string): boolean {
  try {
    return fs.statSync(path).isDirectory();
  } catch {
    return false; // openInput says why
  }
}

/** Everything the rings hold, merged by time (until Ctrl-C, while a writer keeps up). */
async function reportRings(paths: readonly string[], json: boolean, scope: CommandScope): Promise<number> {
  const { openRings, renderRings } = await import('../rings.js');
  const rings = openRings(paths, 0, scope);
  const ctx = loadDecodeContext({ formats: rings.formats });
  rings.nameWriters(ctx.tasks);
  const renderer = new TimelineRenderer(rings.sources, ctx, { format: json ? 'json' : 'text', writeBytes: stdoutBytesWriter() });
  await renderRings(rings, () => renderer.run(), scope.signal);
  return 0;
}
