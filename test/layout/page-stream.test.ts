// Batches over several sub-buffers: they end before a sub-buffer that
// reports a loss, never cross a refill, and a bad header gets its own batch.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recordLength, writeDataHeader, writeSubbufHeader } from '../../src/layout/encode.js';
import { PageStream } from '../../src/layout/page-stream.js';
import { hostSubbufLayout } from '../../src/layout/subbuf.js';

const layout = hostSubbufLayout(4096);

/** `pages` sub-buffers of `perPage` 16-byte records; page i reports `lost[i]` lost events. */
function pages(count: number, perPage: number, lost: Record<number, number> = {}): Uint8Array {
  const bytes = new Uint8Array(count * 4096);
  const view = new DataView(bytes.buffer);
  for (let p = 0; p < count; p++) {
    let pos = 0;
    for (let r = 0; r < perPage; r++) {
      const at = writeDataHeader(view, p * 4096 + 16 + pos, recordLength(12), r === 0 ? 0 : 5, true);
      view.setUint32(at, p * 1000 + r, true);
      pos += recordLength(12);
    }
    writeSubbufHeader(view, p * 4096, layout, 0, p * 1_000_000, pos, lost[p] ?? 0);
  }
  return bytes;
}

function streamOf(bytes: Uint8Array, pagesPerBatch: number, readBytes = 64 * 4096): PageStream {
  let at = 0;
  return new PageStream(
    layout,
    0,
    (into, size, max) => {
      const n = Math.min(max, (bytes.length - at) / size);
      into.set(bytes.subarray(at, at + n * size));
      at += n * size;
      return n;
    },
    { pagesPerBatch, readBytes },
  );
}

function batches(stream: PageStream) {
  const out: Array<{ first: number; count: number; lostBefore: number; pages: number; corrupt: boolean }> = [];
  for (let b = stream.next(); b; b = stream.next()) {
    out.push({
      first: b.count > 0 ? b.view.getUint32(b.offset(0), true) : -1,
      count: b.count,
      lostBefore: b.lostBefore,
      pages: stream.lastPages.length / 4096,
      corrupt: b.corrupt !== null,
    });
  }
  return out;
}

describe('page streams with several sub-buffers per batch', () => {
  it('group pages, and start a new batch at each loss report', () => {
    const got = batches(streamOf(pages(10, 20, { 0: 3, 4: 7 }), 4));
    assert.deepEqual(
      got.map((b) => [b.first, b.count, b.lostBefore, b.pages]),
      [
        [0, 80, 3, 4],
        [4000, 80, 7, 4],
        [8000, 40, 0, 2],
      ],
    );
  });

  it('never spans a refill of the buffer it views', () => {
    const got = batches(streamOf(pages(10, 5), 8, 3 * 4096));
    assert.deepEqual(
      got.map((b) => b.pages),
      [3, 3, 3, 1],
    );
    assert.equal(got.reduce((n, b) => n + b.count, 0), 50);
  });

  it('gives a sub-buffer with a bad header a batch of its own', () => {
    const bytes = pages(5, 10);
    new DataView(bytes.buffer).setUint32(2 * 4096 + 8, 9000, true); // commit beyond the data area
    const got = batches(streamOf(bytes, 8));
    assert.deepEqual(
      got.map((b) => [b.count, b.corrupt, b.pages]),
      [
        [20, false, 2],
        [0, true, 1],
        [20, false, 2],
      ],
    );
  });
});
