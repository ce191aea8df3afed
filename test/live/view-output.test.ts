// The live view without a terminal: --once prints one plain frame,
// --json one JSON line per interval until the duration, a signal or a
// closed pipe; the full-screen view refuses to start on a pipe.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FrameJson } from '../../src/live/frame-json.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const BOUND_MS = 30_000;

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Runs the fake view with pipes; `during` may act on it while it runs. */
async function run(args: string[], during?: (child: ChildProcess, out: () => string) => Promise<void>): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/live/fake-top.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const r: Run = { child, stdout: '', stderr: '', code: null };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (r.stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (r.stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), BOUND_MS);
  try {
    const exited = once(child, 'exit');
    if (during) await during(child, () => r.stdout);
    const [code] = (await exited) as [number | null];
    r.code = code;
  } finally {
    clearTimeout(timer);
  }
  return r;
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + BOUND_MS;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('live view without a terminal', () => {
  it('--once prints one 80x24 frame as plain text, with rates and losses', async () => {
    const r = await run(['--output', 'once', '--cpus', '2', '--interval', '200', '--loss-after', '0', '--loss', '55']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /fake-top: ended once after 1 frames/);
    const lines = r.stdout.split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.length, 24);
    assert.ok(!r.stdout.includes('\x1b'), 'no escape sequences');
    assert.ok(lines.every((l) => l.length <= 80));
    for (const cpu of ['cpu0', 'cpu1']) {
      const cols = lines.find((l) => l.startsWith(`${cpu} `))!.split(/\s+/);
      assert.ok(Number.parseFloat(cols[2]!) > 0, cols.join(' '));
    }
    assert.equal(lines.find((l) => l.startsWith('cpu1 '))!.split(/\s+/)[5], '55');
    assert.match(lines[1]!, /^since start: lost 55 /);
  });

  it('--json prints a line per interval until the duration', async () => {
    const r = await run(['--output', 'json', '--cpus', '3', '--interval', '200', '--duration', '1000', '--ring', 'app']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.length >= 1);
    const frames = lines.map((l) => JSON.parse(l) as FrameJson);
    for (const f of frames) {
      assert.deepEqual(f.cpus.map((c) => c.cpu), [0, 1, 2]);
      assert.ok(f.cpus.every((c) => c.eventsPerSec !== null && c.eventsPerSec > 0), JSON.stringify(f.cpus));
      assert.equal(f.rings[0]!.name, 'app');
      assert.equal(f.clock, 'mono');
      assert.equal(f.top.table, 'events');
      assert.equal(f.top.events[0]!.name, 'sched:sched_switch');
      assert.deepEqual(f.top.tasks.map((t) => t.name).sort(), ['bash', 'kworker/0:1', 'node', 'stress-ng', 'systemd']);
    }
    for (let i = 1; i < frames.length; i++) assert.ok(frames[i]!.cpus[0]!.events >= frames[i - 1]!.cpus[0]!.events);
    assert.match(r.stderr, new RegExp(`fake-top: ended duration after ${frames.length} frames`));
  });

  it('--json ends on SIGTERM, and when its reader goes away', async () => {
    const term = await run(['--output', 'json', '--interval', '200'], async (child, out) => {
      await until(() => out().includes('\n'), 'a first line');
      child.kill('SIGTERM');
    });
    assert.equal(term.code, 0, term.stderr);
    assert.match(term.stderr, /fake-top: ended signal/);
    const closed = await run(['--output', 'json', '--interval', '100'], async (child, out) => {
      await until(() => out().includes('\n'), 'a first line');
      child.stdout!.destroy();
    });
    assert.equal(closed.code, 0, closed.stderr);
    assert.match(closed.stderr, /fake-top: ended output-closed/);
  });

  it('the full-screen view refuses a pipe with a clear error', async () => {
    const r = await run(['--output', 'screen']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /fake-top: failed the live view needs a terminal: use --once or --json/);
    assert.equal(r.stdout, '', 'nothing drawn');
  });
});
