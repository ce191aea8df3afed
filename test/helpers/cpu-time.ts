// CPU time spent by this process, for "does not blow up" bounds: unlike
// wall-clock time it is not stretched when other processes share the CPUs
// (on a loaded 2-CPU machine wall time ran 15x the CPU time), so the bound
// can stay tight enough to catch a superlinear blow-up.

/** Milliseconds of CPU (user + system, all threads of this process) that `fn` took. */
export function cpuMs(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}
