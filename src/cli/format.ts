// Plain-text tables for human output.
import fs from 'node:fs';

export function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  return cells
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  '))
    .join('\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/**
 * A synchronous writer of bytes to stdout: whole chunks even when stdout is
 * a non-blocking pipe (written before it returns: the caller may reuse
 * them), and a quiet exit when the reader goes away (`tracering report DIR | head`).
 */
export function stdoutBytesWriter(): (bytes: Uint8Array) => void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  return (bytes) => {
    let done = 0;
    while (done < bytes.length) {
      try {
        done += fs.writeSync(1, bytes, done, bytes.length - done);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') process.exit(0);
        if (code !== 'EAGAIN') throw error;
        Atomics.wait(pause, 0, 0, 1);
      }
    }
  };
}
