// Loss flags travel verbatim: pages whose commit word carries
// MISSED_EVENTS (bit 31), with or without MISSED_STORED (bit 30) and the
// count after the data, make trace-cmd print its drop markers at exactly
// those pages, and our reader report the same losses.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LOST_UNKNOWN } from '../../src/layout/subbuf.js';
import { TraceDat, TraceDatWriter } from '../../src/tracedat/index.js';
import { PAGE, makeRestoreDir, metadataFromDirectory, rawPages, report, tempDir, traceCmdSkip } from './support.js';

const work = tempDir('loss');
const restore = makeRestoreDir();
after(() => {
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(join(restore.dir, '..'), { recursive: true, force: true });
});

const STORED_COUNT = 12345;

/** CPU 0's pages: page 1 flagged MISSED (no count), page 2 MISSED|STORED with a count. */
function lossyPages(): Buffer {
  const pages = Buffer.from(rawPages(0));
  const commit1 = pages.readUInt32LE(PAGE + 8);
  pages.writeUInt32LE((commit1 | 0x80000000) >>> 0, PAGE + 8);
  const commit2 = pages.readUInt32LE(2 * PAGE + 8);
  const size2 = commit2 & 0x7ffffff;
  pages.writeUInt32LE((commit2 | 0xc0000000) >>> 0, 2 * PAGE + 8);
  pages.writeBigUInt64LE(BigInt(STORED_COUNT), 2 * PAGE + 16 + size2);
  return pages;
}

function write(name: string, pages: Buffer): string {
  const out = join(work, name);
  const w = TraceDatWriter.create(out, { pageSize: PAGE });
  w.writePages('', 0, pages);
  w.finish({ ...metadataFromDirectory(restore.dir, restore.kallsyms), cpuCount: 1 });
  return out;
}

test('a page flagged MISSED, and one with MISSED|STORED and a count, keep their flags in our file', () => {
  using dat = TraceDat.open(write('lossy.dat', lossyPages()));
  const [reader] = dat.openCpus();
  const lost: [number, number][] = [];
  for (let b = reader!.next(); b !== null; b = reader!.next()) {
    if (b.lostBefore !== 0) lost.push([reader!.pages - 1, b.lostBefore]);
  }
  assert.deepEqual(lost, [
    [1, LOST_UNKNOWN],
    [2, STORED_COUNT],
  ]);
});

test("trace-cmd report shows its drop markers where the flagged pages begin, and nothing else changes", (t) => {
  const skip = traceCmdSkip();
  if (skip) return t.skip(skip);
  const clean = report(write('clean.dat', rawPages(0))).stdout.split('\n');
  const lossy = report(write('lossy2.dat', lossyPages()));
  assert.equal(lossy.stderr, '');
  const lines = lossy.stdout.split('\n');
  const markers = lines.map((l, i) => [i, l] as const).filter(([, l]) => /^CPU:0 \[.*EVENTS DROPPED\]$/.test(l));
  assert.deepEqual(markers.map(([, l]) => l), ['CPU:0 [EVENTS DROPPED]', `CPU:0 [${STORED_COUNT} EVENTS DROPPED]`]);
  // Without the markers the text is the clean file's, line for line.
  assert.deepEqual(lines.filter((l) => !/EVENTS DROPPED/.test(l)), clean);
  // Each marker stands right before the first event of its page.
  using dat = TraceDat.open(join(work, 'clean.dat'));
  const [reader] = dat.openCpus(dat.top!, { pagesPerBatch: 1 });
  const firstOfPage: number[] = [];
  let seen = 0;
  for (let b = reader!.next(); b !== null; b = reader!.next()) {
    firstOfPage.push(seen);
    seen += b.count;
  }
  // clean line 0 is "cpus=1"; event k is on line k + 1; after the first marker, lines shift by one.
  assert.equal(markers[0]![0], firstOfPage[1]! + 1);
  assert.equal(markers[1]![0], firstOfPage[2]! + 2);
});
