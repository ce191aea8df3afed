// Consuming a ring in tests: every event's payload checked, order and gaps
// recorded against the loss reports that precede them.

import type { RingReader } from '../../src/ring/reader.js';
import { checkPayload } from './payload.js';

export interface Consumed {
  /** Sequence numbers read, in order. */
  seqs: number[];
  /** For each read event, the lost count reported since the previous one (0 if none). */
  lostBefore: number[];
  times: bigint[];
}

export async function consumeUntilClosed(
  reader: RingReader,
  options: { deadlineMs?: number; pause?: () => number } = {},
): Promise<Consumed> {
  const out: Consumed = { seqs: [], lostBefore: [], times: [] };
  const deadline = Date.now() + (options.deadlineMs ?? 30_000);
  let pendingLost = 0;
  let closedSeen = false;
  for (;;) {
    if (Date.now() > deadline) throw new Error('the writer did not finish in time');
    const batch = reader.next();
    if (batch) {
      if (batch.lostBefore > 0) pendingLost += batch.lostBefore;
      for (let i = 0; i < batch.count; i++) {
        const off = batch.offset(i);
        out.seqs.push(checkPayload(batch.bytes, batch.view, off, batch.length(i)));
        out.lostBefore.push(pendingLost);
        out.times.push(batch.timestampBigInt(i));
        pendingLost = 0;
      }
      const pause = options.pause?.() ?? 0;
      if (pause > 0) await new Promise((r) => setTimeout(r, pause));
      continue;
    }
    if (closedSeen) break; // drained after the writer closed
    if (reader.channel.writerClosed) {
      closedSeen = true;
      continue;
    }
    await reader.waitReadable(20);
  }
  reader.finish();
  return out;
}

/**
 * Checks that reads are strictly ordered and that each gap in the sequence
 * is exactly the loss reported before the event after it, plus records the
 * writer refused. Returns the number of events missing.
 */
export function checkGaps(consumed: Consumed, written: number, refused: ReadonlySet<number>): number {
  let last = -1;
  let missing = 0;
  consumed.seqs.forEach((seq, i) => {
    if (seq <= last) throw new Error(`event ${seq} read after ${last}`);
    let gap = 0;
    for (let s = last + 1; s < seq; s++) if (!refused.has(s)) gap++;
    if (gap !== consumed.lostBefore[i]) {
      throw new Error(`before event ${seq}: ${gap} events missing but ${consumed.lostBefore[i]} reported lost`);
    }
    missing += gap;
    last = seq;
  });
  for (let s = last + 1; s < written; s++) if (!refused.has(s)) missing++;
  return missing;
}
