// The capture thread's native staging (ReadCpuReader.stageDirect) against
// the real kernel: clean pages go from read() into staging slots with no
// JavaScript per page, and the kernel's own counters decide whether their
// events were counted right; pages after a kernel loss go back through the
// JavaScript reader, whose loss ledger must still match the kernel's.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Capture } from '../../src/capture/capture.js';
import { LiveInput } from '../../src/pipeline/live-input.js';
import { runLive } from '../../src/pipeline/run-live.js';
import type { TraceSink } from '../../src/sinks/sink.js';
import { TextSink } from '../../src/sinks/text-sink.js';
import { kernelOrSkip, testInstance, writeInBackground } from '../helpers/kernel.js';

function textSink(chunks: string[]): TextSink {
  return new TextSink({ format: 'text', output: (b) => chunks.push(Buffer.from(b).toString('utf8')) });
}

/** Numbers of the markers `prefix`N in the text, in the order printed. */
function markers(chunks: readonly string[], prefix: string): number[] {
  // Without kallsyms the kernel's text names the marker's caller by address.
  const re = new RegExp(`: ${prefix}(\\d+)$`);
  return chunks
    .join('')
    .split('\n')
    .flatMap((l) => {
      const m = re.exec(l);
      return m === null ? [] : [Number(m[1])];
    });
}

describe('native staging of read() pages', () => {
  it('counts events as the kernel does: large records, time extends, two CPUs', async (t) => {
    const tracefs = kernelOrSkip(t);
    if (tracefs === null) return;
    using inst = testInstance(tracefs);
    inst.setBufferSizeKb(1024);
    const capture = await Capture.start(inst, { mode: 'read', onWarning: (w) => assert.fail(`warning: ${w.message}`) });
    try {
      const chunks: string[] = [];
      // CPU 0: markers above 112 bytes (a length word in the record), with
      // pauses past 2^27 ns (time extends); CPU 1: small ones back to back.
      const long = `long-${'x'.repeat(150)}-`;
      const writers = Promise.all([
        writeInBackground(inst, { cpu: 0, count: 3000, prefix: long, pauseEvery: 1000, pauseMs: 150, maxMs: 30_000 }),
        writeInBackground(inst, { cpu: 1, count: 20_000, prefix: 'short-', maxMs: 30_000 }),
      ]);
      const result = await runLive(new LiveInput(capture, { tracefsRoot: tracefs.root, kallsyms: null }), [textSink(chunks)], { until: writers });
      const [w0, w1] = await writers;
      for (const [prefix, written] of [[long, w0!.written], ['short-', w1!.written]] as const) {
        const seen = markers(chunks, prefix);
        assert.equal(seen.length, written, `${prefix.slice(0, 5)} markers`);
        assert.deepEqual(seen, Array.from({ length: written }, (_, i) => i), `${prefix.slice(0, 5)} markers: each once, in order`);
      }
      let staged = 0;
      for (const c of result.end.buffers[0]!.cpus) {
        const stats = inst.cpuStats(c.cpu);
        assert.equal(c.counters.events, stats.readEvents, `CPU ${c.cpu}: the events the kernel says were read`);
        assert.equal(c.counters.lost, stats.overrun, `CPU ${c.cpu}: lost = overrun`);
        assert.equal(c.counters.consumedElsewhere, 0);
        assert.equal(c.stagingLost, 0);
        assert.ok(c.counters.nativeStaged <= c.counters.subbufs);
        staged += c.counters.nativeStaged;
      }
      assert.ok(staged > 0, 'pages went through native staging');
    } finally {
      await capture.close();
    }
  });

  it('after a kernel loss the JavaScript reader takes over: printed + lost = written, lost = overrun', async (t) => {
    const tracefs = kernelOrSkip(t);
    if (tracefs === null) return;
    using inst = testInstance(tracefs);
    inst.setBufferSizeKb(64);
    // Eight slots and a blocking policy: with the output held until the
    // writer is done, the capture thread stops taking pages and the kernel
    // must overwrite (20,000 markers are far more than 64 KiB).
    const capture = await Capture.start(inst, { mode: 'read', policy: 'block', stagingBytes: 8 * 4096, onWarning: () => {} });
    try {
      const chunks: string[] = [];
      const writers = writeInBackground(inst, { cpu: 0, count: 20_000, prefix: 'burst-', maxMs: 30_000 });
      const inner = textSink(chunks);
      let held = false;
      const slow: TraceSink = {
        kind: inner.kind,
        open: (input) => inner.open(input),
        consume: async () => {
          if (!held) {
            held = true;
            await writers;
          }
          return inner.consume();
        },
        close: (end) => inner.close(end),
        abort: () => inner.abort(),
      };
      const result = await runLive(new LiveInput(capture, { tracefsRoot: tracefs.root, kallsyms: null }), [slow], { until: writers });
      const { written } = await writers;
      const cpu0 = result.end.buffers[0]!.cpus.find((c) => c.cpu === 0)!;
      const stats = inst.cpuStats(0);
      assert.ok(stats.overrun > 0, `the kernel overwrote events (overrun ${stats.overrun})`);
      assert.equal(cpu0.counters.lost, stats.overrun, 'lost = overrun');
      assert.equal(cpu0.counters.events, stats.readEvents, 'the events the kernel says were read');
      assert.equal(cpu0.stagingLost, 0, 'a blocking policy drops nothing in staging');
      const seen = markers(chunks, 'burst-');
      assert.equal(seen.length + cpu0.counters.lost, written, 'printed + lost = written');
      assert.deepEqual(seen, [...seen].sort((a, b) => a - b), 'in order');
      assert.ok(cpu0.counters.nativeStaged > 0 && cpu0.counters.nativeStaged < cpu0.counters.subbufs, `both paths took pages (${cpu0.counters.nativeStaged} of ${cpu0.counters.subbufs} natively)`);
    } finally {
      await capture.close();
    }
  });
});

