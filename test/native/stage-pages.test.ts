// native.stagePages, the capture thread's per-page path, against the
// TypeScript it stands in for: every page it publishes must be one the
// JavaScript walker finds clean, with the same number of events (a count
// off by one would show up as events taken by another consumer), and every
// other page must be handed back untouched. Real kernel pages (the
// fixtures' captures), pages built with every record type, and seeded
// mutations of both.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { StagingRing } from '../../src/capture/staging-ring.js';
import { writeSubbufHeader } from '../../src/layout/encode.js';
import { hostSubbufLayout } from '../../src/layout/subbuf.js';
import { STAGE_STATUS, native } from '../../src/native.js';
import { builtPage, stageAndCheck, walkerVerdict } from '../helpers/stage-check.js';

const PAGE = 4096;
const layout = hostSubbufLayout(PAGE);
const fixtures = path.join(import.meta.dirname, '../fixtures');

/** The fixtures' real kernel pages. */
function kernelPages(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const capture of ['sched', 'markers']) {
    for (const cpu of [0, 1]) {
      const file = path.join(fixtures, capture, 'tracefs', 'per_cpu', `cpu${cpu}`, 'trace_pipe_raw');
      if (!fs.existsSync(file)) continue;
      const raw = fs.readFileSync(file);
      for (let at = 0; at + PAGE <= raw.length; at += PAGE) out.push(new Uint8Array(raw.subarray(at, at + PAGE)));
    }
  }
  return out;
}

function mutate(page: Uint8Array, seed: number): Uint8Array {
  const out = new Uint8Array(page);
  let n = seed >>> 0;
  const flips = 1 + (seed % 4);
  for (let i = 0; i < flips; i++) {
    n = (n * 1664525 + 1013904223) >>> 0;
    // Mostly record headers and lengths near the start; now and then the commit word.
    const at = n % 7 === 0 ? 8 + (n % 4) : 16 + ((n >>> 3) % 512);
    out[at] = (n >>> 16) & 0xff;
  }
  return out;
}

/** A file of pages, read() page by page as trace_pipe_raw is. */
function pagesFd(t: { after(fn: () => void): void }, pages: readonly Uint8Array[]): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tr-stage-'));
  const file = path.join(dir, 'pages');
  fs.writeFileSync(file, Buffer.concat(pages));
  const fd = fs.openSync(file, 'r');
  t.after(() => {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return fd;
}

function stage(ring: StagingRing, fd: number, out: Float64Array, maxPages = 1, opts: { queue?: number; stopBelow?: number; minCommit?: number; exemptFirst?: boolean } = {}) {
  return native.stagePages(fd, ring.bytes, ring.nativeDescriptor, opts.queue ?? 0, maxPages, opts.stopBelow ?? 0, opts.minCommit ?? 0, 8, opts.exemptFirst ?? true, out);
}

describe('native.stagePages', () => {
  it('publishes exactly the pages the JavaScript walker finds clean, with its event counts; hands back the rest untouched', (t) => {
    const base = [...kernelPages(), ...Array.from({ length: 40 }, (_, i) => builtPage(i + 1))];
    assert.ok(base.length > 40, 'the fixtures hold kernel pages');
    const pages = [...base, ...base.flatMap((p, i) => [mutate(p, i * 7 + 1), mutate(p, i * 13 + 5)])];
    const ring = StagingRing.create({ cpus: 1, slots: 4, slotSize: PAGE }, 'block');
    const fd = pagesFd(t, pages);
    const out = new Float64Array(7);
    let published = 0;
    let handedOff = 0;
    let produced = 0;
    for (const [i, page] of pages.entries()) {
      let outcome;
      try {
        outcome = stageAndCheck(ring, fd, page, layout, produced);
      } catch (error) {
        assert.fail(`page ${i}: ${(error as Error).message}`);
      }
      if (outcome === 'handed-off') handedOff++;
      else {
        published++;
        produced += walkerVerdict(page, layout).events;
      }
    }
    assert.equal(stage(ring, fd, out), STAGE_STATUS.empty, 'the end of the file: nothing more');
    assert.ok(published > 40 && handedOff > 10, `both outcomes met (${published} published, ${handedOff} handed off)`);
    assert.equal(ring.fill(), 0, 'every slot free again');
  });

  it('takes no page without a free slot, and none once the ring is aborted', (t) => {
    const pages = [builtPage(1), builtPage(2), builtPage(3)];
    const ring = StagingRing.create({ cpus: 2, slots: 2, slotSize: PAGE }, 'drop-oldest');
    const fd = pagesFd(t, pages);
    const out = new Float64Array(7);
    assert.equal(stage(ring, fd, out, 8, { queue: 1 }), STAGE_STATUS.noSlot);
    assert.equal(out[0], 2, 'two slots, two pages');
    assert.equal(ring.queued(1), 2);
    assert.equal(ring.queued(0), 0);
    assert.equal(ring.produced(1), walkerVerdict(pages[0]!, layout).events + walkerVerdict(pages[1]!, layout).events);
    const slots = new Int32Array(2);
    ring.release(slots, ring.claim(1, 2, slots));
    ring.abort();
    assert.equal(stage(ring, fd, out, 8, { queue: 1 }), STAGE_STATUS.abort);
    assert.equal(out[0], 0);
    // The third page is still in the file: nothing was read for it.
    const rest = new Uint8Array(PAGE);
    assert.equal(fs.readSync(fd, rest), PAGE);
    assert.deepEqual(rest, pages[2]);
  });

  it("stops after the writer's page, hands off pages below minCommit, and says when the waiting output wants waking", async (t) => {
    const small = builtPage(9);
    writeSubbufHeader(new DataView(small.buffer), 0, layout, 0, 1000, 0);
    const pages = [builtPage(1), builtPage(2), small, builtPage(3), small, builtPage(4), small];
    const ring = StagingRing.create({ cpus: 1, slots: 16, slotSize: PAGE }, 'block');
    const fd = pagesFd(t, pages);
    const out = new Float64Array(7);
    const waiting = ring.waitForData(ring.publishedSeq, 10_000, 1);
    assert.equal(stage(ring, fd, out, 8, { stopBelow: 2000 }), STAGE_STATUS.writer);
    assert.equal(out[0], 3, "the writer's (empty) page is the last of the call");
    assert.equal(out[4], 1, 'the output thread waits for one page');
    ring.wakeConsumer();
    await waiting;
    assert.equal(stage(ring, fd, out, 8, { minCommit: PAGE }), STAGE_STATUS.handoff, 'below minCommit: handed off');
    assert.equal(out[0], 0);
    assert.equal(out[4], 0, 'nobody waits');
    assert.equal(out[5], 0, 'a full page is not the writer\'s');
    assert.equal(ring.queued(0), 3);
    assert.equal(stage(ring, fd, out, 8, { stopBelow: 2000, exemptFirst: false }), STAGE_STATUS.writer, 'a small first page after a small one');
    assert.deepEqual([out[0], out[6]], [1, 0]);
    assert.equal(stage(ring, fd, out, 8, { stopBelow: 2000, minCommit: 3000 }), STAGE_STATUS.handoff);
    assert.deepEqual([out[0], out[5], out[6]], [1, 1, 0], 'the small page after a full one, handed off, is the writer\'s');
    assert.equal(ring.queued(0), 5);
    assert.throws(() => stage(ring, -1, out), { code: 'EBADF' });
    assert.throws(() => native.stagePages(fd, ring.bytes, new Int32Array(3), 0, 1, 0, 0, 8, true, out), TypeError);
    // A descriptor whose regions leave the memory is refused, not followed.
    for (const [word, value] of [[2, ring.bytes.byteLength - 8], [6, ring.bytes.byteLength - 4096], [4, 3], [7, 1 << 30]] as const) {
      const bad = Int32Array.from(ring.nativeDescriptor);
      bad[word] = value;
      assert.throws(() => native.stagePages(fd, ring.bytes, bad, 0, 1, 0, 0, 8, true, out), TypeError, `descriptor word ${word} = ${value}`);
    }
    assert.equal(ring.queued(0), 5, 'nothing staged by a refused call');
    assert.throws(() => native.stagePages(fd, ring.bytes, ring.nativeDescriptor, 0, 1, 0, 0, 8, true, new Float64Array(5)), TypeError);
    assert.throws(() => stage(ring, fd, out, 1, { queue: 1 }), { code: 'EINVAL' });
  });
});
