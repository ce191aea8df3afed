// events() and batches() against the real kernel: one timeline across
// CPUs, cleanup on every way out of a loop (no instance, no mapping, no
// capture thread left), and a deliberately slow consumer whose loss
// records add up exactly to what the kernel overwrote plus what staging
// dropped.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { batches, events } from '../../src/api/events.js';
import type { EventStream } from '../../src/api/events.js';
import type { Tracefs } from '../../src/kernel/tracefs.js';
import { kernelOrSkip, liveTraceMappings, testInstance, writeInBackground, writeMarkers } from '../helpers/kernel.js';

const threads = () => fs.readdirSync('/proc/self/task').length;

/** Nothing of `stream` is left: its instance, mappings, capture thread. */
async function assertCleanedUp(tracefs: Tracefs, stream: EventStream<unknown>, baselineThreads: number, what: string): Promise<void> {
  const summary = stream.summary;
  assert.ok(summary !== null, `${what}: no summary after the loop`);
  assert.equal(summary.created, true, `${what}: a private instance`);
  assert.equal(tracefs.instances().includes(summary.instance), false, `${what}: instance ${summary.instance} left behind`);
  assert.deepEqual(liveTraceMappings(), [], `${what}: mappings left behind`);
  // The capture thread has been joined before the loop returned; libuv's pool may still be settling a moment.
  for (let i = 0; i < 50 && threads() > baselineThreads; i++) await sleep(20);
  assert.ok(threads() <= baselineThreads, `${what}: ${threads()} threads, ${baselineThreads} before`);
}

test('events(): one timeline across CPUs, with typed fields', async (t) => {
  const tracefs = kernelOrSkip(t);
  if (tracefs === null) return;
  using inst = testInstance(tracefs);
  const cpus = Math.min(os.availableParallelism(), 4);
  const stop = new AbortController();
  // The window covers a capture thread held up by a loaded machine (pages arrive at least every 100 ms otherwise).
  const stream = events({ instance: inst.name!, events: ['sched:sched_switch'], signal: stop.signal, reorderWindowMs: 3000 });
  const seenCpus = new Set<number>();
  let markers = 0;
  let events_ = 0;
  let lastHi = -1;
  let lastLo = -1;
  let writers: Promise<unknown> | null = null;
  for await (const ev of stream) {
    if (writers === null) {
      // The capture runs: markers from every CPU, interleaved in time.
      writers = Promise.all(Array.from({ length: cpus }, (_, cpu) => writeInBackground(inst, { cpu, count: 3000, prefix: `m${cpu} `, maxMs: 10_000 }))).then(
        () => setTimeout(() => stop.abort(), 300),
      );
    }
    if (ev.type !== 'event') continue;
    events_++;
    assert.ok(ev.tsHi > lastHi || (ev.tsHi === lastHi && ev.tsLo >= lastLo), `event ${events_} (CPU ${ev.cpu}, ${ev.name}) goes back in time`);
    lastHi = ev.tsHi;
    lastLo = ev.tsLo;
    assert.equal(ev.ts, (BigInt(ev.tsHi) << 32n) | BigInt(ev.tsLo));
    if (ev.name === 'print') {
      markers++;
      seenCpus.add(ev.cpu);
      assert.equal(typeof ev.fields.buf, 'string');
      assert.match(String(ev.fields.buf), new RegExp(`^m${ev.cpu} `));
    } else {
      assert.equal(ev.name, 'sched_switch');
      assert.equal(typeof ev.fields.prev_state, 'bigint', '64-bit fields are bigint');
      assert.equal(typeof ev.fields.next_pid, 'number');
    }
  }
  await writers;
  assert.equal(stream.summary?.reason, 'signal');
  assert.equal(markers + (stream.summary?.total.lost ?? 0) >= cpus * 3000, true, `${markers} markers seen of ${cpus * 3000}`);
  assert.equal(seenCpus.size, cpus, 'markers from every CPU');
});

test('events(): break, a throw, abort and stop() each leave no instance, mapping or thread', async (t) => {
  const tracefs = kernelOrSkip(t);
  if (tracefs === null) return;
  // A first run creates what Node keeps for good (libuv's pool): the baseline comes after it.
  for await (const _ of events({ events: ['sched:sched_switch'], durationMs: 200 }));
  const baseline = threads();

  const broken = events({ events: ['sched:sched_switch'], durationMs: 30_000 });
  for await (const ev of broken) if (ev.type === 'event') break;
  await assertCleanedUp(tracefs, broken, baseline, 'break');

  const thrown = events({ events: ['sched:sched_switch'], durationMs: 30_000 });
  await assert.rejects(async () => {
    for await (const ev of thrown) if (ev.type === 'event') throw new Error('consumer failed');
  }, /consumer failed/);
  await assertCleanedUp(tracefs, thrown, baseline, 'throw');

  const controller = new AbortController();
  const aborted = events({ events: ['sched:sched_switch'], signal: controller.signal, durationMs: 30_000 });
  let after = 0;
  for await (const ev of aborted) {
    if (ev.type !== 'event') continue;
    if (!controller.signal.aborted) controller.abort();
    else after++;
  }
  assert.equal(aborted.summary?.reason, 'signal');
  await assertCleanedUp(tracefs, aborted, baseline, 'abort');

  const chunks = batches({ events: ['sched:sched_switch'], durationMs: 30_000 });
  for await (const chunk of chunks) {
    assert.ok(chunk.length > 0);
    await chunks.stop();
  }
  await assertCleanedUp(tracefs, chunks, baseline, 'stop()');

  // A setup failure reaches the loop as a coded error, and leaves nothing either.
  const misspelt = events({ events: ['sched:no_such_event'] });
  await assert.rejects(async () => {
    for await (const _ of misspelt);
  }, { code: 'ERR_EVENT_NOT_FOUND' });
  assert.deepEqual(liveTraceMappings(), []);
  t.diagnostic(`${after} events delivered after the abort (the final drain)`);
});

for (const policy of ['block', 'drop-oldest'] as const) {
  test(`events(): a slow consumer gets loss records adding up to the kernel's overrun plus staging losses (staging ${policy})`, async (t) => {
    const tracefs = kernelOrSkip(t);
    if (tracefs === null) return;
    using inst = testInstance(tracefs);
    const cpu = 0;
    const written = 60_000;
    const stop = new AbortController();
    const stream = events({
      instance: inst.name!,
      bufferKb: 64,
      signal: stop.signal,
      staging: { bytes: 64 * 1024, policy },
      reorderWindowMs: 0,
    });
    const lostBy = new Map<number, number>();
    let delivered = 0;
    let started = false;
    let writer: Promise<unknown> | null = null;
    let n = 0;
    // Nothing is enabled: the only events are the markers written here.
    // The capture clears the buffer as it starts, so 'start' is written
    // until one arrives; the counted markers are written after that.
    const starter = setInterval(() => writeMarkers(inst, cpu, 1, () => 'start'), 50);
    const giveUp = setTimeout(() => stop.abort(), 30_000);
    for await (const ev of stream) {
      if (ev.type === 'lost') {
        assert.ok(ev.count > 0, `a loss record counts events (${ev.count})`);
        lostBy.set(ev.cpu, (lostBy.get(ev.cpu) ?? 0) + ev.count);
        continue;
      }
      assert.equal(ev.type, 'event');
      if (ev.type !== 'event' || ev.name !== 'print') continue;
      if (String(ev.fields.buf) === 'start\n') {
        if (started) continue;
        clearInterval(starter);
        started = true;
        writer = writeInBackground(inst, { cpu, count: written, prefix: 'x', maxMs: 20_000 }).then((r) => {
          assert.equal(r.written, written);
          setTimeout(() => stop.abort(), 200);
        });
        continue;
      }
      delivered++;
      if (++n % 200 === 0) await sleep(20); // at most 10k events/s: far slower than the writer
    }
    clearInterval(starter);
    clearTimeout(giveUp);
    await writer;
    assert.ok(started, 'the start marker arrived');
    const summary = stream.summary!;
    const c = summary.cpus.find((x) => x.cpu === cpu)!;
    const overrun = inst.cpuStats(cpu).overrun;
    const lost = lostBy.get(cpu) ?? 0;
    t.diagnostic(`${delivered} delivered, ${lost} lost (kernel overrun ${overrun}, staging ${c.stagingLost}) of ${written}`);
    assert.ok(overrun + c.stagingLost > 0, 'the consumer was slow enough to lose events');
    assert.equal(lost, overrun + c.stagingLost, `loss records ${lost}, kernel overrun ${overrun}, staging ${c.stagingLost}`);
    if (policy === 'block') assert.equal(c.stagingLost, 0, 'block: staging never drops');
    assert.equal(delivered + lost, written, 'every marker was delivered or counted lost');
    for (const [other, count] of lostBy) if (other !== cpu) assert.equal(count, inst.cpuStats(other).overrun);
  });
}

test('events(): next() called again before the last one settled skips and repeats nothing', async (t) => {
  const tracefs = kernelOrSkip(t);
  if (tracefs === null) return;
  using inst = testInstance(tracefs);
  const stream = events({ instance: inst.name!, durationMs: 60_000, reorderWindowMs: 0 });
  // The capture clears the buffer as it starts: 'go' until one arrives, then the counted markers.
  const starter = setInterval(() => writeMarkers(inst, 0, 1, () => 'go'), 50);
  const written = 500;
  const seen: number[] = [];
  const pending = [stream.next()];
  let going = false;
  try {
    while (seen.length < written) {
      while (pending.length < 4) pending.push(stream.next());
      const r = await pending.shift()!;
      assert.equal(r.done, false, `the stream ended (${stream.summary?.reason}) after ${seen.length} markers`);
      const ev = r.value!;
      if (ev.type !== 'event' || ev.name !== 'print') continue;
      const text = String(ev.fields.buf);
      if (text === 'go\n') {
        if (!going) writeMarkers(inst, 0, written, (i) => `c${i}`);
        going = true;
        clearInterval(starter);
      } else seen.push(Number(/^c(\d+)/.exec(text)![1]));
    }
  } finally {
    clearInterval(starter);
    await stream.return();
    await Promise.allSettled(pending);
  }
  assert.deepEqual(seen, Array.from({ length: written }, (_, i) => i), 'markers in order, each once');
});
