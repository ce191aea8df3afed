// per_cpu/cpuN/stats: the kernel's text counters for one CPU buffer.
//
//   entries: 0            unread events
//   overrun: 0            events lost by overwrite since reset
//   commit overrun: 0
//   bytes: 0
//   oldest event ts:     0.000000
//   now ts:   969.757203
//   dropped events: 0     events refused in non-overwrite mode
//   read events: 0        events consumed since reset

import { MalformedInputError } from '../errors.js';

/** A CPU's `per_cpu/cpuN/stats` file, parsed. */
export interface CpuStats {
  entries: number;
  overrun: number;
  commitOverrun: number;
  bytes: number;
  /** Kernel-formatted timestamps, kept as text ("969.757203", or counts for non-ns clocks). */
  oldestEventTs: string;
  nowTs: string;
  droppedEvents: number;
  readEvents: number;
}

const KEYS: Record<string, keyof CpuStats> = {
  entries: 'entries',
  overrun: 'overrun',
  'commit overrun': 'commitOverrun',
  bytes: 'bytes',
  'oldest event ts': 'oldestEventTs',
  'now ts': 'nowTs',
  'dropped events': 'droppedEvents',
  'read events': 'readEvents',
};

/** Parses a CPU's `stats` file. */
export function parseCpuStats(text: string): CpuStats {
  const stats: CpuStats = {
    entries: 0,
    overrun: 0,
    commitOverrun: 0,
    bytes: 0,
    oldestEventTs: '',
    nowTs: '',
    droppedEvents: 0,
    readEvents: 0,
  };
  let seen = 0;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = KEYS[line.slice(0, colon).trim()];
    if (!key) continue;
    const value = line.slice(colon + 1).trim();
    if (key === 'oldestEventTs' || key === 'nowTs') {
      stats[key] = value;
    } else {
      if (!/^\d+$/.test(value)) throw new MalformedInputError(`stats: bad value for ${key}: ${JSON.stringify(value)}`);
      stats[key] = Number(value);
    }
    seen++;
  }
  if (seen === 0) throw new MalformedInputError('stats: no counters found');
  return stats;
}
