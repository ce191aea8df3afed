// `printk_formats`: addresses of the constant strings that bprint (format)
// and bputs (string) events store instead of the text (kernel-abi.md §7.4).
//
// Lines: `0x<hex> : "<text>"`. The kernel (trace_printk.c t_show) escapes
// only newline (\n), tab (\t) and double quote (\"); a backslash is printed
// as is, so `\` followed by another character stays literal.

import { MalformedInputError } from '../errors.js';
import { type Int, big } from './int64.js';

export const PRINTK_FORMATS_LIMITS = {
  maxBytes: 64 << 20,
  maxEntries: 1 << 20,
} as const;

/** The kernel's printk_formats: the strings that trace_printk and bprint events refer to by address. */
export class PrintkFormats {
  readonly #byAddress: Map<bigint, string>;

  private constructor(map: Map<bigint, string>) {
    this.#byAddress = map;
  }

  /** A table without formats. */
  static empty(): PrintkFormats {
    return new PrintkFormats(new Map());
  }

  /** Parses a printk_formats file. */
  static parse(text: string): PrintkFormats {
    if (text.length > PRINTK_FORMATS_LIMITS.maxBytes) throw new MalformedInputError('printk_formats: input too large');
    const map = new Map<bigint, string>();
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.length === 0) continue;
      const m = /^0x([0-9a-fA-F]{1,16}) : "/.exec(line);
      if (m === null || !line.endsWith('"') || line.length < m[0].length + 1) {
        throw new MalformedInputError(`printk_formats line ${i + 1}: expected 0x<address> : "<text>", got "${line.slice(0, 80)}"`);
      }
      if (map.size >= PRINTK_FORMATS_LIMITS.maxEntries) throw new MalformedInputError('printk_formats: too many entries');
      const body = line.slice(m[0].length, -1);
      map.set(BigInt(`0x${m[1]!}`), unescape(body));
    }
    return new PrintkFormats(map);
  }

  get size(): number {
    return this.#byAddress.size;
  }

  /** The string stored at `address`, or undefined. */
  get(address: Int): string | undefined {
    return this.#byAddress.get(BigInt.asUintN(64, big(address)));
  }
}

function unescape(body: string): string {
  if (!body.includes('\\')) return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\' && i + 1 < body.length) {
      const n = body[i + 1]!;
      if (n === 'n') {
        out += '\n';
        i++;
        continue;
      }
      if (n === 't') {
        out += '\t';
        i++;
        continue;
      }
      if (n === '"') {
        out += '"';
        i++;
        continue;
      }
    }
    out += c;
  }
  return out;
}
