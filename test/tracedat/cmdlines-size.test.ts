// trace-cmd record reads saved_cmdlines twice (its size, then its text).
// When tasks come and go in between it writes a CMDLINES section whose
// declared text length is longer than the text it holds (it prints "error
// in size of file '.../saved_cmdlines'"), or whose text ends in zeros
// (trace-cmd restore -c); the section's own size is right, and trace-cmd
// report reads the file. So must we: the text is what the section holds,
// up to its first NUL (trace-cmd parses it as a C string). Also here: a
// file with no buffers at all (restore -c's header) reports, as trace-cmd
// does, instead of failing inside.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TraceDat } from '../../src/tracedat/index.js';
import { fixture, makeRestoreDir, report, tempDir, traceCmd, traceCmdSkip } from './support.js';

const cli = join(import.meta.dirname, '../../dist/cli/main.js');

/** The v7 fixture with the CMDLINES text length declared `extra` bytes longer than the text, or (zeros) its last `extra` bytes zeroed. */
function withLongerDeclaredCmdlines(extra: number, zeros = false): { path: string; text: Uint8Array } {
  const bytes = new Uint8Array(fs.readFileSync(fixture('sched-v7-none.dat')));
  const text = (() => {
    using dat = TraceDat.open(fixture('sched-v7-none.dat'));
    return dat.metadata.cmdlines!;
  })();
  const at = Buffer.from(bytes).indexOf(Buffer.from(text));
  assert.ok(at >= 8 && text.length > 0, 'the fixture holds its saved command lines');
  const view = new DataView(bytes.buffer);
  assert.equal(Number(view.getBigUint64(at - 8, true)), text.length, 'the u64 length precedes the text');
  if (zeros) bytes.fill(0, at + text.length - extra, at + text.length);
  else view.setBigUint64(at - 8, BigInt(text.length + extra), true);
  const path = join(tempDir('cmdlines'), 'declared-longer.dat');
  fs.writeFileSync(path, bytes);
  return { path, text: zeros ? text.subarray(0, text.length - extra) : text };
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

test('command lines ending in zeros read up to the first zero', () => {
  const { path, text } = withLongerDeclaredCmdlines(3, true);
  try {
    using dat = TraceDat.open(path);
    assert.deepEqual(dat.metadata.cmdlines, text);
  } finally {
    fs.rmSync(join(path, '..'), { recursive: true, force: true });
  }
});

test('trace-cmd report reads the same files (the reference)', { skip: traceCmdSkip() }, () => {
  for (const zeros of [false, true]) {
    const { path } = withLongerDeclaredCmdlines(2, zeros);
    try {
      assert.match(report(path).stdout, /sched_switch/);
    } finally {
      fs.rmSync(join(path, '..'), { recursive: true, force: true });
    }
  }
});

test('tracering report of a file without buffers (trace-cmd restore -c) prints no events and exits 0, as trace-cmd report', { skip: traceCmdSkip() }, () => {
  const { dir, kallsyms } = makeRestoreDir();
  const head = join(dir, '..', 'head.dat');
  try {
    const made = traceCmd(['restore', '-c', '-t', dir, '-k', kallsyms, '-o', head]);
    assert.equal(made.status, 0, made.stderr);
    assert.equal(report(head).status, 0);
    const ours = spawnSync(process.execPath, [cli, 'report', head], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(ours.status, 0, ours.stderr);
    assert.doesNotMatch(ours.stderr, /internal error/);
    assert.doesNotMatch(ours.stdout, /^\s*\S+-\d+\s+\[\d+\]/m);
  } finally {
    fs.rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});
