// tracering convert IN OUT: a recording directory or a trace.dat (ours or
// trace-cmd's) into the format OUT's name (or --format) says: trace.dat,
// Perfetto, a recording directory, Parquet, text or JSON Lines.

import { resolve } from 'node:path';
import { openInput } from '../../pipeline/open-input.js';
import '../../pipeline/inputs.js';
import { runFileSinks } from '../../pipeline/run-file.js';
import { type SinkOptions, createSink, outputKindOf } from '../../sinks/factory.js';
import '../../sinks/formats.js';
import type { CommandScope } from '../command-scope.js';
import { printJson } from '../format.js';
import { UsageError, parseChoice, parseCommandArgs } from '../usage.js';

export const usage = `usage: tracering convert IN OUT [--format F] [--kallsyms FILE] [--file-version 6|7]
                         [--compression zstd|none] [--host NAME] [--json]

Converts IN (a recording directory, or a trace.dat from tracering or
trace-cmd) into OUT. OUT's kind comes from its name: *.dat (trace.dat),
*.perfetto-trace or *.pftrace (Perfetto), *.txt (kernel text), *.json
(JSON Lines), a directory (a recording); --format parquet writes Parquet
segments under the directory OUT.

  --format F        dat, perfetto, snapshot, parquet, text or json
  --kallsyms FILE   kernel symbols to use (default: those IN carries)
  --file-version V  trace.dat version 6 or 7 (default 7)
  --compression C   trace.dat compression zstd or none
  --host NAME       Parquet: the host the rows belong to (default: this machine)
  --json            print what was written as JSON`;

export async function run(argv: string[], scope: CommandScope): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      format: { type: 'string' },
      kallsyms: { type: 'string' },
      'file-version': { type: 'string' },
      compression: { type: 'string' },
      host: { type: 'string' },
      json: { type: 'boolean' },
    },
    usage,
  );
  if (positionals.length !== 2) throw new UsageError(`convert takes IN and OUT\n\n${usage}`);
  const [inPath, outPath] = positionals.map((p) => resolve(p)) as [string, string];
  const input = openInput(inPath, values.kallsyms !== undefined ? { kallsyms: values.kallsyms } : {});
  scope.defer(() => input.close());
  const notes: string[] = [];
  const fileVersion = parseChoice(values['file-version'], '--file-version', ['6', '7'] as const, '7');
  const options: SinkOptions = {
    fileVersion: fileVersion === '6' ? 6 : 7,
    ...(values.compression !== undefined ? { compression: parseChoice(values.compression, '--compression', ['zstd', 'none'] as const, 'none') } : {}),
    ...(values.host !== undefined ? { host: values.host } : {}),
    onNote: (n) => notes.push(n),
  };
  const sink = await createSink(outputKindOf(outPath, values.format), outPath, options);
  const reports = await runFileSinks(input, [sink]);
  if (values.json) printJson({ outputs: reports, notes });
  else {
    for (const n of notes) process.stderr.write(`tracering: ${n}\n`);
    for (const r of reports) process.stderr.write(`wrote ${r.path ?? 'stdout'} (${r.kind}, ${r.events} events, ${(r.bytes / 1048576).toFixed(2)} MB)\n`);
  }
  return 0;
}
