// The native layer: mappings that cannot fault after munmap, Node-shaped
// system errors, and readiness that survives worker teardown.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { POLL_READABLE, native } from '../../src/native.js';
import { kernelOrSkip, onCpu, testInstance } from '../helpers/kernel.js';
import { tsWorker } from '../helpers/ts-worker.js';

describe('native mappings', () => {
  it('munmap detaches every view: stale views read as empty instead of faulting', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    const fd = fs.openSync(inst.cpuFile(0, 'trace_pipe_raw'), 'r');
    try {
      const map = native.mmap(fd, native.pageSize, 0);
      const bytes = new Uint8Array(map);
      const view = new DataView(map, 8);
      assert.equal(view.getUint32(0, true), 4096, 'subbuf_size in the meta page');
      assert.equal(native.isMapped(map), true);
      native.munmap(map);
      assert.equal(native.isMapped(map), false);
      assert.equal(map.byteLength, 0);
      assert.equal(bytes.length, 0);
      assert.equal(bytes[0], undefined);
      assert.throws(() => view.getUint32(0, true), TypeError);
      assert.throws(() => native.munmap(map), { code: 'ERR_NOT_MAPPED' });
    } finally {
      fs.closeSync(fd);
    }
  });

  it('system errors carry code, errno and syscall like Node core', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    // O_NONBLOCK: on a blocking fd GET_READER first waits for data.
    const fd = fs.openSync(inst.cpuFile(0, 'trace_pipe_raw'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      assert.throws(() => native.mmap(fd, native.pageSize, 0, true), { code: 'EACCES', errno: -13, syscall: 'mmap' });
      assert.throws(() => native.mmap(fd, native.pageSize, native.pageSize * 1_000_000), { code: 'EINVAL', syscall: 'mmap' });
      const map = native.mmap(fd, native.pageSize, 0);
      try {
        assert.throws(() => native.ioctl(fd, 0x1234), { code: 'ENOTTY', syscall: 'ioctl' });
      } finally {
        native.munmap(map);
      }
      assert.throws(() => native.ioctl(fd, 0x5220), { code: 'ENODEV', syscall: 'ioctl' }, 'GET_READER needs a mapping');
    } finally {
      fs.closeSync(fd);
    }
    assert.throws(() => native.mmap(-1, 4096, 0), { code: 'EBADF' });
    assert.throws(() => native.munmap(new ArrayBuffer(8)), { code: 'ERR_NOT_MAPPED' });
  });
});

describe('native poller', () => {
  it('reports readiness on the event loop', async (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    inst.bufferPercent = 0;
    const fd = fs.openSync(inst.cpuFile(0, 'trace_pipe_raw'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      const events: number[] = [];
      const fired = new Promise<void>((resolve) => {
        const poller = new native.Poller(fd, (status, mask) => {
          events.push(status, mask);
          poller.close();
          resolve();
        });
        poller.start(POLL_READABLE);
      });
      onCpu(0, () => fs.writeFileSync(inst.file('trace_marker'), 'wake up'));
      await fired;
      assert.deepEqual(events, [0, POLL_READABLE]);
    } finally {
      fs.closeSync(fd);
    }
  });

  for (const exitItself of [false, true]) {
    it(`a worker ${exitItself ? 'exiting' : 'terminated'} while polling does not bring the process down`, async (t) => {
      const tracefs = kernelOrSkip(t);
      if (!tracefs) return;
      using inst = testInstance(tracefs);
      const fd = fs.openSync(inst.cpuFile(0, 'trace_pipe_raw'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      try {
        for (let round = 0; round < 5; round++) {
          const worker = tsWorker(new URL('./poller-worker.ts', import.meta.url), { workerData: { fd, exitItself } });
          const exited = once(worker, 'exit') as Promise<[number]>;
          // A worker that exits by itself may exit before its 'polling' message is delivered
          // (process.exit drops what the port has not sent; seen on a loaded machine): either is fine,
          // its poller was started before it posted.
          const first = await Promise.race([once(worker, 'message').then(([m]) => m as string), exited.then(() => 'exited')]);
          if (!exitItself) {
            assert.equal(first, 'polling');
            await worker.terminate();
          } else {
            assert.ok(first === 'polling' || first === 'exited', String(first));
            const [code] = await exited;
            assert.equal(code, 0, 'the worker exited by itself, cleanly');
          }
        }
      } finally {
        fs.closeSync(fd);
      }
    });
  }
});

describe('readPages', () => {
  // Sub-buffers in a file, each with its commit word (offset 8, 8 bytes).
  function pagesFile(t: { after(fn: () => void): void }, commits: number[], size = 256): number {
    const bytes = new Uint8Array(commits.length * size);
    const view = new DataView(bytes.buffer);
    commits.forEach((c, i) => view.setBigUint64(i * size + 8, BigInt(c), true));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tr-pages-'));
    const file = path.join(dir, 'pages');
    fs.writeFileSync(file, bytes);
    const fd = fs.openSync(file, 'r');
    t.after(() => {
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
    });
    return fd;
  }

  it('without stopBelow reads every page up to maxPages', (t) => {
    const fd = pagesFile(t, [240, 10, 240, 240]);
    const into = new Uint8Array(256 * 8);
    assert.equal(native.readPages(fd, into, 256, 8), 4);
  });

  it("with stopBelow ends after a small page that is not the batch's first", (t) => {
    // 0x80000000 is RB_MISSED_EVENTS: a flag, not size (the page holds 200 bytes).
    const fd = pagesFile(t, [10, 240, 0x80000000 | 200, 30, 240, 240]);
    const into = new Uint8Array(256 * 8);
    // The first page is exempt (the rest of a page read in part before).
    assert.equal(native.readPages(fd, into, 256, 8, 120, 8), 4, 'stops after the page of 30 bytes');
    assert.equal(new DataView(into.buffer).getUint32(3 * 256 + 8, true), 30);
    assert.equal(native.readPages(fd, into, 256, 8, 120, 8), 2, 'the next batch goes on from there');
  });

  it('reads a 4-byte commit word where the kernel has one', (t) => {
    const bytes = new Uint8Array(3 * 256);
    const view = new DataView(bytes.buffer);
    [240, 16, 240].forEach((c, i) => view.setUint32(i * 256 + 8, c, true));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tr-pages-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'p'), bytes);
    const fd = fs.openSync(path.join(dir, 'p'), 'r');
    t.after(() => fs.closeSync(fd));
    assert.equal(native.readPages(fd, new Uint8Array(256 * 4), 256, 4, 120, 4), 2);
  });

  it('refuses a commit size other than 4 or 8 bytes', (t) => {
    const fd = pagesFile(t, [240]);
    assert.throws(() => native.readPages(fd, new Uint8Array(256), 256, 1, 120, 2), { code: 'EINVAL' });
    // A page too small to hold the commit word it would be judged by.
    assert.throws(() => native.readPages(fd, new Uint8Array(256), 12, 1, 4, 8), { code: 'EINVAL' });
    assert.throws(() => native.readPages(fd, new Uint8Array(256), 256, 1, '120' as unknown as number), TypeError);
  });
});
