// `tracering stream`: live kernel text, Ctrl-C, and what it leaves behind.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { kernelOrSkip, onCpu, testInstance, writeMarkers } from '../helpers/kernel.js';
import { runCli, startCli } from '../helpers/cli.js';

describe('tracering stream', () => {
  it('streams kernel text live; Ctrl-C exits cleanly and removes the instance it created', async (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    const name = `trtest-stream-${process.pid}-${Date.now()}`;
    const child = startCli(['stream', '-B', name, '-e', 'sched:sched_switch']);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d));
    // A hang bound: on a loaded machine the CLI can take several seconds to start.
    const deadline = Date.now() + 60_000;
    while (!out.includes('sched_switch: prev_comm=') && Date.now() < deadline) await sleep(50);
    assert.match(out, /^ +\S.*-\d+ +\[\d{3}\] \S{5} +\d+\.\d{6}: sched_switch: prev_comm=/m);
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
    assert.equal(tracefs.instanceExists(name), false);
  });

  it('on an existing instance, disables the events it enabled and prints markers as the kernel does', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    onCpu(0, () => writeMarkers(inst, 0, 3, (i) => `before stream ${i}`));
    const r = runCli(['stream', '-B', inst.name as string, '-e', 'sched:sched_process_exec', '--duration', '0.5']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    // Other processes may exec during the window: their events are the enabled event, nothing else.
    const markers = lines.filter((l) => l.includes(' tracing_mark_write: '));
    assert.deepEqual(
      markers.map((l) => l.replace(/^.*tracing_mark_write: /, '')),
      ['before stream 0', 'before stream 1', 'before stream 2'],
    );
    for (const l of lines) if (!markers.includes(l)) assert.match(l, / sched_process_exec: filename=/);
    assert.equal(inst.readText('events/sched/sched_process_exec/enable').trim(), '0');
    assert.ok(tracefs.instanceExists(inst.name as string));
  });
});
