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

describe('live capture (auto: paths switched as the rate goes)', () => {
  it('switches mmap -> read -> mmap mid-stream and delivers every marker once, in order, with exact counts', async (t) => {
    const tracefs = kernelOrSkip(t);
    if (tracefs === null) return;
    using inst = testInstance(tracefs);
    inst.setBufferSizeKb(1024);
    // Thresholds far from the phases' rates: a burst (thousands of events per
    // second) moves a CPU to read(), a trickle (~20/s) back. Each phase lasts
    // until the policy has decided (bounded), not for a fixed time, so a slow
    // or a fast machine sees the same switches.
    const capture = await Capture.start(inst, {
      mode: 'auto',
      startPath: 'mmap',
      onWarning: () => {},
      adaptive: { readAboveEventsPerSec: 2000, mmapBelowEventsPerSec: 100, switchAfterMs: 0, returnAfterMs: 300, minDwellMs: 300, smoothingMs: 1 },
    });
    try {
      const chunks: string[] = [];
      const sink = new TextSink({ format: 'text', output: (b) => chunks.push(Buffer.from(b).toString('utf8')) });
      const input = new LiveInput(capture, { tracefsRoot: tracefs.root, kallsyms: null });
      const switchesTo = (path: string) => capture.decisions.filter((d) => d.kind === 'path' && d.cpu === 0 && d.to === path).length;
      const phases = [
        // Pauses keep the burst within what a reader drains on a busy machine.
        { pauseEvery: 200, pauseMs: 2, until: () => switchesTo('read') >= 1 },
        { pauseEvery: 1, pauseMs: 50, until: () => switchesTo('mmap') >= 1 },
        { pauseEvery: 200, pauseMs: 2, until: () => true },
      ];
      let written = 0;
      const writers = (async () => {
        for (const [i, p] of phases.entries()) {
          const stop = new Int32Array(new SharedArrayBuffer(4));
          const writing = writeInBackground(inst, { cpu: 0, count: i === 2 ? 20_000 : 2_000_000, pauseEvery: p.pauseEvery, pauseMs: p.pauseMs, prefix: `auto${i}-`, maxMs: 60_000, stop });
          let done = false;
          void writing.finally(() => (done = true)).catch(() => {});
          while (!done && !p.until()) await new Promise((r) => setTimeout(r, 20));
          Atomics.store(stop, 0, 1);
          written += (await writing).written;
        }
      })();
      const result = await runLive(input, [sink], { until: writers });
      assert.ok(switchesTo('read') >= 1 && switchesTo('mmap') >= 1, `the policy switched paths (${capture.decisions.filter((d) => d.kind === 'path').length} switches)`);
      const cpu0 = result.end.buffers[0]!.cpus.find((c) => c.cpu === 0)!;
      const lines = chunks.join('').split('\n').filter((l) => /: auto\d-\d+$/.test(l));
      assert.equal(lines.length, written - cpu0.counters.lost, 'every marker once (the kernel overwrote only what it counted)');
      const order = lines.map((l) => /auto(\d)-(\d+)/.exec(l)!.slice(1).map(Number) as [number, number]);
      for (let i = 1; i < order.length; i++) {
        const [pa, na] = order[i - 1]!;
        const [pb, nb] = order[i]!;
        assert.ok(pb > pa || (pb === pa && nb > na), `marker ${i} in order: ${pa}-${na} then ${pb}-${nb}`);
      }
      if (cpu0.counters.lost === 0) {
        for (let i = 1; i < order.length; i++) {
          const [pa, na] = order[i - 1]!;
          const [pb, nb] = order[i]!;
          assert.ok(pb > pa ? nb === 0 : nb === na + 1, `no marker missing at ${i}: ${pa}-${na} then ${pb}-${nb}`);
        }
      }
      for (const c of result.end.buffers[0]!.cpus) {
        const stats = inst.cpuStats(c.cpu);
        assert.equal(c.counters.lost, stats.overrun, `lost = overrun on CPU ${c.cpu}`);
        assert.equal(c.counters.events, stats.readEvents, `events = read events on CPU ${c.cpu}`);
      }
    } finally {
      await capture.close();
    }
  });
});
