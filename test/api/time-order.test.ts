// The merge behind events(), offline: per-CPU streams arriving in pieces
// of random sizes come out as one timeline (ties to the lower CPU), and
// nothing waits longer than the caller's `complete` bound allows.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { END_HI, TimeOrder } from '../../src/api/time-order.js';
import { Handoff } from '../../src/api/handoff.js';

interface Item {
  cpu: number;
  hi: number;
  lo: number;
  seq: number;
}

/** A deterministic generator (xorshift32), so failures reproduce. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

const before = (a: Item, b: Item) => a.hi < b.hi || (a.hi === b.hi && (a.lo < b.lo || (a.lo === b.lo && a.cpu <= b.cpu)));

test('pieces of per-CPU streams in any order come out as one timeline', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const r = rng(seed);
    const cpus = 1 + Math.floor(r() * 4);
    // Sorted streams per CPU, timestamps crossing 2^32 and with ties across CPUs.
    const streams: Item[][] = [];
    for (let c = 0; c < cpus; c++) {
      const s: Item[] = [];
      let hi = 7;
      let lo = 4294967296 - 500;
      const n = Math.floor(r() * 300);
      for (let i = 0; i < n; i++) {
        lo += Math.floor(r() * 8);
        if (lo >= 4294967296) {
          lo -= 4294967296;
          hi++;
        }
        s.push({ cpu: c, hi, lo, seq: i });
      }
      streams.push(s);
    }
    const order = new TimeOrder<Item>();
    for (let c = 0; c < cpus; c++) order.addCpu(c);
    const out: Item[] = [];
    const at = streams.map(() => 0);
    // Rounds: each CPU delivers a piece (or nothing), reading them in turn, then a release.
    while (at.some((a, c) => a < streams[c]!.length)) {
      for (let c = 0; c < cpus; c++) order.setOpen(c, true);
      for (let c = 0; c < cpus; c++) {
        const take = Math.floor(r() * 40);
        for (let k = 0; k < take && at[c]! < streams[c]!.length; k++) {
          const it = streams[c]![at[c]!++]!;
          order.push(c, it, it.hi, it.lo);
        }
        order.setOpen(c, false);
        if (r() < 0.3) order.release(out, 0, 0);
      }
      order.release(out, 0, 0);
      for (let i = 1; i < out.length; i++) assert.ok(before(out[i - 1]!, out[i]!), `seed ${seed}: item ${i} out of order`);
    }
    order.release(out, END_HI, 0);
    assert.equal(order.pending, 0);
    assert.equal(out.length, streams.reduce((a, s) => a + s.length, 0), `seed ${seed}: items lost`);
    for (let i = 1; i < out.length; i++) assert.ok(before(out[i - 1]!, out[i]!), `seed ${seed}: item ${i} out of order at the end`);
  }
});

test('a quiet CPU holds the others back only until `complete`', () => {
  const order = new TimeOrder<string>();
  order.addCpu(0);
  order.addCpu(1);
  order.push(0, 'a', 0, 100);
  order.push(0, 'b', 0, 300);
  const out: string[] = [];
  assert.equal(order.release(out, 0, 50), 0, 'CPU 1 may still deliver something before 100');
  assert.equal(order.release(out, 0, 200), 1);
  assert.deepEqual(out, ['a']);
  // A CPU being read holds back everything after its newest item, whatever `complete` says.
  order.push(1, 'c', 0, 250);
  order.setOpen(1, true);
  assert.equal(order.release(out, END_HI, 0), 1);
  assert.deepEqual(out, ['a', 'c']);
  order.setOpen(1, false);
  assert.equal(order.release(out, END_HI, 0), 1);
  assert.deepEqual(out, ['a', 'c', 'b']);
});

test('handoff: the producer waits until the consumer took everything; cancel releases it', async () => {
  const h = new Handoff<number>();
  h.push([1, 2]);
  h.push([3]);
  let drained = false;
  const wait = h.drained().then(() => (drained = true));
  assert.deepEqual(await h.take(), [1, 2]);
  await Promise.resolve();
  assert.equal(drained, false, 'a chunk is still queued');
  assert.deepEqual(await h.take(), [3]);
  await wait;
  assert.equal(drained, true);
  const pending = h.take();
  h.fail(new Error('boom'));
  await assert.rejects(pending, /boom/);
  const c = new Handoff<number>();
  c.push([1]);
  const held = c.drained();
  c.cancel();
  await held;
  assert.equal(await c.take(), null);
  c.push([2]);
  assert.equal(c.queued, 0, 'nothing is queued once cancelled');
});
