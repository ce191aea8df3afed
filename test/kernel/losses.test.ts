// Lost and dropped events are accounted exactly, as the kernel counts them.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TraceSource } from '../../src/kernel/trace-source.js';
import { kernelOrSkip, testInstance, writeInBackground, writeMarkers } from '../helpers/kernel.js';

for (const mode of ['mmap', 'read'] as const) {
  describe(`losses by ${mode}`, () => {
    for (const size of [8, 100, 400]) {
      it(`overwrite flood (${size}-byte markers) into a tiny buffer: lost equals the kernel's overrun`, (t) => {
        const tracefs = kernelOrSkip(t);
        if (!tracefs) return;
        using inst = testInstance(tracefs);
        inst.setBufferSizeKb(16);
        const msg = 'o'.repeat(size);
        const { written } = writeMarkers(inst, 0, 6000, () => msg);
        const kernel = inst.cpuStats(0);
        assert.ok(kernel.overrun > 0, 'the flood overran the buffer');
        using source = TraceSource.open(inst, { mode, cpus: [0] });
        const markers: number[] = [];
        let first = true;
        source.drain((batch) => {
          if (batch.lostBefore !== 0) markers.push(batch.lostBefore);
          if (first && batch.count > 0) {
            assert.notEqual(batch.lostBefore, 0, 'the first events read come after the loss');
            first = false;
          }
        });
        const [cpu0] = source.finish().cpus;
        assert.ok(cpu0);
        assert.equal(cpu0.events, kernel.entries);
        assert.equal(cpu0.lost, kernel.overrun);
        assert.equal(cpu0.events + cpu0.lost, written);
        assert.equal(markers.reduce((a, b) => a + b, 0), kernel.overrun, 'loss markers add up to the overrun');
      });
    }

    it('non-overwrite flood: refused events are reported as dropped, none lost', (t) => {
      const tracefs = kernelOrSkip(t);
      if (!tracefs) return;
      using inst = testInstance(tracefs);
      inst.setBufferSizeKb(16);
      inst.setOption('overwrite', false);
      const { written, refused } = writeMarkers(inst, 0, 5000, (i) => `n${i}`);
      const kernel = inst.cpuStats(0);
      assert.ok(refused > 0);
      using source = TraceSource.open(inst, { mode, cpus: [0] });
      source.drain();
      const [cpu0] = source.finish().cpus;
      assert.ok(cpu0);
      assert.equal(cpu0.events, kernel.entries);
      assert.equal(cpu0.events, written);
      assert.equal(cpu0.lost, 0);
      assert.equal(cpu0.dropped, kernel.droppedEvents);
      assert.equal(cpu0.dropped, refused);
    });

    it('losses while streaming: events + lost = written, lost = overrun', async (t) => {
      const tracefs = kernelOrSkip(t);
      if (!tracefs) return;
      using inst = testInstance(tracefs);
      inst.setBufferSizeKb(8);
      inst.bufferPercent = 100;
      // A writer on CPU 0 outpaces a reader that polls rarely (flush every
      // 50 ms) and takes 2 ms over each batch: it cannot keep up whatever the scheduler does.
      using source = TraceSource.open(inst, { mode, cpus: [0] });
      const writing = writeInBackground(inst, { cpu: 0, count: 60_000, maxMs: 8000, prefix: 'stream-loss-' });
      const controller = new AbortController();
      const slow = new Int32Array(new SharedArrayBuffer(4));
      const onBatch = () => void Atomics.wait(slow, 0, 0, 2);
      const streaming = source.stream({ onBatch, flushIntervalMs: 50, signal: controller.signal });
      const { written } = await writing;
      controller.abort();
      await streaming;
      const [cpu0] = source.finish().cpus;
      const kernel = inst.cpuStats(0);
      assert.ok(cpu0);
      assert.ok(cpu0.lost > 0, 'the slow reader lost events');
      assert.equal(cpu0.lost, kernel.overrun);
      // Every event is read or lost: none left behind, none taken from the kernel and not handed over.
      assert.equal(cpu0.events + cpu0.lost, written, JSON.stringify({ cpu0, kernel }));
      assert.equal(kernel.entries, 0);
      assert.equal(cpu0.consumedElsewhere, 0);
    });
  });
}
