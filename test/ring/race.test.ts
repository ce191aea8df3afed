// The reader and writer racing at full speed: a writer that never yields
// and a reader that never waits. This is where a swap can meet a writer
// leaving the reader page; no committed event may go missing.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { AppRing } from '../../src/ring/app-ring.js';
import { tsWorker } from '../helpers/ts-worker.js';
import { checkPayload } from './payload.js';
import type { WriterReport } from './writer-worker.js';

describe('ring under a full-speed race', () => {
  it('discard mode: read + refused = written, every round', async () => {
    for (let round = 0; round < 6; round++) {
      using ring = AppRing.create({ subbufs: 64, mode: 'discard' });
      const reader = ring.reader();
      const count = 300_000;
      const worker = tsWorker(new URL('./writer-worker.ts', import.meta.url), {
        workerData: {
          handle: ring.handle,
          count,
          seed: 100 + round,
          minLength: 16,
          maxLength: 48,
          batch: 64,
          yieldBetweenBatches: false,
          clock: 'batch',
          maxMs: 20_000,
        },
      });
      const reporting = once(worker, 'message') as Promise<[WriterReport]>;
      const seen = new Uint8Array(count);
      let read = 0;
      let last = -1;
      const deadline = Date.now() + 30_000;
      for (let closedSeen = false; ; ) {
        assert.ok(Date.now() < deadline, 'bounded');
        // Spin on next() for a while, then let the event loop breathe.
        const spinUntil = Date.now() + 20;
        let progressed = false;
        while (Date.now() < spinUntil) {
          const b = reader.next();
          if (!b) continue;
          progressed = true;
          for (let i = 0; i < b.count; i++) {
            const seq = checkPayload(b.bytes, b.view, b.offset(i), b.length(i));
            assert.ok(seq > last, `round ${round}: ${seq} after ${last}`);
            last = seq;
            seen[seq] = 1;
            read++;
          }
        }
        if (!progressed && closedSeen) break;
        if (reader.channel.writerClosed) closedSeen = true;
        await new Promise((r) => setImmediate(r));
      }
      const [report] = await reporting;
      const refused = new Set(report.refused);
      const missing: number[] = [];
      for (let s = 0; s < report.written; s++) if (!seen[s] && !refused.has(s)) missing.push(s);
      assert.deepEqual(missing.slice(0, 10), [], `round ${round}: ${missing.length} committed events never delivered`);
      assert.equal(read + refused.size, report.written);
    }
  });
});
