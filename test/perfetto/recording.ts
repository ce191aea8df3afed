// Real recordings for the Perfetto tests: a private instance, a bounded
// load, tracing stopped, a clock pair read, and the buffers consumed into a
// recording directory by writeSnapshot (what `tracering snapshot` does).
// Converted through RecordingInput and runFileSinks, as `convert` will.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Instance, Tracefs } from '../../src/kernel/tracefs.js';
import type { InputSource, OpenedInput } from '../../src/pipeline/input.js';
import { RecordingInput } from '../../src/pipeline/recording-input.js';
import { runFileSinks } from '../../src/pipeline/run-file.js';
import { Recording } from '../../src/recording/recording.js';
import { writeSnapshot } from '../../src/recording/snapshot.js';
import type { ClockPair, SinkReport } from '../../src/sinks/sink.js';
import { createPerfettoSink, type PerfettoSinkOptions, readClockPair } from '../../src/sinks/perfetto/index.js';
import { writeMarkers } from '../helpers/kernel.js';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(join(os.tmpdir(), `tr-${prefix}-`));
}

/** A short mixed load: systrace-form markers, forks and execs of a shell, a few sleeps. Bounded in count and time. */
export function mixedLoad(inst: Instance): void {
  const cpus = inst.cpus();
  for (const cpu of cpus) {
    writeMarkers(inst, cpu, 40, (i) => (i % 3 === 0 ? `B|${process.pid}|work ${i}` : i % 3 === 1 ? 'E|' + process.pid : `C|${process.pid}|queue|${i}`));
  }
  const r = spawnSync('sh', ['-c', 'for i in 1 2 3 4 5; do ls / > /dev/null; sleep 0.005; done'], { timeout: 10_000 });
  if (r.error) throw r.error;
}

export interface Recorded {
  dir: string;
  /** (trace clock, boot) pairs read just after tracing stopped. */
  pairs: ClockPair[];
}

/** Stops tracing, reads a clock pair and consumes the instance into a new recording directory. */
export function snapshot(tracefs: Tracefs, inst: Instance, prefix: string): Recorded {
  inst.tracingOn = false;
  const pair = readClockPair(inst);
  const dir = join(tempDir(prefix), 'rec');
  writeSnapshot(inst, dir, { tracefsRoot: tracefs.root, kallsyms: false });
  return { dir, pairs: [pair] };
}

/** A RecordingInput whose inputs carry `pairs` (as a live capture's do). */
export function withPairs(source: RecordingInput, pairs: readonly ClockPair[]): InputSource {
  return {
    kind: source.kind,
    label: source.label,
    open(): OpenedInput {
      return { ...source.open(), clockPairs: pairs };
    },
    close: () => source.close(),
  };
}

export async function convert(dir: string, out: string, options: PerfettoSinkOptions = {}, pairs: readonly ClockPair[] = []): Promise<SinkReport> {
  const input = new RecordingInput(dir, { kallsyms: null });
  try {
    const [report] = await runFileSinks(pairs.length > 0 ? withPairs(input, pairs) : input, [createPerfettoSink(out, options)]);
    return report!;
  } finally {
    input.close();
  }
}

/** Per CPU: the kernel's stats entries recorded with the snapshot. */
export function statsEntries(dir: string): Map<number, number> {
  const rec = Recording.open(dir);
  const out = new Map<number, number>();
  for (const cpu of rec.cpus) {
    const text = rec.readText(`per_cpu/cpu${cpu}/stats`) ?? '';
    out.set(cpu, Number(/^entries: (\d+)$/m.exec(text)?.[1] ?? -1));
  }
  return out;
}
