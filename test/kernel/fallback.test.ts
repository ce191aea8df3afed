// Mode selection: 'auto' maps where the kernel allows it and falls back to
// read() where mmap is refused with ENODEV (kernels before 6.10, persistent
// buffers). A tracefs-shaped directory whose trace_pipe_raw is /dev/null
// gets a real ENODEV from mmap, as an old kernel would give.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { TraceringWarning } from '../../src/errors.js';
import { TraceArray } from '../../src/kernel/trace-array.js';
import { openCpuReader } from '../../src/kernel/trace-source.js';
import { kernelOrSkip, testInstance } from '../helpers/kernel.js';

function oldKernelLookalike(): { array: TraceArray; dir: string } {
  const dir = fs.mkdtempSync(join(os.tmpdir(), 'tracering-nommap-'));
  fs.mkdirSync(join(dir, 'per_cpu/cpu0'), { recursive: true });
  fs.symlinkSync('/dev/null', join(dir, 'per_cpu/cpu0/trace_pipe_raw'));
  fs.writeFileSync(
    join(dir, 'per_cpu/cpu0/stats'),
    'entries: 0\noverrun: 0\ncommit overrun: 0\nbytes: 0\noldest event ts: 0.000000\nnow ts: 1.000000\ndropped events: 0\nread events: 0\n',
  );
  return { array: new TraceArray(dir, 'lookalike'), dir };
}

describe('reader mode selection', () => {
  it("auto falls back to read() when mmap answers ENODEV, and says so", () => {
    const { array, dir } = oldKernelLookalike();
    try {
      const warnings: TraceringWarning[] = [];
      const reader = openCpuReader(array, 0, { mode: 'auto', onWarning: (w) => warnings.push(w) });
      try {
        assert.equal(reader.mode, 'read');
        assert.equal(reader.next(), null);
      } finally {
        reader.close();
      }
      assert.deepEqual(
        warnings.map((w) => w.code),
        ['TRACERING_MMAP_FALLBACK'],
      );
      assert.throws(() => openCpuReader(array, 0, { mode: 'mmap' }), { code: 'ERR_MMAP_UNSUPPORTED' });
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('auto maps on this kernel', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    const reader = openCpuReader(inst, 0, { mode: 'auto' });
    try {
      assert.equal(reader.mode, 'mmap');
    } finally {
      reader.close();
    }
  });

  it('a CPU directory that does not exist is a coded error', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    assert.throws(() => openCpuReader(inst, 4096, { mode: 'read' }), { code: 'ERR_CPU_NO_BUFFER' });
  });
});
