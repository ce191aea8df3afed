// Kernel symbol table (/proc/kallsyms, plain or gzip) for %ps/%pS and the
// ip fields of ftrace events.
//
// Lines: "<hex address> <type> <name>[\t[<module>]]". Symbols are sorted by
// address (stable: among aliases the first listed wins, as in the kernel's
// table); a symbol's size runs to the next higher address of the same
// group (the core kernel, or one module), as kallsyms_lookup_size_offset()
// does. Addresses are kept as two Uint32Arrays (hi, lo): they exceed 2^53.
// Approximation: the last symbol of a group has no next symbol; the kernel
// uses the end of the section (_etext, module text end), we use `_etext`
// for the core kernel and leave module tails unsized (size 0: not found).
//
// Like kallsyms_lookup() (is_ksym_addr), a kernel built without
// CONFIG_KALLSYMS_ALL resolves core addresses only inside [_stext, _etext)
// and [_sinittext, _einittext): a pointer into rodata or data prints as
// hex even though some section markers (__start_rodata...) are listed.
// A table with static data symbols (types d, b, r) comes from a kernel
// with KALLSYMS_ALL, where every listed symbol counts.

import { gunzipSync } from 'node:zlib';
import { MalformedInputError } from '../errors.js';
import type { Int } from './int64.js';

export interface SymbolInfo {
  readonly name: string;
  /** Module name, or "" for the core kernel. */
  readonly module: string;
  /** Offset of the looked-up address from the symbol's start. */
  readonly offset: number;
  /** Bytes to the next symbol. */
  readonly size: number;
}

export const KALLSYMS_LIMITS = {
  /** Bytes of (uncompressed) text. */
  maxBytes: 256 << 20,
  maxSymbols: 4 << 20,
} as const;

const CACHE_SIZE = 256;

export class SymbolTable {
  readonly #hi: Uint32Array;
  readonly #lo: Uint32Array;
  /** Index of the first symbol of the next group (end of the size range), per symbol. */
  readonly #endHi: Uint32Array;
  readonly #endLo: Uint32Array;
  readonly #names: readonly string[];
  readonly #modules: readonly string[];
  /** Core address ranges the kernel resolves ([startHi, startLo, endHi, endLo]...), or null for all. */
  readonly #coreRanges: readonly number[] | null;
  // Direct-mapped cache of recent lookups (ftrace ips repeat).
  readonly #cacheHi = new Uint32Array(CACHE_SIZE);
  readonly #cacheLo = new Uint32Array(CACHE_SIZE);
  readonly #cacheIdx = new Int32Array(CACHE_SIZE).fill(-2);

  private constructor(
    hi: Uint32Array,
    lo: Uint32Array,
    endHi: Uint32Array,
    endLo: Uint32Array,
    names: string[],
    modules: string[],
    coreRanges: number[] | null,
  ) {
    this.#coreRanges = coreRanges;
    this.#hi = hi;
    this.#lo = lo;
    this.#endHi = endHi;
    this.#endLo = endLo;
    this.#names = names;
    this.#modules = modules;
  }

  get size(): number {
    return this.#names.length;
  }

  /** An empty table: every lookup fails (addresses print as hex). */
  static empty(): SymbolTable {
    return new SymbolTable(new Uint32Array(0), new Uint32Array(0), new Uint32Array(0), new Uint32Array(0), [], [], null);
  }

  /** Parses kallsyms text, or gzip-compressed text (detected by its magic bytes). */
  static parse(input: string | Uint8Array): SymbolTable {
    let text: string;
    if (typeof input === 'string') text = input;
    else {
      let data = input;
      if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) {
        try {
          data = gunzipSync(data, { maxOutputLength: KALLSYMS_LIMITS.maxBytes });
        } catch (error) {
          throw new MalformedInputError(`kallsyms: cannot decompress: ${(error as Error).message}`, { cause: error });
        }
      }
      if (data.length > KALLSYMS_LIMITS.maxBytes) throw new MalformedInputError('kallsyms: input too large');
      text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
    }
    if (text.length > KALLSYMS_LIMITS.maxBytes) throw new MalformedInputError('kallsyms: input too large');

    const his: number[] = [];
    const los: number[] = [];
    const names: string[] = [];
    const modules: string[] = [];
    let staticData = false;
    let lineNo = 0;
    let pos = 0;
    while (pos < text.length) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = text.length;
      const line = text.slice(pos, nl);
      pos = nl + 1;
      lineNo++;
      if (line.length === 0) continue;
      const m = /^([0-9a-fA-F]{1,16}) ([A-Za-z?]) (\S+)(?:\t\[(\S+)\])?\s*$/.exec(line);
      if (m === null) throw new MalformedInputError(`kallsyms line ${lineNo}: unexpected "${line.slice(0, 80)}"`);
      if (names.length >= KALLSYMS_LIMITS.maxSymbols) throw new MalformedInputError('kallsyms: too many symbols');
      const hex = m[1]!.padStart(16, '0');
      his.push(parseInt(hex.slice(0, 8), 16));
      los.push(parseInt(hex.slice(8), 16));
      names.push(m[3]!);
      modules.push(m[4] ?? '');
      if (m[4] === undefined && (m[2] === 'd' || m[2] === 'b' || m[2] === 'r')) staticData = true;
    }
    // Stable sort by address.
    const order = Array.from(names.keys());
    order.sort((a, b) => his[a]! - his[b]! || los[a]! - los[b]! || a - b);
    const n = order.length;
    const hi = new Uint32Array(n);
    const lo = new Uint32Array(n);
    const sortedNames: string[] = new Array<string>(n);
    const sortedModules: string[] = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const j = order[i]!;
      hi[i] = his[j]!;
      lo[i] = los[j]!;
      sortedNames[i] = names[j]!;
      sortedModules[i] = modules[j]!;
    }
    // End of each symbol: next higher address in the same group. Core
    // symbols end at _etext at the latest.
    let etextHi = 0;
    let etextLo = 0;
    for (let i = 0; i < n; i++) {
      if (sortedNames[i] === '_etext' && sortedModules[i] === '') {
        etextHi = hi[i]!;
        etextLo = lo[i]!;
      }
    }
    const endHi = new Uint32Array(n);
    const endLo = new Uint32Array(n);
    const groups = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const g = groups.get(sortedModules[i]!);
      if (g === undefined) groups.set(sortedModules[i]!, [i]);
      else g.push(i);
    }
    for (const [group, members] of groups) {
      let nextDistinct = -1;
      for (let k = members.length - 1; k >= 0; k--) {
        const i = members[k]!;
        if (k + 1 < members.length) {
          const j = members[k + 1]!;
          if (hi[j] !== hi[i] || lo[j] !== lo[i]) nextDistinct = j;
        }
        if (nextDistinct >= 0) {
          endHi[i] = hi[nextDistinct]!;
          endLo[i] = lo[nextDistinct]!;
        } else if (group === '' && (etextHi > hi[i]! || (etextHi === hi[i]! && etextLo > lo[i]!))) {
          endHi[i] = etextHi;
          endLo[i] = etextLo;
        } else {
          endHi[i] = hi[i]!;
          endLo[i] = lo[i]!;
        }
      }
    }
    return new SymbolTable(hi, lo, endHi, endLo, sortedNames, sortedModules, staticData ? null : textRanges(hi, lo, sortedNames, sortedModules));
  }

  /** Index of the symbol containing hi:lo, or -1. */
  indexOf(hi: number, lo: number): number {
    hi >>>= 0;
    lo >>>= 0;
    const c = (lo >>> 4) & (CACHE_SIZE - 1);
    if (this.#cacheIdx[c] !== -2 && this.#cacheHi[c] === hi && this.#cacheLo[c] === lo) return this.#cacheIdx[c]!;
    const found = this.#search(hi, lo);
    this.#cacheHi[c] = hi;
    this.#cacheLo[c] = lo;
    this.#cacheIdx[c] = found;
    return found;
  }

  #search(hi: number, lo: number): number {
    const H = this.#hi;
    const L = this.#lo;
    // Last index with address <= hi:lo.
    let a = 0;
    let b = H.length - 1;
    let best = -1;
    while (a <= b) {
      const m = (a + b) >>> 1;
      const mh = H[m]!;
      if (mh < hi || (mh === hi && L[m]! <= lo)) {
        best = m;
        a = m + 1;
      } else b = m - 1;
    }
    // The closest symbol below may belong to another group whose range
    // ends before the address (interleaved module symbols): look back a
    // little for one whose [start, end) covers it.
    for (let k = 0; best >= 0 && k < 64; k++, best--) {
      const eh = this.#endHi[best]!;
      const el = this.#endLo[best]!;
      if (eh > hi || (eh === hi && el > lo)) {
        // First alias at that address.
        while (best > 0 && H[best - 1] === H[best] && L[best - 1] === L[best]) best--;
        if (this.#modules[best] === '' && !this.#coreResolves(hi, lo)) return -1;
        return best;
      }
    }
    return -1;
  }

  #coreResolves(hi: number, lo: number): boolean {
    const r = this.#coreRanges;
    if (r === null) return true;
    for (let i = 0; i < r.length; i += 4) {
      const afterStart = hi > r[i]! || (hi === r[i]! && lo >= r[i + 1]!);
      const beforeEnd = hi < r[i + 2]! || (hi === r[i + 2]! && lo < r[i + 3]!);
      if (afterStart && beforeEnd) return true;
    }
    return false;
  }

  /** Symbol containing the address given as hi:lo words. */
  lookupHiLo(hi: number, lo: number): SymbolInfo | null {
    const i = this.indexOf(hi, lo);
    if (i < 0) return null;
    return this.#info(i, hi >>> 0, lo >>> 0);
  }

  /** Symbol containing `address`. */
  lookup(address: Int): SymbolInfo | null {
    const [hi, lo] = split(address);
    return this.lookupHiLo(hi, lo);
  }

  /** Name only (the kernel's kallsyms_lookup()): null if not found. */
  nameOf(hi: number, lo: number): string | null {
    const i = this.indexOf(hi, lo);
    return i < 0 ? null : this.#names[i]!;
  }

  #info(i: number, hi: number, lo: number): SymbolInfo {
    const offset = (hi - this.#hi[i]!) * 4294967296 + (lo - this.#lo[i]!);
    const size = (this.#endHi[i]! - this.#hi[i]!) * 4294967296 + (this.#endLo[i]! - this.#lo[i]!);
    return { name: this.#names[i]!, module: this.#modules[i]!, offset, size };
  }
}

/**
 * [_stext, _etext) and [_sinittext, _einittext) of the core kernel as
 * flat [startHi, startLo, endHi, endLo] quadruples; null (no restriction)
 * if the table lacks the text markers.
 */
function textRanges(hi: Uint32Array, lo: Uint32Array, names: readonly string[], modules: readonly string[]): number[] | null {
  const at = new Map<string, number>();
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    if (modules[i] === '' && (n === '_stext' || n === '_etext' || n === '_sinittext' || n === '_einittext') && !at.has(n)) at.set(n, i);
  }
  const out: number[] = [];
  for (const [start, end] of [['_stext', '_etext'], ['_sinittext', '_einittext']] as const) {
    const s = at.get(start);
    const e = at.get(end);
    if (s !== undefined && e !== undefined) out.push(hi[s]!, lo[s]!, hi[e]!, lo[e]!);
  }
  return at.has('_stext') && at.has('_etext') ? out : null;
}

/** Splits a non-negative 64-bit address into (hi, lo); negative values wrap to 64 bits. */
export function split(address: Int): [number, number] {
  if (typeof address === 'number') {
    if (address >= 0) return [Math.floor(address / 4294967296) >>> 0, address % 4294967296 >>> 0];
    address = BigInt(address);
  }
  const v = BigInt.asUintN(64, address);
  return [Number(v >> 32n), Number(v & 0xffffffffn)];
}
