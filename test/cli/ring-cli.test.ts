// The CLI on application rings: stream, stats, report.

import assert from 'node:assert/strict';
import { getEventListeners, once } from 'node:events';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { CTRL, HEAD_UPDATING, ctrlOffset } from '../../src/layout/ring-control.js';
import { AppRing } from '../../src/ring/app-ring.js';
import { openRings, waitForRings } from '../../src/cli/rings.js';
import { CommandScope } from '../../src/cli/command-scope.js';
import { runCli, startCli } from '../helpers/cli.js';

const shm = fs.existsSync('/dev/shm') ? '/dev/shm' : '/tmp';

function ringWithEvents(tag: string, count: number): string {
  const path = `${shm}/tracering-cli-${process.pid}-${tag}`;
  fs.rmSync(path, { force: true });
  const ring = AppRing.create({ path, subbufs: 8, name: 'cliapp' });
  const ev = ring.defineEvent({ name: 'work', fields: [['n', 'u32'], ['what', 'string']] });
  const w = ring.writer({ autoFlush: false });
  for (let i = 0; i < count; i++) ev.write(w, i, `job ${i}`);
  w.close();
  ring.close();
  return path;
}

describe('tracering on application rings', () => {
  it('stats --ring --json reports the meta page and counters without consuming', () => {
    const path = ringWithEvents('stats', 50);
    try {
      const r = runCli(['stats', '--ring', path, '--json']);
      assert.equal(r.status, 0, r.stderr);
      const [s] = (JSON.parse(r.stdout) as { rings: Array<Record<string, unknown>> }).rings;
      assert.equal(s?.entries, 50);
      assert.equal(s?.read, 0);
      assert.equal(s?.unread, 50);
      assert.equal(s?.writerClosed, true);
      assert.equal(s?.name, 'cliapp');
    } finally {
      fs.rmSync(path, { force: true });
    }
  });

  it('report --ring prints every event as text and as typed JSON', () => {
    const path = ringWithEvents('report', 120);
    try {
      const text = runCli(['report', '--ring', path]);
      assert.equal(text.status, 0, text.stderr);
      const lines = text.stdout.trim().split('\n');
      assert.equal(lines.length, 120);
      assert.match(lines[5] ?? '', /^ +cliapp-\d+ +\[000\] \.\.\.\.\. +\d+\.\d{6}: work: n=5 what=job 5$/);
      // The report consumed them: a second one finds nothing.
      assert.equal(runCli(['report', '--ring', path]).stdout, '');
    } finally {
      fs.rmSync(path, { force: true });
    }
    const again = ringWithEvents('json', 3);
    try {
      const json = runCli(['report', '--ring', again, '--json']);
      const first = JSON.parse(json.stdout.split('\n')[0] as string) as { event: string; fields: { n: number; what: string } };
      assert.deepEqual([first.event, first.fields], ['work', { n: 0, what: 'job 0' }]);
    } finally {
      fs.rmSync(again, { force: true });
    }
  });

  it('stream --ring follows a ring and exits at --duration', () => {
    const path = ringWithEvents('stream', 10);
    try {
      const r = runCli(['stream', '--ring', path, '--duration', '0.3']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim().split('\n').length, 10);
      const reused = runCli(['stream', '--ring', path, '--duration', '0.1']);
      assert.equal(reused.status, 0, 'the reader role was released at exit');
    } finally {
      fs.rmSync(path, { force: true });
    }
  });

  it('a file that is not a ring is a clear error', () => {
    const path = `${shm}/tracering-cli-${process.pid}-junk`;
    fs.writeFileSync(path, Buffer.alloc(8192, 7));
    try {
      const r = runCli(['stats', '--ring', path]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /\[ERR_MALFORMED_INPUT\]/);
    } finally {
      fs.rmSync(path, { force: true });
    }
  });

  it('--ring on a missing file or a directory: a coded error, no stack trace', () => {
    const missing = `${shm}/tracering-cli-${process.pid}-missing`;
    fs.rmSync(missing, { force: true });
    const dir = fs.mkdtempSync(`${shm}/tracering-cli-dir-`);
    try {
      for (const args of [['stats', '--ring'], ['report', '--ring'], ['stream', '--duration', '1', '--ring']]) {
        for (const [path, reason] of [
          [missing, /no such file/],
          [dir, /is a directory/],
        ] as const) {
          const r = runCli([...args, path]);
          assert.equal(r.status, 1, `${args[0]} ${path}: ${r.stderr}`);
          assert.match(r.stderr, /\[ERR_RING_OPEN\]/);
          assert.match(r.stderr, reason);
          assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a 4097-byte file is a coded error, not a RangeError', () => {
    const path = `${shm}/tracering-cli-${process.pid}-4097`;
    const good = ringWithEvents('4097src', 5);
    try {
      fs.writeFileSync(path, fs.readFileSync(good).subarray(0, 4097));
      for (const command of ['stats', 'report']) {
        const r = runCli([command, '--ring', path]);
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, /\[ERR_MALFORMED_INPUT\]/);
      }
    } finally {
      fs.rmSync(path, { force: true });
      fs.rmSync(good, { force: true });
    }
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} ends stream --ring on a ring whose live writer holds the head`, async () => {
      const path = `${shm}/tracering-cli-${process.pid}-held-${signal}`;
      fs.rmSync(path, { force: true });
      // The writer is this process (alive throughout) and its head word says
      // it is mid-push: the reader can neither finish the push nor wait it out.
      const ring = AppRing.create({ path, subbufs: 4, name: 'holder' });
      try {
        const ev = ring.defineEvent({ name: 'work', fields: [['n', 'u32']] });
        const w = ring.writer({ autoFlush: false });
        for (let i = 0; i < 200; i++) ev.write(w, i);
        w.flush();
        const c = ctrlOffset(ring.geometry);
        const view = ring.memory.view;
        view.setInt32(c + CTRL.head, view.getInt32(c + CTRL.head, true) | HEAD_UPDATING, true);
        const cli = startCli(['stream', '--ring', path]);
        let stderr = '';
        cli.stderr?.on('data', (d: Buffer) => (stderr += d));
        const exited = once(cli, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
        // Signal it once it has met the held head (it warns), so the signal lands mid-stream.
        const warned = new Promise<void>((resolve) => {
          const check = () => (/held the head/.test(stderr) ? resolve() : undefined);
          cli.stderr?.on('data', check);
        });
        const guard = setTimeout(() => cli.kill('SIGKILL'), 60_000);
        await Promise.race([warned, exited]);
        cli.kill(signal);
        const killer = setTimeout(() => cli.kill('SIGKILL'), 10_000);
        const [code, got] = await exited;
        clearTimeout(killer);
        clearTimeout(guard);
        assert.equal(got, null, `ended by itself after ${signal}, not killed: ${stderr}`);
        assert.equal(code, 0, stderr);
        assert.doesNotMatch(stderr, /internal error/);
      } finally {
        ring.close();
        fs.rmSync(path, { force: true });
      }
    });
  }

  it('SIGTERM ends report --ring while a writer keeps writing', async () => {
    const path = `${shm}/tracering-cli-${process.pid}-busy`;
    fs.rmSync(path, { force: true });
    const ring = AppRing.create({ path, subbufs: 16, name: 'busy' });
    const ev = ring.defineEvent({ name: 'work', fields: [['n', 'u32'], ['what', 'string']] });
    const w = ring.writer({ autoFlush: false });
    let n = 0;
    let writing = true;
    // A writer on this event loop: a burst per tick until the report ends (bounded: 60 s).
    const deadline = Date.now() + 60_000;
    const burst = () => {
      if (!writing || Date.now() > deadline) return;
      for (let i = 0; i < 2000; i++) ev.write(w, n++, 'a steady stream of work');
      w.flush();
      setImmediate(burst);
    };
    try {
      burst();
      const cli = startCli(['report', '--ring', path]);
      const exited = once(cli, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      // Signal once it prints (its handlers are in place by then).
      await Promise.race([once(cli.stdout!, 'data'), exited]);
      cli.stdout?.resume();
      cli.kill('SIGTERM');
      const killer = setTimeout(() => cli.kill('SIGKILL'), 10_000);
      const [code, got] = await exited;
      clearTimeout(killer);
      // It stops on the signal, or it had caught up and was already exiting
      // when the signal came (its handlers gone): either way, not our SIGKILL.
      assert.notEqual(got, 'SIGKILL', 'SIGTERM was ignored');
      if (got === null) assert.equal(code, 0);
    } finally {
      writing = false;
      w.close();
      ring.close();
      fs.rmSync(path, { force: true });
    }
  });

  it("stream's wait for rings leaves no abort listener behind (one per wait leaked ~36k an hour)", async () => {
    const path = ringWithEvents('listeners', 0);
    const scope = new CommandScope();
    try {
      const rings = openRings([path], 0, scope);
      const stop = new AbortController();
      for (let i = 0; i < 200; i++) {
        await waitForRings(rings.readers, 1, stop.signal);
        assert.equal(getEventListeners(stop.signal, 'abort').length, 0, `after wait ${i + 1}`);
      }
      // A wait that an abort ends takes its listener away too.
      const waiting = waitForRings(rings.readers, 1500, stop.signal);
      assert.equal(getEventListeners(stop.signal, 'abort').length, 1);
      stop.abort();
      await waiting;
      assert.equal(getEventListeners(stop.signal, 'abort').length, 0);
    } finally {
      scope.close();
      fs.rmSync(path, { force: true });
    }
  });
});
