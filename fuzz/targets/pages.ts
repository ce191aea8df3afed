// Fuzz target: raw per-CPU pages (what trace_pipe_raw and recordings hold).
// The first byte picks the sub-buffer size (64 B .. 64 KiB); the rest is a
// run of sub-buffers walked record by record and rendered as kernel text
// and JSON Lines with the sched capture's formats, so every decoder meets
// hostile payloads.

import fs from 'node:fs';
import { join } from 'node:path';
import { PageStream } from '../../src/layout/page-stream.js';
import { hostSubbufLayout } from '../../src/layout/subbuf.js';
import { type DecodeContext, loadDecodeContext } from '../../src/output/decode-context.js';
import { TimelineRenderer } from '../../src/output/report.js';
import type { FuzzTarget } from '../target.js';

const CAPTURE = join(import.meta.dirname, '../../test/fixtures/sched/tracefs');
let context: DecodeContext | null = null;

function pages(input: Uint8Array): { size: number; data: Uint8Array } {
  const size = 64 << ((input[0] ?? 6) % 11);
  return { size, data: input.subarray(1) };
}

export const target: FuzzTarget = {
  name: 'pages',
  seeds() {
    const out: Uint8Array[] = [];
    for (const cpu of [0, 1]) {
      const raw = fs.readFileSync(join(CAPTURE, `per_cpu/cpu${cpu}/trace_pipe_raw`));
      const seed = new Uint8Array(1 + Math.min(raw.length, 4 * 4096));
      seed[0] = 6; // 64 << 6 = 4096
      seed.set(raw.subarray(0, seed.length - 1), 1);
      out.push(seed);
    }
    return out;
  },
  run(input) {
    const { size, data } = pages(input);
    context ??= loadDecodeContext({ root: CAPTURE, kallsyms: null });
    const layout = hostSubbufLayout(size);
    for (const format of ['text', 'json'] as const) {
      let at = 0;
      const stream = new PageStream(layout, 0, (into, pageSize, max) => {
        let n = 0;
        while (n < max && at < data.length) {
          const chunk = data.subarray(at, at + pageSize);
          into.set(chunk, n * pageSize);
          if (chunk.length < pageSize) into.fill(0, n * pageSize + chunk.length, (n + 1) * pageSize);
          at += pageSize;
          n++;
        }
        return n;
      }, { pagesPerBatch: 4 });
      const source = { cpu: 0, next: () => stream.next(), get caughtUp() { return stream.caughtUp; } };
      new TimelineRenderer([source], context, { format, writeBytes: () => {} }).run();
    }
  },
};

export default target;
