// Command-line parsing shared by the commands.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TraceringError } from '../errors.js';

/** Bad command-line usage: exit status 2. */
export class UsageError extends TraceringError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export type ParsedCommandArgs<O extends OptionSpec> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>
>;

export function parseCommandArgs<O extends OptionSpec>(argv: string[], options: O, usage: string): ParsedCommandArgs<O> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${usage}`);
  }
}

/** A positive number of seconds, as milliseconds. */
export function parseSeconds(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 365 * 86400) throw new UsageError(`${name} must be a positive number of seconds`);
  return Math.round(n * 1000);
}

export function parseChoice<T extends string>(value: string | undefined, name: string, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`${name} must be one of ${choices.join(', ')} (got ${JSON.stringify(value)})`);
  }
  return value as T;
}
