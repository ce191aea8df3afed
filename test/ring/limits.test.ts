// The kernel's limits, mirrored: no resize while mapped, one reader (and
// one writer) at a time; and hostile ring files fail cleanly.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { AppRing } from '../../src/ring/app-ring.js';

const root = new URL('../../', import.meta.url).pathname;
const shm = fs.existsSync('/dev/shm') ? '/dev/shm' : '/tmp';
const tmpRing = (tag: string) => {
  const path = `${shm}/tracering-limits-${process.pid}-${tag}`;
  fs.rmSync(path, { force: true });
  return path;
};

describe('ring limits', () => {
  it('cannot be resized while mapped; can once unmapped', () => {
    const path = tmpRing('resize');
    try {
      const ring = AppRing.create({ path, subbufs: 8 });
      assert.throws(() => AppRing.resize(path, { subbufs: 16 }), (e: unknown) => {
        assert.equal((e as { code?: string }).code, 'ERR_BUFFER_MAPPED');
        assert.ok((e as { pids: number[] }).pids.includes(process.pid));
        return true;
      });
      ring.close();
      const bigger = AppRing.resize(path, { subbufs: 16 });
      assert.equal(bigger.geometry.nrSubbufs, 16);
      bigger.close();
    } finally {
      fs.rmSync(path, { force: true });
    }
  });

  it('refuses a second reader and a second writer; a released role can be taken', () => {
    using ring = AppRing.create({ subbufs: 4 });
    ring.reader();
    assert.throws(() => ring.reader(), { code: 'ERR_CONCURRENT_READER' });
    ring.releaseReader();
    ring.reader();
    const writer = ring.writer();
    assert.throws(() => ring.writer(), { code: 'ERR_RING_WRITER_BUSY' });
    writer.close();
    ring.writer().close();
  });

  it("takes over the claim of a reader process that died", async () => {
    const path = tmpRing('crash');
    try {
      const ring = AppRing.create({ path, subbufs: 4 });
      const script = `import('./src/ring/app-ring.ts').then(({ AppRing }) => { AppRing.open(${JSON.stringify(path)}).reader(); process.stdout.write('claimed\\n'); setInterval(() => {}, 1000); });`;
      const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
      await once(child.stdout, 'data');
      assert.throws(() => ring.reader(), { code: 'ERR_CONCURRENT_READER' });
      child.kill('SIGKILL');
      await once(child, 'exit');
      ring.reader(); // the dead process's claim is stale
      ring.close();
    } finally {
      fs.rmSync(path, { force: true });
    }
  });

  it('a record larger than a sub-buffer is a clear error', () => {
    using ring = AppRing.create({ subbufs: 4 });
    const w = ring.writer();
    assert.throws(() => w.reserve(5000), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.ok(w.reserve(4000) >= 0);
  });
});

describe('hostile ring files', () => {
  const cases: Array<[string, (good: Uint8Array) => Uint8Array]> = [
    ['random bytes', () => Uint8Array.from({ length: 65536 }, (_, i) => (i * 2654435761) >>> 24)],
    ['truncated', (good) => good.subarray(0, 20_000)],
    ['bad magic', (good) => {
      const b = good.slice();
      b.set([0xde, 0xad], 4096 * 5); // the trailer's magic word
      return b;
    }],
    ['geometry beyond the file', (good) => {
      const b = good.slice();
      new DataView(b.buffer).setUint32(12, 1_000_000, true);
      return b;
    }],
    ['meta page disagrees with trailer', (good) => {
      const b = good.slice();
      new DataView(b.buffer).setUint32(8, 8192, true);
      new DataView(b.buffer).setUint32(0, 8192, true);
      return b;
    }],
  ];
  for (const [name, damage] of cases) {
    it(`${name}: ERR_MALFORMED_INPUT, no crash`, () => {
      const src = tmpRing(`good-${name.replace(/\W/g, '')}`);
      const bad = `${src}.bad`;
      try {
        AppRing.create({ path: src, subbufs: 4 }).close();
        fs.writeFileSync(bad, damage(new Uint8Array(fs.readFileSync(src))));
        assert.throws(() => AppRing.open(bad), (e: unknown) => ['ERR_MALFORMED_INPUT', 'ERR_INVALID_ARG_VALUE'].includes((e as { code: string }).code));
      } finally {
        fs.rmSync(src, { force: true });
        fs.rmSync(bad, { force: true });
      }
    });
  }

  it('a corrupt schema area is reported, not trusted', () => {
    using ring = AppRing.create({ subbufs: 4 });
    ring.defineEvent({ name: 'ok', fields: [['x', 'u32']] });
    const g = ring.geometry;
    const schemaStart = g.subbufSize * (1 + g.nrSubbufs) + g.ctrlBytes;
    ring.memory.view.setUint32(schemaStart, 0x7fffffff, true);
    assert.throws(() => ring.events(), { code: 'ERR_MALFORMED_INPUT' });
  });
});
