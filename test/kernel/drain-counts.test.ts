// Draining counts exactly what the kernel holds: for thousands of
// trace_marker and trace_marker_raw events pinned to each CPU, on both
// paths and three sub-buffer sizes, per-CPU counts equal per_cpu/cpuN/stats,
// and every payload comes back intact and in order.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RecordBatch } from '../../src/layout/record.js';
import { TraceSource } from '../../src/kernel/trace-source.js';
import { kernelOrSkip, testInstance, writeMarkers, writeRawMarkers } from '../helpers/kernel.js';

const PRINT = 5;
const RAW_DATA = 19;
const text = (cpu: number) => (i: number) => `m${i}c${cpu}:${'x'.repeat((i * 37) % 250)}`;
const rawBody = (cpu: number) => (i: number) => {
  const body = new Uint8Array(4 + ((i * 13) % 180));
  new DataView(body.buffer).setUint32(0, i, true);
  body.fill(cpu + 1, 4);
  return body;
};

/** Checks each event's content in write order; returns events seen per type. */
function checker(cpu: number) {
  let nextText = 0;
  let nextRaw = 0;
  let lastTs = -1n;
  const decoder = new TextDecoder();
  return {
    check(batch: RecordBatch) {
      const v = batch.view;
      for (let i = 0; i < batch.count; i++) {
        const off = batch.offset(i);
        const ts = batch.timestampBigInt(i);
        assert.ok(ts >= lastTs, 'timestamps within a CPU never go back');
        lastTs = ts;
        assert.equal(v.getInt32(off + 4, true), process.pid);
        const type = v.getUint16(off, true);
        if (type === PRINT) {
          const end = batch.bytes.indexOf(0, off + 16);
          const got = decoder.decode(batch.bytes.subarray(off + 16, end));
          assert.equal(got, `${text(cpu)(nextText++)}\n`);
        } else {
          assert.equal(type, RAW_DATA);
          assert.equal(v.getUint32(off + 8, true), 0x7472);
          const body = rawBody(cpu)(nextRaw++);
          assert.deepEqual(batch.bytes.subarray(off + 12, off + 12 + body.length), body);
        }
      }
    },
    get seen() {
      return { text: nextText, raw: nextRaw };
    },
  };
}

for (const mode of ['mmap', 'read'] as const) {
  describe(`drain by ${mode}`, () => {
    for (const kb of [4, 8, 64]) {
      it(`${kb} KiB sub-buffers: per-CPU counts equal the kernel's, payloads intact`, (t) => {
        const tracefs = kernelOrSkip(t);
        if (!tracefs) return;
        using inst = testInstance(tracefs);
        inst.setSubbufSizeKb(kb);
        inst.setBufferSizeKb(2048);
        const cpus = inst.cpus();
        const written = new Map<number, number>();
        for (const cpu of cpus) {
          const n = 2000 + 97 * cpu;
          assert.equal(writeMarkers(inst, cpu, n, text(cpu)).written, n);
          assert.equal(writeRawMarkers(inst, cpu, n, rawBody(cpu)).written, n);
          written.set(cpu, 2 * n);
        }
        const before = new Map(cpus.map((c) => [c, inst.cpuStats(c)]));
        using source = TraceSource.open(inst, { mode });
        assert.equal(source.mode, mode);
        const checkers = new Map(cpus.map((c) => [c, checker(c)]));
        source.drain((batch) => checkers.get(batch.cpu)?.check(batch));
        const summary = source.finish();
        for (const c of summary.cpus) {
          const kernel = before.get(c.cpu);
          assert.ok(kernel);
          assert.equal(kernel.overrun, 0, 'the buffer was sized to hold everything');
          assert.equal(c.events, kernel.entries, `cpu ${c.cpu}: events vs stats entries`);
          assert.equal(c.events, written.get(c.cpu));
          assert.equal(c.lost, 0);
          assert.equal(inst.cpuStats(c.cpu).entries, 0, 'nothing left unread');
          assert.equal(inst.cpuStats(c.cpu).readEvents, c.events, "the kernel's read counter agrees");
          assert.deepEqual(checkers.get(c.cpu)?.seen, { text: c.events / 2, raw: c.events / 2 });
        }
      });
    }
  });
}
