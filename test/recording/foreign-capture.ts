// A recording as another tool makes one: the raw pages of an instance
// (consumed with read(), as trace-cmd and others do) and the tracefs files
// that describe them, with no tracering.json and no kernel_constants; and
// the kernel's own text of the same events, read first.

import fs from 'node:fs';
import path from 'node:path';
import { ReadCpuReader } from '../../src/kernel/read-cpu-reader.js';
import type { Instance, Tracefs } from '../../src/kernel/tracefs.js';
import { type RaceJudge, type RenderWindow, RenderWindowProbe, explainRaces, pidsUnderTwoNames } from '../helpers/render-races.js';

export interface ForeignCapture {
  dir: string;
  /** The kernel's per-CPU `trace` text (event lines only), by CPU. */
  kernelText: Map<number, string[]>;
  events: number;
  /** saved_cmdlines / saved_tgids around the kernel's rendering and the copy in `dir` (render-races.ts). */
  window: RenderWindow;
  /** Explains a line of ours that differs from the kernel's by those tables' churn alone, or returns null. */
  judge: RaceJudge;
}

function copyIfPresent(from: string, to: string): void {
  let text: string;
  try {
    text = fs.readFileSync(from, 'utf8');
  } catch {
    return;
  }
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.writeFileSync(to, text);
}

/**
 * Stops tracing in `inst`, reads the kernel's text of what it holds, then
 * consumes its pages into `dir` with the format files of `systems` (and
 * ftrace's), names, clock, options and per-CPU stats.
 */
export function captureForeign(tracefs: Tracefs, inst: Instance, dir: string, systems: readonly string[]): ForeignCapture {
  inst.tracingOn = false;
  const kernelText = new Map<number, string[]>();
  const cpus = inst.cpus();
  // The COMM column is saved_cmdlines at the moment the kernel renders: watch it change meanwhile.
  const probe = new RenderWindowProbe(tracefs.root);
  for (const cpu of cpus) {
    kernelText.set(
      cpu,
      probe
        .readKernelText(inst.file(`per_cpu/cpu${cpu}/trace`))
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#')),
    );
  }
  fs.mkdirSync(path.join(dir, 'events'), { recursive: true });
  for (const f of ['header_page', 'header_event']) copyIfPresent(inst.file(`events/${f}`), path.join(dir, 'events', f));
  for (const system of new Set(['ftrace', ...systems])) {
    for (const event of fs.readdirSync(inst.file(`events/${system}`))) {
      copyIfPresent(inst.file(`events/${system}/${event}/format`), path.join(dir, 'events', system, event, 'format'));
    }
  }
  for (const f of ['saved_cmdlines', 'saved_tgids', 'printk_formats']) copyIfPresent(path.join(tracefs.root, f), path.join(dir, f));
  const window = probe.finish(dir);
  const judge = explainRaces(window, pidsUnderTwoNames([...kernelText.values()].flat()), { jiffies: null, hz: null }, new Set());
  copyIfPresent(inst.file('trace_clock'), path.join(dir, 'trace_clock'));
  for (const o of fs.readdirSync(inst.file('options'))) copyIfPresent(inst.file(`options/${o}`), path.join(dir, 'options', o));
  let events = 0;
  for (const cpu of cpus) {
    copyIfPresent(inst.cpuFile(cpu, 'stats'), path.join(dir, `per_cpu/cpu${cpu}/stats`));
    const reader = ReadCpuReader.open(inst, cpu, { onWarning: () => {} });
    try {
      const fd = fs.openSync(path.join(dir, `per_cpu/cpu${cpu}/trace_pipe_raw`), 'w');
      try {
        for (let batch = reader.next(); batch !== null; batch = reader.next()) {
          fs.writeSync(fd, reader.lastPages);
          events += batch.count;
          if (reader.caughtUp) break;
        }
      } finally {
        fs.closeSync(fd);
      }
    } finally {
      reader.close();
    }
  }
  return { dir, kernelText, events, window, judge };
}
