// `tracering record -o FILE.dat` against trace-cmd 3.x: trace-cmd report
// opens our files, and our report of trace-cmd's files (and ours) equals
// the kernel's own text of the same buffer contents.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli, startCli } from '../helpers/cli.js';
import { kernelOrSkip, testInstance, writeMarkers } from '../helpers/kernel.js';
import type { Instance, Tracefs } from '../../src/kernel/tracefs.js';

const scratch = fs.mkdtempSync(join(os.tmpdir(), 'trtest-dat-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));
let seq = 0;
const out = (ext: string) => join(scratch, `out-${seq++}${ext}`);

function traceCmd(t: TestContext, args: string[]): { status: number | null; stdout: string; stderr: string } | null {
  const r = spawnSync('trace-cmd', args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error !== undefined) {
    if (process.env.CI === 'true') throw r.error;
    t.skip('trace-cmd is not installed');
    return null;
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Events per CPU in trace-cmd report's output ("... [001] ..."). */
function perCpu(report: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const line of report.split('\n')) {
    const m = /^\s*(?:\S+:\s+)?.+?-\d+\s+\[(\d{3})\]/.exec(line);
    if (m !== null) counts.set(Number(m[1]), (counts.get(Number(m[1])) ?? 0) + 1);
  }
  return counts;
}

function cmdlines(tracefs: Tracefs): Map<number, string> {
  const table = new Map<number, string>();
  for (const line of fs.readFileSync(join(tracefs.root, 'saved_cmdlines'), 'utf8').split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0) table.set(Number(line.slice(0, sp)), line.slice(sp + 1));
  }
  return table;
}

/**
 * Compares our text with the kernel's line by line. saved_cmdlines holds
 * the latest name of a pid, so a line may differ in its COMM column when
 * that pid's entry changed between the kernel's render and ours: such a
 * line is explained only if the pid's entry differs between the two
 * snapshots taken around the renders (or the name we print is the later
 * one). Every other difference fails.
 */
function assertSameText(kernel: string, ours: string, before: Map<number, string>, afterNames: Map<number, string>): void {
  const a = kernel.split('\n');
  const b = ours.split('\n');
  assert.equal(b.length, a.length, 'line count');
  const task = /^(\s*)(.*)-(\d+)(\s+\[\d{3}\].*)$/;
  // Lines explained only by which name each side printed (no change seen
  // in the snapshots) are capped: a renderer printing wrong names would
  // pass them. A pid whose entry demonstrably changed is no such doubt (a
  // saved_cmdlines churn load changes hundreds).
  let weak = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    const ka = task.exec(a[i]!);
    const kb = task.exec(b[i]!);
    const pid = ka === null ? -1 : Number(ka[3]);
    const sameRest = ka !== null && kb !== null && ka[3] === kb[3] && ka[4] === kb[4];
    const changed = before.get(pid) !== afterNames.get(pid);
    const namesMatch = sameRest && (kb[2]!.trim() === (afterNames.get(pid) ?? '<...>') || ka[2]!.trim() === (before.get(pid) ?? '<...>'));
    assert.ok(sameRest && (changed || namesMatch), `line ${i + 1} differs:\n  kernel: ${a[i]}\n  ours:   ${b[i]}`);
    if (!changed) weak++;
  }
  assert.ok(weak <= a.length / 10, `${weak} lines differ in COMM only with no change seen in saved_cmdlines: too many to be churn`);
}

/** Fills `inst` with sched events and markers, stops tracing, and returns the kernel's `trace` text. */
function fillAndStop(tracefs: Tracefs, inst: Instance): { text: string; before: Map<number, string> } {
  inst.enableEvents(['sched:sched_switch', 'sched:sched_waking', 'sched:sched_process_exec']);
  for (const cpu of [0, 1]) writeMarkers(inst, cpu, 200, (i) => `fill cpu${cpu} ${i}`);
  spawnSync('/bin/sh', ['-c', 'for i in 1 2 3; do /bin/true; done']);
  inst.tracingOn = false;
  const before = cmdlines(tracefs);
  return { text: inst.readText('trace'), before };
}

describe('record -o FILE.dat', () => {
  it('trace-cmd report opens it with no warnings, with the kernel\'s per-CPU counts and every marker in order', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    const file = out('.dat');
    const script = `i=0; while [ $i -lt 400 ]; do echo "mark $i" > ${inst.path}/trace_marker; i=$((i+1)); done`;
    const r = runCli(['record', '-B', inst.name!, '-e', 'sched:sched_switch', '-o', file, '-q', '--', '/bin/sh', '-c', script]);
    assert.equal(r.status, 0, r.stderr);
    const report = traceCmd(t, ['report', file]);
    if (report === null) return;
    assert.equal(report.status, 0, report.stderr);
    assert.equal(report.stderr, '', 'no warnings');
    const counts = perCpu(report.stdout);
    for (const cpu of inst.cpus()) {
      assert.equal(counts.get(cpu) ?? 0, inst.cpuStats(cpu).readEvents, `CPU ${cpu}: trace-cmd's count = the kernel's read events`);
    }
    const marks = [...report.stdout.matchAll(/tracing_mark_write: mark (\d+)/g)].map((m) => Number(m[1]));
    assert.deepEqual(marks, Array.from({ length: 400 }, (_, i) => i));
    // And our own reader agrees.
    const ours = runCli(['report', file, '--json']);
    assert.equal(ours.status, 0, ours.stderr);
    assert.equal(ours.stdout.trim().split('\n').length, [...counts.values()].reduce((a, b) => a + b, 0));
  });

  it('the same buffer contents both ways: our file and trace-cmd\'s (v7, v7 zstd, v6) report as the kernel\'s text', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    if (traceCmd(t, ['--version']) === null) return;
    using inst = testInstance(tracefs);

    // 1. record drains the buffer straight into a trace.dat.
    const first = fillAndStop(tracefs, inst);
    const ourDat = out('.dat');
    const r = runCli(['record', '-B', inst.name!, '--drain', '-o', ourDat, '-q']);
    assert.equal(r.status, 0, r.stderr);
    const ours = runCli(['report', ourDat]);
    assert.equal(ours.status, 0, ours.stderr);
    assertSameText(first.text, ours.stdout, first.before, cmdlines(tracefs));
    assert.equal(traceCmd(t, ['report', ourDat])?.stderr, '');

    // 2. trace-cmd builds its own file from the same kind of raw pages.
    inst.tracingOn = true;
    const second = fillAndStop(tracefs, inst);
    const dir = out('');
    const d = runCli(['record', '-B', inst.name!, '--drain', '-o', dir, '-q']);
    assert.equal(d.status, 0, d.stderr);
    const kallsyms = join(scratch, `kallsyms-${seq++}`);
    fs.writeFileSync(kallsyms, gunzipSync(fs.readFileSync(join(dir, 'kallsyms.gz'))));
    const head = out('.dat');
    const full = out('.dat');
    assert.equal(traceCmd(t, ['restore', '-c', '-t', dir, '-k', kallsyms, '-o', head])?.status, 0);
    const cpus = inst.cpus().map((c) => join(dir, `per_cpu/cpu${c}/trace_pipe_raw`));
    const restored = traceCmd(t, ['restore', '-i', head, '-o', full, ...cpus]);
    assert.equal(restored?.status, 0, restored?.stderr);
    const variants: Array<[string, string[]]> = [
      ['v7 none (restore)', []],
      ['v7 zstd', ['--compression', 'zstd']],
      ['v6', ['--file-version', '6']],
    ];
    const after = cmdlines(tracefs);
    for (const [what, args] of variants) {
      let file = full;
      if (args.length > 0) {
        file = out('.dat');
        const c = traceCmd(t, ['convert', ...args, '-i', full, '-o', file]);
        assert.equal(c?.status, 0, c?.stderr);
      }
      const text = runCli(['report', file]);
      assert.equal(text.status, 0, `${what}: ${text.stderr}`);
      // trace-cmd's files carry no trace header figures of their own kind: compare the events.
      const events = (s: string) => s.split('\n').filter((l) => !l.startsWith('#')).join('\n');
      assertSameText(events(second.text), events(text.stdout), second.before, after);
    }
  });

  it('losses: trace-cmd shows its drop markers on our file, our report the kernel\'s counts, CPUSTAT the kernel\'s overrun', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    if (traceCmd(t, ['--version']) === null) return;
    using inst = testInstance(tracefs);
    inst.setBufferSizeKb(16);
    // No reader while the burst overwrites the tiny ring.
    writeMarkers(inst, 0, 20_000, (i) => `flood ${i}`);
    inst.tracingOn = false;
    const overrun = inst.cpuStats(0).overrun;
    assert.ok(overrun > 0, 'the flood overwrote events');
    const file = out('.dat');
    const r = runCli(['record', '-B', inst.name!, '--drain', '-o', file, '-q', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { cpus: Array<{ cpu: number; lost: number }> };
    assert.equal(summary.cpus.find((c) => c.cpu === 0)?.lost, overrun, 'lost = overrun');
    const report = traceCmd(t, ['report', file]);
    assert.equal(report?.status, 0, report?.stderr);
    assert.match(report!.stdout, /CPU:0 \[(\d+ )?EVENTS DROPPED\]/);
    const ours = runCli(['report', file]);
    const lost = [...ours.stdout.matchAll(/^CPU:0 \[LOST (\d+) EVENTS\]$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    assert.equal(lost, overrun, 'our report: LOST counts add up to the overrun');
    const dump = traceCmd(t, ['dump', '--options', file]);
    const cpustat = /CPU: 0\n(?:.*\n)*?overrun: (\d+)/.exec(dump!.stdout);
    assert.ok(cpustat !== null, `CPUSTAT for CPU 0 in:\n${dump!.stdout.slice(0, 2000)}`);
    assert.equal(Number(cpustat[1]), overrun, 'CPUSTAT overrun = the kernel\'s');
  });

  it('SIGINT mid-record leaves a complete, valid file; --subbuf 8 gives 8 KiB pages', async (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    if (traceCmd(t, ['--version']) === null) return;
    const name = `trtest-dat-${process.pid}-${seq++}`;
    const file = out('.dat');
    const child = startCli(['record', '-B', name, '-e', 'sched:sched_switch', '--subbuf', '8', '-o', file, '--progress']);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d));
    const deadline = Date.now() + 30_000;
    while (!/\d+\.\ds /.test(err) && Date.now() < deadline) await sleep(20);
    fs.writeFileSync(join(tracefs.root, 'instances', name, 'trace_marker'), 'last words\n');
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, err);
    assert.equal(fs.existsSync(`${file}.tmp`), false);
    const report = traceCmd(t, ['report', file]);
    assert.equal(report?.status, 0, report?.stderr);
    assert.equal(report?.stderr, '');
    assert.match(report!.stdout, /tracing_mark_write: last words/);
    const dump = traceCmd(t, ['dump', '--summary', file]);
    assert.match(dump!.stdout, /8192\s+\[Page size, bytes\]/);
  });
});
