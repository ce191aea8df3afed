// What the kernel refuses while a buffer is mapped, and what happens when
// more than one consumer reads the same buffer.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { BufferMappedError, type TraceringWarning } from '../../src/errors.js';
import { MappedCpuReader } from '../../src/kernel/mapped-cpu-reader.js';
import { TraceSource } from '../../src/kernel/trace-source.js';
import { kernelOrSkip, testInstance, writeMarkers } from '../helpers/kernel.js';
import { walkPages } from '../helpers/pages.js';

const root = new URL('../../', import.meta.url).pathname;

/** A child process that maps CPU 0 of `instancePath` until its stdin closes. */
async function foreignMapper(instancePath: string) {
  const script = `
    import fs from 'node:fs';
    import { native } from './src/native.ts';
    const fd = fs.openSync(${JSON.stringify(`${instancePath}/per_cpu/cpu0/trace_pipe_raw`)}, 'r');
    const map = native.mmap(fd, native.pageSize, 0);
    process.stdout.write('mapped\\n');
    process.stdin.resume();
    process.stdin.on('end', () => { native.munmap(map); fs.closeSync(fd); });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  assert.equal(line.toString().trim(), 'mapped');
  return {
    pid: child.pid as number,
    async [Symbol.asyncDispose]() {
      child.stdin.end();
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

describe('while a buffer is mapped', () => {
  it('resizing and sub-buffer changes fail with ERR_BUFFER_MAPPED naming this process', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    const cpus = inst.cpus();
    {
      const reader = MappedCpuReader.open(inst, 0);
      try {
        for (const change of [
          () => inst.setBufferSizeKb(64),
          () => inst.setCpuBufferSizeKb(0, 64),
          () => inst.setSubbufSizeKb(8),
        ]) {
          assert.throws(change, (error: unknown) => {
            assert.ok(error instanceof BufferMappedError);
            assert.equal(error.code, 'ERR_BUFFER_MAPPED');
            assert.ok(error.pids.includes(process.pid));
            assert.match(error.message, /memory-mapped/);
            return true;
          });
        }
        if (cpus.length > 1) inst.setCpuBufferSizeKb(1, 64); // another CPU's buffer may change
        assert.throws(() => inst.armSnapshot(), {
          code: inst.exists('snapshot') ? 'ERR_BUFFER_MAPPED' : 'ERR_UNSUPPORTED',
        });
        assert.throws(() => inst.remove(), { code: 'ERR_TRACEFS_BUSY' });
      } finally {
        reader.close();
      }
    }
    inst.setBufferSizeKb(64);
    inst.setSubbufSizeKb(8);
    assert.equal(inst.subbufSizeKb, 8);
  });

  it('a mapping held by another process is named in the error', async (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    {
      await using other = await foreignMapper(inst.path);
      assert.throws(
        () => inst.setBufferSizeKb(32),
        (error: unknown) => error instanceof BufferMappedError && error.pids.includes(other.pid),
      );
    }
    inst.setBufferSizeKb(32);
  });
});

describe('concurrent consumers', () => {
  it('a second tracering consumer of the same buffer is refused', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    using first = TraceSource.open(inst, { mode: 'mmap' });
    for (const mode of ['mmap', 'read'] as const) {
      assert.throws(() => TraceSource.open(inst, { mode }), { code: 'ERR_CONCURRENT_READER' });
    }
    assert.equal(first.readers.length, inst.cpus().length);
  });

  it('other processes holding the buffer open are reported when a source opens', async (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    const file = inst.cpuFile(0, 'trace_pipe_raw');
    const child = spawn('sh', ['-c', `exec 3<"${file}"; echo ready; exec sleep 30`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await once(child.stdout, 'data');
      const warnings: TraceringWarning[] = [];
      using source = TraceSource.open(inst, { mode: 'mmap', cpus: [0], onWarning: (w) => warnings.push(w) });
      assert.equal(source.readers.length, 1);
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0]?.code, 'TRACERING_CONCURRENT_READER');
      assert.match(warnings[0]?.message ?? '', new RegExp(`pid ${child.pid}`));
    } finally {
      child.kill();
      await once(child, 'exit');
    }
  });

  it('events another reader took from a mapped buffer are counted and reported', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    const warnings: TraceringWarning[] = [];
    const reader = MappedCpuReader.open(inst, 0, { onWarning: (w) => warnings.push(w) });
    try {
      const { written } = writeMarkers(inst, 0, 400, (i) => `shared ${i} ${'s'.repeat(20)}`);
      // A careless second consumer (no lock) reads two pages behind our back.
      const stolen = new Uint8Array(8192);
      const fd = fs.openSync(inst.cpuFile(0, 'trace_pipe_raw'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      try {
        assert.equal(fs.readSync(fd, stolen, 0, 4096, null), 4096);
        assert.equal(fs.readSync(fd, stolen, 4096, 4096, null), 4096);
      } finally {
        fs.closeSync(fd);
      }
      const stolenEvents = walkPages(stolen).reduce((n, p) => n + p.records.length, 0);
      assert.ok(stolenEvents > 0);
      let delivered = 0;
      for (let b = reader.next(); b; b = reader.next()) delivered += b.count;
      assert.equal(reader.counters.consumedElsewhere, stolenEvents);
      assert.equal(delivered + stolenEvents, written);
      assert.deepEqual(
        warnings.map((w) => w.code),
        ['TRACERING_CONCURRENT_READER'],
      );
    } finally {
      reader.close();
    }
  });
});
