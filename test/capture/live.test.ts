// The live pipeline against the real kernel: a capture thread reads a
// private instance, pages go through the staging ring to sinks.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Capture } from '../../src/capture/capture.js';
import { LiveInput } from '../../src/pipeline/live-input.js';
import { runLive } from '../../src/pipeline/run-live.js';
import { TextSink } from '../../src/sinks/text-sink.js';
import { kernelOrSkip, testInstance, writeInBackground } from '../helpers/kernel.js';

for (const mode of ['mmap', 'read'] as const) {
  describe(`live capture (${mode})`, () => {
    it('delivers every marker written while capturing, in order, and counts what the kernel counted', async (t) => {
      const tracefs = kernelOrSkip(t);
      if (tracefs === null) return;
      using inst = testInstance(tracefs);
      inst.setBufferSizeKb(1024);
      const capture = await Capture.start(inst, { mode, onWarning: () => {} });
      try {
        const chunks: string[] = [];
        const sink = new TextSink({ format: 'text', output: (b) => chunks.push(Buffer.from(b).toString('utf8')) });
        const input = new LiveInput(capture, { tracefsRoot: tracefs.root, kallsyms: null });
        const writers = Promise.all([0, 1].map((cpu) => writeInBackground(inst, { cpu, count: 3000, prefix: `live${cpu}-` })));
        const result = await runLive(input, [sink], { until: writers });
        const lines = chunks.join('').split('\n').filter((l) => l.includes('live'));
        for (const cpu of [0, 1]) {
          const mine = lines.filter((l) => l.includes(`live${cpu}-`)).map((l) => Number(/live\d-(\d+)/.exec(l)?.[1]));
          assert.equal(mine.length, 3000, `CPU ${cpu} markers`);
          assert.deepEqual(mine, [...mine].sort((a, b) => a - b), `CPU ${cpu} markers in order`);
        }
        const buffer = result.end.buffers[0]!;
        for (const c of buffer.cpus) {
          const stats = inst.cpuStats(c.cpu);
          assert.equal(c.counters.lost, stats.overrun, `lost = overrun on CPU ${c.cpu}`);
          assert.equal(c.stagingLost, 0);
          assert.equal(c.counters.events, stats.readEvents, `read events on CPU ${c.cpu}`);
        }
      } finally {
        await capture.close();
      }
    });
  });
}
