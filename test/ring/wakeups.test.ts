// Wake-ups follow the ring's watermark, as the kernel's buffer_percent:
// a waiting reader is woken once that share of the ring is unread (at once
// with watermark 0), on a SharedArrayBuffer (Atomics) and on a file
// mapping (futex).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { AppRing, type AppRingOptions } from '../../src/ring/app-ring.js';

const shm = fs.existsSync('/dev/shm') ? '/dev/shm' : '/tmp';

/** Starts a wait, then writes `records` 1000-byte records and flushes; resolves with how long the wait took. */
async function waitWhileWriting(options: AppRingOptions, records: number, timeoutMs: number): Promise<number> {
  const ring = AppRing.create(options);
  try {
    const reader = ring.reader();
    const writer = ring.writer({ autoFlush: false });
    const started = Date.now();
    const waiting = reader.waitReadable(timeoutMs).then(() => Date.now() - started);
    await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < records; i++) {
      writer.reserve(1000);
      writer.commit();
    }
    writer.flush();
    return await waiting;
  } finally {
    ring.close();
    if (options.path) fs.rmSync(options.path, { force: true });
  }
}

for (const kind of ['SharedArrayBuffer', 'file'] as const) {
  describe(`ring wake-ups (${kind})`, () => {
    const path = (tag: string) => (kind === 'file' ? { path: `${shm}/tracering-wake-${process.pid}-${tag}` } : {});

    it('watermark 0: a waiting reader wakes on the first flush', async () => {
      const ms = await waitWhileWriting({ subbufs: 9, watermark: 0, ...path('w0') }, 1, 2000);
      assert.ok(ms < 500, `${ms} ms`);
    });

    it('watermark 50: a little data does not wake the reader, half the ring does', async () => {
      // 8 ring pages of 4 records each: 1 record stays below the mark...
      const quiet = await waitWhileWriting({ subbufs: 9, watermark: 50, ...path('w50a') }, 1, 600);
      assert.ok(quiet >= 550, `woken after ${quiet} ms below the watermark`);
      // ...4 full pages and more reach it.
      const woken = await waitWhileWriting({ subbufs: 9, watermark: 50, ...path('w50b') }, 20, 2000);
      assert.ok(woken < 500, `${woken} ms`);
    });
  });
}
