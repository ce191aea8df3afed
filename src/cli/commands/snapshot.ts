// tracering snapshot [-B NAME] DIR: consumes the buffers into a directory
// laid out like tracefs, decodable elsewhere with `tracering report DIR`.

import { resolve } from 'node:path';
import { Tracefs } from '../../kernel/tracefs.js';
import { writeSnapshot } from '../../recording/snapshot.js';
import type { CommandScope } from '../command-scope.js';
import { printJson, table } from '../format.js';
import { openTarget, targetOptions, targetUsage } from '../target.js';
import { UsageError, parseCommandArgs } from '../usage.js';

export const usage = `usage: tracering snapshot [-B NAME] [--no-kallsyms] [--json] DIR

Consumes every CPU buffer into DIR (new or empty), laid out like tracefs:
format files, saved_cmdlines, saved_tgids, printk_formats, trace_clock,
buffer_subbuf_size_kb, per_cpu/cpuN/{trace_pipe_raw,stats}, kallsyms.gz.

${targetUsage}
  --no-kallsyms   do not store /proc/kallsyms with the capture
  --json          print the summary as JSON`;

export async function run(argv: string[], scope: CommandScope): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { ...targetOptions, 'no-kallsyms': { type: 'boolean' }, json: { type: 'boolean' } },
    usage,
  );
  if (positionals.length !== 1) throw new UsageError(`snapshot takes one directory\n\n${usage}`);
  const array = openTarget(values, scope);
  const tracefsRoot = Tracefs.locate(values.tracefs === undefined ? {} : { root: values.tracefs }).root;
  const summary = writeSnapshot(array, resolve(positionals[0] as string), {
    tracefsRoot,
    kallsyms: !values['no-kallsyms'],
  });
  if (values.json) printJson(summary);
  else {
    process.stdout.write(
      `${table(
        ['cpu', 'events', 'subbufs', 'lost'],
        summary.cpus.map((c) => [c.cpu, c.events, c.subbufs, c.lost]),
      )}\nwrote ${summary.dir} (${summary.formats} event formats)\n`,
    );
  }
  return 0;
}
