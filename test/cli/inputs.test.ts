// What the command line says when its inputs or outputs are not what they
// should be: a coded one-line error (exit 1), a coded warning, never
// "internal error" with a stack trace (exit 70). Runs the built CLI
// (dist/) on copies of the sched capture, into /dev/full and a 64 KiB
// tmpfs (unmounted on every path), as `nobody`, and against the kernel's
// limit on instance names.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { type CliResult, cliPath, runCli } from '../helpers/cli.js';
import { kernelOrSkip } from '../helpers/kernel.js';
import { FIXTURES } from '../decode/support.js';

const SCHED = path.join(FIXTURES, 'sched', 'tracefs');
const KALLSYMS = path.join(FIXTURES, 'kallsyms.gz');
const dirs: string[] = [];
const mounts: string[] = [];
after(() => {
  for (const m of mounts) spawnSync('umount', [m]);
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function copyOf(src = SCHED): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracering-cli-in-'));
  dirs.push(dir);
  fs.cpSync(src, dir, { recursive: true });
  return dir;
}

/** A coded error on one line: `tracering: … [CODE]`, status 1, no stack trace. */
function assertCoded(r: CliResult, code: string | RegExp, message?: RegExp): void {
  assert.equal(r.status, 1, `status ${r.status}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, r.stderr);
  const last = r.stderr.trimEnd().split('\n').pop() ?? '';
  const m = /^tracering: .* \[(ERR_[A-Z_]+)\]$/.exec(last);
  assert.ok(m, `not a coded error line: ${JSON.stringify(r.stderr)}`);
  if (typeof code === 'string') assert.equal(m[1], code, last);
  else assert.match(m[1]!, code, last);
  if (message) assert.match(last, message);
}

/** Runs the CLI with stdout going to `fd`. */
function runToFd(args: string[], fd: number): CliResult {
  const r = spawnSync(process.execPath, [cliPath, ...args], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  return { status: r.status, stdout: '', stderr: r.stderr };
}

describe('report: bad recordings give coded errors and warnings', () => {
  it('trace_pipe_raw that is a directory: ERR_FILE_ACCESS naming it', () => {
    const dir = copyOf();
    const file = path.join(dir, 'per_cpu/cpu1/trace_pipe_raw');
    fs.rmSync(file);
    fs.mkdirSync(file);
    assertCoded(runCli(['report', dir]), 'ERR_FILE_ACCESS', new RegExp(`cannot read ${file}: is a directory, not a file \\(EISDIR\\)`));
  });

  it('events/header_page that is a directory: ERR_FILE_ACCESS', () => {
    const dir = copyOf();
    fs.rmSync(path.join(dir, 'events/header_page'));
    fs.mkdirSync(path.join(dir, 'events/header_page'));
    assertCoded(runCli(['report', dir]), 'ERR_FILE_ACCESS', /EISDIR/);
  });

  it('tracering.json containing null: ERR_MALFORMED_INPUT', () => {
    const dir = copyOf();
    fs.writeFileSync(path.join(dir, 'tracering.json'), 'null');
    assertCoded(runCli(['report', dir, '--json']), 'ERR_MALFORMED_INPUT', /tracering\.json: not a JSON object/);
  });

  it('a truncated trace_pipe_raw: a coded warning and exit 0; --strict exits 1 with ERR_CORRUPT_RECORDING after printing', () => {
    const dir = copyOf();
    fs.truncateSync(path.join(dir, 'per_cpu/cpu1/trace_pipe_raw'), 9000);
    const r = runCli(['report', dir, '--kallsyms', KALLSYMS]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^tracering: warning: per_cpu\/cpu1\/trace_pipe_raw ends in a partial sub-buffer .* \[TRACERING_TRUNCATED_RECORDING\]$/m);
    assert.match(r.stderr, /^tracering: warning: recording damaged: CPU 1 .*stats counts 472 \[TRACERING_(CORRUPT_SUBBUF|TRUNCATED_RECORDING)\]$/m);
    const strict = runCli(['report', dir, '--kallsyms', KALLSYMS, '--strict']);
    assertCoded(strict, 'ERR_CORRUPT_RECORDING', /the recording is damaged/);
    assert.equal(strict.stdout, r.stdout);
    assert.ok(strict.stdout.split('\n').length > 100);
  });

  it('a whole recording under --strict exits 0', () => {
    const r = runCli(['report', SCHED, '--kallsyms', KALLSYMS, '--strict']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, fs.readFileSync(path.join(FIXTURES, 'sched', 'expected', 'trace'), 'utf8'));
    assert.equal(r.stderr, '');
  });

  it('--kallsyms naming a directory: a coded warning, addresses as hex; a missing recording: coded', () => {
    const r = runCli(['report', path.join(FIXTURES, 'markers', 'tracefs'), '--kallsyms', os.tmpdir()]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /TRACERING_SYMBOLS/);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    assert.match(r.stdout, /: 0xffffffff[0-9a-f]{8}: hello from userspace$/m);
    assertCoded(runCli(['report', path.join(os.tmpdir(), 'no-such-recording-here')]), 'ERR_FILE_ACCESS', /ENOENT/);
  });
});

describe('output that cannot be written', () => {
  it('report > /dev/full: ENOSPC as ERR_OUTPUT', () => {
    const fd = fs.openSync('/dev/full', 'w');
    try {
      assertCoded(runToFd(['report', SCHED, '--kallsyms', KALLSYMS], fd), 'ERR_OUTPUT', /no space left on the device \(ENOSPC\)/);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('a 64 KiB tmpfs: report > file there and snapshot into it end with coded errors', (t) => {
    if (process.getuid?.() !== 0) {
      if (process.env.CI === 'true') throw new Error('CI=true requires root for the tmpfs test');
      t.skip('mounting a tmpfs needs root');
      return;
    }
    const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'tracering-tiny-'));
    dirs.push(mnt);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tracering-tiny', mnt], { encoding: 'utf8' });
    assert.equal(m.status, 0, m.stderr);
    mounts.push(mnt);
    try {
      const fd = fs.openSync(path.join(mnt, 'out.txt'), 'w');
      try {
        // ~100 KB of JSON Lines into 64 KiB.
        assertCoded(runToFd(['report', SCHED, '--json', '--kallsyms', KALLSYMS], fd), 'ERR_OUTPUT', /ENOSPC/);
      } finally {
        fs.closeSync(fd);
      }
      fs.rmSync(path.join(mnt, 'out.txt'));
      const tracefs = kernelOrSkip(t);
      if (tracefs) {
        // snapshot stores kallsyms.gz (far more than 64 KiB).
        const name = `trtest-enospc-${process.pid}`;
        const r = runCli(['snapshot', '-B', name, path.join(mnt, 'snap')]);
        assertCoded(r, /^ERR_/, /ENOSPC|space/);
        assert.equal(tracefs.instanceExists(name), false);
      }
    } finally {
      const u = spawnSync('umount', [mnt], { encoding: 'utf8' });
      assert.equal(u.status, 0, u.stderr);
      mounts.splice(mounts.indexOf(mnt), 1);
    }
  });

  it('snapshot into a path that is a file: coded', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracering-notdir-'));
    dirs.push(dir);
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, 'x');
    const name = `trtest-notdir-${process.pid}`;
    assertCoded(runCli(['snapshot', '-B', name, file]), /^ERR_/);
    assertCoded(runCli(['snapshot', '-B', name, path.join(file, 'below')]), /^ERR_/);
    assert.equal(tracefs.instanceExists(name), false);
  });
});

describe('messages about tracefs and instances', () => {
  it('as nobody: tracefs is mounted but not readable (ERR_TRACEFS_PERMISSION), not "not mounted"', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    if (process.getuid?.() !== 0) {
      t.skip('needs root to switch to nobody');
      return;
    }
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cliPath, 'stats'], { encoding: 'utf8', timeout: 60_000 });
    assertCoded({ status: r.status, stdout: r.stdout, stderr: r.stderr }, 'ERR_TRACEFS_PERMISSION', new RegExp(`tracefs is mounted at ${tracefs.root} but uid 65534 may not read it`));
  });

  it('as nobody, a recording file it may not read: ERR_FILE_ACCESS (EACCES)', (t) => {
    if (process.getuid?.() !== 0) {
      t.skip('needs root to switch to nobody');
      return;
    }
    const dir = copyOf();
    fs.chmodSync(dir, 0o755);
    const file = path.join(dir, 'per_cpu/cpu0/trace_pipe_raw');
    fs.chmodSync(file, 0o000);
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cliPath, 'report', dir, '--kallsyms', KALLSYMS], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assertCoded({ status: r.status, stdout: r.stdout, stderr: r.stderr }, 'ERR_FILE_ACCESS', new RegExp(`cannot open ${file}: permission denied \\(EACCES\\)`));
  });

  it('an instance name longer than the kernel allows is blamed on its length; 255 bytes, the kernel\'s limit, work', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    const long = `trtest-${'a'.repeat(293)}`;
    assertCoded(runCli(['stats', '-B', long]), 'ERR_INVALID_ARG_VALUE', /instance name is 300 characters long; the kernel allows at most 255/);
    assertCoded(runCli(['stats', '-B', 'trtest-bad/name']), 'ERR_INVALID_ARG_VALUE', /letters, digits/);
    // The kernel itself refuses 256 bytes (ENAMETOOLONG) and takes 255.
    const tooLong = path.join(tracefs.root, 'instances', `trtest-${'b'.repeat(249)}`);
    assert.throws(() => fs.mkdirSync(tooLong), (e: NodeJS.ErrnoException) => e.code === 'ENAMETOOLONG');
    const longest = `trtest-${process.pid}-`.padEnd(255, 'c');
    const r = runCli(['stats', '-B', longest, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(Array.isArray((JSON.parse(r.stdout) as { cpus?: unknown }).cpus) || r.stdout.length > 0);
    assert.equal(tracefs.instanceExists(longest), false);
  });
});
