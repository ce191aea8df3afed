// The committed sample (test/fixtures/perfetto/sched.perfetto-trace, what a
// person can open in ui.perfetto.dev) is what the sink writes for the sched
// capture today, and has the packet kinds of the verified-valid reference
// sample (formats/sample.pftrace), all within the published schema.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readTrace, unknownFields } from './decode.js';
import { convert, tempDir } from './recording.js';

const fixtures = new URL('../fixtures/', import.meta.url);
// shared/ lies beside the checkout (CI: beside the fresh clone).
const reference =
  [new URL('../../../shared/fixtures/formats/sample.pftrace', import.meta.url).pathname, '/work/shared/fixtures/formats/sample.pftrace'].find((p) =>
    fs.existsSync(p),
  ) ?? '/work/shared/fixtures/formats/sample.pftrace';

function kinds(packets: Array<Record<string, unknown>>): Set<string> {
  const skip = new Set(['trustedPacketSequenceId', 'timestamp', 'sequenceFlags', 'timestampClockId', 'internedData', 'previousPacketDropped']);
  return new Set(packets.flatMap((p) => Object.keys(p).filter((k) => !skip.has(k))));
}

describe('perfetto sample', () => {
  it('the committed sample is the sink\'s output for the sched capture', async () => {
    const out = join(tempDir('pf-sample'), 'sched.perfetto-trace');
    try {
      await convert(new URL('sched/tracefs', fixtures).pathname, out);
      assert.ok(fs.readFileSync(out).equals(fs.readFileSync(new URL('perfetto/sched.perfetto-trace', fixtures))), 'same bytes');
      assert.deepEqual(unknownFields(new Uint8Array(fs.readFileSync(out))), []);
    } finally {
      fs.rmSync(join(out, '..'), { recursive: true, force: true });
    }
  });

  it('the reference sample decodes with the subset, and ours has its kernel packet kinds', (t) => {
    if (!fs.existsSync(reference)) return t.skip(`${reference} is not here`);
    const ref = readTrace(reference);
    assert.deepEqual(unknownFields(ref.bytes), []);
    const ours = kinds(readTrace(new URL('perfetto/sched.perfetto-trace', fixtures).pathname).packets);
    for (const k of ['processTree', 'ftraceStats', 'ftraceEvents']) {
      assert.ok(kinds(ref.packets).has(k));
      assert.ok(ours.has(k), k);
    }
  });
});
