// Layout conformance: for the same payload sizes and times, the ring writes
// the same bytes the kernel writes for trace_marker_raw (sub-buffer
// headers, record headers, time extends, end-of-page padding), and pages
// the ring writes decode with the kernel-data decoder.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { EventRegistry } from '../../src/decode/registry.js';
import { EventRenderer } from '../../src/decode/renderer.js';
import { MappedCpuReader } from '../../src/kernel/mapped-cpu-reader.js';
import { LOST_UNKNOWN } from '../../src/layout/subbuf.js';
import { AppRing } from '../../src/ring/app-ring.js';
import { kernelOrSkip, onCpu, testInstance } from '../helpers/kernel.js';

interface KernelPage {
  bytes: Uint8Array;
  events: Array<{ ts: bigint; payload: Uint8Array }>;
  commit: number;
}

describe('ring layout conformance', () => {
  it("writes byte-identical sub-buffers to the kernel's for trace_marker_raw", async (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    inst.setBufferSizeKb(512);
    // Sizes that cross every rule: tiny (12 -> 16), the 112-byte threshold,
    // large records, and pauses past 2^27 ns (TIME_EXTEND).
    const sizes = [0, 1, 3, 4, 5, 96, 100, 101, 104, 300, 1000, 17, 2];
    const fd = fs.openSync(inst.file('trace_marker_raw'), 'w');
    try {
      for (let round = 0; round < 40; round++) {
        onCpu(0, () => {
          for (let i = 0; i < sizes.length; i++) {
            const b = Buffer.alloc(4 + (sizes[i] as number), round + i);
            b.writeUInt32LE(0x1000 + round, 0);
            fs.writeSync(fd, b);
          }
        });
        if (round === 7 || round === 23) await sleep(150);
      }
    } finally {
      fs.closeSync(fd);
    }
    inst.tracingOn = false;

    // The kernel's sub-buffers as they sit in its ring: through the mapping
    // (read() would hand out copies with the end-of-page padding trimmed).
    const pages: KernelPage[] = [];
    {
      const reader = MappedCpuReader.open(inst, 0);
      try {
        let current: KernelPage | null = null;
        let currentId = -1;
        for (let b = reader.next(); b; b = reader.next()) {
          if (b.subbufId !== currentId) {
            currentId = b.subbufId;
            const start = reader.metaPageSize + currentId * reader.layout.subbufSize;
            const bytes = b.bytes.slice(start, start + reader.layout.subbufSize);
            current = { bytes, events: [], commit: new DataView(bytes.buffer).getUint32(8, true) & 0x3fffffff };
            pages.push(current);
          }
          for (let i = 0; i < b.count; i++) current?.events.push({ ts: b.timestampBigInt(i), payload: b.payload(i).slice() });
        }
      } finally {
        reader.close();
      }
    }
    assert.ok(pages.length >= 5, `${pages.length} pages`);

    // Replay sizes and times into a ring with room for every page.
    const first = pages[0]?.events[0]?.ts as bigint;
    using ring = AppRing.create({ subbufs: pages.length + 2 });
    const writer = ring.writer({ autoFlush: false, clockBase: [Number(first >> 32n), Number(first & 0xffffffffn)] });
    for (const page of pages) {
      for (const e of page.events) {
        const at = writer.reserveAt(e.payload.length, Number(e.ts - first));
        assert.ok(at >= 0);
        writer.bytes.set(e.payload, at);
        writer.commit();
      }
    }
    writer.flush();

    // Every page the kernel completed (all but the last, which the writer was
    // still on) must match the ring's page at that position.
    let extends_ = 0;
    for (let k = 0; k < pages.length - 1; k++) {
      const kernel = pages[k] as KernelPage;
      const start = ring.geometry.subbufSize * (1 + (k + 1)); // ring position k = sub-buffer k + 1
      const ours = ring.memory.bytes.subarray(start, start + 16 + kernel.commit);
      const diff = ours.findIndex((b, i) => b !== kernel.bytes[i]);
      const around = (u: Uint8Array) =>
        Array.from(u.subarray(Math.max(0, diff - 8), diff + 16), (x) => x.toString(16).padStart(2, '0')).join(' ');
      assert.equal(diff, -1, `page ${k}: first difference at byte ${diff}\n ours   ${around(ours)}\n kernel ${around(kernel.bytes)}`);
      for (let off = 16; off < 16 + kernel.commit; ) {
        const w = new DataView(kernel.bytes.buffer).getUint32(off, true);
        const type = w & 31;
        if (type === 30) extends_++;
        off += type === 0 || type === 29 ? 4 + new DataView(kernel.bytes.buffer).getUint32(off + 4, true) : type >= 30 ? 8 : 4 + type * 4;
      }
    }
    assert.ok(extends_ >= 1, 'the comparison covered TIME_EXTEND records');
  });

  it('pages the ring writes decode and render with the kernel-data decoder', () => {
    using ring = AppRing.create({ subbufs: 8 });
    const ev = ring.defineEvent({
      system: 'myapp',
      name: 'step',
      fields: [
        ['n', 'u32'],
        ['delta', 's64'],
        ['label', 'string'],
        ['raw', 'bytes'],
        ['tag', 'char[6]'],
      ],
    });
    const writer = ring.writer({ autoFlush: false });
    for (let i = 0; i < 200; i++) ev.write(writer, i, BigInt(-i) * 10n ** 12n, `label ${i}`, Uint8Array.of(i, 0xff), `t${i % 100}`);
    writer.flush();
    const renderer = new EventRenderer(new EventRegistry(ring.formats));
    const reader = ring.reader();
    const lines: string[] = [];
    for (let b = reader.next(); b; b = reader.next()) {
      assert.equal(b.corrupt, null);
      assert.notEqual(b.lostBefore, LOST_UNKNOWN);
      for (let i = 0; i < b.count; i++) lines.push(renderer.text(b.view, b.bytes, b.offset(i), b.length(i)));
      assert.equal(renderer.status, 'ok');
    }
    assert.equal(lines.length, 200);
    assert.equal(lines[7], `step: n=7 delta=-7000000000000 label=label 7 raw=07 ff tag=t7`);
  });
});
