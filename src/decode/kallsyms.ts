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

import { zlib } from '../lazy-builtins.js';
import { MalformedInputError } from '../errors.js';
import type { Int } from './int64.js';

/** A kernel symbol: its address, name, type letter and module. */
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

/** Where symbol names come from: strings, or latin1 bytes decoded on first use. */
interface Names {
  get(i: number): string;
}

class StringNames implements Names {
  readonly #names: readonly string[];
  constructor(names: readonly string[]) {
    this.#names = names;
  }
  get(i: number): string {
    return this.#names[i]!;
  }
}

/** Names as byte ranges of the kallsyms text: ~120k strings are never made, only the ones looked up. */
class ByteNames implements Names {
  readonly #text: Buffer;
  readonly #start: Int32Array;
  readonly #len: Int32Array;
  readonly #cache: Array<string | undefined>;
  constructor(text: Buffer, start: Int32Array, len: Int32Array) {
    this.#text = text;
    this.#start = start;
    this.#len = len;
    this.#cache = new Array<string | undefined>(start.length);
  }
  get(i: number): string {
    let s = this.#cache[i];
    if (s === undefined) {
      const name = this.#text.toString('latin1', this.#start[i]!, this.#start[i]! + this.#len[i]!);
      this.#cache[i] = name;
      return name;
    }
    return s;
  }
}

/** Parsed lines in file order; module 0 is the core kernel (""). */
interface RawSymbols {
  n: number;
  hi: Uint32Array;
  lo: Uint32Array;
  module: Int32Array;
  modules: string[];
  names: Names;
  /** Text marker per line (MARKERS index + 1, core symbols only), 0 for others. */
  marker: Uint8Array;
  staticData: boolean;
}

const MARKERS = ['_stext', '_etext', '_sinittext', '_einittext'] as const;

/** Kernel symbols from kallsyms, for resolving addresses (`%pS` and friends). */
export class SymbolTable {
  readonly #hi: Uint32Array;
  readonly #lo: Uint32Array;
  /** Index of the first symbol of the next group (end of the size range), per symbol. */
  readonly #endHi: Uint32Array;
  readonly #endLo: Uint32Array;
  /** Name of the symbol at a sorted index: names.get(#nameIndex[i]). */
  readonly #names: Names;
  readonly #nameIndex: Int32Array | null;
  readonly #module: Int32Array;
  readonly #modules: readonly string[];
  /** Core address ranges the kernel resolves ([startHi, startLo, endHi, endLo]...), or null for all. */
  readonly #coreRanges: readonly number[] | null;
  // Direct-mapped cache of recent lookups (ftrace ips repeat).
  readonly #cacheHi = new Uint32Array(CACHE_SIZE);
  readonly #cacheLo = new Uint32Array(CACHE_SIZE);
  readonly #cacheIdx = new Int32Array(CACHE_SIZE).fill(-2);

  protected constructor(
    hi: Uint32Array,
    lo: Uint32Array,
    endHi: Uint32Array,
    endLo: Uint32Array,
    names: Names,
    nameIndex: Int32Array | null,
    module: Int32Array,
    modules: readonly string[],
    coreRanges: number[] | null,
  ) {
    this.#coreRanges = coreRanges;
    this.#hi = hi;
    this.#lo = lo;
    this.#endHi = endHi;
    this.#endLo = endLo;
    this.#names = names;
    this.#nameIndex = nameIndex;
    this.#module = module;
    this.#modules = modules;
  }

  get size(): number {
    return this.#hi.length;
  }

  /**
   * A table loaded on first use: reading and parsing /proc/kallsyms costs
   * a few hundred milliseconds, and most event streams never print a
   * symbol. A load that fails leaves an empty table (addresses print as
   * hex) and reports the error to `onError`.
   */
  static lazy(load: () => SymbolTable, onError?: (error: unknown) => void): SymbolTable {
    return new LazySymbolTable(load, onError);
  }

  /** An empty table: every lookup fails (addresses print as hex). */
  static empty(): SymbolTable {
    const none = new Uint32Array(0);
    return new SymbolTable(none, none, none, none, new StringNames([]), null, new Int32Array(0), [''], null);
  }

  /** Parses kallsyms text, or gzip-compressed text (detected by its magic bytes). */
  static parse(input: string | Uint8Array): SymbolTable {
    let raw: RawSymbols;
    if (typeof input === 'string') {
      if (input.length > KALLSYMS_LIMITS.maxBytes) throw new MalformedInputError('kallsyms: input too large');
      // Text of single-byte characters parses as its latin1 bytes; anything else with the regex.
      raw = /[^\x00-\xff]/.test(input) ? parseText(input) : parseBytes(Buffer.from(input, 'latin1'));
    } else {
      let data = input;
      if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) {
        try {
          // One output chunk of the size the gzip trailer gives (ISIZE): no
          // chunks concatenated, half the peak memory of the default.
          const isize = data.length >= 18 ? new DataView(data.buffer, data.byteOffset + data.length - 4, 4).getUint32(0, true) : 0;
          const chunkSize = Math.min(KALLSYMS_LIMITS.maxBytes, Math.max(64 * 1024, isize + 1));
          data = zlib().gunzipSync(data, { maxOutputLength: KALLSYMS_LIMITS.maxBytes, chunkSize });
        } catch (error) {
          throw new MalformedInputError(`kallsyms: cannot decompress: ${(error as Error).message}`, { cause: error });
        }
      }
      if (data.length > KALLSYMS_LIMITS.maxBytes) throw new MalformedInputError('kallsyms: input too large');
      raw = parseBytes(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    }
    return SymbolTable.#build(raw);
  }

  static #build(raw: RawSymbols): SymbolTable {
    const { n, hi: his, lo: los } = raw;
    // Stable sort by address (kallsyms is usually sorted already).
    let sorted = true;
    for (let i = 1; i < n && sorted; i++) {
      if (his[i]! < his[i - 1]! || (his[i] === his[i - 1] && los[i]! < los[i - 1]!)) sorted = false;
    }
    let order: Int32Array | null = null;
    if (!sorted) {
      const o = Array.from({ length: n }, (_, i) => i);
      o.sort((a, b) => his[a]! - his[b]! || los[a]! - los[b]! || a - b);
      order = Int32Array.from(o);
    }
    const at = (i: number) => (order === null ? i : order[i]!);
    const hi = order === null ? his : new Uint32Array(n);
    const lo = order === null ? los : new Uint32Array(n);
    const module = order === null ? raw.module : new Int32Array(n);
    if (order !== null) {
      for (let i = 0; i < n; i++) {
        const j = order[i]!;
        hi[i] = his[j]!;
        lo[i] = los[j]!;
        module[i] = raw.module[j]!;
      }
    }
    // End of each symbol: next higher address in the same group. Core
    // symbols end at _etext at the latest.
    let etextHi = 0;
    let etextLo = 0;
    for (let i = 0; i < n; i++) {
      if (raw.marker[at(i)] === 2) {
        etextHi = hi[i]!;
        etextLo = lo[i]!;
      }
    }
    const endHi = new Uint32Array(n);
    const endLo = new Uint32Array(n);
    // Per group, the next distinct address walking down (groups interleave).
    const nextDistinct = new Int32Array(raw.modules.length).fill(-1);
    const lastSeen = new Int32Array(raw.modules.length).fill(-1);
    for (let i = n - 1; i >= 0; i--) {
      const g = module[i]!;
      const j = lastSeen[g]!;
      if (j >= 0 && (hi[j] !== hi[i] || lo[j] !== lo[i])) nextDistinct[g] = j;
      lastSeen[g] = i;
      const next = nextDistinct[g]!;
      if (next >= 0) {
        endHi[i] = hi[next]!;
        endLo[i] = lo[next]!;
      } else if (g === 0 && (etextHi > hi[i]! || (etextHi === hi[i]! && etextLo > lo[i]!))) {
        endHi[i] = etextHi;
        endLo[i] = etextLo;
      } else {
        endHi[i] = hi[i]!;
        endLo[i] = lo[i]!;
      }
    }
    const ranges = raw.staticData ? null : textRanges(hi, lo, (i) => raw.marker[at(i)]!);
    return new SymbolTable(hi, lo, endHi, endLo, raw.names, order, module, raw.modules, ranges);
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
        if (this.#module[best] === 0 && !this.#coreResolves(hi, lo)) return -1;
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

  #name(i: number): string {
    return this.#names.get(this.#nameIndex === null ? i : this.#nameIndex[i]!);
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
    return i < 0 ? null : this.#name(i);
  }

  #info(i: number, hi: number, lo: number): SymbolInfo {
    const offset = (hi - this.#hi[i]!) * 4294967296 + (lo - this.#lo[i]!);
    const size = (this.#endHi[i]! - this.#hi[i]!) * 4294967296 + (this.#endLo[i]! - this.#lo[i]!);
    return { name: this.#name(i), module: this.#modules[this.#module[i]!]!, offset, size };
  }
}

/** Interns module names: index 0 is the core kernel. */
class ModuleIds {
  readonly names: string[] = [''];
  readonly #ids = new Map<string, number>([['', 0]]);
  id(name: string): number {
    let id = this.#ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.#ids.set(name, id);
    }
    return id;
  }
}

/** Growable parallel arrays of parsed lines. */
class Lines {
  n = 0;
  hi: Uint32Array;
  lo: Uint32Array;
  module: Int32Array;
  marker: Uint8Array;
  nameStart: Int32Array;
  nameLen: Int32Array;

  /** `capacity`: the lines expected (counted first: growing by doubling left ~6 MB of garbage at the peak). */
  constructor(capacity = 1 << 14) {
    const n = Math.max(16, Math.min(capacity, KALLSYMS_LIMITS.maxSymbols));
    this.hi = new Uint32Array(n);
    this.lo = new Uint32Array(n);
    this.module = new Int32Array(n);
    this.marker = new Uint8Array(n);
    this.nameStart = new Int32Array(n);
    this.nameLen = new Int32Array(n);
  }

  /** The lines pushed so far as a symbol table. */
  symbols(modules: ModuleIds, names: Names, staticData: boolean): RawSymbols {
    const n = this.n;
    return {
      n,
      hi: this.hi.subarray(0, n),
      lo: this.lo.subarray(0, n),
      module: this.module.subarray(0, n),
      modules: modules.names,
      names,
      marker: this.marker.subarray(0, n),
      staticData,
    };
  }

  push(hi: number, lo: number, module: number, marker: number, nameStart: number, nameLen: number): void {
    if (this.n >= KALLSYMS_LIMITS.maxSymbols) throw new MalformedInputError('kallsyms: too many symbols');
    if (this.n === this.hi.length) {
      const size = this.n * 2;
      const grow = <T extends Uint32Array | Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const b = make(size);
        b.set(a);
        return b;
      };
      this.hi = grow(this.hi, (k) => new Uint32Array(k));
      this.lo = grow(this.lo, (k) => new Uint32Array(k));
      this.module = grow(this.module, (k) => new Int32Array(k));
      this.marker = grow(this.marker, (k) => new Uint8Array(k));
      this.nameStart = grow(this.nameStart, (k) => new Int32Array(k));
      this.nameLen = grow(this.nameLen, (k) => new Int32Array(k));
    }
    const i = this.n++;
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.module[i] = module;
    this.marker[i] = marker;
    this.nameStart[i] = nameStart;
    this.nameLen[i] = nameLen;
  }
}

/** JavaScript's \s among single-byte characters. */
function isSpace(b: number): boolean {
  return b === 32 || (b >= 9 && b <= 13) || b === 0xa0;
}

function hexValue(b: number): number {
  if (b >= 48 && b <= 57) return b - 48;
  const l = b | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

const MARKER_BYTES = MARKERS.map((m) => Buffer.from(m, 'latin1'));

function markerOf(text: Buffer, start: number, len: number): number {
  for (let k = 0; k < MARKER_BYTES.length; k++) {
    const m = MARKER_BYTES[k]!;
    if (m.length !== len) continue;
    let j = 0;
    while (j < len && text[start + j] === m[j]) j++;
    if (j === len) return k + 1;
  }
  return 0;
}

/**
 * Lines of latin1 text as bytes, with what the line regex of parseText()
 * accepts: "<1-16 hex digits> <[A-Za-z?]> <name>[\t[<module>]]", trailing
 * whitespace allowed, empty lines skipped.
 */
/** Lines of `text` (newlines, plus a last line without one). */
function countLines(text: Buffer): number {
  let n = 0;
  for (let at = text.indexOf(10); at >= 0; at = text.indexOf(10, at + 1)) n++;
  return n + 1;
}

function parseBytes(text: Buffer): RawSymbols {
  const lines = new Lines(countLines(text));
  const modules = new ModuleIds();
  let staticData = false;
  const end = text.length;
  let pos = 0;
  let lineNo = 0;
  const bad = (start: number): never => {
    let nl = start;
    while (nl < end && text[nl] !== 10) nl++;
    throw new MalformedInputError(`kallsyms line ${lineNo}: unexpected "${text.toString('latin1', start, nl).slice(0, 80)}"`);
  };
  while (pos < end) {
    lineNo++;
    const start = pos;
    if (text[pos] === 10) {
      pos++;
      continue;
    }
    let i = start;
    let hi = 0;
    let lo = 0;
    for (; i < end && i - start <= 16; i++) {
      const v = hexValue(text[i]!);
      if (v < 0) break;
      hi = ((hi << 4) | (lo >>> 28)) >>> 0;
      lo = ((lo << 4) | v) >>> 0;
    }
    const digits = i - start;
    if (digits === 0 || digits > 16 || text[i] !== 32 || i + 3 > end) bad(start);
    const type = text[i + 1]!;
    if (!(((type | 0x20) >= 97 && (type | 0x20) <= 122) || type === 63) || text[i + 2] !== 32) bad(start);
    i += 3;
    const nameStart = i;
    // Up to whitespace ("\n" included).
    while (i < end && !isSpace(text[i]!)) i++;
    const nameLen = i - nameStart;
    if (nameLen === 0) bad(start);
    let module = 0;
    if (i + 1 < end && text[i] === 9 && text[i + 1] === 91) {
      // "\t[" + module + "]": the module runs to the last non-space byte, which must be "]".
      let j = i + 2;
      while (j < end && !isSpace(text[j]!)) j++;
      if (j - (i + 2) < 2 || text[j - 1] !== 93) bad(start);
      module = modules.id(text.toString('latin1', i + 2, j - 1));
      i = j;
    }
    // Only whitespace to the end of the line.
    for (; i < end && text[i] !== 10; i++) if (!isSpace(text[i]!)) bad(start);
    pos = i + 1;
    if (module === 0 && (type === 100 || type === 98 || type === 114)) staticData = true;
    lines.push(hi, lo, module, module === 0 ? markerOf(text, nameStart, nameLen) : 0, nameStart, nameLen);
  }
  return lines.symbols(modules, new ByteNames(text, lines.nameStart.subarray(0, lines.n), lines.nameLen.subarray(0, lines.n)), staticData);
}

/** The same with the line regex, for text with characters beyond latin1. */
function parseText(text: string): RawSymbols {
  const lines = new Lines();
  const modules = new ModuleIds();
  const names: string[] = [];
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
    const hex = m[1]!.padStart(16, '0');
    const module = m[4] === undefined ? 0 : modules.id(m[4]);
    const marker = module === 0 ? MARKERS.indexOf(m[3] as (typeof MARKERS)[number]) + 1 : 0;
    lines.push(parseInt(hex.slice(0, 8), 16), parseInt(hex.slice(8), 16), module, marker, 0, 0);
    names.push(m[3]!);
    if (m[4] === undefined && (m[2] === 'd' || m[2] === 'b' || m[2] === 'r')) staticData = true;
  }
  return lines.symbols(modules, new StringNames(names), staticData);
}

/**
 * [_stext, _etext) and [_sinittext, _einittext) of the core kernel as
 * flat [startHi, startLo, endHi, endLo] quadruples; null (no restriction)
 * if the table lacks the text markers. `marker(i)`: MARKERS index + 1 of
 * sorted symbol i (core symbols only), else 0.
 */
function textRanges(hi: Uint32Array, lo: Uint32Array, marker: (i: number) => number): number[] | null {
  const first = [-1, -1, -1, -1];
  for (let i = 0; i < hi.length; i++) {
    const m = marker(i);
    if (m !== 0 && first[m - 1] === -1) first[m - 1] = i;
  }
  const [stext, etext, sinittext, einittext] = first as [number, number, number, number];
  const out: number[] = [];
  for (const [s, e] of [[stext, etext], [sinittext, einittext]] as const) {
    if (s >= 0 && e >= 0) out.push(hi[s]!, lo[s]!, hi[e]!, lo[e]!);
  }
  return stext >= 0 && etext >= 0 ? out : null;
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

/** See SymbolTable.lazy. */
class LazySymbolTable extends SymbolTable {
  #load: (() => SymbolTable) | null;
  #onError: ((error: unknown) => void) | undefined;
  #table: SymbolTable | null = null;

  constructor(load: () => SymbolTable, onError?: (error: unknown) => void) {
    const none = new Uint32Array(0);
    super(none, none, none, none, new StringNames([]), null, new Int32Array(0), [''], null);
    this.#load = load;
    this.#onError = onError;
  }

  get #loaded(): SymbolTable {
    if (this.#table === null) {
      const load = this.#load!;
      this.#load = null;
      try {
        this.#table = load();
      } catch (error) {
        this.#table = SymbolTable.empty();
        this.#onError?.(error);
      }
    }
    return this.#table;
  }

  override get size(): number {
    return this.#loaded.size;
  }

  override indexOf(hi: number, lo: number): number {
    return this.#loaded.indexOf(hi, lo);
  }

  override lookupHiLo(hi: number, lo: number): SymbolInfo | null {
    return this.#loaded.lookupHiLo(hi, lo);
  }

  override lookup(address: Int): SymbolInfo | null {
    return this.#loaded.lookup(address);
  }

  override nameOf(hi: number, lo: number): string | null {
    return this.#loaded.nameOf(hi, lo);
  }
}
