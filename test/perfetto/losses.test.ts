// Losses where Perfetto shows them: a real overwrite flood gives the bundle
// after the MISSED page lost_events, and start/end FtraceStats with the
// kernel's overrun; events the pipeline dropped (stagingLost) show in the
// end stats' dropped_events and as a lost_events bundle on that CPU.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { newCounters } from '../../src/consumer/counters.js';
import { parseCpuStats } from '../../src/kernel/cpu-stats.js';
import { RecordingInput } from '../../src/pipeline/recording-input.js';
import { createPerfettoSink } from '../../src/sinks/perfetto/index.js';
import type { SinkEnd } from '../../src/sinks/sink.js';
import { kernelOrSkip, testInstance, writeMarkers } from '../helpers/kernel.js';
import { bundlesOf, list, type Obj, readTrace, unknownFields } from './decode.js';
import { convert, snapshot, tempDir } from './recording.js';

describe('perfetto losses', () => {
  it('an overwrite flood: lost_events after the MISSED page, stats with the kernel overrun', async (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    let rec: ReturnType<typeof snapshot>;
    {
      using inst = testInstance(tracefs);
      inst.traceClock = 'boot';
      inst.setBufferSizeKb(16);
      inst.tracingOn = true;
      writeMarkers(inst, 0, 6000, (i) => `flood ${i} ${'x'.repeat(80)}`);
      rec = snapshot(tracefs, inst, 'pf-loss');
    }
    const out = join(tempDir('pf-loss-out'), 'loss.perfetto-trace');
    try {
      const stats = parseCpuStats(fs.readFileSync(join(rec.dir, 'per_cpu/cpu0/stats'), 'utf8'));
      assert.ok(stats.overrun > 0, 'the flood overran the 16 KiB buffer');
      await convert(rec.dir, out);
      const { bytes, packets } = readTrace(out);
      assert.deepEqual(unknownFields(bytes), []);
      const bundles = bundlesOf(packets, 0);
      assert.equal(bundles[0]?.lostEvents, true, 'the first bundle follows the loss');
      const events = bundles.reduce((n, b) => n + list(b, 'event').length, 0);
      assert.equal(events, stats.entries, 'what the buffer still held, every event');
      const ftraceStats = packets.map((p) => p.ftraceStats as Obj | undefined).filter((s): s is Obj => s !== undefined);
      assert.deepEqual(
        ftraceStats.map((s) => s.phase),
        [1, 2],
      );
      for (const s of ftraceStats) {
        const cpu0 = list(s, 'cpuStats').find((c) => Number(c.cpu ?? 0) === 0)!;
        assert.equal(Number(cpu0.overrun), stats.overrun, 'overrun as the kernel counted it');
        assert.equal(Number(cpu0.entries), stats.entries);
      }
    } finally {
      fs.rmSync(join(rec.dir, '..'), { recursive: true, force: true });
      fs.rmSync(join(out, '..'), { recursive: true, force: true });
    }
  });

  it('staging losses: end dropped_events = kernel dropped + staging lost, and a lost_events bundle', async () => {
    const work = tempDir('pf-staging');
    const dir = join(work, 'rec');
    fs.cpSync(new URL('../fixtures/sched/tracefs', import.meta.url), dir, { recursive: true });
    const out = join(work, 'x.pftrace');
    const source = new RecordingInput(dir, { kallsyms: null });
    const input = source.open();
    try {
      const sink = createPerfettoSink(out);
      sink.open(input);
      sink.consume();
      const end: SinkEnd = {
        reason: 'signal',
        buffers: [
          {
            name: '',
            cpus: input.buffers[0]!.cpus.map((c) => ({
              cpu: c.cpu,
              stats: input.buffers[0]!.startStats.get(c.cpu) ?? null,
              counters: newCounters(),
              stagingLost: c.cpu === 1 ? 7 : 0,
            })),
          },
        ],
        rings: [],
        clockPairs: [],
      };
      await sink.close(end);
      const { bytes, packets } = readTrace(out);
      assert.deepEqual(unknownFields(bytes), []);
      const kernel = parseCpuStats(fs.readFileSync(join(dir, 'per_cpu/cpu1/stats'), 'utf8'));
      const endStats = packets.map((p) => p.ftraceStats as Obj | undefined).filter((s): s is Obj => s?.phase === 2)[0];
      const cpu1 = list(endStats, 'cpuStats').find((c) => Number(c.cpu) === 1)!;
      assert.equal(Number(cpu1.droppedEvents), kernel.droppedEvents + 7);
      const cpu0 = list(endStats, 'cpuStats').find((c) => Number(c.cpu ?? 0) === 0)!;
      assert.equal(Number(cpu0.droppedEvents ?? 0), 0);
      assert.ok(bundlesOf(packets, 1).some((b) => b.lostEvents === true), 'cpu1 shows data loss');
      assert.ok(!bundlesOf(packets, 0).some((b) => b.lostEvents === true), 'cpu0 does not');
    } finally {
      input.close();
      source.close();
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it('abort removes the partial output', async () => {
    const work = tempDir('pf-abort');
    const dir = join(work, 'rec');
    fs.cpSync(new URL('../fixtures/sched/tracefs', import.meta.url), dir, { recursive: true });
    const source = new RecordingInput(dir, { kallsyms: null });
    const input = source.open();
    try {
      const sink = createPerfettoSink(join(work, 'x.pftrace'));
      sink.open(input);
      sink.consume();
      assert.equal(fs.readdirSync(work).length, 2, 'a temporary file while writing');
      await sink.abort(new Error('stop'));
      await sink.abort(new Error('again'));
      assert.deepEqual(fs.readdirSync(work), ['rec']);
    } finally {
      input.close();
      source.close();
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
