// Writer failures: output paths that cannot be written, a full disk, a
// killed writer. Each gives a coded OutputError (with the system's code),
// and no file ever stands under the final name.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { OutputError, UnsupportedError } from '../../src/errors.js';
import { TraceDat, TraceDatWriter, listLeftovers, removeLeftovers, zstdCanCompress } from '../../src/tracedat/index.js';
import { PAGE, makeRestoreDir, metadataFromDirectory, rawPages, tempDir } from './support.js';

const work = tempDir('writer-errors');
const restore = makeRestoreDir();
const meta = metadataFromDirectory(restore.dir, restore.kallsyms);
const mounts: string[] = [];

after(() => {
  for (const m of mounts) spawnSync('umount', [m]);
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(join(restore.dir, '..'), { recursive: true, force: true });
});

function isOutputError(errno: string) {
  return (e: unknown) => e instanceof OutputError && e.code === 'ERR_OUTPUT' && e.errno === errno;
}

function nothingUnder(out: string): void {
  assert.equal(fs.existsSync(out) && !fs.statSync(out).isDirectory(), false, `${out} exists`);
  assert.deepEqual(listLeftovers(out).files, []);
}

/** A tmpfs of `size` bytes (optionally read-only), or a skip reason when mounting is not allowed here. */
function tmpfs(name: string, options: string): string | { skip: string } {
  const dir = join(work, name);
  fs.mkdirSync(dir);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, `tracering-${name}`, dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    if (process.env['CI'] === 'true') throw new Error(`mount tmpfs failed under CI: ${r.stderr}`);
    return { skip: `cannot mount a tmpfs here (${r.stderr.trim() || r.error?.message})` };
  }
  mounts.push(dir);
  return dir;
}

describe('trace.dat writer failures', () => {
  test('a directory that does not exist: ERR_OUTPUT with ENOENT, nothing written', () => {
    const out = join(work, 'missing', 'trace.dat');
    assert.throws(() => TraceDatWriter.create(out, { pageSize: PAGE }), isOutputError('ENOENT'));
    assert.equal(fs.existsSync(join(work, 'missing')), false);
  });

  test('a path through a regular file: ENOTDIR', () => {
    const file = join(work, 'plain-file');
    fs.writeFileSync(file, 'x');
    const out = join(file, 'trace.dat');
    assert.throws(() => TraceDatWriter.create(out, { pageSize: PAGE }), isOutputError('ENOTDIR'));
    assert.equal(fs.readFileSync(file, 'utf8'), 'x');
  });

  test('an output path that is a directory: EISDIR, the directory untouched', () => {
    const out = join(work, 'a-directory.dat');
    fs.mkdirSync(out);
    assert.throws(() => TraceDatWriter.create(out, { pageSize: PAGE }), isOutputError('EISDIR'));
    assert.deepEqual(fs.readdirSync(out), []);
    nothingUnder(out);
  });

  test('a read-only file system: EROFS', (t) => {
    const dir = tmpfs('ro', 'ro,size=1m');
    if (typeof dir !== 'string') return t.skip(dir.skip);
    const out = join(dir, 'trace.dat');
    assert.throws(() => TraceDatWriter.create(out, { pageSize: PAGE }), isOutputError('EROFS'));
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  test('a full disk while recording, and at finish: ENOSPC, temp files removed, no final file', (t) => {
    const dir = tmpfs('full', 'size=64k');
    if (typeof dir !== 'string') return t.skip(dir.skip);
    // While recording: the spool hits the limit.
    const out = join(dir, 'trace.dat');
    const w = TraceDatWriter.create(out, { pageSize: PAGE });
    const big = new Uint8Array(32 * PAGE);
    assert.throws(() => {
      for (let i = 0; i < 4; i++) w.writePages('', 0, big);
    }, isOutputError('ENOSPC'));
    // The writer is failed from then on, with the same error.
    assert.throws(() => w.writePages('', 0, rawPages(0)), isOutputError('ENOSPC'));
    w.abort();
    nothingUnder(out);
    assert.deepEqual(fs.readdirSync(dir), []);
    // At finish: the pages fit, the assembled file does not.
    const w2 = TraceDatWriter.create(out, { pageSize: PAGE });
    w2.writePages('', 0, rawPages(0));
    w2.writePages('', 1, rawPages(1));
    const filler = join(dir, 'filler');
    const fd = fs.openSync(filler, 'w');
    try {
      for (;;) fs.writeSync(fd, new Uint8Array(PAGE));
    } catch (error) {
      assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
    assert.throws(() => w2.finish({ ...meta, cpuCount: 2 }), isOutputError('ENOSPC'));
    nothingUnder(out);
    assert.deepEqual(fs.readdirSync(dir), ['filler']);
  });

  test('abort() removes the temp file and every spool, and leaves an existing output alone', () => {
    const out = join(work, 'aborted.dat');
    fs.writeFileSync(out, 'previous');
    const w = TraceDatWriter.create(out, { pageSize: PAGE, buffers: [{ name: '' }, { name: 'inst' }] });
    w.writePages('', 0, rawPages(0));
    w.writePages('inst', 1, rawPages(1));
    assert.deepEqual(listLeftovers(out).files.map((f) => f.slice(work.length + 1)), ['aborted.dat.tmp', 'aborted.dat.tmp.1.cpu1', 'aborted.dat.tmp.cpu0']);
    w.abort();
    w.abort();
    assert.deepEqual(listLeftovers(out).files, []);
    assert.equal(fs.readFileSync(out, 'utf8'), 'previous');
    assert.throws(() => w.writePages('', 0, rawPages(0)), { code: 'ERR_CLOSED' });
  });

  test('one writer per output: a second is refused while the first runs, and its files show as live', () => {
    const out = join(work, 'locked.dat');
    const w = TraceDatWriter.create(out, { pageSize: PAGE });
    w.writePages('', 0, rawPages(0));
    assert.throws(() => TraceDatWriter.create(out, { pageSize: PAGE }), isOutputError('EBUSY'));
    assert.equal(listLeftovers(out).live, true);
    assert.throws(() => removeLeftovers(out), isOutputError('EBUSY'));
    const result = w.finish({ ...meta, cpuCount: 1 });
    assert.equal(result.bytes, fs.statSync(out).size);
    assert.deepEqual(listLeftovers(out), { files: [], live: false });
    using dat = TraceDat.open(out);
    assert.equal(dat.top!.cpus.length, 1);
  });

  test('after SIGKILL mid-recording: only temp files, listed as left over (not live); the next run can remove them', () => {
    const out = join(work, 'killed.dat');
    const script = join(work, 'killed.ts');
    const writer = JSON.stringify(new URL('../../src/tracedat/index.ts', import.meta.url).pathname);
    fs.writeFileSync(
      script,
      `import { TraceDatWriter } from ${writer};
const w = TraceDatWriter.create(${JSON.stringify(out)}, { pageSize: ${PAGE} });
w.writePages('', 0, new Uint8Array(${PAGE * 3}));
w.writePages('', 1, new Uint8Array(${PAGE}));
process.kill(process.pid, 'SIGKILL');
`,
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.signal, 'SIGKILL', r.stderr);
    assert.equal(fs.existsSync(out), false);
    const left = listLeftovers(out);
    assert.deepEqual(left.files.map((f) => f.slice(work.length + 1)), ['killed.dat.tmp', 'killed.dat.tmp.cpu0', 'killed.dat.tmp.cpu1']);
    assert.equal(left.live, false);
    assert.equal(fs.statSync(`${out}.tmp.cpu0`).size, PAGE * 3);
    assert.deepEqual(removeLeftovers(out), left.files);
    assert.deepEqual(listLeftovers(out).files, []);
  });

  test(`zstd writing ${zstdCanCompress ? 'works on this Node' : 'is a coded ERR_UNSUPPORTED on this Node'}; v6 with zstd and bad options are refused`, () => {
    const out = join(work, 'zstd.dat');
    if (zstdCanCompress) {
      const w = TraceDatWriter.create(out, { pageSize: PAGE, compression: 'zstd' });
      w.writePages('', 0, rawPages(0));
      w.finish({ ...meta, cpuCount: 1 });
      using dat = TraceDat.open(out);
      assert.equal(dat.compression?.name, 'zstd');
    } else {
      assert.throws(() => TraceDatWriter.create(out, { pageSize: PAGE, compression: 'zstd' }), (e: unknown) => e instanceof UnsupportedError && e.code === 'ERR_UNSUPPORTED');
      nothingUnder(out);
    }
    assert.throws(() => TraceDatWriter.create(out, { pageSize: PAGE, version: 6, compression: 'zstd' }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => TraceDatWriter.create(out, { pageSize: 1000 }), { code: 'ERR_INVALID_ARG_VALUE' });
    const w = TraceDatWriter.create(join(work, 'partial.dat'), { pageSize: PAGE });
    assert.throws(() => w.writePages('', 0, new Uint8Array(100)), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => w.writePages('nope', 0, rawPages(0)), { code: 'ERR_INVALID_ARG_VALUE' });
    w.writePages('', 3, rawPages(0));
    assert.throws(() => w.finish({ ...meta, cpuCount: 2 }), { code: 'ERR_INVALID_ARG_VALUE' });
    nothingUnder(join(work, 'partial.dat'));
  });
});
