// Styled lines as terminal text: ANSI SGR colours (a red loss, an inverse
// header), or plain text for --once and for pipes.

import type { Line, Style } from './layout.js';

const SGR: Record<Style, string> = {
  bold: '1',
  dim: '2',
  red: '31',
  yellow: '33',
  green: '32',
  cyan: '36',
  inverse: '7',
  loss: '1;31',
};

/** One line with SGR sequences; every styled span resets after itself. */
export function ansiLine(line: Line): string {
  let out = '';
  for (const span of line) out += span.style === undefined ? span.text : `\x1b[${SGR[span.style]}m${span.text}\x1b[0m`;
  return out;
}

/** One line as plain text, trailing spaces removed. */
export function plainLine(line: Line): string {
  let out = '';
  for (const span of line) out += span.text;
  return out.trimEnd();
}

/** Lines as plain text, one per row, newline-terminated. */
export function plainText(lines: readonly Line[]): string {
  return lines.map((l) => `${plainLine(l)}\n`).join('');
}
