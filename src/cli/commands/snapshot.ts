// tracering snapshot [-B NAME] DIR: consumes a trace array's buffers into a
// recording directory laid out like tracefs, decodable elsewhere with
// `tracering report DIR`. Written as DIR.tmp and renamed when complete;
// what a killed run consumed stays readable in DIR.tmp.

import { resolve } from 'node:path';
import { record } from '../../pipeline/record.js';
import { SnapshotSink } from '../../sinks/snapshot-sink.js';
import type { CommandScope } from '../command-scope.js';
import { printJson, table } from '../format.js';
import { targetUsage } from '../target.js';
import { UsageError, parseChoice, parseCommandArgs } from '../usage.js';

export const usage = `usage: tracering snapshot [-B NAME] [--mode M] [--no-kallsyms] [--json] DIR

Consumes every CPU buffer into DIR (new or empty), laid out like tracefs:
format files, saved_cmdlines, saved_tgids, printk_formats, trace_clock,
buffer_subbuf_size_kb, per_cpu/cpuN/{trace_pipe_raw,stats}, kallsyms.gz.
Without -B, the top-level buffer (its settings are left alone).

${targetUsage}
  --mode M        read (default: pages exactly as the kernel formats them), mmap or auto
  --no-kallsyms   do not store /proc/kallsyms with the capture
  --json          print the summary as JSON`;

export async function run(argv: string[], scope: CommandScope): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      instance: { type: 'string', short: 'B' },
      tracefs: { type: 'string' },
      mode: { type: 'string' },
      'no-kallsyms': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    usage,
  );
  if (positionals.length !== 1) throw new UsageError(`snapshot takes one directory\n\n${usage}`);
  const mode = parseChoice(values.mode, '--mode', ['auto', 'mmap', 'read'] as const, 'read');
  const sink = new SnapshotSink(resolve(positionals[0] as string), values['no-kallsyms'] ? { kallsyms: false } : {});
  const summary = await record({
    ...(values.tracefs !== undefined ? { tracefs: values.tracefs } : {}),
    ...(values.instance !== undefined ? { instance: values.instance } : { topLevel: true }),
    drain: true,
    mode,
    signal: scope.signal,
    sinks: [sink],
    staging: { policy: 'block' },
    onNote: (n) => process.stderr.write(`tracering: ${n}\n`),
  });
  const cpus = summary.cpus.map((c) => ({ cpu: c.cpu, events: c.events, subbufs: c.subbufs, lost: c.lost }));
  const formats = sink.formats;
  if (values.json) printJson({ dir: sink.path, cpus, formats });
  else {
    process.stdout.write(
      `${table(
        ['cpu', 'events', 'subbufs', 'lost'],
        cpus.map((c) => [c.cpu, c.events, c.subbufs, c.lost]),
      )}\nwrote ${sink.path} (${formats} event formats)\n`,
    );
  }
  return 0;
}
