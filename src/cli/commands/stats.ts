// tracering stats [-B NAME] [--json]: each CPU's meta-page figures, read
// through the mapping (nothing is consumed).

import { CpuBufferMissingError } from '../../errors.js';
import { peekMetaPage } from '../../kernel/mapped-cpu-reader.js';
import type { CommandScope } from '../command-scope.js';
import { printJson, table } from '../format.js';
import { openTarget, targetOptions, targetUsage } from '../target.js';
import { parseCommandArgs } from '../usage.js';
import { AppRing } from '../../ring/app-ring.js';
import { ringUsage } from '../rings.js';

export const usage = `usage: tracering stats [-B NAME] [--json]
       tracering stats --ring PATH... [--json]

Prints each CPU buffer's meta page (struct trace_buffer_meta) as mapped, or
an application ring's (nothing is consumed).

${targetUsage}
${ringUsage}
  --json          one JSON object: {"cpus":[{"cpu":0,"entries":...}, ...]}
                  (with --ring: {"rings":[{"path":...,"entries":...}, ...]})`;

export async function run(argv: string[], scope: CommandScope): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    { ...targetOptions, json: { type: 'boolean' }, ring: { type: 'string', multiple: true } },
    usage,
  );
  if (values.ring !== undefined) return ringStats(values.ring, values.json === true);
  const array = openTarget(values, scope);
  const cpus = [];
  for (const cpu of array.cpus()) {
    try {
      const m = peekMetaPage(array, cpu);
      cpus.push({
        cpu,
        entries: m.entries,
        overrun: m.overrun,
        read: m.read,
        subbufSize: m.subbufSize,
        nrSubbufs: m.nrSubbufs,
        readerId: m.readerId,
        readerRead: m.readerRead,
        metaPageSize: m.metaPageSize,
      });
    } catch (error) {
      if (!(error instanceof CpuBufferMissingError)) throw error;
    }
  }
  if (values.json) {
    printJson({ cpus });
    return 0;
  }
  process.stdout.write(
    `${table(
      ['cpu', 'entries', 'overrun', 'read', 'unread', 'subbuf', 'subbufs', 'reader', 'reader.read', 'meta'],
      cpus.map((c) => [
        c.cpu,
        c.entries,
        c.overrun,
        c.read,
        c.entries - c.overrun - c.read,
        c.subbufSize,
        c.nrSubbufs,
        c.readerId,
        c.readerRead,
        c.metaPageSize,
      ]),
    )}\n`,
  );
  return 0;
}

/** The writer column: closed, none, NAME-TID, or NAME-TID (dead) for a writer that died holding the ring. */
function writerColumn(r: { writerClosed: boolean; writerTid: number; name: string; writerState: string }): string {
  if (r.writerTid === 0) return r.writerClosed ? 'closed' : 'none';
  return r.writerState === 'dead' ? `${r.name}-${r.writerTid} (dead)` : `${r.name}-${r.writerTid}`;
}

function ringStats(paths: readonly string[], json: boolean): number {
  const rings = paths.map((path) => {
    const ring = AppRing.open(path);
    try {
      return { path, name: ring.name, writerTid: ring.writerTid, ...ring.stats() };
    } finally {
      ring.close();
    }
  });
  if (json) {
    printJson({ rings });
    return 0;
  }
  process.stdout.write(
    `${table(
      ['ring', 'mode', 'entries', 'overrun', 'dropped', 'read', 'unread', 'subbuf', 'subbufs', 'reader', 'reader.read', 'writer'],
      rings.map((r) => [
        r.path,
        r.mode,
        r.entries,
        r.overrun,
        r.dropped,
        r.read,
        r.unread,
        r.subbufSize,
        r.nrSubbufs,
        r.readerId,
        r.readerRead,
        writerColumn(r),
      ]),
    )}\n`,
  );
  return 0;
}
