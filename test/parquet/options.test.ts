// Bad options and unusable directories fail with stable codes, before any output.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { createParquetSink } from '../../src/sinks/parquet/index.js';
import { zstdAvailable } from '../../src/sinks/parquet/format/compress.js';
import { PagedInput } from '../helpers/paged-input.js';

const scratch = fs.mkdtempSync(join(os.tmpdir(), 'tracering-parquet-opt-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

it('out-of-range options are ERR_INVALID_ARG_VALUE', () => {
  for (const options of [
    { segmentMb: 0 },
    { segmentMb: -1 },
    { segmentMb: Number.NaN },
    { segmentS: 0 },
    { segmentS: Number.POSITIVE_INFINITY },
    { rowGroupRows: 1.5 },
    { rowGroupRows: 0 },
    { memoryMb: 0 },
    { compression: 'lzo' as never },
    { host: '' },
    { host: 'a\nb' },
    { bootId: '' },
    { worker: 'yes' as never },
  ]) {
    assert.throws(() => createParquetSink(join(scratch, 'x'), options), { code: 'ERR_INVALID_ARG_VALUE' }, JSON.stringify(options));
  }
  assert.throws(() => createParquetSink(''), { code: 'ERR_INVALID_ARG_VALUE' });
  if (!zstdAvailable()) assert.throws(() => createParquetSink(join(scratch, 'z'), { compression: 'zstd' }), { code: 'ERR_UNSUPPORTED' });
});

for (const worker of [false, true]) {
  it(`a directory that cannot be written is ERR_INVALID_ARG_VALUE at open() (${worker ? 'worker' : 'inline'})`, async () => {
    const file = join(scratch, 'a-file');
    fs.writeFileSync(file, '');
    const sink = createParquetSink(join(file, 'out'), { worker });
    // Any recording works as input; open() fails before reading it.
    const input = new PagedInput(join(import.meta.dirname, '../fixtures/sched/tracefs')).input;
    await assert.rejects(async () => sink.open(input), { code: 'ERR_INVALID_ARG_VALUE' });
  });
}
