// Trace clocks: local is labelled with the (local, boot) pair taken at record
// time, so trace_processor's mapping ts + (boot - local) is exact against it;
// mono is converted to boot by exactly that offset; clocks that do not count
// nanoseconds are refused at open() with a coded error and leave no file.
// Failures on the output path are ERR_OUTPUT.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Recording } from '../../src/recording/recording.js';
import { parseNowTs } from '../../src/sinks/perfetto/clocks.js';
import { kernelOrSkip, testInstance, writeMarkers } from '../helpers/kernel.js';
import { big, bundlesOf, list, type Obj, readTrace, unknownFields } from './decode.js';
import { convert, snapshot, tempDir } from './recording.js';

/** Every recorded timestamp per CPU (order of the file). */
function recordedTimestamps(dir: string): Map<number, bigint[]> {
  const out = new Map<number, bigint[]>();
  for (const r of Recording.open(dir).openReaders()) {
    const ts: bigint[] = [];
    for (let b = r.next(); b !== null; b = r.next()) for (let i = 0; i < b.count; i++) ts.push(b.timestampBigInt(i));
    r.close();
    out.set(r.cpu, ts);
  }
  return out;
}

function writtenTimestamps(packets: Obj[], cpu: number): bigint[] {
  return bundlesOf(packets, cpu).flatMap((b) => list(b, 'event').map((e) => big(e.timestamp)));
}

function markerRecording(t: Parameters<typeof kernelOrSkip>[0], clock: string, prefix: string) {
  const tracefs = kernelOrSkip(t);
  if (!tracefs) return null;
  using inst = testInstance(tracefs);
  inst.traceClock = clock;
  inst.tracingOn = true;
  for (const cpu of inst.cpus()) writeMarkers(inst, cpu, 50, (i) => `clock ${clock} ${i}`);
  return snapshot(tracefs, inst, prefix);
}

describe('perfetto clocks', () => {
  it('parses now ts: seconds.microseconds as ns', () => {
    assert.equal(parseNowTs('entries: 0\nnow ts:   969.757203\n'), 969_757_203_000n);
    assert.equal(parseNowTs('now ts: 12345\n'), 12345n);
    assert.equal(parseNowTs('entries: 1\n'), null);
  });

  it('local: every bundle carries ftrace_clock LOCAL and the recorded pair; timestamps unchanged', async (t) => {
    const rec = markerRecording(t, 'local', 'pf-local');
    if (rec === null) return;
    const out = join(tempDir('pf-local-out'), 'local.pftrace');
    try {
      await convert(rec.dir, out, {}, rec.pairs);
      const { bytes, packets } = readTrace(out);
      assert.deepEqual(unknownFields(bytes), []);
      const pair = rec.pairs[0]!;
      assert.equal(pair.clock, 'local');
      const recorded = recordedTimestamps(rec.dir);
      for (const [cpu, ts] of recorded) {
        const bundles = bundlesOf(packets, cpu);
        assert.ok(bundles.length > 0);
        for (const b of bundles) {
          assert.equal(b.ftraceClock, 3, 'FTRACE_CLOCK_LOCAL');
          assert.equal(big(b.ftraceTimestamp), pair.traceNs);
          assert.equal(big(b.bootTimestamp), pair.bootNs);
        }
        const written = writtenTimestamps(packets, cpu);
        assert.deepEqual(written, ts);
        // trace_processor's mapping: boot = ts + (boot_timestamp - ftrace_timestamp), the same for every event.
        const mapped = written.map((v) => v + big(bundles[0]!.bootTimestamp) - big(bundles[0]!.ftraceTimestamp));
        assert.deepEqual(
          mapped,
          ts.map((v) => v + pair.bootNs - pair.traceNs),
        );
      }
    } finally {
      fs.rmSync(join(rec.dir, '..'), { recursive: true, force: true });
      fs.rmSync(join(out, '..'), { recursive: true, force: true });
    }
  });

  it('mono: converted to boot by the recorded pair exactly; ClockSnapshot of the same pair', async (t) => {
    const rec = markerRecording(t, 'mono', 'pf-mono');
    if (rec === null) return;
    const out = join(tempDir('pf-mono-out'), 'mono.perfetto-trace');
    try {
      await convert(rec.dir, out, {}, rec.pairs);
      const { bytes, packets } = readTrace(out);
      assert.deepEqual(unknownFields(bytes), []);
      const pair = rec.pairs[0]!;
      const offset = pair.bootNs - pair.traceNs;
      for (const [cpu, ts] of recordedTimestamps(rec.dir)) {
        for (const b of bundlesOf(packets, cpu)) assert.equal(b.ftraceClock, undefined, 'boot after conversion');
        assert.deepEqual(
          writtenTimestamps(packets, cpu),
          ts.map((v) => v + offset),
        );
      }
      const snap = packets.find((p) => p.clockSnapshot !== undefined)?.clockSnapshot as Obj | undefined;
      assert.ok(snap !== undefined);
      const clocks = new Map(list(snap, 'clocks').map((c) => [Number(c.clockId), big(c.timestamp)]));
      assert.equal(clocks.get(6), pair.bootNs, 'BOOTTIME');
      assert.equal(clocks.get(3), pair.traceNs, 'MONOTONIC: the mono reading of the pair');
    } finally {
      fs.rmSync(join(rec.dir, '..'), { recursive: true, force: true });
      fs.rmSync(join(out, '..'), { recursive: true, force: true });
    }
  });

  it('a recording without a pair is written unconverted, with a note', async (t) => {
    const rec = markerRecording(t, 'local', 'pf-nopair');
    if (rec === null) return;
    const out = join(tempDir('pf-nopair-out'), 'x.pftrace');
    try {
      const report = await convert(rec.dir, out);
      assert.match(report.notes.join('\n'), /no \(local, boot\) clock pair/);
      const { packets } = readTrace(out);
      for (const [cpu, ts] of recordedTimestamps(rec.dir)) assert.deepEqual(writtenTimestamps(packets, cpu), ts);
    } finally {
      fs.rmSync(join(rec.dir, '..'), { recursive: true, force: true });
      fs.rmSync(join(out, '..'), { recursive: true, force: true });
    }
  });

  for (const clock of ['counter', 'x86-tsc']) {
    it(`${clock}: refused at open() with ERR_UNSUPPORTED, no file left`, async () => {
      // The recorded sched fixture, relabelled as if recorded with that clock.
      const work = tempDir(`pf-${clock}`);
      const dir = join(work, 'rec');
      fs.cpSync(new URL('../fixtures/sched/tracefs', import.meta.url), dir, { recursive: true });
      fs.writeFileSync(join(dir, 'trace_clock'), `local global [${clock}]\n`);
      const out = join(work, 'out.perfetto-trace');
      try {
        await assert.rejects(convert(dir, out), (e: Error & { code?: string }) => {
          assert.equal(e.code, 'ERR_UNSUPPORTED');
          assert.match(e.message, new RegExp(`"${clock}" does not count nanoseconds`));
          return true;
        });
        assert.deepEqual(
          fs.readdirSync(work).sort(),
          ['rec'],
          'nothing written beside the recording',
        );
      } finally {
        fs.rmSync(work, { recursive: true, force: true });
      }
    });
  }

  it('output path failures are ERR_OUTPUT with the path and errno', async () => {
    const work = tempDir('pf-io');
    const dir = join(work, 'rec');
    fs.cpSync(new URL('../fixtures/sched/tracefs', import.meta.url), dir, { recursive: true });
    try {
      for (const [out, errno] of [
        [join(work, 'missing', 'x.pftrace'), 'ENOENT'],
        [dir, 'EISDIR'],
      ] as const) {
        await assert.rejects(convert(dir, out), (e: Error & { code?: string; errno?: string; path?: string }) => {
          assert.equal(e.code, 'ERR_OUTPUT');
          assert.equal(e.errno, errno);
          assert.equal(e.path, out);
          return true;
        });
      }
      assert.deepEqual(fs.readdirSync(work), ['rec']);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
