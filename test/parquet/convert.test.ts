// Recordings converted to Parquet as if from several hosts, read back by a
// real engine (DuckDB, embedded): counts per host, CPU and event, typed
// columns, and the losses table, against the recordings themselves.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { kernelOrSkip } from '../helpers/kernel.js';
import { type Duck, type Expected, convert, decodedEvents, duck, expected, filesUnder, record } from './support.js';

const scratch = fs.mkdtempSync(join(os.tmpdir(), 'tracering-parquet-'));
after(() => (process.env.TRACERING_KEEP_SCRATCH ? console.log(scratch) : fs.rmSync(scratch, { recursive: true, force: true })));

/** Two recordings: A (no losses) converted as hosts alpha, beta and delta (in a worker), B (overwritten) as gamma. */
interface Setup {
  out: string;
  a: Expected;
  b: Expected;
  aDir: string;
  db: Duck;
}

const events = (out: string) => `read_parquet('${out}/events/**/*.parquet', hive_partitioning = 1)`;

describe('Parquet conversion read by DuckDB', () => {
  let setup: Setup | null = null;

  after(() => setup?.db.close());

  async function prepare(t: Parameters<typeof kernelOrSkip>[0]): Promise<Setup | null> {
    if (setup !== null) return setup;
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return null;
    const aDir = join(scratch, 'rec-a');
    const bDir = join(scratch, 'rec-b');
    await record(tracefs, aDir, { markers: 600, processes: 6 });
    await record(tracefs, bDir, { markers: 4000, overwriteKb: 16 });
    const out = join(scratch, 'out');
    await convert(aDir, out, { host: 'alpha', bootId: 'boot-a' });
    await convert(aDir, out, { host: 'beta', bootId: 'boot-b' });
    await convert(bDir, out, { host: 'gamma', bootId: 'boot-c' });
    await convert(aDir, out, { host: 'delta', bootId: 'boot-d', worker: true });
    setup = { out, a: expected(aDir), b: expected(bDir), aDir, db: await duck() };
    return setup;
  }

  it('counts per host, CPU and event equal the recordings', async (t) => {
    const s = await prepare(t);
    if (!s) return;
    const rows = await s.db.rows(`select host, cpu, system, event, count(*) as n from ${events(s.out)} group by all`);
    const got = new Map<string, Map<string, number>>();
    for (const r of rows) {
      const host = String(r.host);
      if (!got.has(host)) got.set(host, new Map());
      got.get(host)!.set(`${r.cpu}/${r.system}/${r.event}`, Number(r.n));
    }
    assert.deepEqual([...got.keys()].sort(), ['alpha', 'beta', 'delta', 'gamma']);
    for (const host of ['alpha', 'beta', 'delta']) assert.deepEqual(Object.fromEntries([...got.get(host)!].sort()), Object.fromEntries([...s.a.counts].sort()), host);
    assert.deepEqual(Object.fromEntries([...got.get('gamma')!].sort()), Object.fromEntries([...s.b.counts].sort()));
    // Every CPU's events in the recording are there, and (no overwrite) they are what the kernel held.
    for (const [cpu, c] of s.a.cpus) {
      const n: number = [...s.a.counts].filter(([k]) => k.startsWith(`${cpu}/`)).reduce((a, [, v]) => a + v, 0);
      assert.equal(n, c.events);
      assert.equal(c.events, s.a.stats.get(cpu)?.entries, `cpu${cpu}: events read equal the kernel's entries`);
    }
    const markers = await s.db.rows(`select count(*) as n from ${events(s.out)} where host = 'alpha' and event = 'print'`);
    assert.ok(Number(markers[0]!.n) >= 600, 'the markers are there');
  });

  it('hive partitions and common columns agree; types are the format files\'', async (t) => {
    const s = await prepare(t);
    if (!s) return;
    const mismatch = await s.db.rows(
      `select count(*) as n from ${events(s.out)} where boot <> boot_id or host is null or ts is null or pid is null`,
    );
    assert.equal(Number(mismatch[0]!.n), 0);
    const types = await s.db.rows(
      `select column_name, column_type from (describe select * from read_parquet('${s.out}/events/**/event=sched_switch/*.parquet'))`,
    );
    const typeOf = Object.fromEntries(types.map((r) => [r.column_name, r.column_type]));
    assert.equal(typeOf.ts, 'BIGINT');
    assert.equal(typeOf.cpu, 'INTEGER');
    assert.equal(typeOf.lost_before, 'BIGINT');
    assert.equal(typeOf.prev_comm, 'VARCHAR');
    assert.equal(typeOf.prev_pid, 'INTEGER');
    assert.equal(typeOf.prev_state, 'BIGINT', 'long prev_state: 64-bit signed');
    assert.equal(typeOf.common_flags, 'UTINYINT');
    const print = await s.db.rows(`select column_name, column_type from (describe select * from read_parquet('${s.out}/events/**/event=print/*.parquet'))`);
    const printType = Object.fromEntries(print.map((r) => [r.column_name, r.column_type]));
    assert.equal(printType.ip, 'UBIGINT', 'unsigned long ip: 64-bit unsigned');
    assert.equal(printType.buf, 'VARCHAR');
  });

  it('typed columns hold what our decoder decodes', async (t) => {
    const s = await prepare(t);
    if (!s) return;
    for (const host of ['alpha', 'delta'])
    for (const [system, event, fields] of [
      ['sched', 'sched_switch', ['prev_comm', 'prev_pid', 'prev_prio', 'prev_state', 'next_comm', 'next_pid', 'next_prio']],
      ['sched', 'sched_waking', ['comm', 'pid', 'prio', 'target_cpu']],
      ['ftrace', 'print', ['ip', 'buf']],
    ] as const) {
      const want: string[] = decodedEvents(s.aDir, system, event).map((e) =>
        JSON.stringify([e.cpu, String(e.ts), ...fields.map((f) => (typeof e.fields[f] === 'bigint' ? String(e.fields[f]) : e.fields[f]))]),
      );
      // A field named like a common column is prefixed with field_ (sched_waking's comm and pid).
      const columns = fields.map((f) => (f === 'comm' || f === 'pid' ? `field_${f}` : f));
      const rows = await s.db.rows(
        `select cpu, ts, ${columns.join(', ')} from read_parquet('${s.out}/events/host=${host}/**/event=${event}/*.parquet')`,
      );
      const got = rows.map((r) => JSON.stringify([r.cpu, r.ts, ...columns.map((c) => r[c])]));
      assert.ok(want.length > 0, `${event}: the recording has some`);
      assert.deepEqual(got.sort(), want.sort(), `${host}: ${system}/${event}`);
    }
    // WHERE on a typed field, without parsing.
    const states = await s.db.rows(
      `select prev_state, count(*) as n from read_parquet('${s.out}/events/host=alpha/**/event=sched_switch/*.parquet') where prev_state = 0 group by all`,
    );
    const running = decodedEvents(s.aDir, 'sched', 'sched_switch').filter((e) => e.fields.prev_state === 0n).length;
    assert.equal(states.length === 0 ? 0 : Number(states[0]!.n), running);
  });

  it('losses table: the kernel\'s counters and the losses the events carry', async (t) => {
    const s = await prepare(t);
    if (!s) return;
    const rows = await s.db.rows(
      `select host, cpu, sum(events) as events, sum(lost_before) as lost, sum(lost_unknown) as unknown,
              max(kernel_overrun) as overrun, max(kernel_entries) as entries, max(kernel_dropped) as dropped
       from read_parquet('${s.out}/losses/**/*.parquet', hive_partitioning = 1) group by all order by host, cpu`,
    );
    for (const host of ['alpha', 'gamma', 'delta']) {
      const e: Expected = host === 'gamma' ? s.b : s.a;
      const mine = rows.filter((r) => r.host === host);
      assert.equal(mine.length, e.cpus.size, `${host}: one row per CPU`);
      for (const r of mine) {
        const cpu = Number(r.cpu);
        const c: { events: number; lost: number; lostUnknown: number } = e.cpus.get(cpu)!;
        const k = e.stats.get(cpu)!;
        assert.equal(Number(r.events), c.events);
        assert.equal(Number(r.lost), c.lost);
        assert.equal(Number(r.unknown), c.lostUnknown);
        assert.equal(Number(r.overrun), k.overrun);
        assert.equal(Number(r.entries), k.entries);
        assert.equal(Number(r.dropped), k.droppedEvents);
        if (c.lostUnknown === 0) assert.equal(c.lost, k.overrun, `${host} cpu${cpu}: the losses carried add up to the overrun`);
      }
    }
    const overran = rows.filter((r) => r.host === 'gamma').reduce((a, r) => a + Number(r.overrun), 0);
    assert.ok(overran > 0, 'the tiny overwriting buffer lost events');
    // The same losses from the events' own column.
    const carried = await s.db.rows(
      `select cpu, sum(lost_before) as lost, count(*) filter (where lost_before is null) as unknown from ${events(s.out)} where host = 'gamma' group by all`,
    );
    for (const r of carried) {
      const c: { events: number; lost: number; lostUnknown: number } = s.b.cpus.get(Number(r.cpu))!;
      assert.equal(Number(r.lost ?? 0), c.lost);
      assert.equal(Number(r.unknown), c.lostUnknown);
    }
  });

  it('every DuckDB query of docs/queries.md runs on the output', async (t) => {
    const s = await prepare(t);
    if (!s) return;
    const guide = fs.readFileSync(join(import.meta.dirname, '../../docs/queries.md'), 'utf8');
    const blocks = [...guide.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((q) => q.includes("'DIR/") && !q.includes('s3('));
    assert.ok(blocks.length >= 6, `${blocks.length} DuckDB queries in the guide`);
    for (const q of blocks) {
      const rows = await s.db.rows(q.replaceAll('DIR', s.out).replace(/;\s*$/, ''));
      // The wall-clock query needs a realtime offset, which recordings do not have.
      if (!q.includes('realtime_offset_ns')) assert.ok(rows.length > 0, `no rows from:\n${q}`);
    }
  });

  it('processes table and manifest', async (t) => {
    const s = await prepare(t);
    if (!s) return;
    const procs = await s.db.rows(
      `select host, count(*) as n from read_parquet('${s.out}/processes/**/*.parquet', hive_partitioning = 1) where source = 'saved_cmdlines' group by all`,
    );
    const byHost = Object.fromEntries(procs.map((r) => [r.host, Number(r.n)]));
    assert.equal(byHost.alpha, s.a.savedTasks);
    assert.equal(byHost.gamma, s.b.savedTasks);
    const manifests = filesUnder(join(s.out, 'manifests'), /\.json$/);
    assert.equal(manifests.length, 4);
    for (const path of manifests) {
      const m = JSON.parse(fs.readFileSync(path, 'utf8'));
      assert.equal(m.format, 'tracering-parquet');
      assert.equal(m.complete, true);
      const rows = m.segments.flatMap((seg: { files: Array<{ table: string; rows: number; path: string }> }) => seg.files);
      for (const f of rows) assert.ok(fs.existsSync(join(s.out, f.path)), `${f.path} exists`);
      const eventRows = rows.filter((f: { table: string }) => f.table === 'events').reduce((a: number, f: { rows: number }) => a + f.rows, 0);
      const e: Expected = m.host === 'gamma' ? s.b : s.a;
      assert.equal(eventRows, [...e.cpus.values()].reduce((a, c) => a + c.events, 0));
    }
    assert.deepEqual(filesUnder(s.out, /\.tmp$/), [], 'no temporary files left');
  });
});
