// Running the built CLI (dist/, built by `npm test`'s pretest step).

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';

const root = new URL('../../', import.meta.url).pathname;
export const cliPath = `${root}dist/cli/main.js`;

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function ensureBuilt(): void {
  if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: run npm run build (npm test does it)`);
}

export function runCli(args: string[], timeoutMs = 60_000): CliResult {
  ensureBuilt();
  // SIGKILL on timeout: a wedged child must not outlive the test.
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * runCli() in a mount namespace of its own where `recordsDir` stands in for
 * /run/tracering/instances, the owner records of tracering instances: a
 * killed run's record moved there is seen by this run only, so another
 * tracering run on the machine (another suite's `tracering reset`) cannot
 * adopt and remove that instance first.
 */
export function runCliWithOwnerRecords(recordsDir: string, args: string[], timeoutMs = 60_000): CliResult {
  ensureBuilt();
  const script = 'mount --bind "$0" /run/tracering/instances && exec "$@"';
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', script, recordsDir, process.execPath, cliPath, ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 1 << 28,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr ?? String(r.error ?? '') };
}

export function startCli(args: string[]): ChildProcess {
  ensureBuilt();
  return spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}
