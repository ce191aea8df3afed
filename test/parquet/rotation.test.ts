// Segments rotate mid-stream: a live-like input (a recording handed out a
// few pages per consume() call) written with tiny segment limits. Every
// segment is complete, listed in the manifest, and together they hold every
// event exactly once.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createParquetSink } from '../../src/sinks/parquet/index.js';
import { kernelOrSkip } from '../helpers/kernel.js';
import { PagedInput } from '../helpers/paged-input.js';
import { type Expected, decodedEvents, duck, expected, filesUnder, record } from './support.js';

const scratch = fs.mkdtempSync(join(os.tmpdir(), 'tracering-parquet-rot-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

let recording: { dir: string; e: Expected } | null = null;
async function theRecording(t: Parameters<typeof kernelOrSkip>[0]): Promise<{ dir: string; e: Expected } | null> {
  if (recording !== null) return recording;
  const tracefs = kernelOrSkip(t);
  if (!tracefs) return null;
  const dir = join(scratch, 'rec');
  await record(tracefs, dir, { markers: 3000, processes: 4 });
  recording = { dir, e: expected(dir) };
  return recording;
}

interface ManifestSegment {
  seq: number;
  rows: number;
  files: Array<{ table: string; path: string; rows: number; event?: string }>;
}

function manifestOf(out: string): { complete: boolean; segments: ManifestSegment[] } {
  const [path] = filesUnder(join(out, 'manifests'), /\.json$/);
  assert.ok(path, 'a manifest');
  return JSON.parse(fs.readFileSync(path, 'utf8'));
}

/** Every segment is readable, its files' row counts are the engine's, and the total is every event once. */
async function checkSegments(out: string, e: Expected, minSegments: number): Promise<void> {
  const m = manifestOf(out);
  assert.equal(m.complete, true);
  assert.ok(m.segments.length >= minSegments, `${m.segments.length} segments, at least ${minSegments} expected`);
  const db = await duck();
  try {
    const perFile = await db.rows(`select filename, count(*) as n from read_parquet('${out}/events/**/*.parquet', filename = true) group by all`);
    const engine = new Map(perFile.map((r) => [String(r.filename), Number(r.n)]));
    const listed = m.segments.flatMap((s) => s.files.filter((f) => f.table === 'events'));
    assert.equal(engine.size, listed.length, 'every file the engine reads is listed, and the other way round');
    for (const f of listed) assert.equal(engine.get(join(out, f.path)), f.rows, f.path);
    for (const s of m.segments) assert.equal(s.files.filter((f) => f.table === 'events').reduce((a, f) => a + f.rows, 0), s.rows);
    const counts = await db.rows(`select cpu, system, event, count(*) as n from read_parquet('${out}/events/**/*.parquet', hive_partitioning = 1) group by all`);
    assert.deepEqual(
      Object.fromEntries(counts.map((r) => [`${r.cpu}/${r.system}/${r.event}`, Number(r.n)]).sort()),
      Object.fromEntries([...e.counts].sort()),
    );
    const losses = await db.rows(`select segment, cpu, events from read_parquet('${out}/losses/**/*.parquet') order by segment, cpu`);
    assert.equal(losses.length, m.segments.length * e.cpus.size, 'a losses row per CPU and segment');
    for (const s of m.segments) {
      const sum = losses.filter((r) => Number(r.segment) === s.seq).reduce((a, r) => a + Number(r.events), 0);
      assert.equal(sum, s.rows, `segment ${s.seq}: the losses table counts its events`);
    }
  } finally {
    db.close();
  }
  assert.deepEqual(filesUnder(out, /\.tmp$/), []);
}

describe('segment rotation mid-stream', () => {
  it('by size: many consume() calls, tiny segments', async (t) => {
    const r = await theRecording(t);
    if (!r) return;
    const out = join(scratch, 'by-size');
    const paged = new PagedInput(r.dir, { step: 2 });
    const sink = createParquetSink(out, { segmentMb: 0.02, fsync: false, host: 'rot' });
    await sink.open(paged.input);
    let calls = 0;
    while (paged.advance()) {
      await sink.consume();
      calls++;
    }
    await sink.consume();
    const report = await sink.close(paged.end());
    assert.ok(calls > 10, `${calls} consume() calls`);
    assert.equal(report.events, [...r.e.cpus.values()].reduce((a, c) => a + c.events, 0));
    await checkSegments(out, r.e, 3);
  });

  it('by event time', async (t) => {
    const r = await theRecording(t);
    if (!r) return;
    const ts = decodedEvents(r.dir, 'ftrace', 'print').map((e) => e.ts);
    const span = Number(ts.reduce((a, b) => (b > a ? b : a)) - ts.reduce((a, b) => (b < a ? b : a)));
    const out = join(scratch, 'by-time');
    // A reading of the trace clock beside the boot clock (here equal): ts is on the boot clock, time rotation applies.
    const paged = new PagedInput(r.dir, { step: 4, live: false, clockPairs: [{ clock: paged0Clock(r.dir), traceNs: 0n, bootNs: 0n, monoNs: 0n, realtimeNs: 0n }] });
    const sink = createParquetSink(out, { segmentS: span / 4 / 1e9, fsync: false, host: 'rot' });
    await sink.open(paged.input);
    while (paged.advance()) await sink.consume();
    await sink.close(paged.end());
    await checkSegments(out, r.e, 3);
  });

  it('a live input publishes its open segment after segmentS of wall time, without more data', async (t) => {
    const r = await theRecording(t);
    if (!r) return;
    const out = join(scratch, 'idle');
    const paged = new PagedInput(r.dir, { step: 4 });
    const sink = createParquetSink(out, { segmentS: 0.3, fsync: false, host: 'rot' });
    await sink.open(paged.input);
    paged.advance();
    await sink.consume();
    assert.equal(manifestOf(out).segments.length, 0, 'nothing committed yet');
    // Bounded wait: the timer checks every 75 ms; a busy machine may delay it.
    for (let waited = 0; manifestOf(out).segments.length === 0 && waited < 20_000; waited += 50) await sleep(50);
    const m = manifestOf(out);
    assert.equal(m.segments.length, 1, 'the timer committed the open segment');
    assert.equal(m.complete, false, 'while the run goes on');
    paged.releaseAll();
    await sink.consume();
    await sink.close(paged.end());
    await checkSegments(out, r.e, 2);
  });
});

function paged0Clock(dir: string): string {
  return new PagedInput(dir).recording.clock;
}
