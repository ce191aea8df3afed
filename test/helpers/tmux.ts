// Drives a terminal program in tmux for tests: a detached session of a
// given size on a private tmux server (its own socket, no user config), so
// tests never touch another tmux and killing the server ends everything.
// The session is killed on dispose (declare it with `using`) and, as a
// backstop, when the test process exits.

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface TmuxOptions {
  columns?: number;
  rows?: number;
  /** Environment of the command (added to the test's). */
  env?: Record<string, string>;
  cwd?: string;
}

const live = new Set<TmuxSession>();
process.on('exit', () => {
  for (const s of live) s.kill();
});

let serial = 0;

/** Whether tmux can be run here. */
export function tmuxAvailable(): boolean {
  return spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
}

/** Quotes a word for /bin/sh. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export class TmuxSession implements Disposable {
  readonly socket: string;
  readonly name = 'test';
  #killed = false;
  /** The server's socket file (tmux leaves it behind after kill-server). */
  #socketPath: string | null = null;

  private constructor(socket: string) {
    this.socket = socket;
  }

  /**
   * Starts `command` (a shell command line, run by /bin/sh) in a new
   * detached session. The pane stays open after the command exits (so its
   * last screen can be read); kill() ends it.
   */
  static start(command: string, options: TmuxOptions = {}): TmuxSession {
    const session = new TmuxSession(`trtest-${process.pid}-${++serial}`);
    const env = Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ');
    live.add(session);
    try {
      session.#tmux([
        'new-session', '-d', '-s', session.name,
        '-x', String(options.columns ?? 80), '-y', String(options.rows ?? 24),
        ...(options.cwd !== undefined ? ['-c', options.cwd] : []),
        `${env === '' ? '' : `env ${env} `}${command}`,
      ]);
      session.#socketPath = session.#tmux(['display-message', '-p', '-t', session.name, '#{socket_path}']).trim() || null;
      session.#tmux(['set-option', '-t', session.name, 'remain-on-exit', 'on']);
    } catch (error) {
      session.kill();
      throw error;
    }
    return session;
  }

  #tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TERM: process.env.TERM && process.env.TERM !== 'dumb' ? process.env.TERM : 'xterm-256color' },
    });
  }

  /** The visible screen, one string per row; with `escapes`, colours and attributes as SGR sequences. */
  capture(escapes = false): string[] {
    const text = this.#tmux(['capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', this.name]);
    const rows = text.split('\n');
    if (rows.at(-1) === '') rows.pop();
    return rows;
  }

  /** Types keys: tmux key names ('q', 'C-c', 'Enter') or, with `literal`, the text as is. */
  sendKeys(keys: string, literal = false): void {
    this.#tmux(['send-keys', '-t', this.name, ...(literal ? ['-l'] : []), keys]);
  }

  resize(columns: number, rows: number): void {
    this.#tmux(['resize-window', '-t', this.name, '-x', String(columns), '-y', String(rows)]);
  }

  /** A tmux format of the pane: '#{alternate_on}', '#{cursor_flag}', '#{pane_dead}', '#{pane_dead_status}', '#{pane_pid}'. */
  display(format: string): string {
    return this.#tmux(['display-message', '-p', '-t', this.name, format]).trim();
  }

  /** The command has exited (the pane stays, remain-on-exit). */
  get dead(): boolean {
    return this.display('#{pane_dead}') === '1';
  }

  /**
   * Polls the screen until `predicate` holds; returns that screen. The
   * bound is generous (a busy machine): it is a hang detector, not a timing check.
   */
  async waitFor(predicate: (rows: string[]) => boolean, what: string, timeoutMs = 20_000, escapes = false): Promise<string[]> {
    const deadline = performance.now() + timeoutMs;
    let rows: string[] = [];
    for (;;) {
      rows = this.capture(escapes);
      if (predicate(rows)) return rows;
      if (performance.now() > deadline) {
        throw new Error(`tmux: timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${rows.join('\n')}`);
      }
      await sleep(100);
    }
  }

  /** Ends the session and its server (idempotent). */
  kill(): void {
    if (this.#killed) return;
    this.#killed = true;
    live.delete(this);
    spawnSync('tmux', ['-L', this.socket, '-f', '/dev/null', 'kill-server'], { stdio: 'ignore', timeout: 10_000 });
    if (this.#socketPath !== null) fs.rmSync(this.#socketPath, { force: true });
  }

  [Symbol.dispose](): void {
    this.kill();
  }
}
