// The differential test's race judge (test/helpers/render-races.ts) on a
// captured kernel text: the sched fixture's `trace` text and the
// saved_cmdlines / saved_tgids it was rendered with. Real differences
// injected into real lines are caught; COMM / TGID / age= differences pass
// only where the state the kernel read them from changed.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { FIXTURES } from '../decode/support.js';
import { splitKernelText } from '../helpers/differential.js';
import { checkRaceJudge } from '../helpers/race-checks.js';
import { type RenderWindow, RenderWindowProbe, commColumn, explainRaces, pidsUnderTwoNames, readTaskTables } from '../helpers/render-races.js';

const root = path.join(FIXTURES, 'sched', 'tracefs');
const tracePath = path.join(FIXTURES, 'sched', 'expected', 'trace');
const kernelEvents = splitKernelText(fs.readFileSync(tracePath, 'utf8')).events;
const events = kernelEvents.map((text) => ({ name: `sched:${/\] \S{5} +[\d.]+: (\w+):/.exec(text)?.[1]}`, text }));
const cmdlines = fs.readFileSync(path.join(root, 'saved_cmdlines'), 'utf8');
const tgids = fs.readFileSync(path.join(root, 'saved_tgids'), 'utf8');
const noClock = { jiffies: null, hz: null };

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tracering-race-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A directory with our side's tables: the capture's, edited. */
function oursDir(editCmdlines: (lines: string[]) => string[] = (l) => l, editTgids: (lines: string[]) => string[] = (l) => l): string {
  const dir = fs.mkdtempSync(path.join(scratch, 'ours-'));
  const lines = (text: string) => text.split('\n').filter((l) => l !== '');
  fs.writeFileSync(path.join(dir, 'saved_cmdlines'), `${editCmdlines(lines(cmdlines)).join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'saved_tgids'), `${editTgids(lines(tgids)).join('\n')}\n`);
  return dir;
}

/** The window a probe records reading the capture's text with the capture's tables, ours from `ours`. */
function windowWith(ours: string): RenderWindow {
  const probe = new RenderWindowProbe(root);
  assert.equal(probe.readKernelText(tracePath), fs.readFileSync(tracePath, 'utf8'));
  return probe.finish(ours);
}

const lineOf = (pid: number) => kernelEvents.find((e) => new RegExp(`^.{16}-${pid} `).test(e))!;
const withComm = (line: string, comm: string) => commColumn(comm) + line.slice(16);
const pidOfLine = (l: string) => Number(l.split(' ')[0]);

describe('race judge of the differential test', () => {
  // Pids with a table entry and lines in the text, the one with most lines first.
  const linesOf = (pid: number) => kernelEvents.filter((e) => new RegExp(`^.{16}-${pid} `).test(e)).length;
  const pids = cmdlines
    .split('\n')
    .filter((l) => l !== '')
    .map(pidOfLine)
    .filter((pid) => linesOf(pid) > 0)
    .sort((a, b) => linesOf(b) - linesOf(a));
  const [p, q] = pids;

  it('the capture is usable: pids with lines and table entries', () => {
    assert.ok(events.length > 400 && pids.length >= 2, `${events.length} events, ${pids.length} pids`);
  });

  it('catches every injected real difference and accepts only the named races', () => {
    const window = windowWith(root);
    assert.equal(window.commChanged.size, 0);
    assert.ok(window.readings >= 4);
    const report = checkRaceJudge(events, kernelEvents, window, noClock, new Set(), 1000);
    assert.deepEqual(report.failures, []);
    assert.ok(report.cases > 2000, `only ${report.cases} cases`);
  });

  it('the same lines with record-tgid columns', () => {
    const tgidOf = new Map(tgids.split('\n').filter((l) => l !== '').map((l) => [pidOfLine(l), Number(l.split(' ')[1])]));
    const withTgid = events.map(({ name, text }) => {
      const m = /^.{16}-(\d+) * /.exec(text)!;
      const tgid = tgidOf.get(Number(m[1]));
      return { name, text: m[0] + (tgid === undefined ? '(-------) ' : `(${String(tgid).padStart(7)}) `) + text.slice(m[0].length) };
    });
    assert.ok(withTgid.some((e) => !e.text.includes('(-------)')), 'some pids have a tgid');
    const report = checkRaceJudge(withTgid, withTgid.map((e) => e.text), windowWith(root), noClock, new Set(), 1000);
    assert.deepEqual(report.failures, []);
  });

  it('COMM: accepted for a pid whose slot another pid took, that was renamed, or that sits in another slot', () => {
    const line = lineOf(p!);
    const comm = readTaskTables(root).comms.get(p!)!.replace(/^\d+:/, '');
    const cases: Array<[string, string, string]> = [
      // another pid recorded into p's slot: the kernel had p's name, ours prints <...>
      ['slot taken', oursDir((ls) => ls.map((l) => (pidOfLine(l) === p ? `31999 true` : l))), '<...>'],
      // p recorded again under a new name (exec, or a reused pid)
      ['renamed', oursDir((ls) => ls.map((l) => (pidOfLine(l) === p ? `${p} true` : l))), 'true'],
      // p and q swapped slots: the same names, in other slots
      ['other slot', oursDir((ls) => ls.map((l) => (pidOfLine(l) === p ? ls.find((x) => pidOfLine(x) === q)! : pidOfLine(l) === q ? ls.find((x) => pidOfLine(x) === p)! : l))), comm],
    ];
    for (const [what, dir, oursComm] of cases) {
      const window = windowWith(dir);
      assert.ok(window.commChanged.has(p!), what);
      const judge = explainRaces(window, pidsUnderTwoNames(kernelEvents), noClock, new Set());
      const ours = withComm(line, oursComm);
      if (ours !== line) assert.deepEqual(judge('sched:x', ours, line), ['saved_cmdlines entry changed between readings'], what);
      // The kernel printing yet another name is as explained (the entry changed), ours not matching our table is not.
      assert.deepEqual(judge('sched:x', ours, withComm(line, '<...>') === ours ? withComm(line, 'x') : withComm(line, '<...>')), ['saved_cmdlines entry changed between readings'], what);
      assert.equal(judge('sched:x', withComm(line, 'not-ours'), line), null, what);
    }
  });

  it('our side\'s tables must be a reading of the kernel\'s (an empty or truncated copy would excuse everything)', () => {
    assert.throws(() => windowWith(oursDir(() => [])), /no reading of the kernel's/);
    assert.throws(() => windowWith(oursDir((ls) => ls.slice(0, -1))), /no reading of the kernel's/);
    assert.throws(() => windowWith(oursDir(undefined, (ls) => ls.slice(1))), /no reading of the kernel's/);
  });

  it('COMM: rejected for a pid whose entry did not change, even when others changed', () => {
    const window = windowWith(oursDir((ls) => ls.map((l) => (pidOfLine(l) === q ? `${q} true` : l))));
    assert.deepEqual([...window.commChanged], [q]);
    const line = lineOf(p!);
    assert.equal(explainRaces(window, pidsUnderTwoNames(kernelEvents), noClock, new Set())('sched:x', line, withComm(line, '<...>')), null);
  });

  it('COMM: accepted when the kernel itself printed the pid under two names', () => {
    const window = windowWith(root);
    const i = kernelEvents.findIndex((e) => new RegExp(`^.{16}-${p} `).test(e));
    const evicted = withComm(kernelEvents[i]!, '<...>');
    const text = kernelEvents.map((e, j) => (j === i ? evicted : e));
    assert.ok(text.filter((e) => new RegExp(`^.{16}-${p} `).test(e)).length > 1, 'p has several lines');
    assert.deepEqual(explainRaces(window, pidsUnderTwoNames(text), noClock, new Set())('sched:x', kernelEvents[i]!, evicted), ['the kernel printed the pid under two names']);
    // With every line of p printed <...>, nothing proves a change.
    const allEvicted = kernelEvents.map((e) => (new RegExp(`^.{16}-${p} `).test(e) ? withComm(e, '<...>') : e));
    assert.equal(explainRaces(window, pidsUnderTwoNames(allEvicted), noClock, new Set())('sched:x', kernelEvents[i]!, evicted), null);
  });

  it('TGID: accepted only for a pid whose saved_tgids entry changed', () => {
    const tgidPid = pidOfLine(tgids.split('\n').find((l) => l !== '' && kernelEvents.some((e) => new RegExp(`^.{16}-${pidOfLine(l)} `).test(e)))!);
    const window = windowWith(oursDir(undefined, (ls) => ls.map((l) => (pidOfLine(l) === tgidPid ? `${tgidPid} 1` : l))));
    assert.deepEqual([...window.tgidChanged], [tgidPid]);
    const base = lineOf(tgidPid);
    const m = /^.{16}-\d+ * /.exec(base)!;
    const withTgid = (t: string) => m[0] + t + base.slice(m[0].length);
    const judge = explainRaces(window, pidsUnderTwoNames(kernelEvents), noClock, new Set());
    assert.deepEqual(judge('sched:x', withTgid('(      1) '), withTgid(`(${String(tgidPid).padStart(7)}) `)), ['saved_tgids entry changed between readings']);
    assert.equal(judge('sched:x', withTgid('(      2) '), withTgid(`(${String(tgidPid).padStart(7)}) `)), null, 'ours is not our table');
    const other = lineOf(p === tgidPid ? q! : p!);
    const o = /^.{16}-\d+ * /.exec(other)!;
    assert.equal(judge('sched:x', `${o[0]}(-------) ${other.slice(o[0].length)}`, `${o[0]}(      7) ${other.slice(o[0].length)}`), null, 'unchanged entry');
  });

  it('age=: only ages the kernel can have computed between the two jiffies readings', () => {
    const hz = 250;
    const dirtied = 4295060830n;
    const line = (age: number) =>
      `${'dd'.padStart(16)}-14981   [001] .....   674.793693: writeback_single_inode: bdi 254:0: ino=2154531 state=I_SYNC dirtied_when=${dirtied} age=${age} index=0 to_write=0 wrote=0 cgroup_ino=1\n`;
    const window: RenderWindow = {
      ...windowWith(root),
      jiffies: { before: dirtied + 3n * 250n + 10n, afterKernel: dirtied + 5n * 250n },
    };
    const name = 'writeback:writeback_single_inode';
    const judge = explainRaces(window, pidsUnderTwoNames(kernelEvents), { jiffies: dirtied + 7n * 250n + 249n, hz }, new Set([name]));
    for (const age of [3, 4, 5]) assert.deepEqual(judge(name, line(7), line(age)), ['jiffies advanced'], `kernel age ${age}`);
    for (const age of [0, 2, 6, 8]) assert.equal(judge(name, line(7), line(age)), null, `kernel age ${age}`);
    // Ours must be what our jiffies give, and the event must be one whose print fmt reads jiffies.
    assert.equal(judge(name, line(8), line(4)), null);
    assert.equal(explainRaces(window, pidsUnderTwoNames(kernelEvents), { jiffies: dirtied + 7n * 250n, hz }, new Set())(name, line(7), line(4)), null);
    // A real difference besides the age is caught.
    assert.equal(judge(name, line(7), line(4).replace('wrote=0', 'wrote=1')), null);
  });
});
