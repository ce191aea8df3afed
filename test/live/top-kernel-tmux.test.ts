// The real `tracering top` on the real kernel, driven in tmux: a row per
// CPU with non-zero rates under a bounded load, the kernel's overrun as the
// loss figure, q and SIGTERM ending it with the terminal restored and no
// instance left; --once and --json without a terminal.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cliPath, runCli } from '../helpers/cli.js';
import { kernelOrSkip, testInstance, writeInBackground, writeMarkers } from '../helpers/kernel.js';
import { TmuxSession, shellQuote, tmuxAvailable } from '../helpers/tmux.js';

const skip = tmuxAvailable() ? false : process.env.CI === 'true' ? false : 'tmux is not installed';

/** Waits for the screen to satisfy `cond`, up to a generous bound. */
async function screenUntil(tmux: TmuxSession, cond: (rows: string[]) => boolean, what: string, maxMs = 30_000): Promise<string[]> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    const rows = tmux.capture();
    if (cond(rows)) return rows;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${rows.join('\n')}`);
    await sleep(100);
  }
}

function cpuRow(rows: string[], cpu: number): string[] | null {
  const row = rows.find((r) => r.startsWith(`cpu${cpu} `));
  return row === undefined ? null : row.trim().split(/\s+/);
}

function figure(text: string): number {
  const m = /^([\d.]+)([kMG]?)$/.exec(text);
  return m === null ? Number.NaN : Number(m[1]) * ({ '': 1, k: 1e3, M: 1e6, G: 1e9 } as Record<string, number>)[m[2]!]!;
}

/**
 * `top` in tmux; after it exits the pane prints its status and whether the
 * tty is back in canonical mode. Disposing it waits for top to be gone, so
 * the instance it maps can be removed next.
 */
function startTop(args: string[]): TmuxSession {
  const top = [process.execPath, cliPath, 'top', ...args].map(shellQuote).join(' ');
  const command = `sh -c ${shellQuote(`${top}; echo "EXIT=$?"; stty -a | tr ' ' '\\n' | grep -x -- '-\\?icanon'; sleep 60`)}`;
  const tmux = TmuxSession.start(command, { columns: 80, rows: 24 });
  const dispose = tmux[Symbol.dispose].bind(tmux);
  const pane = Number(tmux.display('#{pane_pid}'));
  tmux[Symbol.dispose] = () => {
    const children = childrenOf(pane);
    dispose();
    const deadline = Date.now() + 15_000;
    while (children.some((c) => fs.existsSync(`/proc/${c}`)) && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  };
  return tmux;
}

function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

describe('tracering top on the kernel, in tmux', { skip }, () => {
  it('shows a row per CPU with non-zero rates under load; q ends it, restores the terminal, leaves no instance', async (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    using tmux = startTop(['-B', inst.name!, '-e', 'sched:sched_switch', '-d', '0.5']);
    await screenUntil(tmux, (rows) => rows.some((r) => r.startsWith('cpu0 ')), 'the first frame');
    // A bounded load of markers on both CPUs while the view runs.
    const load = Promise.all([0, 1].map((cpu) => writeInBackground(inst, { cpu, count: 200_000, prefix: `top${cpu}-`, maxMs: 20_000, pauseEvery: 1000, pauseMs: 2 })));
    const rows = await screenUntil(
      tmux,
      (r) => [0, 1].every((cpu) => {
        const row = cpuRow(r, cpu);
        return row !== null && figure(row[2]!) > 0;
      }),
      'non-zero rates on both CPUs',
    );
    assert.equal(cpuRow(rows, 0)![1], cpuRow(rows, 0)![1] === 'read' ? 'read' : 'mmap');
    await load;
    tmux.sendKeys('q');
    await screenUntil(tmux, (r) => r.some((l) => l.startsWith('EXIT=')), 'top to exit');
    const after = tmux.capture();
    assert.ok(after.includes('EXIT=0'), after.join('\n'));
    assert.ok(after.includes('icanon'), 'the terminal is back in canonical mode');
    assert.equal(tmux.display('#{alternate_on}'), '0');
    assert.equal(inst.readText('events/sched/sched_switch/enable').trim(), '0', 'the event it enabled is off again');
  });

  it('an overflowed buffer shows the kernel\'s overrun as the loss; SIGTERM ends it cleanly', async (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    inst.setBufferSizeKb(16);
    // Overflow before anyone reads: the kernel counts the overwritten events.
    writeMarkers(inst, 0, 20_000, (i) => `overflow ${i}`);
    const overrun = inst.cpuStats(0).overrun;
    assert.ok(overrun > 0);
    // An event that does not fire here: nothing more is written, so the overrun stays what it is.
    using tmux = startTop(['-B', inst.name!, '-e', 'sched:sched_process_hang', '-d', '0.5']);
    const rows = await screenUntil(tmux, (r) => cpuRow(r, 0) !== null && r.some((l) => l.startsWith('since start:')), 'the first frame');
    const header = rows.find((l) => l.startsWith('since start:'))!;
    assert.match(header, new RegExp(`lost ${overrun}\\b`), header);
    // The pane runs sh, whose child is node: signal that one.
    for (const c of childrenOf(Number(tmux.display('#{pane_pid}')))) process.kill(c, 'SIGTERM');
    await screenUntil(tmux, (r) => r.some((l) => l.startsWith('EXIT=')), 'top to exit');
    const screen = tmux.capture();
    assert.ok(screen.includes('EXIT=0'), screen.join('\n'));
    assert.ok(screen.includes('icanon'));
  });
});

describe('tracering top without a terminal', () => {
  it('--once prints one plain frame; --json a line per interval; no instance left', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    const name = `trtest-top-${process.pid}`;
    const once = runCli(['top', '-B', name, '-e', 'sched:sched_switch', '--once', '-d', '0.5']);
    assert.equal(once.status, 0, once.stderr);
    assert.match(once.stdout, /^cpu0 +(mmap|read) /m);
    assert.doesNotMatch(once.stdout, /\x1b\[/, 'plain text');
    const json = runCli(['top', '-B', name, '-e', 'sched:sched_switch', '--json', '-d', '0.5', '--duration', '1.6']);
    assert.equal(json.status, 0, json.stderr);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { cpus?: unknown[] });
    assert.ok(lines.length >= 2, `${lines.length} lines`);
    assert.equal(tracefs.instanceExists(name), false);
  });
});
