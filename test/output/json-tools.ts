// JSON as tools read it: jq (Debian's jq 1.6 reads numbers as doubles, so a
// bare 64-bit number comes back changed), and a scan for bare numbers a
// double does not hold.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const SAFE = (1n << 53n) - 1n;

/** Runs jq -c . on `text` (JSON Lines); null when jq is missing (then only outside CI). */
export function jq(text: string, filter = '.'): string | null {
  const r = spawnSync('jq', ['-c', filter], { input: text, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    if (process.env.CI === 'true') throw new Error('jq is required under CI');
    return null;
  }
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** Bare JSON numbers of a JSON text (outside strings) that a double does not hold exactly. */
export function unsafeNumbers(text: string): string[] {
  const out: string[] = [];
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    if (c === '-' || (c >= '0' && c <= '9')) {
      let j = i + 1;
      while (j < text.length && /[0-9.eE+-]/.test(text[j]!)) j++;
      const token = text.slice(i, j);
      if (!/^-?\d+$/.test(token) || BigInt(token) > SAFE || BigInt(token) < -SAFE) out.push(token);
      i = j - 1;
    }
  }
  return out;
}

/** Every line parses, jq reads every line back to the same values, and no bare number exceeds 2^53. */
export function assertToolsReadExactly(text: string): void {
  assert.deepEqual(unsafeNumbers(text), []);
  const ours = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);
  const back = jq(text);
  if (back === null) return;
  assert.deepEqual(back.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown), ours);
}
