// Child process of killed.test.ts: writes Parquet segments from a recording
// handed out slowly and over and over, until killed (or, as a bound, for
// at most TRACERING_CHILD_MAX_MS).

import { setTimeout as sleep } from 'node:timers/promises';
import { createParquetSink } from '../../src/sinks/parquet/index.js';
import { PagedInput } from '../helpers/paged-input.js';

const [recording, out] = process.argv.slice(2);
if (recording === undefined || out === undefined) throw new Error('usage: writer-child RECORDING OUT');
const maxMs = Number(process.env.TRACERING_CHILD_MAX_MS ?? 30_000);
const paged = new PagedInput(recording, { step: 1, repeat: 1000 });
const sink = createParquetSink(out, { segmentMb: 0.02, host: 'killed', fsync: true });
await sink.open(paged.input);
const started = Date.now();
while (paged.advance() && Date.now() - started < maxMs) {
  await sink.consume();
  await sleep(2);
}
await sink.close(paged.end());
