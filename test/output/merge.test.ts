// CpuMerger against the definition of the kernel's merge: every event once,
// ordered by timestamp, ties to the lower CPU, loss reports before the
// first event read after them. Synthetic sources with long per-CPU runs,
// equal timestamps and batch boundaries everywhere.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BatchSource } from '../../src/layout/batch-source.js';
import { RECORD_STRIDE, REC_TS_HI, REC_TS_LO, RecordBatch } from '../../src/layout/record.js';
import { CpuMerger } from '../../src/output/merge.js';

interface Ev {
  cpu: number;
  ts: number;
  seq: number;
}

/** A seeded xorshift generator, so a failure replays. */
function rng(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** One CPU's events served in batches of random size; `lostAt` marks batches that report losses. */
class ArraySource implements BatchSource {
  readonly cpu: number;
  readonly caughtUp = false;
  readonly #batches: Array<{ events: Ev[]; lost: number }>;
  #at = 0;
  readonly #batch = new RecordBatch(64);

  constructor(cpu: number, batches: Array<{ events: Ev[]; lost: number }>) {
    this.cpu = cpu;
    this.#batches = batches;
  }

  next(): RecordBatch | null {
    const spec = this.#batches[this.#at++];
    if (spec === undefined) return null;
    const b = this.#batch;
    b.reset(new Uint8Array(0), new DataView(new ArrayBuffer(0)), this.cpu, this.#at);
    b.count = spec.events.length;
    b.lostBefore = spec.lost;
    spec.events.forEach((e, i) => {
      b.records[i * RECORD_STRIDE] = e.seq; // the offset slot carries the event's identity
      b.records[i * RECORD_STRIDE + REC_TS_HI] = Math.floor(e.ts / 2 ** 32);
      b.records[i * RECORD_STRIDE + REC_TS_LO] = e.ts >>> 0;
    });
    return b;
  }
}

function scenario(seed: number, cpus: number) {
  const random = rng(seed);
  const all: Ev[] = [];
  const losses: Array<{ cpu: number; beforeSeq: number; count: number }> = [];
  const sources: ArraySource[] = [];
  let seq = 0;
  for (let cpu = 0; cpu < cpus; cpu++) {
    const events: Ev[] = [];
    // Runs of events close together, with gaps; high words in use too.
    let ts = 2 ** 32 - 5000 + Math.floor(random() * 100);
    const n = Math.floor(random() * 400);
    for (let i = 0; i < n; i++) {
      ts += random() < 0.3 ? 0 : random() < 0.9 ? Math.floor(random() * 20) : Math.floor(random() * 3000);
      events.push({ cpu, ts, seq: seq++ });
    }
    const batches: Array<{ events: Ev[]; lost: number }> = [];
    for (let i = 0; i < events.length; ) {
      const size = 1 + Math.floor(random() * 30);
      const part = events.slice(i, i + size);
      const lost = random() < 0.2 ? 1 + Math.floor(random() * 9) : 0;
      if (lost) losses.push({ cpu, beforeSeq: part[0]!.seq, count: lost });
      batches.push({ events: part, lost });
      i += size;
    }
    if (random() < 0.2) batches.push({ events: [], lost: 0 }); // an empty batch at the end
    all.push(...events);
    // Sources handed over in a shuffled order: CPU order must still decide ties.
    sources.splice(Math.floor(random() * (sources.length + 1)), 0, new ArraySource(cpu, batches));
  }
  const expected = [...all].sort((a, b) => a.ts - b.ts || a.cpu - b.cpu || a.seq - b.seq);
  return { sources, expected, losses };
}

describe('CpuMerger', () => {
  for (const cpus of [1, 2, 3, 8]) {
    it(`merges ${cpus} CPU(s) by timestamp, ties to the lower CPU, losses in place (20 seeds)`, () => {
      for (let seed = 1; seed <= 20; seed++) {
        const { sources, expected, losses } = scenario(seed * 7919 + cpus, cpus);
        const seen: number[] = [];
        const lostSeen: Array<{ cpu: number; beforeSeq: number; count: number }> = [];
        let pendingLoss: Array<{ cpu: number; count: number }> = [];
        const merger = new CpuMerger(sources);
        const visited = merger.run({
          event(batch, i) {
            for (const l of pendingLoss) {
              // A loss report comes before this CPU's next event, never after it.
              if (l.cpu === batch.cpu) lostSeen.push({ cpu: l.cpu, beforeSeq: batch.offset(i), count: l.count });
            }
            pendingLoss = pendingLoss.filter((l) => l.cpu !== batch.cpu);
            seen.push(batch.offset(i));
          },
          lost(cpu, count) {
            pendingLoss.push({ cpu, count });
          },
        });
        assert.equal(visited, expected.length, `seed ${seed}`);
        assert.deepEqual(seen, expected.map((e) => e.seq), `seed ${seed}`);
        const byPlace = (a: { beforeSeq: number }, b: { beforeSeq: number }) => a.beforeSeq - b.beforeSeq;
        assert.deepEqual(lostSeen.sort(byPlace), [...losses].sort(byPlace), `seed ${seed}`);
        assert.equal(merger.run({ event: () => assert.fail('nothing is left') }), 0);
      }
    });
  }
});
