// A captured recording (test/fixtures/sched, no kernel needed) converted to
// Parquet: per CPU and event, DuckDB counts what the kernel's own `trace`
// file of the same capture lists, and the values it printed.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { convert, duck } from './support.js';

const fixture = join(import.meta.dirname, '../fixtures/sched');
const scratch = fs.mkdtempSync(join(os.tmpdir(), 'tracering-parquet-fix-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** The kernel's text: `comm-pid [cpu] flags ts: event: fields`. */
function kernelLines(): Array<{ cpu: number; ts: string; event: string; rest: string }> {
  const text = fs.readFileSync(join(fixture, 'expected/trace'), 'utf8');
  const out: Array<{ cpu: number; ts: string; event: string; rest: string }> = [];
  for (const line of text.split('\n')) {
    const m = /^\s*.+-\d+\s+\[(\d+)\]\s+\S+\s+(\d+\.\d+): (\w+): (.*)$/.exec(line);
    if (m !== null) out.push({ cpu: Number(m[1]), ts: m[2]!, event: m[3]!, rest: m[4]! });
  }
  return out;
}

it('counts per CPU and event are the kernel text\'s; sched_switch fields are what it printed', async () => {
  const out = join(scratch, 'out');
  const report = await convert(join(fixture, 'tracefs'), out, { host: 'fixture', compression: 'gzip' });
  const lines = kernelLines();
  assert.ok(lines.length > 400);
  assert.equal(report.events, lines.length);
  const want = new Map<string, number>();
  for (const l of lines) want.set(`${l.cpu}/${l.event}`, (want.get(`${l.cpu}/${l.event}`) ?? 0) + 1);
  const db = await duck();
  try {
    const rows = await db.rows(`select cpu, event, count(*) as n from read_parquet('${out}/events/**/*.parquet', hive_partitioning = 1) group by all`);
    assert.deepEqual(Object.fromEntries(rows.map((r) => [`${r.cpu}/${r.event}`, Number(r.n)]).sort()), Object.fromEntries([...want].sort()));
    // The kernel prints microseconds (rounded: ns2usecs); ts is in nanoseconds on the same (local) clock.
    const switches = await db.rows(
      `select cpu, ts, prev_comm, prev_pid, next_comm, next_pid from read_parquet('${out}/events/**/event=sched_switch/*.parquet') order by cpu, ts`,
    );
    const printed = lines
      .filter((l) => l.event === 'sched_switch')
      .map((l) => {
        const f = /prev_comm=(.*) prev_pid=(\d+) .* ==> next_comm=(.*) next_pid=(\d+)/.exec(l.rest)!;
        return JSON.stringify([l.cpu, l.ts, f[1], Number(f[2]), f[3], Number(f[4])]);
      })
      .sort();
    const got = switches
      .map((r) => {
        const usecs = (BigInt(String(r.ts)) + 500n) / 1000n;
        const us = `${usecs / 1000000n}.${String(usecs % 1000000n).padStart(6, '0')}`;
        return JSON.stringify([r.cpu, us, r.prev_comm, r.prev_pid, r.next_comm, r.next_pid]);
      })
      .sort();
    assert.deepEqual(got, printed);
  } finally {
    db.close();
  }
});
