// `tracering stats` and `tracering drain` against the real kernel: their
// figures are compared with per_cpu/cpuN/stats.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { kernelOrSkip, testInstance, writeMarkers, writeRawMarkers } from '../helpers/kernel.js';
import { cliPath, runCli, startCli } from '../helpers/cli.js';

interface DrainJson {
  mode: string;
  cpus: Array<{ cpu: number; events: number; bytes: number; subbufs: number; lost: number; dropped: number }>;
  total: { events: number; lost: number };
}

describe('tracering drain', () => {
  for (const mode of ['mmap', 'read'] as const) {
    it(`--mode ${mode} --json: per-CPU events equal the kernel's count`, (t) => {
      const tracefs = kernelOrSkip(t);
      if (!tracefs) return;
      using inst = testInstance(tracefs);
      for (const cpu of inst.cpus()) {
        writeMarkers(inst, cpu, 1000 + cpu, (i) => `cli ${i}`);
        writeRawMarkers(inst, cpu, 500, () => new Uint8Array(40));
      }
      const before = inst.cpus().map((c) => inst.cpuStats(c));
      const r = runCli(['drain', '-B', inst.name as string, '--mode', mode, '--json']);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as DrainJson;
      assert.equal(out.mode, mode);
      assert.deepEqual(
        out.cpus.map((c) => c.events),
        before.map((s) => s.entries),
      );
      assert.deepEqual(
        out.cpus.map((c) => c.lost),
        before.map(() => 0),
      );
      assert.equal(out.total.events, before.reduce((n, s) => n + s.entries, 0));
      for (const c of out.cpus) assert.ok(c.bytes > 0 && c.subbufs > 0);
      assert.ok(tracefs.instanceExists(inst.name as string), 'an instance the command did not create stays');
    });

    it(`--mode ${mode}: lost equals the kernel's overrun after a flood`, (t) => {
      const tracefs = kernelOrSkip(t);
      if (!tracefs) return;
      using inst = testInstance(tracefs);
      inst.setBufferSizeKb(16);
      writeMarkers(inst, 0, 4000, (i) => `flood ${i} ${'f'.repeat(30)}`);
      const kernel = inst.cpuStats(0);
      const r = runCli(['drain', '-B', inst.name as string, '--mode', mode, '--json']);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as DrainJson;
      assert.equal(out.cpus[0]?.lost, kernel.overrun);
      assert.equal(out.cpus[0]?.events, kernel.entries);
      assert.equal(out.total.lost, kernel.overrun + inst.cpus().slice(1).reduce((n, c) => n + inst.cpuStats(c).overrun, 0));
    });
  }

  it('--duration with the default auto: the adaptive loop starts on read(), and counts exactly what the kernel counted', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    inst.setBufferSizeKb(16);
    // Already there when it starts: a flood the kernel overwrote in part (lost = overrun), and a full ring to drain.
    writeMarkers(inst, 0, 4000, (i) => `auto ${i} ${'a'.repeat(30)}`);
    for (const cpu of inst.cpus().slice(1)) writeMarkers(inst, cpu, 100, (i) => `auto ${i}`);
    const before = inst.cpus().map((c) => inst.cpuStats(c));
    const r = runCli(['drain', '-B', inst.name as string, '--duration', '0.3', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as DrainJson;
    assert.match(out.mode, /^auto \(read; \d+ switches\)$/);
    assert.deepEqual(
      out.cpus.map((c) => [c.events, c.lost]),
      before.map((s) => [s.entries, s.overrun]),
    );
    for (const [i, c] of inst.cpus().entries()) assert.equal(inst.cpuStats(c).entries, 0, `CPU ${c} drained (${JSON.stringify(out.cpus[i])})`);
  });

  it('stdout that fails: a full disk is ERR_OUTPUT (exit 1), a reader that went away a quiet exit 0; no stack, no instance left', async (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    const name = `trtest-out-${process.pid}-${Date.now()}`;
    const full = fs.openSync('/dev/full', 'w');
    try {
      const r = spawnSync(process.execPath, [cliPath, 'drain', '-B', name, '--json'], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /^tracering: cannot write to standard output: ENOSPC.*\[ERR_OUTPUT\]\n$/);
    } finally {
      fs.closeSync(full);
    }
    // A pipe whose reader is gone before the command writes.
    const child = spawn(process.execPath, [cliPath, 'drain', '-B', name, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, err);
    assert.equal(err, '');
    assert.equal(tracefs.instanceExists(name), false);
  });

  it('-B NAME creates a missing instance and removes it at exit', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    const name = `trtest-cli-${process.pid}-${Date.now()}`;
    const r = runCli(['drain', '-B', name, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as DrainJson).total.events, 0);
    assert.equal(tracefs.instanceExists(name), false);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} during --duration stops, reports, and removes the instance it created`, async (t) => {
      const tracefs = kernelOrSkip(t);
      if (!tracefs) return;
      const name = `trtest-sig-${process.pid}-${Date.now()}`;
      const child = startCli(['drain', '-B', name, '--duration', '30', '--json']);
      let stdout = '';
      child.stdout?.on('data', (d: Buffer) => (stdout += d));
      // A hang bound: on a loaded machine the CLI can take several seconds to start.
      const deadline = Date.now() + 60_000;
      while (!tracefs.instanceExists(name) && Date.now() < deadline) await sleep(20);
      assert.ok(tracefs.instanceExists(name), 'the CLI created its instance');
      await sleep(200);
      const started = Date.now();
      child.kill(signal);
      // 'close': at 'exit' the end of stdout may still be in the pipe.
      const [code] = (await once(child, 'close')) as [number | null];
      assert.equal(code, 0);
      assert.ok(Date.now() - started < 5000, 'stopped promptly');
      assert.equal((JSON.parse(stdout) as DrainJson).cpus.length, tracefs.topLevel.cpus().length);
      assert.equal(tracefs.instanceExists(name), false);
    });
  }

  it('bad usage and a missing tracefs give clear errors and exit codes', () => {
    const bad = runCli(['drain', '--mode', 'bogus']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--mode must be one of auto, mmap, read/);
    const unknown = runCli(['drian']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command "drian"/);
    const nofs = runCli(['drain', '--tracefs', '/tmp']);
    assert.equal(nofs.status, 1);
    assert.match(nofs.stderr, /\[ERR_TRACEFS_NOT_FOUND\]/);
  });
});

describe('tracering stats', () => {
  it('--json prints every meta-page field per CPU, consistent with the kernel', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    inst.setSubbufSizeKb(8);
    inst.setBufferSizeKb(64);
    writeMarkers(inst, 0, 300, (i) => `stat ${i}`);
    const r = runCli(['stats', '-B', inst.name as string, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { cpus: Array<Record<string, number>> };
    assert.equal(out.cpus.length, inst.cpus().length);
    for (const c of out.cpus) {
      assert.deepEqual(Object.keys(c), [
        'cpu',
        'entries',
        'overrun',
        'read',
        'subbufSize',
        'nrSubbufs',
        'readerId',
        'readerRead',
        'metaPageSize',
      ]);
      const kernel = inst.cpuStats(c.cpu as number);
      assert.equal((c.entries as number) - (c.overrun as number) - (c.read as number), kernel.entries);
      assert.equal(c.overrun, kernel.overrun);
      assert.equal(c.subbufSize, 8192);
      assert.equal(c.metaPageSize, 8192);
      assert.equal(c.nrSubbufs, Math.ceil((64 * 1024) / (8192 - 16)) + 1);
    }
    assert.equal(inst.cpuStats(0).entries, 300, 'stats consumed nothing');
  });
});
