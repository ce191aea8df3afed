// Opening per_cpu/cpuN/trace_pipe_raw for exclusive consumption.
//
// All consumers of a per-CPU buffer share one read position in the kernel,
// so a second consumer silently steals events (kernel-abi.md §11.11).
// tracering readers take an exclusive flock on the file: two tracering
// consumers of the same buffer refuse each other with a clear error. Other
// tools do not lock; they are looked for in /proc and reported as warnings.

import fs from 'node:fs';
import { ConcurrentReaderError, CpuBufferMissingError, WarningCode, type WarningHandler } from '../errors.js';
import { native } from '../native.js';
import { findBufferUsers, usersOfCpu } from './buffer-users.js';
import { rethrowFs } from './fs-errors.js';
import type { TraceArray } from './trace-array.js';

export function openTracePipeRaw(array: TraceArray, cpu: number): number {
  const path = array.cpuFile(cpu, 'trace_pipe_raw');
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CpuBufferMissingError(cpu, `${array.label} has no CPU ${cpu} (${path} does not exist)`, { cause: error });
    }
    rethrowFs(error, path, 'open');
  }
  let locked: boolean;
  try {
    locked = native.flock(fd, true, false);
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
  if (!locked) {
    fs.closeSync(fd);
    throw new ConcurrentReaderError(
      cpu,
      `CPU ${cpu} of the ${array.label} is already being consumed by another tracering reader; ` +
        'two consumers would steal events from each other',
    );
  }
  return fd;
}

/**
 * Warns about other processes consuming the same CPU buffers (trace_pipe,
 * read(), mmap). One scan of /proc serves every CPU: it reads each
 * process's maps and fd links, so a scan per CPU cost N times that.
 */
export function warnOtherConsumers(array: TraceArray, cpus: readonly number[], onWarning: WarningHandler): void {
  if (cpus.length === 0) return;
  const all = findBufferUsers(array.path, { excludePid: process.pid });
  for (const cpu of cpus) {
    const others = usersOfCpu(all, cpu);
    if (others.length === 0) continue;
    const who = others.map((u) => `pid ${u.pid} (${u.how} ${u.file.slice(array.path.length + 1)})`).join(', ');
    onWarning({
      code: WarningCode.concurrentReader,
      cpu,
      message: `CPU ${cpu} of the ${array.label} has other consumers: ${who}. They share the kernel's read position and will take events from this reader.`,
    });
  }
}
