// Tokenizer for the C expression subset of `print fmt:` lines.
//
// Input comes from format files of arbitrary origin: the lexer is linear,
// bounds the token count and literal lengths, and rejects anything that is
// not part of C expressions (no preprocessor, no comments in practice).

import { MalformedInputError } from '../../errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

export type TokenKind = 'ident' | 'number' | 'char' | 'string' | 'punct' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Identifier name, punctuator, or the decoded string / number text. */
  readonly text: string;
  /** Numbers and characters: the value. */
  readonly value: bigint;
  /** Number suffix: count of L and presence of U. */
  readonly unsigned: boolean;
  readonly longs: number;
  /** True for hex/octal literals (their type may be unsigned without U). */
  readonly nonDecimal: boolean;
  /** Offset in the source, for messages. */
  readonly pos: number;
}

export const LEXER_LIMITS = {
  maxInput: 256 * 1024,
  maxTokens: 64 * 1024,
  maxIdentifier: 256,
} as const;

// Longest first.
const PUNCTUATORS = [
  '<<=', '>>=', '...',
  '->', '++', '--', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '+=', '-=', '*=', '/=', '%=', '&=', '^=', '|=',
  '(', ')', '[', ']', '{', '}', ',', ';', '?', ':', '.', '+', '-', '*', '/', '%', '<', '>', '&', '^', '|', '!', '~', '=',
];

export class PrintFmtSyntaxError extends MalformedInputError {}

// Character classes by code (the lexer runs once per format, in cold code:
// comparisons cost far less there than a regex test per character).
const isIdentStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
const isIdentPart = (c: number) => isIdentStart(c) || (c >= 48 && c <= 57);
const isDigit = (c: number) => c >= 48 && c <= 57;
const isHexDigit = (c: number) => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
/** u U l L */
const isIntSuffix = (c: number) => c === 117 || c === 85 || c === 108 || c === 76;

/** Punctuators by first character, longest first. */
const PUNCT_BY_FIRST = new Map<number, string[]>();
for (const p of PUNCTUATORS) {
  const list = PUNCT_BY_FIRST.get(p.charCodeAt(0)) ?? [];
  list.push(p);
  PUNCT_BY_FIRST.set(p.charCodeAt(0), list);
}

function syntax(message: string, pos: number): never {
  throw new PrintFmtSyntaxError(`print fmt: ${message} at offset ${pos}`);
}

function tok(kind: TokenKind, text: string, pos: number, value = 0n, unsigned = false, longs = 0, nonDecimal = false): Token {
  return { kind, text, value, unsigned, longs, nonDecimal, pos };
}

/** Decodes the escape at `src[i]` (just after the backslash); returns [char code, next index]. */
function escape(src: string, i: number): [number, number] {
  const c = src[i];
  switch (c) {
    case 'n':
      return [10, i + 1];
    case 't':
      return [9, i + 1];
    case 'r':
      return [13, i + 1];
    case 'a':
      return [7, i + 1];
    case 'b':
      return [8, i + 1];
    case 'f':
      return [12, i + 1];
    case 'v':
      return [11, i + 1];
    case 'e':
      return [27, i + 1];
    case '\\':
    case '"':
    case "'":
    case '?':
      return [c.charCodeAt(0), i + 1];
    case 'x': {
      let j = i + 1;
      let v = 0;
      while (j < src.length && j < i + 3 && isHexDigit(src.charCodeAt(j))) v = v * 16 + parseInt(src[j++]!, 16);
      if (j === i + 1) syntax('\\x without hex digits', i);
      return [v, j];
    }
    default:
      if (c !== undefined && c >= '0' && c <= '7') {
        let j = i;
        let v = 0;
        while (j < src.length && j < i + 3 && src[j]! >= '0' && src[j]! <= '7') v = v * 8 + (src.charCodeAt(j++) - 48);
        return [v & 0xff, j];
      }
      if (c === undefined) syntax('unterminated escape', i);
      // Unknown escapes keep the character (gcc warns and does the same).
      return [c.charCodeAt(0), i + 1];
  }
}

export function tokenize(src: string): Token[] {
  if (src.length > LEXER_LIMITS.maxInput) syntax(`input too long (${src.length} characters)`, 0);
  const out: Token[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    if (out.length >= LEXER_LIMITS.maxTokens) syntax('too many tokens', i);
    const code = src.charCodeAt(i);
    if (code === 32 || code === 9 || code === 10 || code === 13) {
      i++;
      continue;
    }
    const c = src[i]!;
    const start = i;
    if (isIdentStart(code)) {
      while (i < n && isIdentPart(src.charCodeAt(i))) i++;
      if (i - start > LEXER_LIMITS.maxIdentifier) syntax('identifier too long', start);
      out.push(tok('ident', src.slice(start, i), start));
      continue;
    }
    if (isDigit(code)) {
      let digits: string;
      let radix = 10;
      if (c === '0' && (src[i + 1] === 'x' || src[i + 1] === 'X')) {
        i += 2;
        const d0 = i;
        while (i < n && isHexDigit(src.charCodeAt(i))) i++;
        digits = src.slice(d0, i);
        if (digits.length === 0) syntax('0x without digits', start);
        radix = 16;
      } else if (c === '0') {
        const d0 = i;
        while (i < n && isDigit(src.charCodeAt(i))) i++;
        digits = src.slice(d0, i);
        if (/[89]/.test(digits)) syntax(`invalid octal number ${digits}`, start);
        radix = 8;
      } else {
        const d0 = i;
        while (i < n && isDigit(src.charCodeAt(i))) i++;
        digits = src.slice(d0, i);
      }
      if (digits.length > 64) syntax('number too long', start);
      let unsigned = false;
      let longs = 0;
      while (i < n && isIntSuffix(src.charCodeAt(i))) {
        if (src[i] === 'u' || src[i] === 'U') {
          if (unsigned) syntax('repeated U suffix', i);
          unsigned = true;
        } else longs++;
        i++;
      }
      if (longs > 2) syntax('too many L suffixes', start);
      if (i < n && (isIdentPart(src.charCodeAt(i)) || src.charCodeAt(i) === 46)) syntax(`unsupported number "${src.slice(start, i + 1)}"`, start);
      // Small decimal literals (nearly all of them) without BigInt parsing.
      const value =
        radix === 10 && digits.length <= 15 ? BigInt(Number(digits)) : radix === 16 ? BigInt(`0x${digits}`) : radix === 8 ? BigInt(`0o${digits}`) : BigInt(digits);
      if (value >= 1n << 64n) syntax('integer literal exceeds 64 bits', start);
      out.push(tok('number', src.slice(start, i), start, value, unsigned, longs, radix !== 10));
      continue;
    }
    if (c === '"') {
      i++;
      // Escapes denote bytes, other characters their UTF-8 encoding: collect
      // bytes and decode once, so "\xc3\xa9" and "é" both give "é".
      let s = '';
      let bytes: number[] | null = null;
      for (;;) {
        if (i >= n) syntax('unterminated string literal', start);
        const d = src[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\') {
          const [code, next] = escape(src, i + 1);
          if (code >= 0x80 && bytes === null) bytes = Array.from(encoder.encode(s));
          if (bytes !== null) bytes.push(code);
          else s += String.fromCharCode(code);
          i = next;
        } else {
          if (bytes !== null) for (const b of encoder.encode(d)) bytes.push(b);
          else s += d;
          i++;
        }
      }
      if (bytes !== null) s = decoder.decode(Uint8Array.from(bytes));
      out.push(tok('string', s, start));
      continue;
    }
    if (c === "'") {
      i++;
      let code: number;
      if (src[i] === '\\') {
        [code, i] = escape(src, i + 1);
      } else if (i < n && src[i] !== "'") {
        code = src.charCodeAt(i);
        i++;
      } else syntax('empty character literal', start);
      if (src[i] !== "'") syntax('unterminated character literal', start);
      i++;
      // A plain char is signed on the kernels we read (x86, arm64 differ; only ASCII appears).
      out.push(tok('char', src.slice(start, i), start, BigInt(code > 127 ? code - 256 : code)));
      continue;
    }
    let matched: string | null = null;
    for (const p of PUNCT_BY_FIRST.get(code) ?? []) {
      if (p.length === 1 || src.startsWith(p, i)) {
        matched = p;
        break;
      }
    }
    if (matched === null) syntax(`unexpected character ${JSON.stringify(c)}`, i);
    out.push(tok('punct', matched, i));
    i += matched.length;
  }
  out.push(tok('eof', '', n));
  return out;
}
