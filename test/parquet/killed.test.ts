// A writer killed with SIGKILL while it writes leaves only complete,
// committed segments where engines look; the next run in the same
// directory finds the leftovers, moves them aside and says so.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { basename, join } from 'node:path';
import { after, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type TraceringWarning, WarningCode } from '../../src/errors.js';
import { RecordingInput } from '../../src/pipeline/recording-input.js';
import { runFileSinks } from '../../src/pipeline/run-file.js';
import { parsePartName } from '../../src/sinks/parquet/paths.js';
import { createParquetSink } from '../../src/sinks/parquet/index.js';
import { kernelOrSkip } from '../helpers/kernel.js';
import { duck, expected, filesUnder, record } from './support.js';

const scratch = fs.mkdtempSync(join(os.tmpdir(), 'tracering-parquet-kill-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

interface Manifest {
  run: string;
  complete: boolean;
  recovered_by?: string;
  segments: Array<{ seq: number; rows: number; files: Array<{ table: string; path: string; rows: number }> }>;
}

function manifests(out: string): Manifest[] {
  return filesUnder(join(out, 'manifests'), /\.json$/).map((p) => JSON.parse(fs.readFileSync(p, 'utf8')) as Manifest);
}

it('SIGKILL mid-write: committed segments stay readable, the next run quarantines the rest', async (t) => {
  const tracefs = kernelOrSkip(t);
  if (!tracefs) return;
  const rec = join(scratch, 'rec');
  await record(tracefs, rec, { markers: 2000 });
  const out = join(scratch, 'out');
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'writer-child.ts'), rec, out], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, TRACERING_CHILD_MAX_MS: '60000' },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    // Kill once two segments are committed and a segment is being written (bounded wait).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const m = manifests(out)[0];
      const temps = filesUnder(join(out, 'events'), /\.tmp$/);
      if (m !== undefined && m.segments.length >= 2 && temps.length > 0) break;
      if (child.exitCode !== null) assert.fail(`the writer exited early (${child.exitCode}): ${stderr}`);
      if (Date.now() > deadline) assert.fail('the writer did not commit two segments in time');
      await sleep(20);
    }
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  const dead = manifests(out)[0]!;
  assert.equal(dead.complete, false);
  const committed = new Set(dead.segments.map((s) => s.seq));
  const last = Math.max(...committed);
  const leftovers = filesUnder(out, /\.tmp$/);
  assert.ok(leftovers.length > 0, 'the kill left incomplete files');
  // What engines see: complete files only, all of committed segments (or, killed between renames and
  // the manifest, of the one segment after them).
  const visible = filesUnder(join(out, 'events'), /\.parquet$/);
  for (const f of visible) {
    const part = parsePartName(basename(f));
    assert.ok(part !== null && !part.temp);
    assert.ok(committed.has(part.seq) || part.seq === last + 1, `${f} belongs to a committed segment`);
  }
  const db = await duck();
  try {
    const rows = await db.rows(`select count(*) as n from read_parquet('${out}/events/**/*.parquet')`);
    assert.ok(Number(rows[0]!.n) > 0);

    // The next run in the same directory.
    const warnings: TraceringWarning[] = [];
    const input = new RecordingInput(rec, { kallsyms: null, onWarning: (w) => warnings.push(w) });
    const [report] = await runFileSinks(input, [createParquetSink(out, { host: 'killed', fsync: false })]);
    assert.ok(report!.notes.some((n) => /did not finish/.test(n) && n.includes(dead.run)), report!.notes.join('\n'));
    assert.ok(warnings.some((w) => w.code === WarningCode.parquetLeftover));
    assert.deepEqual(filesUnder(out, /\.tmp$/).filter((f) => !f.includes('/_quarantine/')), [], 'no leftovers where engines look');
    const quarantined = filesUnder(join(out, '_quarantine'), /./);
    assert.ok(quarantined.length >= leftovers.length);
    const after = manifests(out);
    const old = after.find((m) => m.run === dead.run)!;
    const fresh = after.find((m) => m.run !== dead.run)!;
    assert.equal(old.recovered_by, fresh.run);
    assert.equal(fresh.complete, true);
    // Exactly the committed segments of the dead run, and all of the new one.
    const e = expected(rec);
    const total = [...e.cpus.values()].reduce((a, c) => a + c.events, 0);
    const deadRows = old.segments.reduce((a, s) => a + s.rows, 0);
    const now = await db.rows(`select count(*) as n from read_parquet('${out}/events/**/*.parquet')`);
    assert.equal(Number(now[0]!.n), deadRows + total);
  } finally {
    db.close();
  }
});
