// A traced application for record --ring: opens the ring, writes nested
// slices, instants and counters with the trace API between sleeps (so the
// kernel schedules it around them), prints its thread id, and exits.

import { AppRing } from '../../src/ring/app-ring.js';
import { TraceApi } from '../../src/ring/trace-api.js';
import { native } from '../../src/native.js';

const ring = AppRing.open(process.argv[2]!);
const writer = ring.writer();
const trace = new TraceApi(ring, writer);
for (let i = 0; i < 20; i++) {
  trace.span(`request ${i}`, () => {
    trace.begin('parse');
    trace.instant('tick');
    trace.end();
  });
  trace.counter('queue', i);
  writer.flush();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
}
writer.close();
ring.close();
process.stdout.write(`${native.gettid()}\n`);
