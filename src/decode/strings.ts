// Strings from records, materialised lazily and cheaply.
//
// A TextDecoder call costs ~100 ns for a short string, and most strings in a
// trace repeat (task comms, device names). StringTable interns strings by
// their bytes: a hash over the bytes, one probe, a byte compare, and the JS
// string decoded once per distinct value (~15-25 ns per lookup).
//
// Text is decoded as UTF-8 (invalid sequences become U+FFFD), as when the
// kernel's own text output is read as UTF-8.

const utf8 = new TextDecoder('utf-8');

/** Length of the C string at `start`: up to the first NUL, at most `max` bytes. */
export function cStringLength(bytes: Uint8Array, start: number, max: number): number {
  const end = Math.min(start + Math.max(0, max), bytes.length);
  let i = start;
  while (i < end && bytes[i] !== 0) i++;
  return i - start;
}

/** Decodes `len` bytes at `start` (ASCII fast path, else UTF-8). */
export function decodeBytes(bytes: Uint8Array, start: number, len: number): string {
  if (len <= 0) return '';
  if (len <= 32) {
    let ascii = true;
    for (let i = 0; i < len; i++) {
      if (bytes[start + i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      let s = '';
      for (let i = 0; i < len; i++) s += String.fromCharCode(bytes[start + i]!);
      return s;
    }
  }
  return utf8.decode(bytes.subarray(start, start + len));
}

/** Decodes the C string at `start` (at most `max` bytes, NUL-terminated). */
export function decodeCString(bytes: Uint8Array, start: number, max: number): string {
  return decodeBytes(bytes, start, cStringLength(bytes, start, max));
}

/** Bounds of a StringTable. */
export interface StringTableOptions {
  /** Distinct strings kept before the table is cleared (default 65536). */
  maxEntries?: number;
  /** Bytes of string data kept before the table is cleared (default 4 MiB). */
  maxBytes?: number;
  /** Strings longer than this are decoded directly, not interned (default 256). */
  maxLength?: number;
}

/**
 * Interning table keyed by bytes. `intern()` returns a small integer id
 * (allocation-free once a string was seen); `get(id)` the JS string, decoded
 * on first use. When a bound is reached the table is cleared and
 * `generation` increases: ids from an older generation are invalid.
 */
export class StringTable {
  #slots: Int32Array; // id + 1, 0 = empty
  #mask: number;
  #hashes: Int32Array;
  #starts: Int32Array;
  #lengths: Int32Array;
  #strings: (string | undefined)[] = [];
  #pool: Uint8Array;
  #poolUsed = 0;
  #count = 0;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly maxLength: number;
  /** Increases each time the table is cleared. */
  generation = 0;

  constructor(options: StringTableOptions = {}) {
    this.#maxEntries = Math.max(16, options.maxEntries ?? 65536);
    this.#maxBytes = Math.max(1024, options.maxBytes ?? 4 << 20);
    this.maxLength = Math.max(1, options.maxLength ?? 256);
    this.#slots = new Int32Array(1024);
    this.#mask = 1023;
    this.#hashes = new Int32Array(512);
    this.#starts = new Int32Array(512);
    this.#lengths = new Int32Array(512);
    this.#pool = new Uint8Array(16384);
  }

  get size(): number {
    return this.#count;
  }

  /** Forgets every string (ids from before are invalid). */
  clear(): void {
    this.#slots.fill(0);
    this.#strings = [];
    this.#poolUsed = 0;
    this.#count = 0;
    this.generation++;
  }

  /**
   * Id of the C string at `start` (NUL-terminated within `max` bytes), or -1
   * if longer than `maxLength` (decode those with decodeCString).
   */
  intern(bytes: Uint8Array, start: number, max: number): number {
    const end = Math.min(start + max, bytes.length);
    // FNV-1a while looking for the NUL.
    let h = 0x811c9dc5 | 0;
    let i = start;
    for (; i < end; i++) {
      const b = bytes[i]!;
      if (b === 0) break;
      h = Math.imul(h ^ b, 0x01000193);
    }
    const len = i - start;
    if (len > this.maxLength) return -1;
    return this.#find(bytes, start, len, h);
  }

  /** Id of exactly `len` bytes at `start` (no NUL handling), or -1 if too long. */
  internBytes(bytes: Uint8Array, start: number, len: number): number {
    if (len > this.maxLength || len < 0) return -1;
    let h = 0x811c9dc5 | 0;
    for (let i = start; i < start + len; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
    return this.#find(bytes, start, len, h);
  }

  #find(bytes: Uint8Array, start: number, len: number, h: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    let s = (h ^ (h >>> 15)) & mask;
    for (;;) {
      const v = slots[s]!;
      if (v === 0) break;
      const id = v - 1;
      if (this.#hashes[id] === h && this.#lengths[id] === len) {
        const pool = this.#pool;
        const p = this.#starts[id]!;
        let j = 0;
        while (j < len && pool[p + j] === bytes[start + j]) j++;
        if (j === len) return id;
      }
      s = (s + 1) & mask;
    }
    return this.#insert(bytes, start, len, h, s);
  }

  #insert(bytes: Uint8Array, start: number, len: number, h: number, slot: number): number {
    if (this.#count >= this.#maxEntries || this.#poolUsed + len > this.#maxBytes) {
      this.clear();
      return this.#find(bytes, start, len, h);
    }
    if (this.#poolUsed + len > this.#pool.length) {
      const grown = new Uint8Array(Math.min(this.#maxBytes, Math.max(this.#pool.length * 2, this.#poolUsed + len)));
      grown.set(this.#pool.subarray(0, this.#poolUsed));
      this.#pool = grown;
    }
    const id = this.#count++;
    if (id >= this.#hashes.length) {
      const n = this.#hashes.length * 2;
      this.#hashes = grow(this.#hashes, n);
      this.#starts = grow(this.#starts, n);
      this.#lengths = grow(this.#lengths, n);
    }
    this.#pool.set(bytes.subarray(start, start + len), this.#poolUsed);
    this.#hashes[id] = h;
    this.#starts[id] = this.#poolUsed;
    this.#lengths[id] = len;
    this.#poolUsed += len;
    this.#slots[slot] = id + 1;
    // Keep the load factor under 1/2.
    if (this.#count * 2 > this.#slots.length) this.#rehash();
    return id;
  }

  #rehash(): void {
    const size = this.#slots.length * 2;
    const slots = new Int32Array(size);
    const mask = size - 1;
    for (let id = 0; id < this.#count; id++) {
      const h = this.#hashes[id]!;
      let s = (h ^ (h >>> 15)) & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = id + 1;
    }
    this.#slots = slots;
    this.#mask = mask;
  }

  /** The string of an id returned by intern() in the current generation. */
  get(id: number): string {
    let s = this.#strings[id];
    if (s === undefined) {
      if (id < 0 || id >= this.#count) throw new RangeError(`string id ${id} is not in this table (generation ${this.generation})`);
      s = decodeBytes(this.#pool, this.#starts[id]!, this.#lengths[id]!);
      this.#strings[id] = s;
    }
    return s;
  }

  /** The C string at `start` as a JS string, interned when short. */
  string(bytes: Uint8Array, start: number, max: number): string {
    const id = this.intern(bytes, start, max);
    return id >= 0 ? this.get(id) : decodeCString(bytes, start, max);
  }
}

function grow(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

const FIXED_SLOTS = 4096; // power of two
const FIXED_MAX_WORDS = 8;

/** Cache slot of the `n` little-endian words at `at` (a multiplicative hash). */
function wordsSlot(view: DataView, at: number, n: number): number {
  let h = n;
  for (let k = 0; k < n; k++) h = Math.imul(h ^ view.getInt32(at + 4 * k, true), 0x9e3779b1);
  h ^= h >>> 16;
  return h & (FIXED_SLOTS - 1);
}

/** Whether `slot`'s stored key is the `n` words at `at`. */
function sameWords(keys: Int32Array, slot: number, view: DataView, at: number, n: number): boolean {
  const base = slot * FIXED_MAX_WORDS;
  let k = 0;
  while (k < n && keys[base + k] === view.getInt32(at + 4 * k, true)) k++;
  return k === n;
}

/**
 * Cache of strings held in fixed-size char arrays of up to 32 bytes whose
 * size is a multiple of 4 (task comms: 16 bytes). The key is the array's
 * words themselves (bytes after the NUL included: a renamed task may leave
 * old bytes there, which only costs an extra entry), so a lookup is 4 loads,
 * a hash and 4 compares, with no scan for the NUL. It is a cache: a
 * colliding entry is replaced, memory stays bounded.
 */
export class FixedStringCache {
  readonly #keys = new Int32Array(FIXED_SLOTS * FIXED_MAX_WORDS);
  readonly #words = new Uint8Array(FIXED_SLOTS);
  readonly #values: (string | undefined)[] = new Array<string | undefined>(FIXED_SLOTS);

  /** Whether a field of `size` bytes can use this cache. */
  static fits(size: number): boolean {
    return size > 0 && size <= FIXED_MAX_WORDS * 4 && (size & 3) === 0;
  }

  /** The C string in the `size`-byte array at `at` (size: see fits()). */
  get(view: DataView, bytes: Uint8Array, at: number, size: number): string {
    const n = size >>> 2;
    const slot = wordsSlot(view, at, n);
    const keys = this.#keys;
    if (this.#words[slot] === n) {
      if (sameWords(keys, slot, view, at, n)) return this.#values[slot]!;
    }
    const s = decodeCString(bytes, at, size);
    for (let k = 0, base = slot * FIXED_MAX_WORDS; k < n; k++) keys[base + k] = view.getInt32(at + 4 * k, true);
    this.#words[slot] = n;
    this.#values[slot] = s;
    return s;
  }
}

/**
 * Interned ids of fixed char arrays (comms), keyed by the array's words
 * like FixedStringCache, in front of a StringTable: a hit costs a few loads
 * and compares instead of a byte-wise hash and compare. Entries from an
 * older table generation are ignored.
 */
export class FixedIdCache {
  readonly #table: StringTable;
  readonly #keys = new Int32Array(FIXED_SLOTS * FIXED_MAX_WORDS);
  readonly #words = new Uint8Array(FIXED_SLOTS);
  readonly #ids = new Int32Array(FIXED_SLOTS);
  readonly #generations = new Int32Array(FIXED_SLOTS).fill(-1);

  constructor(table: StringTable) {
    this.#table = table;
  }

  /** Interned id of the C string in the `size`-byte array at `at` (size: see FixedStringCache.fits()). */
  id(view: DataView, bytes: Uint8Array, at: number, size: number): number {
    const n = size >>> 2;
    const slot = wordsSlot(view, at, n);
    const keys = this.#keys;
    const generation = this.#table.generation;
    if (this.#words[slot] === n && this.#generations[slot] === generation) {
      if (sameWords(keys, slot, view, at, n)) return this.#ids[slot]!;
    }
    const id = this.#table.intern(bytes, at, size);
    for (let k = 0, base = slot * FIXED_MAX_WORDS; k < n; k++) keys[base + k] = view.getInt32(at + 4 * k, true);
    this.#words[slot] = n;
    this.#ids[slot] = id;
    // intern() may have cleared the table: record the generation the id belongs to.
    this.#generations[slot] = this.#table.generation;
    return id;
  }
}
