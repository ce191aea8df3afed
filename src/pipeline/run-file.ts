// Sinks over a complete input (a recording, a trace.dat): each sink reads
// the whole input with its own cursors, one sink after the other.

import { newCounters } from '../consumer/counters.js';
import type { CpuEnd, SinkEnd, SinkReport, TraceSink } from '../sinks/sink.js';
import type { InputSource, OpenedInput } from './input.js';

/** What the end of a complete input says: each CPU's recorded stats. */
function endOf(input: OpenedInput): SinkEnd {
  return {
    reason: 'end-of-input',
    buffers: input.buffers.map((b) => ({
      name: b.name,
      cpus: b.cpus.map(
        (c): CpuEnd => ({
          cpu: c.cpu,
          stats: b.startStats.get(c.cpu) ?? null,
          counters: { ...newCounters(), events: 'events' in c && typeof c.events === 'number' ? c.events : 0 },
          stagingLost: 0,
        }),
      ),
    })),
    rings: [],
    clockPairs: input.clockPairs,
  };
}

/** Runs sinks over a file input (a recording or a trace.dat) to its end. */
export async function runFileSinks(source: InputSource, sinks: readonly TraceSink[]): Promise<SinkReport[]> {
  const reports: SinkReport[] = [];
  for (const sink of sinks) {
    const input = source.open();
    try {
      await sink.open(input);
      await sink.consume();
      reports.push(await sink.close(endOf(input)));
    } catch (error) {
      await sink.abort(error);
      throw error;
    } finally {
      input.close();
    }
  }
  return reports;
}
