// Options shared by the commands that trace live (top), and -e/-f pairing.

import { parseArgs } from 'node:util';
import type { EventRequest } from '../kernel/session.js';
import { type OptionSpec, UsageError } from './usage.js';

export const liveOptions = {
  instance: { type: 'string', short: 'B' },
  tracefs: { type: 'string' },
  event: { type: 'string', short: 'e', multiple: true },
  filter: { type: 'string', short: 'f', multiple: true },
  ring: { type: 'string', multiple: true },
  delay: { type: 'string', short: 'd' },
  once: { type: 'boolean' },
  json: { type: 'boolean' },
  mode: { type: 'string' },
  duration: { type: 'string' },
  'staging-policy': { type: 'string' },
} as const;

export const liveUsage = `  --staging-policy P  drop-oldest (default) or block, when the view falls behind
  --tracefs DIR    tracefs mount point`;

/**
 * -e/-f pairs in command-line order: each -f belongs to the -e before it,
 * as in trace-cmd. `options` must declare event (-e) and filter (-f).
 */
export function eventRequests(argv: readonly string[], options: OptionSpec = liveOptions): EventRequest[] {
  const { tokens } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: false, tokens: true });
  const events: EventRequest[] = [];
  for (const t of tokens ?? []) {
    if (t.kind !== 'option') continue;
    if (t.name === 'event') events.push({ event: t.value ?? '' });
    else if (t.name === 'filter') {
      const last = events.at(-1);
      if (last === undefined) throw new UsageError('-f FILTER must follow the -e EVENT it filters');
      if (last.filter !== undefined) throw new UsageError(`-e ${last.event} has two filters; join them with && in one -f`);
      last.filter = t.value ?? '';
    }
  }
  return events;
}
