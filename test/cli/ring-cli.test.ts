// The CLI on application rings: stream, stats, report.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { AppRing } from '../../src/ring/app-ring.js';
import { runCli } from '../helpers/cli.js';

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
});
