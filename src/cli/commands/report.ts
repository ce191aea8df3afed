// tracering report DIR [--kallsyms FILE] [--json]: decodes a recording (a
// directory laid out like tracefs, as `tracering snapshot` writes it) or a
// live tracefs trace array (consuming it, as trace_pipe would) into the
// kernel's text, or JSON Lines with typed fields.

import fs from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CorruptRecordingError, WarningCode, type WarningHandler, emitProcessWarning } from '../../errors.js';
import { type CpuStats, parseCpuStats } from '../../kernel/cpu-stats.js';
import { TraceSource } from '../../kernel/trace-source.js';
import { Tracefs } from '../../kernel/tracefs.js';
import type { BatchSource } from '../../layout/batch-source.js';
import { loadDecodeContext } from '../../output/decode-context.js';
import { TimelineRenderer } from '../../output/report.js';
import { type CpuDamage, type FileCpuReader, Recording } from '../../recording/recording.js';
import type { CommandScope } from '../command-scope.js';
import { stdoutBytesWriter } from '../format.js';
import { openRings } from '../rings.js';
import { UsageError, parseCommandArgs } from '../usage.js';

export const usage = `usage: tracering report DIR [--kallsyms FILE] [--json] [--strict]
       tracering report --ring PATH... [--json]

Prints the events of DIR as the kernel's trace file does. DIR is a recording
(tracering snapshot, or a directory of raw pages and format files made by
another tool) or a live tracefs trace array such as
/sys/kernel/tracing/instances/NAME, which is consumed like trace_pipe.

  --kallsyms FILE  kernel symbols (plain or .gz); default: the recording's
                   kallsyms.gz, else /proc/kallsyms
  --ring PATH      print (and consume) what application rings hold; repeatable
  --json           JSON Lines with typed fields instead of text
  --strict         exit with ERR_CORRUPT_RECORDING (status 1) when the
                   recording is damaged (corrupt or truncated sub-buffers,
                   missing data), after printing what could be decoded;
                   without it damage is a warning

JSON Lines: integers are numbers while exact in a double (|v| < 2^53),
else strings: "0x..." for pointers and fields the kernel prints in hex,
decimal otherwise. %ps/%pS fields get a NAME_sym beside them, and
__print_flags/__print_symbolic fields a NAME_str with the kernel's text.`;

/** Warnings on stderr, one line each, with their code. */
const cliWarning: WarningHandler = (w) => {
  process.stderr.write(`tracering: warning: ${w.message} [${w.code}]\n`);
};

/** Header figures from per_cpu/cpuN/stats files, when all are there. */
function headerFromStats(stats: ReadonlyArray<CpuStats | null>) {
  let entriesInBuffer = 0;
  let entriesWritten = 0;
  for (const s of stats) {
    if (s === null) return null;
    entriesInBuffer += s.entries;
    entriesWritten += s.entries + s.overrun;
  }
  return { entriesInBuffer, entriesWritten };
}

function statsOf(dir: string, cpus: readonly number[]): Array<CpuStats | null> {
  return cpus.map((cpu) => {
    let text: string;
    try {
      text = fs.readFileSync(join(dir, `per_cpu/cpu${cpu}/stats`), 'utf8');
    } catch {
      return null;
    }
    return parseCpuStats(text);
  });
}

export interface RecordingReportOptions {
  /** JSON Lines instead of kernel text. */
  json?: boolean;
  /** kallsyms file, null for none; default: the recording's, else /proc/kallsyms. */
  kallsyms?: string | null;
  /** Throw CorruptRecordingError after rendering when the data is damaged. */
  strict?: boolean;
  /** Receives the output (bytes valid during the call only). */
  writeBytes: (chunk: Uint8Array) => void;
  onWarning?: WarningHandler;
}

export interface RecordingReport {
  events: number;
  /** CPUs whose data was damaged (also reported through onWarning). */
  damaged: CpuDamage[];
  /** Whether the text had the trace file's header (every CPU had its stats). */
  header: boolean;
}

/** What one CPU's damage amounts to, as a sentence (null: nothing wrong). */
function damageSummary(d: CpuDamage, reader: FileCpuReader | null, stats: CpuStats | null): string | null {
  const parts: string[] = [];
  if (d.missing) parts.push('the data file is missing');
  if (d.corruptSubbufs > 0) parts.push(`${d.corruptSubbufs} corrupt sub-buffer${d.corruptSubbufs === 1 ? '' : 's'}`);
  if (d.partialBytes > 0) parts.push(`a partial last sub-buffer (${d.partialBytes} bytes)`);
  const events = reader?.events ?? 0;
  const lost = reader?.lost ?? 0;
  // Events the kernel counted in the buffer and that neither the pages hold nor their loss reports explain.
  const short = stats !== null && lost >= 0 && events + lost < stats.entries;
  if (short) parts.push(`${events} events decoded${lost > 0 ? ` and ${lost} reported lost` : ''} where per_cpu/cpu${d.cpu}/stats counts ${stats.entries}`);
  if (parts.length === 0) return null;
  return `CPU ${d.cpu} (${d.file}): ${parts.join(', ')}`;
}

/**
 * `report DIR` for a recording: its events as kernel text (with the
 * trace file's header when the per-CPU stats are there) or JSON Lines,
 * written to `writeBytes`. Damaged per-CPU data is decoded as far as it
 * goes and reported; with `strict`, CorruptRecordingError follows.
 */
export function reportRecording(dir: string, options: RecordingReportOptions): RecordingReport {
  const onWarning = options.onWarning ?? emitProcessWarning;
  const recording = Recording.open(dir, { onWarning });
  const cpus = recording.cpus;
  const missing: CpuDamage[] = [];
  const readers = recording.openReaders({ onWarning, missing });
  try {
    const stats = cpus.map((cpu) => recording.cpuStats(cpu));
    const figures = headerFromStats(stats);
    const ctx = loadDecodeContext(
      { root: dir, array: dir, ...(options.kallsyms !== undefined ? { kallsyms: options.kallsyms } : {}), onWarning },
      recording.layout.littleEndian,
    );
    // A recording prints as its `trace` file would: no trace_pipe loss markers,
    // but the "CPU N buffer started" lines once events were overwritten.
    const overran = figures !== null && figures.entriesWritten > figures.entriesInBuffer;
    const renderer = new TimelineRenderer(readers, ctx, {
      format: options.json ? 'json' : 'text',
      writeBytes: options.writeBytes,
      lostMarkers: false,
      annotateCpuStart: overran && ctx.annotate,
    });
    if (figures !== null) renderer.header({ ...figures, cpus: recording.meta?.onlineCpus ?? cpus.length });
    const summary = renderer.run();
    const damaged: CpuDamage[] = [];
    const sentences: string[] = [];
    for (const [i, cpu] of cpus.entries()) {
      const reader = readers.find((r) => r.cpu === cpu) ?? null;
      const d = reader?.damage ?? missing.find((m) => m.cpu === cpu);
      if (d === undefined) continue;
      const sentence = damageSummary(d, reader, stats[i] ?? null);
      if (sentence === null) continue;
      damaged.push(d);
      sentences.push(sentence);
      // The first problem was reported as it was found; repeat only what adds to it.
      if (d.first === null || d.corruptSubbufs > 1 || sentence.includes('stats counts')) {
        onWarning({ code: d.corruptSubbufs > 0 ? WarningCode.corruptSubbuf : WarningCode.truncatedRecording, cpu, message: `recording damaged: ${sentence}` });
      }
    }
    if (options.strict && sentences.length > 0) {
      throw new CorruptRecordingError(`${dir}: the recording is damaged (${sentences.join('; ')}); what could be decoded was printed`);
    }
    return { events: summary.events, damaged, header: figures !== null };
  } finally {
    for (const r of readers) r.close();
  }
}

export async function run(argv: string[], scope: CommandScope): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { kallsyms: { type: 'string' }, json: { type: 'boolean' }, ring: { type: 'string', multiple: true }, strict: { type: 'boolean' } },
    usage,
  );
  if (values.ring !== undefined && positionals.length === 0) return reportRings(values.ring, values.json === true, scope);
  if (positionals.length !== 1) throw new UsageError(`report takes one directory\n\n${usage}`);
  const dir = resolve(positionals[0] as string);
  const kallsyms = values.kallsyms ?? undefined;
  if (!fs.existsSync(join(dir, 'trace_marker'))) {
    const report = reportRecording(dir, {
      json: values.json === true,
      strict: values.strict === true,
      writeBytes: stdoutBytesWriter(),
      onWarning: cliWarning,
      ...(kallsyms !== undefined ? { kallsyms } : {}),
    });
    if (!report.header && !values.json) process.stderr.write(`tracering: ${report.events} events (no per-CPU stats for the header)\n`);
    return 0;
  }
  // A live trace array: the root itself, or instances/NAME under it.
  const root = fs.existsSync(join(dir, 'saved_cmdlines')) ? dir : dirname(dirname(dir));
  const tracefs = Tracefs.locate({ root });
  const array = dir === root ? tracefs.topLevel : tracefs.openInstance(dir.slice(root.length + '/instances/'.length), { create: false });
  const cpus = array.cpus();
  const source = TraceSource.open(array, { mode: 'auto' });
  scope.defer(() => source.close());
  const sources: BatchSource[] = [...source.readers];
  const figures = headerFromStats(statsOf(dir, cpus));
  const ctx = loadDecodeContext({ root, array: dir, ...(kallsyms !== undefined ? { kallsyms } : {}) });
  const renderer = new TimelineRenderer(sources, ctx, { format: values.json ? 'json' : 'text', writeBytes: stdoutBytesWriter() });
  if (figures !== null) renderer.header({ ...figures, cpus: cpus.length });
  const summary = renderer.run();
  if (figures === null && !values.json) {
    process.stderr.write(`tracering: ${summary.events} events (no per-CPU stats for the header)\n`);
  }
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
