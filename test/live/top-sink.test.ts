// The live view's counting sink: on a captured trace its counts by event
// and by task are those of the kernel's own text of the same events; take()
// hands over and zeroes; odd records (short, big-endian, pids outside the
// table) are still counted.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TopSink } from '../../src/live/top-sink.js';
import { RecordBatch } from '../../src/layout/record.js';
import { RecordingInput } from '../../src/pipeline/recording-input.js';
import { runFileSinks } from '../../src/pipeline/run-file.js';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** Counts by 'system:event' and by pid (with comm) from the kernel's `trace` text. */
function kernelCounts(traceText: string, systemOf: Map<string, string>) {
  const events = new Map<string, number>();
  const tasks = new Map<number, { comm: string; count: number }>();
  for (const line of traceText.split('\n')) {
    const m = /^\s*(.*?)-(\d+)\s+\[\d{3}\]\s+\S{5}\s+\d+\.\d{6}: ([a-z_0-9]+):/.exec(line);
    if (!m) continue;
    const name = `${systemOf.get(m[3]!) ?? '?'}:${m[3]}`;
    events.set(name, (events.get(name) ?? 0) + 1);
    const pid = Number(m[2]);
    const t = tasks.get(pid) ?? { comm: m[1]!, count: 0 };
    t.count++;
    tasks.set(pid, t);
  }
  return { events, tasks };
}

describe('TopSink', () => {
  it("counts a capture's records by event and by task as the kernel's text does", async () => {
    const dir = join(fixtures, 'sched/tracefs');
    const systemOf = new Map<string, string>();
    for (const sys of fs.readdirSync(join(dir, 'events'), { withFileTypes: true })) {
      if (!sys.isDirectory()) continue;
      for (const ev of fs.readdirSync(join(dir, 'events', sys.name))) systemOf.set(ev, sys.name);
    }
    const expected = kernelCounts(fs.readFileSync(join(fixtures, 'sched/expected/trace'), 'utf8'), systemOf);
    const sink = new TopSink();
    const source = new RecordingInput(dir, { kallsyms: null });
    try {
      await runFileSinks(source, [sink]);
    } finally {
      source.close();
    }
    const counts = sink.take();
    const events = new Map(counts.events.map((e) => [e.name, e.count]));
    assert.deepEqual(events, expected.events);
    const tasks = new Map(counts.tasks.map((t) => [t.key, { comm: t.name, count: t.count }]));
    assert.deepEqual(tasks, expected.tasks);
    const total = [...expected.events.values()].reduce((a, b) => a + b, 0);
    assert.equal(sink.events, total);
    assert.equal(
      sink.tallies.reduce((a, t) => a + t.events, 0),
      total,
      'per-cursor tallies add up',
    );
    assert.ok(sink.tallies.every((t) => t.ring === null && t.bytes > 0));
    const again = sink.take();
    assert.deepEqual([again.events.length, again.tasks.length], [0, 0], 'take() zeroes');
  });

  /** A batch over hand-made records: [id, pid] pairs as 8-byte payloads (or shorter). */
  function batchOf(records: Array<{ id: number; pid?: number; length?: number }>, littleEndian: boolean): RecordBatch {
    const bytes = new Uint8Array(records.length * 16);
    const view = new DataView(bytes.buffer);
    const batch = new RecordBatch(records.length);
    batch.reset(bytes, view, 0, 0);
    records.forEach((r, i) => {
      const off = i * 16;
      view.setUint16(off, r.id, littleEndian);
      if (r.pid !== undefined) view.setInt32(off + 4, r.pid, littleEndian);
      batch.records[i * 4] = off;
      batch.records[i * 4 + 1] = r.length ?? 8;
      batch.count++;
    });
    return batch;
  }

  it('counts big-endian records, records too short for a pid, and pids outside the table', () => {
    for (const littleEndian of [true, false]) {
      const sink = new TopSink();
      // open() is what sets the byte order: give it a minimal input.
      sink.open({
        context: () => ({ littleEndian, registry: { generation: 0, lookup: () => ({ status: 'unknown' }) }, tasks: { comm: (pid: number) => `p${pid}` } }),
        buffers: [],
        rings: [],
      } as never);
      sink.count(
        batchOf(
          [
            { id: 7, pid: 100 },
            { id: 7, pid: 100 },
            { id: 7, pid: 101 },
            { id: 9, pid: -5 },
            { id: 9, pid: 0x7fffffff },
            { id: 9, length: 4 },
            { id: 7, pid: 100 },
          ],
          littleEndian,
        ),
      );
      const c = sink.take();
      assert.deepEqual(
        c.events.map((e) => [e.key, e.name, e.count]),
        [
          [7, '#7', 4],
          [9, '#9', 3],
        ],
        `events (${littleEndian ? 'LE' : 'BE'})`,
      );
      assert.deepEqual(
        c.tasks.map((t) => [t.key, t.name, t.count]).sort((a, b) => (a[0] as number) - (b[0] as number)),
        [
          [-5, 'p-5', 1],
          [100, 'p100', 3],
          [101, 'p101', 1],
          [0x7fffffff, 'p2147483647', 1],
        ],
        `tasks (${littleEndian ? 'LE' : 'BE'})`,
      );
      assert.equal(sink.shortRecords, 1);
      assert.equal(sink.events, 7);
    }
  });
});
