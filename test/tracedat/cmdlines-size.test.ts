// trace-cmd record reads saved_cmdlines twice (its size, then its text).
// When tasks come and go in between it writes a CMDLINES section whose
// declared text length is longer than the text it holds (it prints "error
// in size of file '.../saved_cmdlines'"); the section's own size is right,
// and trace-cmd report reads the file. So must we: the text is what the
// section holds.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TraceDat } from '../../src/tracedat/index.js';
import { fixture, report, tempDir, traceCmdSkip } from './support.js';

/** The v7 fixture with the CMDLINES text length declared `extra` bytes longer than the text. */
function withLongerDeclaredCmdlines(extra: number): { path: string; text: Uint8Array } {
  const bytes = new Uint8Array(fs.readFileSync(fixture('sched-v7-none.dat')));
  const text = (() => {
    using dat = TraceDat.open(fixture('sched-v7-none.dat'));
    return dat.metadata.cmdlines!;
  })();
  const at = Buffer.from(bytes).indexOf(Buffer.from(text));
  assert.ok(at >= 8 && text.length > 0, 'the fixture holds its saved command lines');
  const view = new DataView(bytes.buffer);
  assert.equal(Number(view.getBigUint64(at - 8, true)), text.length, 'the u64 length precedes the text');
  view.setBigUint64(at - 8, BigInt(text.length + extra), true);
  const path = join(tempDir('cmdlines'), 'declared-longer.dat');
  fs.writeFileSync(path, bytes);
  return { path, text };
}

test('a CMDLINES section declaring more text than it holds reads as the text it holds', () => {
  const { path, text } = withLongerDeclaredCmdlines(2);
  try {
    using dat = TraceDat.open(path);
    assert.deepEqual(dat.metadata.cmdlines, text);
    let events = 0;
    for (const r of dat.openCpus()) for (let b = r.next(); b !== null; b = r.next()) events += b.count;
    assert.ok(events > 0);
  } finally {
    fs.rmSync(join(path, '..'), { recursive: true, force: true });
  }
});

test('trace-cmd report reads the same file (the reference)', { skip: traceCmdSkip() }, () => {
  const { path } = withLongerDeclaredCmdlines(2);
  try {
    assert.match(report(path).stdout, /sched_switch/);
  } finally {
    fs.rmSync(join(path, '..'), { recursive: true, force: true });
  }
});
