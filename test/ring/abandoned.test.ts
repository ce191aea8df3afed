// Rings their writers left behind: a writer process that exits without
// close(), one SIGKILLed in the middle of a head push, one that holds the
// head and never lets go, and writers that take over from earlier ones.
// Counters must stay exact and the CLI must end with events or a coded
// error, never hang.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { DEAD_PID, leaveHalfPush } from '../../fuzz/targets/ring-file.js';
import { CTRL, HEAD_UPDATING, ctrlOffset } from '../../src/layout/ring-control.js';
import { AppRing } from '../../src/ring/app-ring.js';
import { runCli } from '../helpers/cli.js';

const root = new URL('../../', import.meta.url).pathname;
const shm = fs.existsSync('/dev/shm') ? '/dev/shm' : '/tmp';
const ringPath = (tag: string) => {
  const path = `${shm}/tracering-abandoned-${process.pid}-${tag}`;
  fs.rmSync(path, { force: true });
  return path;
};

/** Runs `body` (TypeScript, with AppRing and the ring's path in scope) in a child process; resolves with its exit. */
async function child(path: string, body: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const script = `import('./src/ring/app-ring.ts').then(async ({ AppRing }) => { const path = ${JSON.stringify(path)}; ${body} });`;
  const proc = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d));
  const killer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  const [code, signal] = (await once(proc, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(killer);
  return { code, signal, stderr };
}

interface RingStatsJson {
  entries: number;
  overrun: number;
  read: number;
  unread: number;
  writerClosed: boolean;
  writerState: string;
}

function statsOf(path: string): RingStatsJson {
  const r = runCli(['stats', '--ring', path, '--json']);
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { rings: RingStatsJson[] }).rings[0] as RingStatsJson;
}

describe('rings their writers left behind', () => {
  it('a writer process that writes 3,000 events and exits: stats, report and read agree exactly', async () => {
    const path = ringPath('exit');
    try {
      AppRing.create({ path, subbufs: 64, name: 'exiter' }).close();
      // Default auto-flush, no close(): the process just ends.
      const exited = await child(
        path,
        `const ring = AppRing.open(path); const ev = ring.defineEvent({ name: 'work', fields: [['n', 'u32'], ['what', 'string']] });
         const w = ring.writer(); for (let i = 0; i < 3000; i++) ev.write(w, i, 'job ' + i);`,
      );
      assert.equal(exited.code, 0, exited.stderr);
      const before = statsOf(path);
      assert.equal(before.entries, 3000, 'entries counts the tail page too');
      assert.equal(before.overrun, 0);
      assert.equal(before.unread, 3000);
      assert.equal(before.writerClosed, false);
      assert.equal(before.writerState, 'dead', 'the writer exited holding the ring');
      const table = runCli(['stats', '--ring', path]);
      assert.match(table.stdout, /exiter-\d+ \(dead\)/);

      const report = runCli(['report', '--ring', path]);
      assert.equal(report.status, 0, report.stderr);
      const lines = report.stdout.trimEnd().split('\n');
      assert.equal(lines.length, 3000);
      assert.match(lines[2999] ?? '', /work: n=2999 what=job 2999$/);
      const after = statsOf(path);
      assert.deepEqual([after.entries, after.read, after.unread], [3000, 3000, 0], 'read is what was delivered');
    } finally {
      fs.rmSync(path, { force: true });
    }
  });

  it('a writer SIGKILLed mid-push: report --ring finishes its push and prints the rest; counters add up', async () => {
    const path = ringPath('killed');
    try {
      AppRing.create({ path, subbufs: 6, mode: 'overwrite', name: 'victim' }).close();
      // A real writer fills the ring past full (real pushes), then is killed
      // between its head CAS and its overrun store: the first half of the
      // push, done with the writer's own steps, then SIGKILL.
      const killed = await child(
        path,
        `const { leaveHalfPush } = await import('./fuzz/targets/ring-file.ts');
         const ring = AppRing.open(path); const ev = ring.defineEvent({ name: 'work', fields: [['n', 'u32'], ['what', 'string']] });
         const w = ring.writer({ autoFlush: false });
         for (let i = 0; i < 2000; i++) { ev.write(w, i, 'job ' + i); if (i % 50 === 49) w.flush(); }
         w.flush();
         leaveHalfPush(ring.memory.view, ring.geometry.nrSubbufs);
         process.kill(process.pid, 'SIGKILL');`,
      );
      assert.equal(killed.signal, 'SIGKILL', killed.stderr);
      const before = statsOf(path);
      assert.equal(before.entries, 2000);
      assert.equal(before.writerState, 'dead');

      const report = runCli(['report', '--ring', path, '--json']);
      assert.equal(report.status, 0, report.stderr);
      assert.match(report.stderr, /died while overwriting a page; finished its update/);
      const lines = report.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { fields?: { n: number }; lost?: number });
      const ns = lines.flatMap((l) => (l.fields !== undefined ? [l.fields.n] : []));
      const lost = lines.reduce((sum, l) => sum + (l.lost ?? 0), 0);
      assert.equal(lost, ns[0], 'the loss marker counts exactly the events before the first one printed');
      // What is left is the newest events, in order, ending with the last one written.
      assert.ok(ns.length > 0);
      assert.equal(ns.at(-1), 1999);
      for (let i = 1; i < ns.length; i++) assert.equal(ns[i], (ns[i - 1] as number) + 1);
      const after = statsOf(path);
      assert.equal(after.overrun + after.read, 2000, 'every event was read or counted overwritten');
      assert.equal(after.read, ns.length);
      assert.equal(after.overrun, ns[0], 'the overwritten events are exactly those before the first one printed');
    } finally {
      fs.rmSync(path, { force: true });
    }
  });

  it('a crafted ring: HEAD_UPDATING set and a dead claim pid; report ends with every event', () => {
    const path = ringPath('crafted');
    try {
      const ring = AppRing.create({ path, subbufs: 4, name: 'crafted' });
      const ev = ring.defineEvent({ name: 'work', fields: [['n', 'u32']] });
      const w = ring.writer({ autoFlush: false });
      for (let i = 0; i < 100; i++) ev.write(w, i);
      w.flush();
      const c = ctrlOffset(ring.geometry);
      const view = ring.memory.view;
      view.setInt32(c + CTRL.head, view.getInt32(c + CTRL.head, true) | HEAD_UPDATING, true);
      view.setInt32(c + CTRL.writer, DEAD_PID, true);
      view.setInt32(c + CTRL.writerPid, DEAD_PID, true);
      ring.close();
      const report = runCli(['report', '--ring', path], 30_000);
      assert.equal(report.status, 0, report.stderr);
      assert.equal(report.stdout.trimEnd().split('\n').length, 100);
    } finally {
      fs.rmSync(path, { force: true });
    }
  });

  it('a live writer that holds HEAD_UPDATING: report waits a bounded time, warns and ends', () => {
    const path = ringPath('stalled');
    try {
      const ring = AppRing.create({ path, subbufs: 4, name: 'stalled' });
      const ev = ring.defineEvent({ name: 'work', fields: [['n', 'u32']] });
      const w = ring.writer({ autoFlush: false }); // this process: alive throughout
      for (let i = 0; i < 100; i++) ev.write(w, i);
      w.flush();
      const c = ctrlOffset(ring.geometry);
      const view = ring.memory.view;
      view.setInt32(c + CTRL.head, view.getInt32(c + CTRL.head, true) | HEAD_UPDATING, true);
      const report = runCli(['report', '--ring', path], 30_000);
      assert.equal(report.status, 0, report.stderr);
      assert.match(report.stderr, /TRACERING_RING_STALLED|is alive but has held the head/);
      ring.close();
    } finally {
      fs.rmSync(path, { force: true });
    }
  });

  it('a second writer goes on after the first one: nothing overwritten or skipped', () => {
    for (const readBetween of [false, true]) {
      using ring = AppRing.create({ subbufs: 8 });
      const ev = ring.defineEvent({ name: 'work', fields: [['n', 'u32']] });
      const reader = ring.reader();
      const seen: number[] = [];
      const drain = () => {
        for (let b = reader.next(); b !== null; b = reader.next()) {
          for (let i = 0; i < b.count; i++) seen.push(b.view.getUint32(b.offset(i) + 8, true));
        }
      };
      const first = ring.writer({ autoFlush: false });
      for (let i = 0; i < 150; i++) ev.write(first, i);
      first.close();
      // Either the reader takes the first writer's last page before the second one starts, or not.
      if (readBetween) drain();
      const second = ring.writer({ autoFlush: false });
      for (let i = 150; i < 300; i++) ev.write(second, i);
      second.close();
      drain();
      assert.deepEqual(seen, Array.from({ length: 300 }, (_, i) => i), `read between: ${readBetween}`);
      assert.equal(ring.stats().entries, 300);
      assert.equal(ring.stats().read, 300);
    }
  });

  it('a schema lock left by a dead appender is taken over; one a live thread keeps is a coded error', () => {
    using ring = AppRing.create({ subbufs: 4 });
    const lock = ring.memory.i32;
    const word = (ctrlOffset(ring.geometry) + CTRL.schemaLock) >> 2;
    Atomics.store(lock, word, DEAD_PID);
    ring.defineEvent({ name: 'after_dead', fields: [['n', 'u32']] });
    assert.equal(Atomics.load(lock, word), 0, 'released after the append');
    Atomics.store(lock, word, process.pid); // this thread: alive, and never lets go
    assert.throws(() => ring.defineEvent({ name: 'never', fields: [['n', 'u32']] }), { code: 'ERR_RING_CORRUPT' });
    assert.deepEqual(ring.events().map((e) => e.layout.name), ['after_dead']);
  });

  it('a schema area packed with more formats than there are event ids is refused, not parsed for ever', () => {
    const path = ringPath('schema-flood');
    try {
      const ring = AppRing.create({ path, subbufs: 4, schemaBytes: 1 << 20 });
      const g = ring.geometry;
      const start = ctrlOffset(g) + g.ctrlBytes;
      const encoder = new TextEncoder();
      let at = 0;
      for (let i = 0; at + 64 < g.schemaBytes; i++) {
        const text = encoder.encode(`system: app\nname: e${i}\n`);
        ring.memory.view.setUint32(start + at, text.length, true);
        ring.memory.bytes.set(text, start + at + 4);
        at += 4 + ((text.length + 3) & ~3);
      }
      ring.memory.view.setUint32(ctrlOffset(g) + CTRL.schemaEnd, at, true);
      ring.close();
      const r = runCli(['report', '--ring', path], 60_000);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /more than 16384 event formats \[ERR_MALFORMED_INPUT\]/);
    } finally {
      fs.rmSync(path, { force: true });
    }
  });
});
