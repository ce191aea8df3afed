// What an output holds, read back with tracering's readers (independent of
// what the writer said): events per file, and the kernel's CPU stats a
// trace.dat carries (CPUSTAT: trace-cmd resets the instance at exit, so
// for it these are the only kernel counters left).

import { parseCpuStats } from '../../src/kernel/cpu-stats.js';
import { Recording } from '../../src/recording/recording.js';
import { TraceDat } from '../../src/tracedat/index.js';

export interface OutputContents {
  events: number;
  /** Summed over the CPUSTAT of every buffer (trace.dat only). */
  stats: { overrun: number; dropped: number; read: number; entries: number } | null;
}

export function traceDatContents(path: string): OutputContents {
  using dat = TraceDat.open(path);
  let events = 0;
  for (const b of dat.buffers) {
    if (b.kind !== 'flyrecord') continue;
    for (const r of dat.openCpus(b)) for (let batch = r.next(); batch !== null; batch = r.next()) events += batch.count;
  }
  const stats = dat.options.cpuStats.length === 0 ? null : { overrun: 0, dropped: 0, read: 0, entries: 0 };
  for (const s of dat.options.cpuStats) {
    const p = parseCpuStats(s.text);
    stats!.overrun += p.overrun;
    stats!.dropped += p.droppedEvents;
    stats!.read += p.readEvents;
    stats!.entries += p.entries;
  }
  return { events, stats };
}

export function recordingContents(dir: string): OutputContents {
  const readers = Recording.open(dir).openReaders();
  let events = 0;
  try {
    for (const r of readers) for (let batch = r.next(); batch !== null; batch = r.next()) events += batch.count;
  } finally {
    for (const r of readers) r.close();
  }
  return { events, stats: null };
}
