// Lifetime of one CLI command: cleanups that must run however it ends
// (normal return, error, Ctrl-C, SIGTERM, a closed terminal: SIGHUP), most
// recent first. The first signal aborts `signal` so a streaming command
// can stop and report; a second one runs the cleanups and exits at once.

/** What ends a command: Ctrl-C, kill, and a terminal that went away (its events must not stay on). */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export class CommandScope {
  readonly #controller = new AbortController();
  readonly #cleanups: Array<() => void> = [];
  #signals = 0;
  #closed = false;

  #stdoutError: NodeJS.ErrnoException | null = null;

  constructor() {
    for (const s of STOP_SIGNALS) process.on(s, this.#onSignal);
    process.on('exit', this.#onExit);
    // Asynchronous write errors of stdout (a reader that went away, a full
    // disk under a redirect) arrive as events: without a listener they kill
    // the process with a stack trace and no cleanup. They stop the command
    // like a signal does; the listener stays, for writes that fail later.
    process.stdout.on('error', this.#onStdoutError);
  }

  /** The first write error of stdout, if one happened. */
  get stdoutError(): NodeJS.ErrnoException | null {
    return this.#stdoutError;
  }

  #onStdoutError = (error: NodeJS.ErrnoException): void => {
    this.#stdoutError ??= error;
    if (!this.#controller.signal.aborted) this.#controller.abort(error);
  };

  /** Aborted on the first SIGINT/SIGTERM. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Registers a cleanup; cleanups run in reverse order of registration. */
  defer(cleanup: () => void): void {
    this.#cleanups.push(cleanup);
  }

  /** Runs every cleanup; returns the first error (others are reported). */
  close(): unknown {
    if (this.#closed) return undefined;
    this.#closed = true;
    for (const s of STOP_SIGNALS) process.off(s, this.#onSignal);
    process.off('exit', this.#onExit);
    let first: unknown;
    while (this.#cleanups.length > 0) {
      const cleanup = this.#cleanups.pop() as () => void;
      try {
        cleanup();
      } catch (error) {
        if (first === undefined) first = error;
        else process.stderr.write(`tracering: cleanup failed: ${(error as Error).message}\n`);
      }
    }
    return first;
  }

  #onSignal = (signal: NodeJS.Signals): void => {
    this.#signals++;
    if (this.#signals === 1 && !this.#controller.signal.aborted) {
      this.#controller.abort(signal);
      return;
    }
    const error = this.close();
    if (error) process.stderr.write(`tracering: ${(error as Error).message}\n`);
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15));
  };

  #onExit = (): void => {
    this.close();
  };
}
