// Streaming on readiness: events arrive while writers run, every one is
// delivered, and a consumer whose own syscalls are traced does not wake
// itself in a loop.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReadCpuReader } from '../../src/kernel/read-cpu-reader.js';
import { TraceSource, pumpReader } from '../../src/kernel/trace-source.js';
import { kernelOrSkip, onCpu, testInstance, writeInBackground } from '../helpers/kernel.js';

for (const mode of ['mmap', 'read'] as const) {
  describe(`streaming by ${mode}`, () => {
    it('delivers events while writers run, and all of them by the end', async (t) => {
      const tracefs = kernelOrSkip(t);
      if (!tracefs) return;
      using inst = testInstance(tracefs);
      inst.setBufferSizeKb(1024);
      inst.bufferPercent = 1;
      using source = TraceSource.open(inst, { mode });
      const perCpu = new Map<number, number>();
      let deliveredWhileWriting = 0;
      let writing = true;
      const controller = new AbortController();
      const streaming = source.stream({
        onBatch: (batch) => {
          perCpu.set(batch.cpu, (perCpu.get(batch.cpu) ?? 0) + batch.count);
          if (writing) deliveredWhileWriting += batch.count;
        },
        signal: controller.signal,
        flushIntervalMs: 1000,
      });
      const write = (count: number, prefix: string) =>
        Promise.all(inst.cpus().map((cpu) => writeInBackground(inst, { cpu, count, maxMs: 10_000, pauseEvery: 300, pauseMs: 20, prefix: `${prefix}${cpu}-` })));
      // A first part, then the rest once the stream has delivered some of it
      // (within a bound that only catches a stream that never delivers): on a
      // loaded machine the consumer may not run at all while the writers do.
      const first = await write(300, 'live');
      const deadline = Date.now() + 60_000;
      while (deliveredWhileWriting === 0 && Date.now() < deadline) await sleep(10);
      const rest = await write(2700, 'more');
      const results = first.map((r, i) => ({ written: r.written + (rest[i]?.written ?? 0) }));
      writing = false;
      controller.abort();
      await streaming;
      const summary = source.finish();
      inst.cpus().forEach((cpu, i) => {
        assert.equal(perCpu.get(cpu), results[i]?.written, `cpu ${cpu}`);
      });
      assert.equal(summary.total.lost, 0);
      assert.ok(deliveredWhileWriting > 0, 'events were delivered as they arrived, not only at the end');
      assert.ok(source.wakeups > 0, 'readiness woke the consumer');
    });

    it('does not feed itself a wake-up storm when its own syscalls are traced', async (t) => {
      const tracefs = kernelOrSkip(t);
      if (!tracefs) return;
      using inst = testInstance(tracefs);
      inst.bufferPercent = 0; // wake on every event
      // Only this process's syscalls: every event is one the consumer caused.
      inst.setEventFilter('raw_syscalls', `common_pid == ${process.pid}`);
      inst.enableEvents(['raw_syscalls']);
      using source = TraceSource.open(inst, { mode });
      let events = 0;
      await source.stream({ onBatch: (b) => (events += b.count), durationMs: 1000 });
      const cpus = inst.cpus().length;
      assert.ok(events > 0, 'the consumer saw its own syscalls');
      // At most one quiet wake-up per 10 ms per CPU (with slack); feeding
      // itself it would wake thousands of times.
      assert.ok(source.wakeups < 150 * cpus, `${source.wakeups} wake-ups in 1 s`);
      assert.ok(events < 50_000, `${events} events in 1 s: the consumer is feeding itself`);
    });
  });
}

describe('read() at the writer', () => {
  it("stops at the writer's page instead of chasing it a few events per read()", (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    // The reader is its own writer: each read() it makes is traced on the
    // CPU it reads, so there is always a little more data.
    const cpu = inst.cpus()[0]!;
    inst.setEventFilter('raw_syscalls', `common_pid == ${process.pid}`);
    inst.enableEvents(['raw_syscalls']);
    const reader = ReadCpuReader.open(inst, cpu);
    try {
      onCpu(cpu, () => {
        for (let round = 0; round < 5; round++) {
          const before = reader.counters.subbufs;
          pumpReader(reader, undefined, 256);
          const pages = reader.counters.subbufs - before;
          // A reader that chased its own events read until the pump's bound
          // (4 x 256 + 8 pages of a few events each); one that stops reads
          // what was there (a page) and the writer's page.
          assert.ok(pages <= 3, `round ${round}: ${pages} sub-buffers in one pump`);
          assert.equal(reader.caughtUp, true);
        }
      });
      // Nothing is left behind by stopping: a complete pump with tracing
      // off takes the rest, and the kernel agrees on every event.
      inst.tracingOn = false;
      pumpReader(reader, undefined, 256, true);
      reader.finish();
      const stats = inst.cpuStats(cpu);
      assert.equal(stats.entries, 0, 'the buffer is empty');
      assert.equal(reader.counters.events, stats.readEvents, 'every event the kernel counts as read was delivered');
      assert.equal(reader.counters.lost, 0);
    } finally {
      reader.close();
    }
  });
});
