// Application rings become events too: their schema fields as typed
// columns, their CLOCK_MONOTONIC timestamps on the boot clock, the writer's
// thread and process as pid and tgid.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { emitProcessWarning } from '../../src/errors.js';
import { CLOCK_IDS, native } from '../../src/native.js';
import { ReaderCursor } from '../../src/pipeline/cursor.js';
import { localMachine } from '../../src/pipeline/recording-input.js';
import { AppRing } from '../../src/ring/app-ring.js';
import { createParquetSink } from '../../src/sinks/parquet/index.js';
import type { CpuCursor, SinkInput } from '../../src/sinks/sink.js';
import { duck, filesUnder } from './support.js';

const scratch = fs.mkdtempSync(join(os.tmpdir(), 'tracering-parquet-ring-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

const noFiles = { label: 'none', listEvents: (): [string, string][] => [], readFormat: (): string => { throw new Error('no formats'); }, readOptional: () => null };

for (const worker of [false, true]) it(`a ring's events, typed, with converted timestamps (${worker ? 'worker' : 'inline'})`, async () => {
  using ring = AppRing.create({ subbufs: 16, name: 'pqtest' });
  const request = ring.defineEvent({ name: 'request', fields: [['id', 'u32'], ['path', 'string'], ['latency', 'u64'], ['tag', 'char[8]'], ['delta', 's64']] });
  const writer = ring.writer({ autoFlush: false });
  const before = process.hrtime.bigint();
  const n = 500;
  for (let i = 0; i < n; i++) request.write(writer, i, `/item/${i % 7}`, 2n ** 40n + BigInt(i), `t${i % 3}`, -BigInt(i) * 1000n);
  const after = process.hrtime.bigint();
  writer.close();
  const reader = ring.reader({ cpu: 64 });
  const cursor: CpuCursor = new ReaderCursor(reader);
  // One reading of the clocks (monotonic and boot from the kernel), as a live input takes at its start.
  const monoNs = native.clockNs(CLOCK_IDS.monotonic);
  const bootNs = native.clockNs(CLOCK_IDS.boottime);
  const input: SinkInput = {
    live: true,
    label: 'ring test',
    buffers: [],
    rings: [{ name: 'pqtest', path: '', cursor, formats: ring.formats, writerPid: process.pid, writerTid: native.gettid() }],
    files: noFiles,
    kallsyms: () => null,
    context: () => {
      throw new Error('not used');
    },
    machine: localMachine(),
    clockPairs: [{ clock: 'mono', traceNs: monoNs, bootNs, monoNs, realtimeNs: BigInt(Date.now()) * 1000000n }],
    onWarning: emitProcessWarning,
  };
  const out = join(scratch, `out-${worker}`);
  const sink = createParquetSink(out, { host: 'app', fsync: false, worker });
  await sink.open(input);
  await sink.consume();
  const report = await sink.close({ reason: 'end-of-input', buffers: [], rings: [{ name: 'pqtest', events: n, lost: 0 }], clockPairs: [] });
  assert.equal(report.events, n);
  const db = await duck();
  try {
    const path = `${out}/events/host=app/*/*/system=app/event=request/*.parquet`;
    const types = Object.fromEntries((await db.rows(`select column_name, column_type from (describe select * from read_parquet('${path}'))`)).map((r) => [r.column_name, r.column_type]));
    assert.deepEqual([types.id, types.path, types.latency, types.tag, types.delta], ['UINTEGER', 'VARCHAR', 'UBIGINT', 'VARCHAR', 'BIGINT']);
    const rows = await db.rows(`select * from read_parquet('${path}') order by id`);
    assert.equal(rows.length, n);
    const offset = bootNs - monoNs;
    rows.forEach((r, i) => {
      assert.equal(r.id, i);
      assert.equal(r.path, `/item/${i % 7}`);
      assert.equal(r.latency, String(2n ** 40n + BigInt(i)));
      assert.equal(r.tag, `t${i % 3}`);
      assert.equal(r.delta, String(-BigInt(i) * 1000n));
      assert.equal(r.buffer, 'ring:pqtest');
      assert.equal(r.cpu, 64);
      assert.equal(r.pid, native.gettid());
      assert.equal(r.tgid, process.pid);
      assert.equal(typeof r.comm, 'string', 'the writer thread\'s name, from /proc');
      const mono = BigInt(String(r.ts)) - offset;
      assert.ok(mono >= before && mono <= after, `ts ${r.ts} is the write time on the boot clock`);
    });
    const losses = await db.rows(`select buffer, cpu, events, reader_lost from read_parquet('${out}/losses/**/*.parquet')`);
    assert.deepEqual(losses, [{ buffer: 'ring:pqtest', cpu: 64, events: String(n), reader_lost: '0' }]);
    const [manifest] = filesUnder(join(out, 'manifests'), /\.json$/);
    const m = JSON.parse(fs.readFileSync(manifest!, 'utf8'));
    assert.deepEqual(m.ts.clocks, [{ source: 'ring:pqtest', source_clock: 'mono', ts_clock: 'boot', offset_ns: String(offset) }]);
  } finally {
    db.close();
    ring.releaseReader();
  }
});
