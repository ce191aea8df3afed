// A kernel test that fails while it holds an instance, mappings and fds
// still leaves nothing behind.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { kernelOrSkip } from '../helpers/kernel.js';

it('a failing test removes its instance and mappings', (t) => {
  const tracefs = kernelOrSkip(t);
  if (!tracefs) return;
  const report = join(os.tmpdir(), `tracering-failing-${process.pid}`);
  try {
    const root = new URL('../../', import.meta.url).pathname;
    // Without NODE_TEST_CONTEXT the child runs as a test run of its own.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', 'test/fixtures/failing-kernel-test.ts'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...env, TRACERING_REPORT_FILE: report },
      timeout: 60_000,
    });
    assert.notEqual(r.status, 0, 'the fixture test must fail');
    const name = fs.readFileSync(report, 'utf8');
    assert.ok(name.startsWith('trtest-'));
    assert.equal(tracefs.instanceExists(name), false, `instance ${name} was left behind`);
    assert.match(r.stdout, /deliberate failure while mapped/);
  } finally {
    fs.rmSync(report, { force: true });
  }
});
