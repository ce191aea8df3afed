// The trace array a command works on: the top level, or -B NAME (an
// instance, created if absent and then removed when the command ends).

import type { TraceArray } from '../kernel/trace-array.js';
import { Tracefs } from '../kernel/tracefs.js';
import type { CommandScope } from './command-scope.js';

export const targetOptions = {
  instance: { type: 'string', short: 'B' },
  tracefs: { type: 'string' },
} as const;

export const targetUsage = `  -B NAME         use tracefs instance NAME (created if absent, and then removed at exit)
  --tracefs DIR   tracefs mount point (default: found in /proc/mounts, mounted if absent)`;

export function openTarget(values: { instance?: string | undefined; tracefs?: string | undefined }, scope: CommandScope): TraceArray {
  const tracefs = Tracefs.locate(values.tracefs === undefined ? {} : { root: values.tracefs });
  if (values.instance === undefined) return tracefs.topLevel;
  const inst = tracefs.openInstance(values.instance);
  if (inst.created) scope.defer(() => inst.remove());
  return inst;
}
