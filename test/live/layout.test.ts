// The live view's layout and key parsing, offline: every grid size gets
// exactly its rows and columns, many CPUs collapse without hiding a loss,
// sparklines scale to their window, names from traces are made printable.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { plainLine, plainText } from '../../src/live/ansi.js';
import { frameJson } from '../../src/live/frame-json.js';
import { parseKeys } from '../../src/live/keys.js';
import { type Line, compact, fit, layoutFrame, printable, sparkline } from '../../src/live/layout.js';
import { LiveModel } from '../../src/live/model.js';
import type { CpuSample, LiveSample } from '../../src/live/sample.js';

function model(cpus: number, seconds: number, lossOn: number[] = []): LiveModel {
  const m = new LiveModel({ startMs: 0 });
  for (let t = 1; t <= seconds; t++) {
    const samples: CpuSample[] = Array.from({ length: cpus }, (_, cpu) => ({
      cpu,
      mode: cpu % 3 === 0 ? 'read' : 'mmap',
      events: t * 1000 * (cpu + 1),
      bytes: t * 28_000 * (cpu + 1),
      lost: lossOn.includes(cpu) ? t * 7 : 0,
      dropped: 0,
      fillPercent: (cpu * 13) % 100,
      subbufSize: 4096,
      bufferKb: 1408,
    }));
    const sample: LiveSample = { atMs: t * 1000, clock: 'local', buffer: 'inst', cpus: samples, rings: [], selfCpuPercent: 0.3 };
    m.update(sample, {
      events: Array.from({ length: 30 }, (_, i) => ({ key: i, name: `sys:event_${i}`, count: 100 * (30 - i) })),
      tasks: [{ key: 5, name: 'bad\u001b[2Jname\u00e9', count: 3 }],
    });
  }
  return m;
}

const text = (lines: Line[]) => lines.map(plainLine);

describe('layoutFrame', () => {
  it('fills exactly the grid, for every size from the minimum up', () => {
    const frame = model(2, 70, [1]).frame();
    for (const [columns, rows] of [
      [60, 12],
      [80, 24],
      [81, 25],
      [132, 43],
      [250, 80],
    ] as const) {
      const lines = layoutFrame(frame, { columns, rows });
      assert.equal(lines.length, rows, `${columns}x${rows}`);
      for (const l of lines) assert.equal(l.reduce((n, s) => n + s.text.length, 0), columns, `${columns}x${rows}: ${plainLine(l)}`);
      const t = text(lines);
      if (columns >= 80) assert.match(t[0]!, /^tracering top {2}inst {2}clock local {2}up 00:01:10 {2}every 1\.0 s {2}self 0\.3% CPU$/);
      else assert.ok(t[0]!.startsWith('tracering top  inst  clock local  up 00:01:10'), t[0]);
      assert.ok(t.at(-1)!.startsWith('q quit'));
      assert.ok(t[1]!.startsWith('since start: lost 490  dropped 0'), t[1]);
      assert.ok(t.some((x) => x.startsWith('cpu1  mmap     2.00k    0.06   13%       490         0')), t.join('\n'));
    }
  });

  it('shows every CPU on 80x24 up to what fits, then one line for the rest, with their losses', () => {
    const frame = model(64, 3, [60]).frame();
    const t = text(layoutFrame(frame, { columns: 80, rows: 24 }));
    assert.equal(t.length, 24);
    const more = t.find((x) => x.startsWith('+'));
    assert.ok(more, t.join('\n'));
    assert.match(more, /^\+\d+ more: .* events\/s, lost\+dropped 21;/);
    assert.match(t[1]!, /^since start: lost 21 {2}dropped 0 {2}buffer 1408 KiB\/CPU {2}sub-buffer 4 KiB$/);
    assert.ok(t.filter((x) => x.startsWith('EVENTS')).length === 1, 'the table keeps its place');
  });

  it('marks losses and full rings with styles, and only those', () => {
    const frame = model(3, 5, [2]).frame();
    const lines = layoutFrame(frame, { columns: 80, rows: 24 });
    const row = (label: string) => lines.find((l) => plainLine(l).startsWith(label))!;
    assert.deepEqual(row('cpu2').filter((s) => s.style === 'loss').map((s) => s.text.trim()), ['35']);
    assert.deepEqual(row('cpu1').filter((s) => s.style === 'loss'), []);
    assert.ok(lines[1]!.some((s) => s.style === 'loss' && s.text === 'lost 35'));
    assert.ok(!lines[1]!.some((s) => s.style === 'loss' && s.text.startsWith('dropped')));
  });

  it('says the grid is too small below 60x12, with the loss total', () => {
    const lines = layoutFrame(model(2, 3, [0]).frame(), { columns: 40, rows: 8 });
    assert.equal(lines.length, 1);
    assert.equal(plainLine(lines[0]!), 'lost 21 dropped 0  tracering top: 40x8 i');
    assert.equal(lines[0]![0]!.style, 'loss');
    assert.equal(plainLine(layoutFrame(model(2, 3).frame(), { columns: 59, rows: 30 })[0]!), 'lost 0 dropped 0  tracering top: 59x30 is too small (60x12)');
  });

  it('shows the help in place of the table, and PAUSED in the header', () => {
    const m = model(2, 3);
    m.toggleHelp();
    m.togglePause();
    const t = text(layoutFrame(m.frame(), { columns: 80, rows: 24 }));
    assert.ok(t.some((x) => x.includes('z  zero the counts')));
    assert.ok(!t.some((x) => x.startsWith('EVENTS')));
    assert.ok(t[0]!.startsWith('tracering top PAUSED  inst'), t[0]);
    assert.ok(t.at(-1)!.includes('p resume'));
  });

  it('says how long ago the table was zeroed', () => {
    const m = model(1, 2);
    m.zero();
    m.update({ atMs: 75_000, clock: 'local', buffer: 'inst', cpus: [], rings: [], selfCpuPercent: 0 });
    const t = text(layoutFrame(m.frame(), { columns: 80, rows: 24 }));
    assert.ok(t.some((x) => x.startsWith('EVENTS  sort: rate  (0)  zeroed 00:01:13 ago')), t.join('\n'));
  });

  it('prints task names as printable ASCII', () => {
    const m = model(1, 2);
    m.showTable('tasks');
    const t = text(layoutFrame(m.frame(), { columns: 80, rows: 24 }));
    assert.ok(t.some((x) => x.startsWith('bad?[2Jname?-5 ')), t.join('\n'));
    assert.ok(plainText(layoutFrame(m.frame(), { columns: 80, rows: 24 })).split('').every((c) => c === '\n' || (c >= ' ' && c <= '~') || (c >= '\u2581' && c <= '\u2588')));
  });
});

describe('layout helpers', () => {
  it('sparkline: one cell per time slice of the window, the peak at full height, gaps blank', () => {
    const h = [10, 20, 40, 80].map((v, i) => ({ atMs: (i + 1) * 15_000, perSec: v }));
    // Seven heights above the zero mark: ceil(v / peak * 7).
    assert.equal(sparkline(h, 60_000, 60_000, 4), '\u2582\u2583\u2585\u2588');
    assert.equal(sparkline(h, 60_000, 60_000, 8), ' \u2582 \u2583 \u2585 \u2588');
    assert.equal(sparkline([{ atMs: 1000, perSec: 0 }], 1000, 60_000, 3), '  \u2581');
    assert.equal(sparkline(h, 60_000, 60_000, 0), '');
    assert.equal(sparkline(h, 200_000, 60_000, 4), '    ', 'all older than the window');
  });

  it('compact figures, fit, printable', () => {
    assert.deepEqual([0, 999, 1000, 12_345, 999_999, 1_234_567, 45_600_000, 7.2e9].map(compact), ['0', '999', '1.00k', '12.3k', '1000.0k', '1.23M', '45.6M', '7.20G']);
    assert.deepEqual(fit([{ text: 'abc', style: 'red' }, { text: 'defg' }], 5), [{ text: 'abc', style: 'red' }, { text: 'de' }]);
    assert.deepEqual(fit([{ text: 'ab' }], 4), [{ text: 'ab' }, { text: '  ' }]);
    assert.equal(printable('a\tb\u00ffc\u4e2d'), 'a?b?c?');
  });

  it('frameJson keeps the figures and only decisions newer than asked', () => {
    const m = new LiveModel({ startMs: 0 });
    const d = { atMs: 500, cpu: 0, kind: 'path' as const, from: 'mmap' as const, to: 'read' as const, reason: 'r' };
    m.update(
      { atMs: 1000, clock: 'mono', buffer: '', cpus: [{ cpu: 0, mode: 'read', events: 10, bytes: 280, lost: 1, dropped: 2, fillPercent: 3.333, subbufSize: 4096, bufferKb: 8 }], rings: [], selfCpuPercent: 0.123, decisions: [d] },
      { events: [{ key: 3, name: 'a:b', count: 5 }], tasks: [{ key: 9, name: 'sh', count: 4 }] },
    );
    const j = frameJson(m.frame());
    assert.deepEqual(j.cpus, [{ cpu: 0, name: 'cpu0', mode: 'read', eventsPerSec: 10, bytesPerSec: 280, fillPercent: 3.3, events: 10, lost: 1, dropped: 2 }]);
    assert.equal(j.lostSinceStart, 1);
    assert.equal(j.droppedSinceStart, 2);
    assert.equal(j.selfCpuPercent, 0.12);
    assert.deepEqual(j.decisions, [d]);
    assert.deepEqual(frameJson(m.frame(), 500).decisions, []);
    assert.deepEqual(j.top, { table: 'events', sort: 'rate', events: [{ key: 3, name: 'a:b', perSec: 5, total: 5 }], tasks: [] });
    const both = frameJson(m.frame(), undefined, { events: m.top('events'), tasks: m.top('tasks') });
    assert.deepEqual(both.top.tasks, [{ key: 9, name: 'sh', perSec: 4, total: 4 }]);
  });
});

describe('parseKeys', () => {
  it('maps keys to commands, Ctrl-C to quit, skips escape sequences', () => {
    assert.deepEqual(parseKeys('qpzset?'), ['quit', 'pause', 'zero', 'sort', 'events', 'tasks', 'help']);
    assert.deepEqual(parseKeys('\x03'), ['quit']);
    assert.deepEqual(parseKeys('\x1b[A\x1b[15~p\x1bOPz'), ['pause', 'zero']);
    assert.deepEqual(parseKeys('\x1b'), ['other']);
    assert.deepEqual(parseKeys('xQ'), ['other', 'quit']);
  });
});
