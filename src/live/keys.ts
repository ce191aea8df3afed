// Keys of the live view, from raw terminal input (raw mode: Ctrl-C arrives
// as a byte, not as SIGINT).

export type LiveCommand = 'quit' | 'pause' | 'zero' | 'sort' | 'events' | 'tasks' | 'help';

const KEYS: Readonly<Record<string, LiveCommand>> = {
  q: 'quit',
  Q: 'quit',
  '\x03': 'quit', // Ctrl-C
  p: 'pause',
  P: 'pause',
  ' ': 'pause',
  z: 'zero',
  Z: 'zero',
  s: 'sort',
  S: 'sort',
  e: 'events',
  E: 'events',
  t: 'tasks',
  T: 'tasks',
  '?': 'help',
  h: 'help',
  H: 'help',
};

/**
 * The commands in one chunk of input, in order. Escape sequences (arrows,
 * function keys) are skipped whole; anything else unknown is 'other'
 * (it closes the help).
 */
export function parseKeys(chunk: string): Array<LiveCommand | 'other'> {
  const out: Array<LiveCommand | 'other'> = [];
  for (let i = 0; i < chunk.length; i++) {
    const ch = chunk[i] as string;
    if (ch === '\x1b') {
      // ESC [ ... final byte, or ESC O x; a lone ESC is a key of its own.
      if (chunk[i + 1] === '[') {
        i += 2;
        while (i < chunk.length && !/[@-~]/.test(chunk[i] as string)) i++;
      } else if (chunk[i + 1] === 'O') {
        i += 2;
      } else {
        out.push('other');
      }
      continue;
    }
    out.push(KEYS[ch] ?? 'other');
  }
  return out;
}
