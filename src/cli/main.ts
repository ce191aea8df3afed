#!/usr/bin/env node
// tracering command-line entry: dispatches to src/cli/commands/*.

import nodeModule from 'node:module';
import { OutputClosedError, OutputError, TraceringError } from '../errors.js';
import { strayToCoded } from '../kernel/fs-errors.js';
import { CommandScope } from './command-scope.js';
import { UsageError } from './usage.js';

// V8's code cache for the command modules imported below: start-up is a
// fixed cost of every run. Node 22.1+ has it; on older Nodes this is a no-op.
try {
  (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
} catch {
  // an unwritable cache directory only costs the speed-up
}

interface Command {
  usage: string;
  run(argv: string[], scope: CommandScope): Promise<number>;
}

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  stats: { summary: "print each CPU buffer's meta page", load: () => import('./commands/stats.js') },
  drain: { summary: 'consume the buffers, report events and losses per CPU', load: () => import('./commands/drain.js') },
  stream: { summary: 'stream events, merged by time, as kernel text or JSON Lines', load: () => import('./commands/stream.js') },
  snapshot: { summary: 'consume the buffers into a directory laid out like tracefs', load: () => import('./commands/snapshot.js') },
  report: { summary: 'print a recording (or a live trace array) as kernel text or JSON', load: () => import('./commands/report.js') },
  convert: { summary: 'convert a recording or trace.dat into trace.dat, Perfetto, Parquet, text or JSON', load: () => import('./commands/convert.js') },
  list: { summary: 'list events (with formats), options, clocks, tracers, instances', load: () => import('./commands/list.js') },
  reset: { summary: 'reset instances; remove those left behind by killed runs', load: () => import('./commands/reset.js') },
  top: { summary: 'a live view of the buffers: rates, fill, losses, top events and tasks', load: () => import('./commands/top.js') },
  record: { summary: 'record events into trace.dat, Perfetto, Parquet or a recording directory', load: () => import('./commands/record.js') },
  types: { summary: "write TypeScript declarations of the kernel's events (typed fields for events())", load: () => import('./commands/types.js') },
};

const mainUsage = `usage: tracering <command> [options]

commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`)
  .join('\n')}

tracering <command> --help shows a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${mainUsage}\n`);
    return name === undefined ? 2 : 0;
  }
  const entry = commands[name];
  if (!entry) throw new UsageError(`unknown command ${JSON.stringify(name)}\n\n${mainUsage}`);
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  const scope = new CommandScope();
  let status = 1;
  try {
    status = await command.run(rest, scope);
  } finally {
    const error = scope.close();
    if (error !== undefined) throw error;
  }
  // Errors of the last writes arrive after them: wait for stdout to take everything.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  const stdoutError = scope.stdoutError;
  if (stdoutError !== null && stdoutError.code !== 'EPIPE') {
    throw new OutputError('<stdout>', `cannot write to standard output: ${stdoutError.message}`, stdoutError.code ?? null, { cause: stdoutError });
  }
  return status;
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (thrown: unknown) => {
    // A system error no command translated (EISDIR, ENOSPC on stdout...) is still the user's, not a bug.
    const error = strayToCoded(thrown);
    if (error instanceof OutputClosedError) {
      // `tracering report x | head`: the reader has what it wanted.
      process.exitCode = 0;
    } else if (error instanceof UsageError) {
      process.stderr.write(`tracering: ${error.message}\n`);
      process.exitCode = 2;
    } else if (error instanceof TraceringError) {
      process.stderr.write(`tracering: ${error.message} [${error.code}]\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`tracering: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 70;
    }
  },
);
