// tracering's own CPU use between two readings, in percent of one core:
// process.cpuUsage() counts every thread of the process (the capture
// worker too), user and system time.

export class SelfCpuMeter {
  #cpu = process.cpuUsage();
  #wall = performance.now();

  /** Percent of one core used since the previous call (or construction). */
  read(): number {
    const cpu = process.cpuUsage();
    const wall = performance.now();
    const usedUs = cpu.user - this.#cpu.user + (cpu.system - this.#cpu.system);
    const wallMs = wall - this.#wall;
    this.#cpu = cpu;
    this.#wall = wall;
    return wallMs > 0 ? usedUs / 10 / wallMs : 0;
  }
}
