// A dictionary of byte strings for one column chunk: each distinct value
// gets the next index (its position in the dictionary page). Keyed by a
// hash of the bytes, one probe and a byte compare per lookup.

export class ByteDictionary {
  /** Index + 1 per hash slot (0 = empty). */
  #slots = new Int32Array(256);
  #hashes = new Int32Array(128);
  /** offsets[i] .. offsets[i + 1]: entry i's bytes in `bytes`. */
  offsets = new Int32Array(129);
  bytes = new Uint8Array(4096);
  count = 0;

  get byteLength(): number {
    return this.offsets[this.count]!;
  }

  clear(): void {
    if (this.count > 0) this.#slots.fill(0);
    this.count = 0;
  }

  /** Index of bytes[start .. start + len), added if new. */
  add(src: Uint8Array, start: number, len: number): number {
    let h = 0x811c9dc5 | 0;
    for (let i = start; i < start + len; i++) h = Math.imul(h ^ src[i]!, 0x01000193);
    const slots = this.#slots;
    const mask = slots.length - 1;
    let s = (h ^ (h >>> 15)) & mask;
    for (;;) {
      const v = slots[s]!;
      if (v === 0) break;
      const id = v - 1;
      if (this.#hashes[id] === h) {
        const at = this.offsets[id]!;
        if (this.offsets[id + 1]! - at === len) {
          const bytes = this.bytes;
          let j = 0;
          while (j < len && bytes[at + j] === src[start + j]) j++;
          if (j === len) return id;
        }
      }
      s = (s + 1) & mask;
    }
    return this.#insert(src, start, len, h, s);
  }

  /** Index of a JS string's UTF-8 bytes. */
  addString(s: string): number {
    const bytes = encoder.encode(s);
    return this.add(bytes, 0, bytes.length);
  }

  #insert(src: Uint8Array, start: number, len: number, h: number, slot: number): number {
    const id = this.count++;
    if (id + 1 >= this.offsets.length) {
      const n = this.offsets.length * 2;
      const offsets = new Int32Array(n);
      offsets.set(this.offsets);
      this.offsets = offsets;
      const hashes = new Int32Array(n);
      hashes.set(this.#hashes);
      this.#hashes = hashes;
    }
    const at = this.offsets[id]!;
    if (at + len > this.bytes.length) {
      let size = this.bytes.length * 2;
      while (size < at + len) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.bytes.subarray(0, at));
      this.bytes = grown;
    }
    this.bytes.set(src.subarray(start, start + len), at);
    this.offsets[id + 1] = at + len;
    this.#hashes[id] = h;
    this.#slots[slot] = id + 1;
    if (this.count * 2 > this.#slots.length) this.#rehash();
    return id;
  }

  #rehash(): void {
    const slots = new Int32Array(this.#slots.length * 2);
    const mask = slots.length - 1;
    for (let id = 0; id < this.count; id++) {
      const h = this.#hashes[id]!;
      let s = (h ^ (h >>> 15)) & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = id + 1;
    }
    this.#slots = slots;
  }
}

const encoder = new TextEncoder();
