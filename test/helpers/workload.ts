// A bounded, varied workload for live tests that trace many event systems:
// fork/exec and pipes, file I/O with fsync and direct I/O (at several I/O
// priorities) in a scratch directory, file locks, interval timers, loopback
// TCP and UDP over IPv4 and IPv6 (including refused connections: resets and
// ICMP errors), signals, timers and sleeps, large allocations
// (mmap/munmap), and trace_marker / trace_marker_raw writes.
//
// Bounded twice: at most `rounds` rounds, and no new round after `maxMs`;
// every child process has a kill timeout and every socket step a deadline.

import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TraceArray } from '../../src/kernel/trace-array.js';

export interface WorkloadOptions {
  /** Scratch directory (created by the caller, removed by the caller). */
  dir: string;
  /** Receives trace_marker / trace_marker_raw writes. */
  array: TraceArray;
  rounds: number;
  /** No new round starts after this long. */
  maxMs: number;
}

export interface WorkloadSummary {
  rounds: number;
  ms: number;
}

// Hang bounds, not expectations: on a loaded machine a dd with fsync or a
// loopback round trip can take seconds, and a child killed early would
// silently leave its events out of the workload.
const CHILD_TIMEOUT_MS = 30_000;
const STEP_TIMEOUT_MS = 30_000;

/** Runs `/bin/sh -c script` to completion (killed after CHILD_TIMEOUT_MS). */
function shell(script: string, cwd: string): void {
  spawnSync('/bin/sh', ['-c', script], { cwd, timeout: CHILD_TIMEOUT_MS, stdio: 'ignore' });
}

/** Rejects after `ms`, so that no network step can hang the test. */
function withDeadline<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`workload: ${what} took over ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** One TCP connection over loopback: send `bytes`, read the echo, close. */
async function tcpRoundTrip(host: string, bytes: number): Promise<void> {
  const server = net.createServer((sock) => sock.pipe(sock));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, resolve);
    });
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve, reject) => {
      const client = net.connect({ host, port }, () => client.end(Buffer.alloc(bytes, 0x61)));
      let got = 0;
      client.on('data', (d) => (got += d.length));
      client.once('error', reject);
      client.once('close', () => (got === bytes ? resolve() : reject(new Error(`tcp echo: ${got} of ${bytes} bytes`))));
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A TCP connection refused by a closed port (a reset, an error report). */
async function tcpRefused(host: string): Promise<void> {
  const port = await closedPort(host);
  await new Promise<void>((resolve, reject) => {
    const client = net.connect({ host, port });
    client.once('connect', () => reject(new Error(`tcp port ${port} unexpectedly open`)));
    client.once('error', () => resolve());
  });
}

/** A port nothing listens on: bound, then released. */
function closedPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A connected UDP socket sending to a closed port: ICMP port unreachable, ECONNREFUSED. */
async function udpRefused(type: 'udp4' | 'udp6', host: string): Promise<void> {
  const port = await closedPort(host);
  const sock = dgram.createSocket(type);
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.connect(port, host, () => resolve());
    });
    await new Promise<void>((resolve) => {
      sock.once('error', () => resolve());
      sock.send(Buffer.from('anyone?'));
      // The refusal may not come back as an error on every kernel: do not wait for it.
      setTimeout(resolve, 20);
    });
  } finally {
    await new Promise<void>((resolve) => sock.close(() => resolve()));
  }
}

// File locks (flock and POSIX record locks) and an interval timer that fires.
const PERL_LOCKS_AND_TIMERS = `
use Fcntl qw(:flock F_SETLK F_WRLCK F_UNLCK SEEK_SET);
use Time::HiRes qw(setitimer ITIMER_REAL);
open(my $f, ">", "locked") or die;
flock($f, LOCK_EX) or die; flock($f, LOCK_UN);
my $lock = pack("ssx4qqlx4", F_WRLCK, SEEK_SET, 0, 0, 0);
fcntl($f, F_SETLK, $lock) or die;
my $unlock = pack("ssx4qqlx4", F_UNLCK, SEEK_SET, 0, 0, 0);
fcntl($f, F_SETLK, $unlock) or die;
my $fired = 0; $SIG{ALRM} = sub { $fired++ };
setitimer(ITIMER_REAL, 0.002);
select(undef, undef, undef, 0.01) for 1 .. 3;
unlink "locked";
exit($fired ? 0 : 3);
`;

/** A few UDP datagrams a socket sends to itself. */
async function udpRoundTrip(type: 'udp4' | 'udp6', host: string, count: number): Promise<void> {
  const sock = dgram.createSocket(type);
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, host, resolve);
    });
    const { port } = sock.address();
    let got = 0;
    const all = new Promise<void>((resolve) => {
      sock.on('message', () => {
        if (++got === count) resolve();
      });
    });
    for (let i = 0; i < count; i++) sock.send(Buffer.from(`datagram ${i}`), port, host);
    await all;
  } finally {
    await new Promise<void>((resolve) => sock.close(() => resolve()));
  }
}

/** A child that waits to be signalled: SIGUSR1 (trapped), then SIGTERM. */
async function signals(): Promise<void> {
  const child = spawn('/bin/sh', ['-c', 'trap "" USR1; sleep 2 & wait; sleep 2 & wait'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  try {
    await sleep(5);
    child.kill('SIGUSR1');
    await sleep(5);
    child.kill('SIGTERM');
    await exited;
  } finally {
    clearTimeout(killer);
  }
}

function files(dir: string, round: number): void {
  const path = join(dir, `f${round}`);
  const fd = fs.openSync(path, 'w+');
  try {
    for (let i = 0; i < 4; i++) fs.writeSync(fd, Buffer.alloc(16384, 0x30 + i));
    fs.fsyncSync(fd);
    fs.readSync(fd, Buffer.alloc(4096), 0, 4096, 0);
    fs.ftruncateSync(fd, 4096);
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(path, `${path}.old`);
  fs.mkdirSync(join(dir, `d${round}`));
  fs.symlinkSync(`${path}.old`, join(dir, `d${round}`, 'link'));
  fs.rmSync(join(dir, `d${round}`), { recursive: true });
  fs.unlinkSync(`${path}.old`);
}

/** One write; a full buffer in non-overwrite mode refuses it with EBADF. */
function mark(path: string, data: string | Uint8Array): void {
  try {
    fs.appendFileSync(path, data);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EBADF') throw error;
  }
}

function markers(array: TraceArray, round: number): void {
  mark(array.file('trace_marker'), `workload round ${round}`);
  mark(array.file('trace_marker'), `two\nlines ${round}\n`);
  const raw = Buffer.alloc(4 + 12);
  raw.writeUInt32LE(0x1234 + round, 0);
  for (let i = 4; i < raw.length; i++) raw[i] = (i * 17 + round) & 0xff;
  mark(array.file('trace_marker_raw'), raw);
}

export async function runWorkload(options: WorkloadOptions): Promise<WorkloadSummary> {
  const { dir, array } = options;
  const start = performance.now();
  let round = 0;
  while (round < options.rounds && performance.now() - start < options.maxMs) {
    markers(array, round);
    shell('echo pipe | cat | wc -c >/dev/null; ls -l / >/dev/null; true', dir);
    shell(`dd if=/dev/zero of=dd${round} bs=64k count=4 conv=fsync 2>/dev/null; cat dd${round} >/dev/null; rm -f dd${round}`, dir);
    // Direct I/O (iomap) at the three I/O priority classes, on a pinned CPU.
    const ioClass = (round % 3) + 1;
    shell(`ionice -c ${ioClass} -n 4 taskset -c ${round % 2} dd if=/dev/zero of=dio${round} bs=4k count=8 oflag=direct,dsync 2>/dev/null; rm -f dio${round}`, dir);
    spawnSync('perl', ['-e', PERL_LOCKS_AND_TIMERS], { cwd: dir, timeout: CHILD_TIMEOUT_MS, stdio: 'ignore' });
    files(dir, round);
    await withDeadline(tcpRoundTrip('127.0.0.1', 20000), 'tcp4');
    await withDeadline(tcpRoundTrip('::1', 3000), 'tcp6');
    await withDeadline(udpRoundTrip('udp4', '127.0.0.1', 3), 'udp4');
    await withDeadline(udpRoundTrip('udp6', '::1', 3), 'udp6');
    await withDeadline(tcpRefused(round % 2 ? '::1' : '127.0.0.1'), 'tcp refused');
    await withDeadline(udpRefused(round % 2 ? 'udp6' : 'udp4', round % 2 ? '::1' : '127.0.0.1'), 'udp refused');
    await withDeadline(signals(), 'signals');
    // Large allocations are mmap()ed and munmap()ed by the allocator.
    const big = Buffer.allocUnsafeSlow(4 << 20);
    big.fill(round);
    await sleep(2);
    round++;
  }
  return { rounds: round, ms: performance.now() - start };
}
