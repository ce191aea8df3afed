// The live view's pieces on the real kernel, both read paths: a marker
// flood into a tiny buffer of a private instance, read through TopSink,
// fed to the model and laid out as the screen shows it: the CPU row's loss
// figure is the kernel's overrun (and red), the events table counts
// exactly the events read, all from this process.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TraceSource } from '../../src/kernel/trace-source.js';
import { plainLine } from '../../src/live/ansi.js';
import { layoutFrame } from '../../src/live/layout.js';
import { LiveModel } from '../../src/live/model.js';
import { TopSink } from '../../src/live/top-sink.js';
import { loadDecodeContext } from '../../src/output/decode-context.js';
import type { SinkInput } from '../../src/sinks/sink.js';
import { kernelOrSkip, testInstance, writeMarkers } from '../helpers/kernel.js';

for (const mode of ['mmap', 'read'] as const) {
  describe(`live view on the kernel (${mode})`, () => {
    it("an overflowed buffer: the row's loss is the kernel's overrun, the table counts what was read", (t) => {
      const tracefs = kernelOrSkip(t);
      if (!tracefs) return;
      using inst = testInstance(tracefs);
      inst.setBufferSizeKb(16);
      const { written } = writeMarkers(inst, 0, 6000, (i) => `top-flood-${i}`);
      const kernel = inst.cpuStats(0);
      assert.ok(kernel.overrun > 0, 'the flood overran the buffer');

      const ctx = loadDecodeContext({ root: tracefs.root, array: inst.path, kallsyms: null });
      const sink = new TopSink();
      sink.open({ context: () => ctx, buffers: [], rings: [] } as unknown as SinkInput);
      const model = new LiveModel({ startMs: 0 });
      using source = TraceSource.open(inst, { mode, cpus: [0] });
      source.drain((batch) => sink.count(batch));
      const [cpu0] = source.finish().cpus;
      assert.ok(cpu0);
      model.update(
        {
          atMs: 1000,
          clock: ctx.clock,
          buffer: inst.name ?? '',
          cpus: [{ cpu: 0, mode, events: cpu0.events, bytes: cpu0.bytes, lost: cpu0.lost, dropped: cpu0.dropped, fillPercent: 0, subbufSize: 4096, bufferKb: 16 }],
          rings: [],
          selfCpuPercent: 0,
        },
        sink.take(),
      );
      const frame = model.frame();
      const lines = layoutFrame(frame, { columns: 80, rows: 24 });
      const text = lines.map(plainLine);
      const row = lines.find((l) => plainLine(l).startsWith('cpu0 '))!;
      const cols = plainLine(row).split(/\s+/);
      assert.equal(cols[1], mode);
      assert.equal(Number(cols[5]), kernel.overrun, `row: ${plainLine(row)}`);
      assert.ok(row.some((s) => s.style === 'loss' && s.text.trim() === String(kernel.overrun)), 'shown in red');
      assert.ok(text[1]!.startsWith(`since start: lost ${kernel.overrun}  dropped 0`), text[1]);
      assert.equal(frame.cpus[0]!.events + frame.cpus[0]!.lost, written);
      // Every event read is a trace_marker write of this (pinned) thread.
      assert.deepEqual(frame.top.map((r) => [r.name, r.total]), [['ftrace:print', kernel.entries]]);
      assert.equal(model.top('tasks').length, 1);
      assert.deepEqual(model.top('tasks').map((r) => [r.key, r.total]), [[process.pid, kernel.entries]]);
      assert.ok(text.some((l) => l.startsWith('ftrace:print ')), text.join('\n'));
    });
  });
}
