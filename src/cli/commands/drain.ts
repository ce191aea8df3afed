// tracering drain [-B NAME] [--mode mmap|read|auto] [--duration S] [--json]:
// consumes every CPU buffer and reports per-CPU events, bytes, sub-buffers
// and lost events (exact: what the kernel overwrote before we read it).

import { AdaptiveCapture } from '../../capture/adaptive-capture.js';
import type { PolicyDecision } from '../../capture/adaptive-policy.js';
import { type CpuReaderCounters, addCounters, newCounters } from '../../consumer/counters.js';
import { emitProcessWarning } from '../../errors.js';
import { TraceSource } from '../../kernel/trace-source.js';
import type { CommandScope } from '../command-scope.js';
import { printJson, table } from '../format.js';
import { openTarget, targetOptions, targetUsage } from '../target.js';
import { parseChoice, parseCommandArgs, parseSeconds } from '../usage.js';

export const usage = `usage: tracering drain [-B NAME] [--mode mmap|read|auto] [--duration S] [--json]

Consumes every CPU buffer until it is empty, or streams for S seconds, and
reports what was read and lost per CPU.

${targetUsage}
  --mode M        mmap (zero-copy, Linux 6.10+), read (read() of trace_pipe_raw),
                  or auto (the default: with --duration, each CPU's path follows
                  its rate as in record and stream; without, mmap where the
                  kernel allows)
  --duration S    keep consuming for S seconds as data arrives, then drain the rest
  --json          one JSON object: {"cpus":[...],"total":{...}}, and with auto
                  "decisions": what the policy changed, when and why`;

export async function run(argv: string[], scope: CommandScope): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    { ...targetOptions, json: { type: 'boolean' }, mode: { type: 'string' }, duration: { type: 'string' } },
    usage,
  );
  const mode = parseChoice(values.mode, '--mode', ['auto', 'mmap', 'read'] as const, 'auto');
  const durationMs = parseSeconds(values.duration, '--duration');
  const array = openTarget(values, scope);
  let summary: { cpus: ReadonlyArray<CpuReaderCounters & { cpu: number }>; total: CpuReaderCounters };
  let modeName: string;
  let decisions: readonly PolicyDecision[] | undefined;
  if (mode === 'auto' && durationMs !== undefined) {
    // The capture thread's adaptive loop, without staging: what auto costs and loses, measured alone.
    const capture = AdaptiveCapture.open(array, { onWarning: emitProcessWarning, checkConsumers: true, quietWakeDelayMs: 10 });
    scope.defer(() => capture.close());
    const stop = AbortSignal.any([scope.signal, AbortSignal.timeout(durationMs)]);
    await capture.run(stop);
    capture.finish();
    const cpus = capture.counters().map((c) => ({ ...c.counters, cpu: c.cpu }));
    const total = cpus.reduce((t, c) => addCounters(t, c), newCounters());
    summary = { cpus, total };
    decisions = capture.decisions;
    modeName = `auto (${[...new Set(capture.readers.map((r) => r.mode))].join(', ')}; ${capture.decisions.filter((d) => d.kind === 'path').length} switches)`;
  } else {
    const source = TraceSource.open(array, { mode });
    scope.defer(() => source.close());
    if (durationMs === undefined) source.drain();
    else await source.stream({ onBatch: () => {}, durationMs, signal: scope.signal });
    summary = source.finish();
    modeName = source.mode ?? 'none';
  }

  const cpus = summary.cpus.map((c) => ({
    cpu: c.cpu,
    events: c.events,
    bytes: c.bytes,
    subbufs: c.subbufs,
    lost: c.lost,
    dropped: c.dropped,
  }));
  const total = {
    events: summary.total.events,
    bytes: summary.total.bytes,
    subbufs: summary.total.subbufs,
    lost: summary.total.lost,
    dropped: summary.total.dropped,
  };
  if (values.json) {
    printJson({ mode: modeName, cpus, total, ...(decisions === undefined ? {} : { decisions }) });
    return 0;
  }
  const rows: Array<Array<string | number>> = cpus.map((c) => [c.cpu, c.events, c.bytes, c.subbufs, c.lost, c.dropped]);
  rows.push(['total', total.events, total.bytes, total.subbufs, total.lost, total.dropped]);
  process.stdout.write(`${table(['cpu', 'events', 'bytes', 'subbufs', 'lost', 'dropped'], rows)}\n`);
  process.stdout.write(`mode: ${modeName}\n`);
  return 0;
}
