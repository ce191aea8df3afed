// App events and kernel events on one timeline: a ring's CLOCK_MONOTONIC
// timestamps and a mono-clock instance merge in the order they happened.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { TraceSource } from '../../src/kernel/trace-source.js';
import { loadDecodeContext } from '../../src/output/decode-context.js';
import { TimelineRenderer } from '../../src/output/report.js';
import { AppRing } from '../../src/ring/app-ring.js';
import { kernelOrSkip, onCpu, testInstance } from '../helpers/kernel.js';

describe('app and kernel events on one timeline', () => {
  it('merges a ring with a mono-clock instance in the order events happened', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    inst.traceClock = 'mono';
    using ring = AppRing.create({ subbufs: 16, name: 'timeline' });
    const step = ring.defineEvent({ name: 'step', fields: [['i', 'u32']] });
    const writer = ring.writer({ autoFlush: false });
    const marker = fs.openSync(inst.file('trace_marker'), 'w');
    try {
      onCpu(1 % inst.cpus().length, () => {
        for (let i = 0; i < 200; i++) {
          step.write(writer, i);
          fs.writeSync(marker, `k${i}`);
        }
      });
    } finally {
      fs.closeSync(marker);
    }
    writer.close();

    using source = TraceSource.open(inst, { mode: 'mmap' });
    const reader = ring.reader({ cpu: 100 });
    const ctx = loadDecodeContext({ root: tracefs.root, array: inst.path, formats: [ring.formats] });
    let text = '';
    new TimelineRenderer([...source.readers, reader], ctx, { format: 'text', write: (s) => (text += s) }).run();
    const order = text
      .trim()
      .split('\n')
      .map((line) => /step: i=(\d+)|tracing_mark_write: k(\d+)/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => (m[1] !== undefined ? `a${m[1]}` : `k${m[2]}`));
    const expected = Array.from({ length: 200 }, (_, i) => [`a${i}`, `k${i}`]).flat();
    assert.deepEqual(order, expected);
    assert.match(text, /\[100\] .....\s+\d+\.\d{6}: step: i=0/);
  });
});
