// The command a recording traces (`record -- make`): started held at the
// door (a shell waiting to exec it), so its pid is known, and can be put in
// set_event_pid, before it runs its first instruction; released once
// tracing is on, so nothing it does is missed.

import type { ChildProcess } from 'node:child_process';
import { childProcess } from '../lazy-builtins.js';
import type { Writable } from 'node:stream';
import { TraceringError } from '../errors.js';

/** How a traced command ended. */
export interface CommandExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

// fd 3 is a pipe: the shell blocks reading it, then execs the command in
// its own process (same pid). A closed pipe without the go byte aborts.
const GATE = 'IFS= read -r go <&3 || exit 127; [ "$go" = go ] || exit 127; exec 3<&-; exec "$@"';

/** A command run under tracing: spawned held, released once tracing has started. */
export class TracedCommand {
  readonly pid: number;
  readonly argv: readonly string[];
  /** Settles when the command exits. */
  readonly exited: Promise<CommandExit>;
  readonly #child: ChildProcess;
  #released = false;

  private constructor(child: ChildProcess, argv: readonly string[]) {
    this.#child = child;
    this.argv = argv;
    this.pid = child.pid!;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  /** Starts `argv` held before exec. */
  static async spawn(argv: readonly string[]): Promise<TracedCommand> {
    if (argv.length === 0) throw new TraceringError('ERR_INVALID_ARG_VALUE', 'no command to run');
    const child = childProcess().spawn('/bin/sh', ['-c', GATE, 'tracering-gate', ...argv], {
      stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) =>
        reject(new TraceringError('ERR_COMMAND_FAILED', `cannot start ${argv[0]}: ${error.message}`, { cause: error })),
      );
    });
    return new TracedCommand(child, argv);
  }

  /** Lets the command run. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    const gate = this.#child.stdio[3] as Writable;
    gate.end('go\n');
  }

  /** Ends a command that was never released (or must stop): closes the gate, then SIGTERM. */
  cancel(): void {
    if (!this.#released) {
      this.#released = true;
      (this.#child.stdio[3] as Writable).destroy();
    }
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGTERM');
  }
}
