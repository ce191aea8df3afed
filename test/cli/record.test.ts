// `tracering record`, `list` and `reset` against the real kernel, into a
// recording directory (trace.dat output has its own test file). Each test
// names its own instance (trtest-*), which record creates and removes.

import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli, runCliWithOwnerRecords, startCli } from '../helpers/cli.js';
import { kernelOrSkip, testInstance } from '../helpers/kernel.js';

const scratch = fs.mkdtempSync(join(os.tmpdir(), 'trtest-record-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));
let seq = 0;
const uniqueName = () => `trtest-rec-${process.pid}-${seq++}`;
/** Where tracering keeps owner records when run as root (src/kernel/ownership.ts). */
const OWNER_RECORDS = '/run/tracering/instances';
const outDir = () => join(scratch, `out-${seq++}`);

/** A shell command that writes N numbered markers into an instance. */
/** Starts `tracering record --progress ...` and resolves once its first progress line says tracing is on. */
async function startTracing(args: string[]): Promise<{ child: ChildProcess; stderr: () => string }> {
  const child = startCli(args);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d));
  const deadline = Date.now() + 60_000; // a hang bound, not an expectation
  while (!/\d+\.\ds /.test(err)) {
    if (child.exitCode !== null || Date.now() > deadline) assert.fail(`record did not start tracing: ${err}`);
    await sleep(20);
  }
  return { child, stderr: () => err };
}

function markerScript(root: string, name: string, n: number): string[] {
  return ['/bin/sh', '-c', `i=0; while [ $i -lt ${n} ]; do echo "mark $i" > ${root}/instances/${name}/trace_marker; i=$((i+1)); done`];
}

function reportJson(dir: string): Array<Record<string, unknown>> {
  const r = runCli(['report', dir, '--json']);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('tracering record', () => {
  it('records a command: every marker in order, per-CPU counts equal the kernel stats, the instance removed', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    const name = uniqueName();
    const dir = outDir();
    const r = runCli(['record', '-B', name, '-e', 'sched:sched_switch', '-o', dir, '--json', '--', ...markerScript(tracefs.root, name, 500)]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(tracefs.instanceExists(name), false, 'instance removed');
    const summary = JSON.parse(r.stdout) as { reason: string; cpus: Array<{ cpu: number; events: number; lost: number }>; total: { lost: number } };
    assert.equal(summary.reason, 'command-exited');
    assert.equal(fs.existsSync(`${dir}.tmp`), false);
    const text = runCli(['report', dir]);
    assert.equal(text.status, 0, text.stderr);
    const marks = text.stdout
      .split('\n')
      .filter((l) => l.includes('tracing_mark_write: mark '))
      .map((l) => Number(/mark (\d+)$/.exec(l)?.[1]));
    assert.deepEqual(marks, Array.from({ length: 500 }, (_, i) => i));
    // What was recorded per CPU is what the kernel says was read from it.
    for (const c of summary.cpus) {
      const stats = fs.readFileSync(join(dir, `per_cpu/cpu${c.cpu}/stats`), 'utf8');
      const read = Number(/^read events: (\d+)$/m.exec(stats)?.[1]);
      const overrun = Number(/^overrun: (\d+)$/m.exec(stats)?.[1]);
      assert.equal(c.events, read, `cpu ${c.cpu} events = read events`);
      assert.equal(c.lost, overrun, `cpu ${c.cpu} lost = overrun`);
      const inFile = reportJson(dir).filter((e) => e.cpu === c.cpu).length;
      assert.equal(inFile, c.events, `cpu ${c.cpu} events in the recording`);
    }
  });

  it('-F traces only the command and its children', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    const dir = outDir();
    // Other processes exec meanwhile: their execs must not be recorded.
    const noise = spawnSync('/bin/sh', ['-c', 'for i in 1 2 3 4 5; do /bin/true; done']);
    assert.equal(noise.status, 0);
    const r = runCli(['record', '-B', uniqueName(), '-e', 'sched:sched_process_exec', '-e', 'sched:sched_process_fork', '-F', '-o', dir, '-q', '--', '/bin/sh', '-c', '/bin/true; /bin/true; /bin/echo hi > /dev/null']);
    assert.equal(r.status, 0, r.stderr);
    const events = reportJson(dir);
    const execs = events.filter((e) => e.event === 'sched_process_exec');
    const forks = events.filter((e) => e.event === 'sched_process_fork');
    const fields = (e: Record<string, unknown>) => e.fields as Record<string, unknown>;
    assert.deepEqual(
      execs.map((e) => fields(e).filename),
      ['/bin/sh', '/bin/true', '/bin/true', '/bin/echo'],
    );
    // Every exec is the command's shell or a child it forked.
    const tree = new Set<number>([Number(fields(execs[0]!).pid)]);
    for (const f of forks) if (tree.has(Number(fields(f).parent_pid))) tree.add(Number(fields(f).child_pid));
    for (const e of execs) assert.ok(tree.has(Number(fields(e).pid)), `exec by ${String(fields(e).pid)} is in the command's tree`);
  });

  it('-P traces only the given process', async (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    const dir = outDir();
    const child = spawnSync('/bin/sh', ['-c', 'sleep 30 >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' });
    const pid = Number(child.stdout.trim());
    try {
      const r = runCli(['record', '-B', uniqueName(), '-e', 'raw_syscalls', '-P', String(process.pid), '-o', dir, '-q', '--duration', '0.5']);
      assert.equal(r.status, 0, r.stderr);
      const events = reportJson(dir);
      // This test process only waits in spawnSync meanwhile: few syscalls, but only ours.
      for (const e of events) assert.equal(e.pid, process.pid);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  it('a filter the kernel refuses is a coded error with the kernel\'s own text, and nothing is left', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    const name = uniqueName();
    const dir = outDir();
    const r = runCli(['record', '-B', name, '-e', 'sched:sched_switch', '-f', 'no_such_field == 1', '-o', dir, '--duration', '1']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /ERR_EVENT_FILTER/);
    assert.match(r.stderr, /parse_error: Field not found/);
    assert.equal(tracefs.instanceExists(name), false);
    assert.equal(fs.existsSync(dir), false);
    assert.equal(fs.existsSync(`${dir}.tmp`), false);
  });

  it('-C and --subbuf set the clock and sub-buffer size of the recording', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    const name = uniqueName();
    const dir = outDir();
    const r = runCli(['record', '-B', name, '-e', 'sched:sched_switch', '-C', 'mono', '--subbuf', '8', '-o', dir, '-q', '--', ...markerScript(tracefs.root, name, 50)]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(fs.readFileSync(join(dir, 'trace_clock'), 'utf8'), /\[mono\]/);
    assert.equal(fs.readFileSync(join(dir, 'buffer_subbuf_size_kb'), 'utf8').trim(), '8');
    const header = fs.readFileSync(join(dir, 'events/header_page'), 'utf8');
    assert.match(header, /field: char data;\toffset:16;\tsize:8176;/);
    const marks = reportJson(dir).filter((e) => e.event === 'print');
    assert.equal(marks.length, 50);
  });

  it('on an instance that existed, puts back the settings it found', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    inst.enableEvents(['sched:sched_wakeup']);
    inst.setEventFilter('sched:sched_wakeup', 'prio < 100');
    inst.traceClock = 'global';
    const before = {
      setEvent: inst.readText('set_event'),
      filter: inst.readText('events/sched/sched_wakeup/filter'),
      clock: inst.readText('trace_clock'),
      on: inst.readText('tracing_on'),
      pids: inst.readText('set_event_pid'),
      fork: inst.readText('options/event-fork'),
    };
    const r = runCli(['record', '-B', inst.name!, '-e', 'sched:sched_switch', '-f', 'prev_pid != 0', '-C', 'mono', '-P', String(process.pid), '-o', outDir(), '-q', '--duration', '0.3']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(tracefs.instanceExists(inst.name!));
    assert.deepEqual(
      {
        setEvent: inst.readText('set_event'),
        filter: inst.readText('events/sched/sched_wakeup/filter'),
        clock: inst.readText('trace_clock'),
        on: inst.readText('tracing_on'),
        pids: inst.readText('set_event_pid'),
        fork: inst.readText('options/event-fork'),
      },
      before,
    );
    assert.equal(inst.readText('events/sched/sched_switch/filter').trim(), 'none');
  });

  it('SIGINT mid-record leaves a complete recording of everything captured', async (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    const name = uniqueName();
    const dir = outDir();
    const { child, stderr } = await startTracing(['record', '-B', name, '-e', 'sched:sched_switch', '-o', dir, '--progress']);
    fs.writeFileSync(join(tracefs.root, 'instances', name, 'trace_marker'), 'before the stop\n');
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, stderr());
    assert.equal(tracefs.instanceExists(name), false);
    const events = reportJson(dir);
    assert.ok(events.some((e) => e.event === 'print' && (e.fields as Record<string, unknown>).buf === 'before the stop\n'));
  });

  it('after SIGKILL: nothing under the final name, the next run says what is left over and removes the dead run\'s instance', async (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    const name = uniqueName();
    const dir = outDir();
    const { child } = await startTracing(['record', '-B', name, '-e', 'sched:sched_switch', '-o', dir, '--progress']);
    // Its owner record, taken out of the machine's view while it still runs:
    // once it is dead, any tracering run on the machine would adopt its
    // instance (another suite's `tracering reset` does). The runs below see it.
    const records = fs.mkdtempSync(join(scratch, 'owners-'));
    const recordFile = `${tracefs.root.replace(/[^A-Za-z0-9]+/g, '_')}__${name}.json`;
    fs.writeFileSync(join(records, recordFile), fs.readFileSync(join(OWNER_RECORDS, recordFile)));
    fs.unlinkSync(join(OWNER_RECORDS, recordFile));
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.equal(fs.existsSync(dir), false, 'no recording under the final name');
    assert.ok(fs.existsSync(`${dir}.tmp`), 'the partial recording is kept');
    assert.ok(tracefs.instanceExists(name), 'the killed run could not remove its instance');
    // What the killed run consumed is readable.
    const partial = runCli(['report', `${dir}.tmp`]);
    assert.equal(partial.status, 0, partial.stderr);
    // A new run to the same output refuses before tracing anything, naming the leftover.
    const again = runCliWithOwnerRecords(records, ['record', '-B', name, '-e', 'sched:sched_switch', '-o', dir, '--duration', '0.2']);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /left over from a recording that was killed.*\[ERR_OUTPUT_EXISTS\]/);
    // The next run removes the dead run's instance (its owner record says whose it was).
    assert.ok(tracefs.instanceExists(name));
    const next = runCliWithOwnerRecords(records, ['record', '-B', name, '-e', 'sched:sched_switch', '-o', outDir(), '--duration', '0.2']);
    assert.equal(next.status, 0, next.stderr);
    const said = new RegExp(`(removed instance ${name}, left behind by tracering pid ${child.pid}|instance ${name} was left behind by tracering pid ${child.pid})`).test(next.stderr);
    assert.ok(said, `the next run says it removed ${name}:\n${next.stderr}`);
    assert.equal(tracefs.instanceExists(name), false);
    assert.deepEqual(fs.readdirSync(records), [], 'the next run forgot the owner records');
  });
});

describe('tracering list and reset', () => {
  it('list -e REGEX prints what trace-cmd list prints', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    const ours = runCli(['list', '-e', 'sched_sw']);
    assert.equal(ours.status, 0, ours.stderr);
    const theirs = spawnSync('trace-cmd', ['list', '-e', 'sched_sw'], { encoding: 'utf8' });
    if (theirs.error !== undefined) {
      if (process.env.CI === 'true') throw theirs.error;
      t.skip('trace-cmd is not installed');
      return;
    }
    assert.deepEqual(ours.stdout.split('\n').filter(Boolean).sort(), theirs.stdout.split('\n').filter(Boolean).sort());
    const clocks = runCli(['list', '-C']);
    assert.equal(clocks.stdout, fs.readFileSync(join(tracefs.root, 'trace_clock'), 'utf8'));
  });

  it('reset -B NAME turns everything off; reset alone removes instances of killed runs', async (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    inst.enableEvents(['sched']);
    inst.setEventFilter('sched:sched_switch', 'prev_pid != 0');
    const r = runCli(['reset', '-B', inst.name!]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(inst.readText('set_event').trim(), '');
    assert.equal(inst.readText('events/sched/sched_switch/filter').trim(), 'none');
    // A killed run's instance:
    const name = uniqueName();
    const { child } = await startTracing(['record', '-B', name, '-e', 'sched:sched_switch', '-o', outDir(), '--progress']);
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.ok(tracefs.instanceExists(name));
    const cleaned = runCli(['reset']);
    assert.equal(cleaned.status, 0, cleaned.stderr);
    // Another tracering run on this machine may have swept it first (any run does).
    if (!new RegExp(`${name}: removed`).test(cleaned.stdout)) assert.equal(tracefs.instanceExists(name), false, cleaned.stdout);
    assert.equal(tracefs.instanceExists(name), false);
  });
});
