// The full-screen terminal: alternate screen, hidden cursor, raw keys, and
// redraws that rewrite only the rows that changed (a full redraw after a
// resize). restore() puts the terminal back (raw mode off, cursor shown,
// alternate screen off) and is safe to call any number of times; it also
// runs from the process's exit, so an exception that ends the process does
// not leave the terminal raw.

import fs from 'node:fs';
import { ansiLine } from './ansi.js';
import type { GridSize, Line } from './layout.js';

const ENTER = '\x1b[?1049h\x1b[?25l\x1b[2J\x1b[H';
const LEAVE = '\x1b[0m\x1b[?25h\x1b[?1049l';

export interface TerminalHandlers {
  /** Raw input (a chunk may hold several keys). */
  onInput(chunk: string): void;
  /** The terminal changed size: everything will be redrawn on the next draw(). */
  onResize(): void;
}

export class TerminalScreen {
  readonly #out: NodeJS.WriteStream;
  readonly #in: NodeJS.ReadStream;
  #rows: string[] = [];
  #active = false;
  #rawSet = false;
  #handlers: TerminalHandlers | null = null;

  constructor(output: NodeJS.WriteStream = process.stdout, input: NodeJS.ReadStream = process.stdin) {
    this.#out = output;
    this.#in = input;
  }

  get size(): GridSize {
    return { columns: this.#out.columns || 80, rows: this.#out.rows || 24 };
  }

  get active(): boolean {
    return this.#active;
  }

  start(handlers: TerminalHandlers): void {
    if (this.#active) return;
    this.#active = true;
    this.#handlers = handlers;
    process.on('exit', this.#restoreAtExit);
    this.#out.on('resize', this.#resized);
    if (this.#in.isTTY) {
      this.#in.setRawMode(true);
      this.#rawSet = true;
    }
    this.#in.setEncoding('utf8');
    this.#in.on('data', this.#input);
    this.#in.resume();
    this.#out.write(ENTER);
    this.#rows = [];
  }

  /** Draws the lines, rewriting only rows that differ from the last draw. */
  draw(lines: readonly Line[]): void {
    if (!this.#active) return;
    let out = '';
    const rows = this.size.rows;
    for (let i = 0; i < rows; i++) {
      const text = i < lines.length ? ansiLine(trimLine(lines[i] as Line)) : '';
      if (this.#rows[i] === text) continue;
      this.#rows[i] = text;
      out += `\x1b[${i + 1};1H${text}\x1b[K`;
    }
    this.#rows.length = rows;
    if (out !== '') this.#out.write(out);
  }

  /** Puts the terminal back as it was. Idempotent. */
  restore(): void {
    if (!this.#active) return;
    this.#active = false;
    process.off('exit', this.#restoreAtExit);
    this.#out.off('resize', this.#resized);
    this.#in.off('data', this.#input);
    if (this.#rawSet) {
      try {
        this.#in.setRawMode(false);
      } catch {
        // the terminal went away
      }
      this.#rawSet = false;
    }
    this.#in.pause();
    try {
      this.#out.write(LEAVE);
    } catch {
      // the terminal went away
    }
  }

  #input = (chunk: string | Buffer): void => {
    this.#handlers?.onInput(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
  };

  #resized = (): void => {
    this.#rows = [];
    if (this.#active) this.#out.write('\x1b[2J');
    this.#handlers?.onResize();
  };

  // At exit nothing asynchronous runs: write the sequences directly.
  #restoreAtExit = (): void => {
    if (!this.#active) return;
    this.#active = false;
    if (this.#rawSet) {
      try {
        this.#in.setRawMode(false);
      } catch {
        // the terminal went away
      }
    }
    const fd = (this.#out as { fd?: number }).fd;
    try {
      if (typeof fd === 'number') fs.writeSync(fd, LEAVE);
    } catch {
      // the terminal went away
    }
  };
}

/** Trailing unstyled spaces need not be written: the row is erased to its end. */
function trimLine(line: Line): Line {
  let end = line.length;
  while (end > 0) {
    const span = line[end - 1]!;
    if (span.style !== undefined || span.text.trimEnd() !== '') break;
    end--;
  }
  if (end === 0) return [];
  const last = line[end - 1]!;
  const kept = line.slice(0, end - 1);
  return last.style === undefined ? [...kept, { text: last.text.trimEnd() }] : line.slice(0, end);
}
