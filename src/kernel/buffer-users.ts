// Who else uses a trace array's buffers. The kernel gives every consumer one
// shared read position, so a second consumer silently steals events. What
// can be seen from userspace: mappings in /proc/<pid>/maps and open fds in
// /proc/<pid>/fd. Both need the privileges tracing needs anyway (root).

import fs from 'node:fs';

/** A process that holds a per-CPU buffer (open or mapped). */
export interface BufferUser {
  pid: number;
  /** The tracefs file the process maps or has open. */
  file: string;
  how: 'mapped' | 'open';
}

const CONSUMER_FILE = /\/(per_cpu\/cpu\d+\/trace_pipe_raw|trace_pipe|per_cpu\/cpu\d+\/trace_pipe)$/;

function pids(): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0) out.push(pid);
  }
  return out;
}

/** The consuming file `file` takes events of `cpu` (trace_pipe takes every CPU's). */
function usesCpu(file: string, cpu: number): boolean {
  return file.endsWith('/trace_pipe') || file.includes(`/per_cpu/cpu${cpu}/`);
}

/** The users among `users` (one scan of every CPU) that take events of `cpu`. */
export function usersOfCpu(users: readonly BufferUser[], cpu: number): BufferUser[] {
  return users.filter((u) => usesCpu(u.file, cpu));
}

function consumerFileOf(arrayPath: string, file: string): boolean {
  if (!file.startsWith(`${arrayPath}/`)) return false;
  const rest = file.slice(arrayPath.length);
  // "/per_cpu/..." or "/trace_pipe": a nested instance path would start with /instances/.
  return CONSUMER_FILE.test(rest) && !rest.startsWith('/instances/');
}

/**
 * Processes that map or hold open a consuming file (trace_pipe,
 * per_cpu/cpuN/trace_pipe_raw) of the trace array at `arrayPath`, optionally
 * only for one CPU. Processes that vanish or deny access are skipped.
 */
export function findBufferUsers(arrayPath: string, options: { cpu?: number; excludePid?: number } = {}): BufferUser[] {
  const users: BufferUser[] = [];
  const wantCpu = options.cpu;
  const matchesCpu = (file: string) => wantCpu === undefined || usesCpu(file, wantCpu);
  for (const pid of pids()) {
    if (pid === options.excludePid) continue;
    let maps = '';
    try {
      maps = fs.readFileSync(`/proc/${pid}/maps`, 'utf8');
    } catch {
      continue;
    }
    const mapped = new Set<string>();
    for (const line of maps.split('\n')) {
      const slash = line.indexOf('/');
      if (slash < 0) continue;
      const file = line.slice(slash);
      if (consumerFileOf(arrayPath, file) && matchesCpu(file)) mapped.add(file);
    }
    for (const file of mapped) users.push({ pid, file, how: 'mapped' });
    let fds: string[] = [];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    const open = new Set<string>();
    for (const fd of fds) {
      let target: string;
      try {
        target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (consumerFileOf(arrayPath, target) && matchesCpu(target) && !mapped.has(target)) open.add(target);
    }
    for (const file of open) users.push({ pid, file, how: 'open' });
  }
  return users;
}

/** Pids that map any per-CPU buffer of the trace array. */
export function findMappingPids(arrayPath: string, cpu?: number): number[] {
  const seen = new Set<number>();
  for (const u of findBufferUsers(arrayPath, cpu === undefined ? {} : { cpu })) {
    if (u.how === 'mapped') seen.add(u.pid);
  }
  return [...seen];
}
