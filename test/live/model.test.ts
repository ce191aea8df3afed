// The live view's model on a fake clock: rates from cumulative counters,
// totals since zero, losses never hidden (zero, pause), sort cycling, the
// events/tasks switch and the 60 s history.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PolicyDecision } from '../../src/capture/adaptive-policy.js';
import { LiveModel } from '../../src/live/model.js';
import type { CpuSample, IntervalCounts, LiveSample } from '../../src/live/sample.js';

function cpu(n: number, over: Partial<CpuSample> = {}): CpuSample {
  return { cpu: n, mode: 'mmap', events: 0, bytes: 0, lost: 0, dropped: 0, fillPercent: 0, subbufSize: 4096, bufferKb: 1408, ...over };
}

function sample(atMs: number, cpus: CpuSample[], over: Partial<LiveSample> = {}): LiveSample {
  return { atMs, clock: 'local', buffer: 'inst', cpus, rings: [], selfCpuPercent: 0.5, ...over };
}

const none: IntervalCounts = { events: [], tasks: [] };

function counts(events: Array<[number, string, number]>, tasks: Array<[number, string, number]> = []): IntervalCounts {
  return {
    events: events.map(([key, name, count]) => ({ key, name, count })),
    tasks: tasks.map(([key, name, count]) => ({ key, name, count })),
  };
}

describe('LiveModel rates', () => {
  it('takes the first sample as the baseline, then rates per second from the differences', () => {
    const m = new LiveModel();
    m.update(sample(10_000, [cpu(0, { events: 1000, bytes: 28_000 }), cpu(1)]));
    let f = m.frame();
    assert.equal(f.cpus[0]!.eventsPerSec, null, 'no rate from one sample');
    assert.equal(f.cpus[0]!.events, 1000, 'counters are cumulative from the start: the first sample counts');
    m.update(sample(11_000, [cpu(0, { events: 6000, bytes: 168_000 }), cpu(1, { events: 10 })]));
    f = m.frame();
    assert.equal(f.cpus[0]!.eventsPerSec, 5000);
    assert.equal(f.cpus[0]!.bytesPerSec, 140_000);
    assert.equal(f.cpus[1]!.eventsPerSec, 10);
    assert.equal(f.total.eventsPerSec, 5010);
    assert.equal(f.total.events, 6010);
    assert.equal(f.intervalMs, 1000);
    assert.equal(f.elapsedMs, 1000);
    // Half a second later at the same pace: the rate is per second, not per interval.
    m.update(sample(11_500, [cpu(0, { events: 8500, bytes: 238_000 }), cpu(1, { events: 10 })]));
    f = m.frame();
    assert.equal(f.cpus[0]!.eventsPerSec, 5000);
    assert.equal(f.cpus[1]!.eventsPerSec, 0);
    assert.equal(f.intervalMs, 500);
  });

  it('gives rates from the first sample when the capture start is known', () => {
    const m = new LiveModel({ startMs: 0 });
    m.update(sample(2000, [cpu(0, { events: 4000, bytes: 100 })]));
    const f = m.frame();
    assert.equal(f.cpus[0]!.eventsPerSec, 2000);
    assert.equal(f.cpus[0]!.bytesPerSec, 50);
    assert.equal(f.elapsedMs, 2000);
  });

  it('treats a counter that went backwards as restarted (a buffer reset), and ignores out-of-order samples', () => {
    const m = new LiveModel({ startMs: 0 });
    m.update(sample(1000, [cpu(0, { events: 9000 })]));
    m.update(sample(2000, [cpu(0, { events: 300 })]));
    assert.equal(m.frame().cpus[0]!.eventsPerSec, 300);
    assert.equal(m.frame().cpus[0]!.events, 9300);
    m.update(sample(1500, [cpu(0, { events: 99_999 })]), counts([[4, 'x:y', 6]]));
    assert.equal(m.frame().cpus[0]!.events, 9300, 'a sample older than the last is dropped');
    assert.equal(m.frame().atMs, 2000);
    assert.deepEqual(m.frame().top.map((r) => [r.total, r.perSec]), [[6, 0]], 'its counts still count');
  });

  it('keeps 60 s of rate history per CPU', () => {
    const m = new LiveModel({ startMs: 0 });
    let events = 0;
    for (let t = 1; t <= 90; t++) {
      events += t * 10;
      m.update(sample(t * 1000, [cpu(0, { events })]));
    }
    const h = m.frame().cpus[0]!.history;
    assert.equal(h.length, 60);
    assert.equal(h[0]!.atMs, 31_000);
    assert.equal(h[0]!.perSec, 310);
    assert.equal(h.at(-1)!.perSec, 900);
    assert.equal(m.frame().total.history.length, 60);
  });

  it('shows application rings as rows of their own', () => {
    const m = new LiveModel({ startMs: 0 });
    const ring = { name: 'app', events: 50, bytes: 800, lost: 2, dropped: 0, fillPercent: 12 };
    m.update(sample(1000, [cpu(0)], { rings: [ring] }));
    const f = m.frame();
    assert.equal(f.rings.length, 1);
    assert.equal(f.rings[0]!.label, 'app');
    assert.equal(f.rings[0]!.mode, 'ring');
    assert.equal(f.rings[0]!.eventsPerSec, 50);
    assert.equal(f.rings[0]!.lost, 2);
    assert.equal(f.lostSinceStart, 2, "a ring's loss counts in the header total");
    assert.equal(f.total.events, 0, 'the CPU total leaves rings out');
  });
});

describe('LiveModel losses, zero and pause', () => {
  it('zero clears the counts and tables but never the loss since the start', () => {
    const m = new LiveModel({ startMs: 0 });
    m.update(sample(1000, [cpu(0, { events: 100, lost: 7, dropped: 1 })]), counts([[5, 'sched:sched_switch', 100]]));
    let f = m.frame();
    assert.equal(f.cpus[0]!.lost, 7);
    assert.equal(f.cpus[0]!.lossRecent, 8);
    m.zero();
    f = m.frame();
    assert.equal(f.cpus[0]!.events, 0);
    assert.equal(f.cpus[0]!.lost, 0);
    assert.equal(f.cpus[0]!.dropped, 0);
    assert.equal(f.top.length, 0);
    assert.equal(f.lostSinceStart, 7);
    assert.equal(f.droppedSinceStart, 1);
    assert.equal(f.zeroedAtMs, 1000);
    assert.equal(f.cpus[0]!.eventsPerSec, 100, 'rates are not counts: zero leaves them');
    m.update(sample(2000, [cpu(0, { events: 150, lost: 9, dropped: 1 })]), counts([[5, 'sched:sched_switch', 50]]));
    f = m.frame();
    assert.equal(f.cpus[0]!.events, 50);
    assert.equal(f.cpus[0]!.lost, 2);
    assert.equal(f.lostSinceStart, 9);
    assert.equal(f.top[0]!.total, 50);
  });

  it('pause freezes the rows and the table, not the loss totals, and resumes on the latest figures', () => {
    const m = new LiveModel({ startMs: 0 });
    m.update(sample(1000, [cpu(0, { events: 100 })]), counts([[5, 'a:x', 100]]));
    m.togglePause();
    assert.equal(m.paused, true);
    m.update(sample(2000, [cpu(0, { events: 400, lost: 30 })]), counts([[5, 'a:x', 300]]));
    let f = m.frame();
    assert.equal(f.paused, true);
    assert.equal(f.cpus[0]!.eventsPerSec, 100, 'frozen');
    assert.equal(f.cpus[0]!.lost, 0, 'frozen row');
    assert.equal(f.top[0]!.total, 100, 'frozen table');
    assert.equal(f.lostSinceStart, 30, 'a loss while paused shows at once');
    m.togglePause();
    f = m.frame();
    assert.equal(f.paused, false);
    assert.equal(f.cpus[0]!.eventsPerSec, 300);
    assert.equal(f.cpus[0]!.lost, 30);
    assert.equal(f.top[0]!.total, 400);
  });
});

describe('LiveModel top tables', () => {
  const feed = (m: LiveModel) => {
    m.update(sample(1000, [cpu(0)]), counts([[1, 'b:two', 500], [2, 'a:one', 100], [3, 'c:three', 300]], [[42, 'bash', 10], [7, 'node', 5]]));
    m.update(sample(2000, [cpu(0)]), counts([[2, 'a:one', 900], [3, 'c:three', 300]], [[7, 'node', 50]]));
  };

  it('sorts by rate, then total, then name, cycling; ties by key', () => {
    const m = new LiveModel({ startMs: 0 });
    feed(m);
    const keys = () => m.frame().top.map((r) => r.key);
    assert.equal(m.sort, 'rate');
    assert.deepEqual(keys(), [2, 3, 1], 'last interval: 900, 300, 0');
    assert.deepEqual(
      m.frame().top.map((r) => [r.perSec, r.total]),
      [
        [900, 1000],
        [300, 600],
        [0, 500],
      ],
    );
    m.cycleSort();
    assert.equal(m.sort, 'total');
    assert.deepEqual(keys(), [2, 3, 1]);
    m.cycleSort();
    assert.equal(m.sort, 'name');
    assert.deepEqual(m.frame().top.map((r) => r.name), ['a:one', 'b:two', 'c:three']);
    m.cycleSort();
    assert.equal(m.sort, 'rate');
    // Shares are of the total since zero.
    const shares = m.frame().top.map((r) => Math.round(r.share * 10) / 10);
    assert.deepEqual(shares, [47.6, 28.6, 23.8]);
    assert.equal(m.frame().topCount, 3);
  });

  it('switches between events and tasks', () => {
    const m = new LiveModel({ startMs: 0 });
    feed(m);
    m.showTable('tasks');
    assert.equal(m.frame().table, 'tasks');
    assert.deepEqual(m.frame().top.map((r) => [r.key, r.name, r.perSec, r.total]), [
      [7, 'node', 50, 55],
      [42, 'bash', 0, 10],
    ]);
    m.cycleSort();
    m.cycleSort();
    assert.deepEqual(m.frame().top.map((r) => r.name), ['bash', 'node']);
    m.showTable('events');
    assert.equal(m.frame().top[0]!.name, 'a:one');
  });

  it('limits the rows kept, and counts rates over the interval', () => {
    const m = new LiveModel({ startMs: 0, topRows: 2 });
    m.update(sample(500, [cpu(0)]), counts([[1, 'x:a', 10], [2, 'x:b', 20], [3, 'x:c', 30]]));
    const f = m.frame();
    assert.deepEqual(f.top.map((r) => [r.key, r.perSec]), [
      [3, 60],
      [2, 40],
    ]);
    assert.equal(f.topCount, 3);
    m.update(sample(1000, [cpu(0)]), none);
    assert.deepEqual(m.frame().top.map((r) => r.perSec), [0, 0]);
  });
});

describe('LiveModel header', () => {
  it('carries clock, buffer, sizes, own CPU, modes and the last decisions', () => {
    const m = new LiveModel({ startMs: 0, decisions: 2 });
    const d = (n: number): PolicyDecision => ({ atMs: n, cpu: 0, kind: 'flush', from: 250, to: 10, reason: `r${n}` });
    m.update(
      sample(1000, [cpu(0, { mode: 'read' }), cpu(1, { subbufSize: 8192, bufferKb: 64 })], {
        clock: 'mono',
        selfCpuPercent: 1.25,
        decisions: [d(1), d(2), d(3)],
      }),
    );
    const f = m.frame();
    assert.equal(f.clock, 'mono');
    assert.equal(f.buffer, 'inst');
    assert.equal(f.selfCpuPercent, 1.25);
    assert.deepEqual(f.subbufSizes, [4096, 8192]);
    assert.deepEqual(f.bufferKbs, [64, 1408]);
    assert.deepEqual(f.cpus.map((c) => c.mode), ['read', 'mmap']);
    assert.deepEqual(f.decisions.map((x) => x.reason), ['r2', 'r3']);
    m.toggleHelp();
    assert.equal(m.frame().help, true);
  });
});
