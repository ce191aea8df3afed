// `tracering record --format parquet` and `convert --format parquet`, the
// built CLI end to end: a live capture of a command that writes markers,
// written by the Parquet sink (in its worker), read by DuckDB: every event
// the capture counted, per CPU, every marker in order, ts on the boot
// clock, a losses row per CPU and segment.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { kernelOrSkip } from '../helpers/kernel.js';
import { duck, filesUnder } from './support.js';

const scratch = fs.mkdtempSync(join(os.tmpdir(), 'trtest-parquet-cli-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

it('record --format parquet: the capture\'s counts per CPU, every marker in order, losses per segment', async (t) => {
  const tracefs = kernelOrSkip(t);
  if (!tracefs) return;
  const name = `trtest-pq-${process.pid}`;
  const dir = join(scratch, 'live');
  const markers = 400;
  const script = `i=0; while [ $i -lt ${markers} ]; do echo "pq mark $i" > ${tracefs.root}/instances/${name}/trace_marker; i=$((i+1)); done`;
  const r = runCli(['record', '-B', name, '-e', 'sched:sched_switch', '-e', 'sched:sched_waking', '-o', dir, '--format', 'parquet', '--segment-s', '1', '--json', '--', '/bin/sh', '-c', script], 120_000);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(tracefs.instanceExists(name), false, 'instance removed');
  const summary = JSON.parse(r.stdout) as {
    cpus: Array<{ cpu: number; events: number; lost: number; stagingLost: number }>;
    outputs: Array<{ kind: string; events: number }>;
  };
  assert.equal(summary.outputs[0]?.kind, 'parquet');
  const db = await duck();
  try {
    const perCpu = await db.rows(`select cpu, count(*) as n from read_parquet('${dir}/events/**/*.parquet') group by all`);
    const got = Object.fromEntries(perCpu.map((row) => [Number(row.cpu), Number(row.n)]));
    for (const c of summary.cpus) assert.equal(got[c.cpu] ?? 0, c.events, `cpu ${c.cpu}: every event the capture read`);
    assert.equal(summary.outputs[0]?.events, summary.cpus.reduce((a, c) => a + c.events, 0));
    const marks = await db.rows(
      `select buf from read_parquet('${dir}/events/**/event=print/*.parquet') where buf like 'pq mark %' order by ts`,
    );
    assert.deepEqual(
      marks.map((m) => Number(/pq mark (\d+)/.exec(String(m.buf))?.[1])),
      Array.from({ length: markers }, (_, i) => i),
    );
    const [manifestPath] = filesUnder(join(dir, 'manifests'), /\.json$/);
    const m = JSON.parse(fs.readFileSync(manifestPath!, 'utf8')) as { complete: boolean; live: boolean; ts: { clocks: Array<{ ts_clock: string }> }; segments: unknown[] };
    assert.equal(m.complete, true);
    assert.equal(m.live, true);
    assert.equal(m.ts.clocks[0]?.ts_clock, 'boot', 'a live capture reads its clock beside the boot clock');
    const losses = await db.rows(`select segment, cpu, events, staging_lost from read_parquet('${dir}/losses/**/*.parquet')`);
    assert.equal(losses.length, m.segments.length * summary.cpus.length, 'a losses row per CPU and segment');
    for (const c of summary.cpus) {
      const rows = losses.filter((l) => Number(l.cpu) === c.cpu);
      assert.equal(rows.reduce((a, l) => a + Number(l.events), 0), c.events);
      assert.equal(rows.reduce((a, l) => a + Number(l.staging_lost ?? 0), 0), c.stagingLost);
    }

    // And the same capture converted from a recording directory to Parquet as another host.
    const recDir = join(scratch, 'rec');
    const r2 = runCli(['record', '-B', `${name}-b`, '-e', 'sched:sched_switch', '-o', recDir, '--json', '--', '/bin/sh', '-c', 'for i in 1 2 3; do /bin/true; done'], 120_000);
    assert.equal(r2.status, 0, r2.stderr);
    const out = join(scratch, 'converted');
    const c = runCli(['convert', recDir, out, '--format', 'parquet', '--host', 'converted', '--json']);
    assert.equal(c.status, 0, c.stderr);
    const conv = JSON.parse(c.stdout) as { outputs: Array<{ kind: string; events: number }> };
    const recSummary = JSON.parse(r2.stdout) as { total: { events: number } };
    assert.equal(conv.outputs[0]?.events, recSummary.total.events);
    const n = await db.rows(`select host, count(*) as n from read_parquet('${out}/events/**/*.parquet', hive_partitioning = true) group by all`);
    assert.deepEqual(n, [{ host: 'converted', n: String(recSummary.total.events) }]);
  } finally {
    db.close();
  }
});
