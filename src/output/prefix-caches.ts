// Caches of what repeats at the start of every output line, as bytes,
// shared by the kernel-text and JSON Lines writers.

import { Lit } from '../decode/text-out.js';
import type { TaskNames } from './task-names.js';

const PID_SLOTS = 4096; // power of two

/**
 * Text per pid (it names the pid's comm), direct-mapped by pid; entries are
 * dropped when the task names change (tasks.version).
 */
export class PidTextCache {
  readonly #tasks: TaskNames;
  readonly #make: (pid: number) => string;
  readonly #pid = new Int32Array(PID_SLOTS);
  readonly #set = new Uint8Array(PID_SLOTS);
  readonly #text: Lit[] = new Array<Lit>(PID_SLOTS);
  #version: number;

  constructor(tasks: TaskNames, make: (pid: number) => string) {
    this.#tasks = tasks;
    this.#make = make;
    this.#version = tasks.version;
  }

  get(pid: number): Lit {
    const v = this.#tasks.version;
    if (v !== this.#version) {
      this.#set.fill(0);
      this.#version = v;
    }
    const slot = pid & (PID_SLOTS - 1);
    let text = this.#text[slot];
    if (this.#set[slot] === 0 || this.#pid[slot] !== pid || text === undefined) {
      text = new Lit(this.#make(pid));
      this.#text[slot] = text;
      this.#pid[slot] = pid;
      this.#set[slot] = 1;
    }
    return text;
  }
}

/** The five latency columns per (flags, preempt count), as bytes, filled on first use. */
export class LatencyColumns {
  readonly #render: (flags: number, preemptCount: number) => string;
  readonly #bytes = new Uint8Array(65536 * 5);
  readonly #set = new Uint8Array(65536);

  constructor(render: (flags: number, preemptCount: number) => string) {
    this.#render = render;
  }

  /** Stores the five bytes at `p` (8 reserved); returns the end. */
  put(u: Uint8Array, d: DataView, p: number, flags: number, preemptCount: number): number {
    const key = ((flags & 0xff) << 8) | (preemptCount & 0xff);
    const table = this.#bytes;
    const at = key * 5;
    if (this.#set[key] === 0) {
      const s = this.#render(flags, preemptCount);
      for (let k = 0; k < 5; k++) table[at + k] = s.charCodeAt(k);
      this.#set[key] = 1;
    }
    d.setInt32(p, table[at]! | (table[at + 1]! << 8) | (table[at + 2]! << 16) | (table[at + 3]! << 24), true);
    u[p + 4] = table[at + 4]!;
    return p + 5;
  }
}
