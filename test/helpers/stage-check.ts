// native.stagePages against the TypeScript walker, one page at a time:
// shared by the unit test and the fuzz target.

import type { StagingRing } from '../../src/capture/staging-ring.js';
import { PageStream } from '../../src/layout/page-stream.js';
import { writeDataHeader, writePadding, writeSubbufHeader, writeTimeExtend, writeTimeStamp } from '../../src/layout/encode.js';
import { type SubbufLayout, hostSubbufLayout } from '../../src/layout/subbuf.js';
import { STAGE_STATUS, native } from '../../src/native.js';

/** What the JavaScript reader makes of a page on its own: its events, and whether it is clean (no loss flag, nothing corrupt). */
export function walkerVerdict(page: Uint8Array, layout: SubbufLayout): { events: number; clean: boolean } {
  let given = false;
  const stream = new PageStream(layout, 0, (into) => {
    if (given) return 0;
    given = true;
    into.set(page);
    return 1;
  });
  const batch = stream.next()!;
  const commit = new DataView(page.buffer, page.byteOffset).getUint32(8, true);
  return { events: batch.count, clean: batch.corrupt === null && (commit & 0xc0000000) === 0 };
}

/**
 * Stages the next page of `fd` (which holds `page` there) into queue 0 of
 * `ring` and checks the outcome against the walker: published only when
 * the walker finds it clean, with its events and its bytes; else handed
 * back as read. The slot is released again. Returns what happened; throws
 * on a disagreement.
 */
export function stageAndCheck(ring: StagingRing, fd: number, page: Uint8Array, layout: SubbufLayout, produced: number): 'published' | 'handed-off' {
  const out = new Float64Array(7);
  const want = walkerVerdict(page, layout);
  const status = native.stagePages(fd, ring.bytes, ring.nativeDescriptor, 0, 1, 0, 0, layout.longSize, true, out);
  const size = layout.subbufSize;
  if (status === STAGE_STATUS.handoff) {
    if (want.clean) throw new Error(`handed off a page the walker finds clean (${want.events} events)`);
    const at = ring.data.byteOffset + out[3]! * size;
    if (Buffer.compare(ring.bytes.subarray(at, at + size), page) !== 0) throw new Error('the handed-off page is not the page read');
    return 'handed-off';
  }
  if (status !== STAGE_STATUS.more) throw new Error(`status ${status} for a page in a ring with free slots`);
  // Take the slot back before judging, so that a disagreement leaves the ring as it was.
  const slot = new Int32Array(1);
  if (ring.claim(0, 1, slot) !== 1) throw new Error('the published page is not queued');
  const s = slot[0]!;
  const got = ring.data.slice(ring.slotOffset(s), ring.slotOffset(s) + size);
  const meta = [ring.eventsIn(s), ring.eventsBefore(s), ring.kernelLostBefore(s)];
  ring.release(slot, 1);
  if (!want.clean) throw new Error('published a page the walker does not find clean');
  if (out[0] !== 1 || out[1] !== want.events) throw new Error(`published ${out[0]} page(s) with ${out[1]} events; the walker counts ${want.events}`);
  if (meta[0] !== want.events || meta[1] !== produced || meta[2] !== 0) throw new Error(`slot metadata ${JSON.stringify(meta)}, wanted [${want.events}, ${produced}, 0]`);
  if (Buffer.compare(got, page) !== 0) throw new Error('the staged page is not the page read');
  return 'published';
}

/** A page with every record type: small and large data records, time extends, an absolute stamp, a discarded event, end padding. */
export function builtPage(seed: number, layout: SubbufLayout = hostSubbufLayout(4096)): Uint8Array {
  const PAGE = layout.subbufSize;
  const page = new Uint8Array(PAGE);
  const view = new DataView(page.buffer);
  let at = layout.dataOffset;
  let n = seed;
  const limit = PAGE - 64;
  while (at < limit) {
    n = (n * 1103515245 + 12345) >>> 0;
    const kind = n % 6;
    if (kind === 0) {
      writeTimeExtend(view, at, 0, 1 << 28, true);
      at += 8;
    } else if (kind === 1 && n % 5 === 0) {
      writeTimeStamp(view, at, 1, n, true);
      at += 8;
    } else if (kind === 2) {
      // A discarded event: padding with a delta, which the walker skips.
      view.setUint32(at, ((7 << 5) | 29) >>> 0, true);
      view.setUint32(at + 4, 12, true);
      at += 16;
    } else {
      const length = kind === 3 ? 8 + (((n >>> 8) % 300) & ~3) + 116 : 8 + (((n >>> 8) % 100) & ~3);
      if (at + length > limit) break;
      writeDataHeader(view, at, length, (n >>> 4) & 0xffff, true);
      at += length;
    }
  }
  const commit = at - layout.dataOffset;
  if (n % 2 === 0) writePadding(view, at, PAGE - at, true);
  writeSubbufHeader(view, 0, layout, 0, 1000, commit);
  return page;
}
