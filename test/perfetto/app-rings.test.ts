// The app on the kernel's timeline: a real AppRing written with the trace
// API (slices, instants, counters) and a schema event, between trace_marker
// writes of the same thread into a private mono-clock instance. In the
// Perfetto output the slices nest on the thread's track, instants and
// counters carry their values, schema fields are debug annotations, and
// every app event lands between the kernel events written before and after
// it (app timestamps mapped by the ClockSnapshot, as trace_processor does).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { native } from '../../src/native.js';
import { RecordingInput } from '../../src/pipeline/recording-input.js';
import { AppRing } from '../../src/ring/app-ring.js';
import { TraceApi } from '../../src/ring/trace-api.js';
import { createPerfettoSink } from '../../src/sinks/perfetto/index.js';
import type { CpuCursor, SinkEnd } from '../../src/sinks/sink.js';
import { newCounters } from '../../src/consumer/counters.js';
import { kernelOrSkip, onCpu, testInstance } from '../helpers/kernel.js';
import { big, bundlesOf, list, type Obj, readTrace, unknownFields } from './decode.js';
import { snapshot, tempDir } from './recording.js';

interface AppEvent {
  ts: bigint;
  type: number;
  track: bigint;
  name: string;
  counter?: number;
  annotations: Map<string, unknown>;
}

describe('perfetto: application rings on the kernel timeline', () => {
  it('slices nest, instants and counters are right, app events land between the kernel events around them', async (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using ring = AppRing.create({ subbufs: 16, name: 'pf-app' });
    const request = ring.defineEvent({ name: 'request', fields: [['id', 'u32'], ['delta', 's32'], ['path', 'string']] });
    const tid = native.gettid();
    let rec: ReturnType<typeof snapshot>;
    {
      using inst = testInstance(tracefs);
      inst.traceClock = 'mono';
      inst.tracingOn = true;
      const writer = ring.writer({ autoFlush: false });
      const trace = new TraceApi(ring, writer);
      const marker = fs.openSync(inst.file('trace_marker'), 'w');
      try {
        onCpu(0, () => {
          for (let i = 0; i < 20; i++) {
            fs.writeSync(marker, `before ${i}`);
            trace.span(`outer ${i}`, () => {
              trace.begin('inner');
              trace.instant('tick');
              trace.end();
            });
            trace.counter('queue', i * 3);
            trace.counter('load', i + 0.5);
            request.write(writer, i, -i, `/p/${i}`);
            fs.writeSync(marker, `after ${i}`);
          }
        });
      } finally {
        fs.closeSync(marker);
      }
      writer.close();
      rec = snapshot(tracefs, inst, 'pf-app');
    }
    const out = join(tempDir('pf-app-out'), 'app.perfetto-trace');
    const source = new RecordingInput(rec.dir, { kallsyms: null });
    const reader = ring.reader({ cpu: 100 });
    const cursor: CpuCursor = {
      cpu: 100,
      layout: { subbufSize: ring.geometry.subbufSize, dataOffset: 16, longSize: 8, littleEndian: true },
      get caughtUp() {
        return reader.caughtUp;
      },
      next: () => reader.next(),
      nextPages: () => null,
    };
    const input = {
      ...source.open(),
      clockPairs: rec.pairs,
      rings: [{ name: 'pf-app', path: '', cursor, formats: ring.formats, writerPid: process.pid, writerTid: tid }],
    };
    try {
      const sink = createPerfettoSink(out);
      sink.open(input);
      sink.consume();
      const end: SinkEnd = {
        reason: 'end-of-input',
        buffers: [{ name: '', cpus: input.buffers[0]!.cpus.map((c) => ({ cpu: c.cpu, stats: null, counters: newCounters(), stagingLost: 0 })) }],
        rings: [{ name: 'pf-app', events: 0, lost: 0 }],
        clockPairs: [],
      };
      const report = await sink.close(end);
      const { bytes, packets } = readTrace(out);
      assert.deepEqual(unknownFields(bytes), []);

      // mono → boot for the app: the ClockSnapshot.
      const snap = packets.find((p) => p.clockSnapshot !== undefined)!.clockSnapshot as Obj;
      const clocks = new Map(list(snap, 'clocks').map((c) => [Number(c.clockId), big(c.timestamp)]));
      const monoToBoot = clocks.get(6)! - clocks.get(3)!;

      // Tracks: the thread's track under this process.
      const descriptors = packets.map((p) => p.trackDescriptor as Obj | undefined).filter((d): d is Obj => d !== undefined);
      const threadTrack = descriptors.find((d) => d.thread !== undefined)!;
      assert.equal(Number((threadTrack.thread as Obj).tid), tid);
      assert.equal(Number((threadTrack.thread as Obj).pid), process.pid);
      const processTrack = descriptors.find((d) => d.process !== undefined)!;
      assert.equal(big(threadTrack.parentUuid), big(processTrack.uuid));
      assert.equal(Number((processTrack.process as Obj).pid), process.pid);
      const counterTracks = new Map(descriptors.filter((d) => d.counter !== undefined).map((d) => [big(d.uuid), d.name as string]));
      assert.deepEqual([...counterTracks.values()].sort(), ['load', 'queue']);
      for (const d of descriptors.filter((x) => x.counter !== undefined)) assert.equal(big(d.parentUuid), big(threadTrack.uuid));

      // The app's events, names resolved through the sequence's interned data.
      const seq = packets.find((p) => p.trackEvent !== undefined)!.trustedPacketSequenceId;
      const names = new Map<number, string>();
      const annotationNames = new Map<number, string>();
      const app: AppEvent[] = [];
      let first = true;
      for (const p of packets) {
        if (p.trustedPacketSequenceId !== seq || p.trackEvent === undefined) continue;
        assert.equal(Number(p.sequenceFlags), first ? 3 : 2, 'incremental state: cleared on the first packet');
        first = false;
        assert.equal(Number(p.timestampClockId), 3, 'MONOTONIC');
        const d = p.internedData as Obj | undefined;
        for (const n of list(d, 'eventNames')) names.set(Number(n.iid), n.name as string);
        for (const n of list(d, 'debugAnnotationNames')) annotationNames.set(Number(n.iid), n.name as string);
        const e = p.trackEvent as Obj;
        app.push({
          ts: big(p.timestamp) + monoToBoot,
          type: Number(e.type),
          track: big(e.trackUuid),
          name: e.nameIid === undefined ? '' : names.get(Number(e.nameIid))!,
          ...(e.counterValue !== undefined ? { counter: Number(e.counterValue) } : {}),
          ...(e.doubleCounterValue !== undefined ? { counter: Number(e.doubleCounterValue) } : {}),
          annotations: new Map(list(e, 'debugAnnotations').map((a) => [annotationNames.get(Number(a.nameIid))!, a.stringValue ?? a.intValue ?? a.uintValue])),
        });
      }
      assert.equal(app.length, 20 * 8);
      assert.equal(report.events, app.length + bundlesOf(packets, 0).reduce((n, b) => n + list(b, 'event').length, 0) + bundlesOf(packets, 1).reduce((n, b) => n + list(b, 'event').length, 0));

      // Per iteration: B outer, B inner, I tick, E, E, C queue, C load, I request.
      const kernel = [0, 1].flatMap((cpu) => bundlesOf(packets, cpu).flatMap((b) => list(b, 'event')));
      const markerTs = new Map(kernel.filter((e) => e.print !== undefined).map((e) => [((e.print as Obj).buf as string).trimEnd(), big(e.timestamp)]));
      for (let i = 0; i < 20; i++) {
        const it8 = app.slice(i * 8, i * 8 + 8);
        assert.deepEqual(
          it8.map((e) => [e.type, e.name]),
          [
            [1, `outer ${i}`],
            [1, 'inner'],
            [3, 'tick'],
            [2, ''],
            [2, ''],
            [4, ''],
            [4, ''],
            [3, 'request'],
          ],
          `iteration ${i}`,
        );
        for (const e of [it8[0]!, it8[1]!, it8[2]!, it8[3]!, it8[4]!, it8[7]!]) assert.equal(e.track, big(threadTrack.uuid), 'on the thread track');
        assert.equal(counterTracks.get(it8[5]!.track), 'queue');
        assert.equal(it8[5]!.counter, i * 3);
        assert.equal(counterTracks.get(it8[6]!.track), 'load');
        assert.equal(it8[6]!.counter, i + 0.5);
        const req = it8[7]!.annotations;
        assert.deepEqual([...req.keys()], ['id', 'delta', 'path']);
        assert.equal(Number(req.get('id')), i);
        assert.equal(Number(req.get("delta")), i === 0 ? 0 : -i);
        assert.equal(req.get('path'), `/p/${i}`);
        // Nesting: inner inside outer, in time too.
        for (let k = 1; k < 8; k++) assert.ok(it8[k]!.ts >= it8[k - 1]!.ts, `iteration ${i}: time order`);
        // Kernel events of the same thread before and after, on the boot timeline.
        const before = markerTs.get(`before ${i}`);
        const after = markerTs.get(`after ${i}`);
        assert.ok(before !== undefined && after !== undefined, `markers ${i} recorded`);
        assert.ok(before < it8[0]!.ts && it8[7]!.ts < after, `iteration ${i}: kernel ${before} < app ${it8[0]!.ts}..${it8[7]!.ts} < kernel ${after}`);
      }
      // Ring losses in TraceStats, tied to the ring's sequence.
      const ts = packets.find((p) => p.traceStats !== undefined)!.traceStats as Obj;
      assert.equal(Number(list(ts, 'bufferStats')[0]!.traceWriterPacketLoss ?? 0), 0);
      assert.equal(Number(list(ts, 'writerStats')[0]!.sequenceId), Number(seq));
    } finally {
      input.close();
      source.close();
      ring.releaseReader();
      fs.rmSync(join(rec.dir, '..'), { recursive: true, force: true });
      fs.rmSync(join(out, '..'), { recursive: true, force: true });
    }
  });
});
