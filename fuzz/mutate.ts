// Seeded mutations of an input: bit flips, interesting values at integer
// widths, truncation, chunk deletion, duplication and splicing.

/** xorshift32: repeatable runs from a seed. */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.#s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#s = x >>> 0;
    return this.#s;
  }
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 4096, 4080, 65536];

export function mutate(input: Uint8Array, rng: Rng, others: readonly Uint8Array[], maxLength: number): Uint8Array {
  let out = Uint8Array.from(input);
  const rounds = 1 + rng.below(4);
  for (let r = 0; r < rounds; r++) {
    const len = out.length;
    switch (rng.below(7)) {
      case 0: // bit flips
        for (let i = 0, n = 1 + rng.below(8); i < n && len > 0; i++) out[rng.below(len)]! ^= 1 << rng.below(8);
        break;
      case 1: {
        // an interesting value at a random width and place
        if (len < 8) break;
        const v = INTERESTING[rng.below(INTERESTING.length)]!;
        const at = rng.below(len - 7);
        const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
        const w = rng.below(3);
        if (w === 0) view.setUint8(at, v & 0xff);
        else if (w === 1) view.setUint16(at, v & 0xffff, rng.below(2) === 0);
        else view.setUint32(at, v >>> 0, rng.below(2) === 0);
        break;
      }
      case 2: // truncate
        out = out.subarray(0, rng.below(len + 1));
        break;
      case 3: {
        // delete a chunk
        if (len < 2) break;
        const a = rng.below(len);
        const b = Math.min(len, a + 1 + rng.below(Math.max(1, len >> 3)));
        const next = new Uint8Array(len - (b - a));
        next.set(out.subarray(0, a));
        next.set(out.subarray(b), a);
        out = next;
        break;
      }
      case 4: {
        // duplicate a chunk
        if (len < 2 || len >= maxLength) break;
        const a = rng.below(len);
        const b = Math.min(len, a + 1 + rng.below(256));
        const next = new Uint8Array(Math.min(maxLength, len + (b - a)));
        next.set(out.subarray(0, b));
        next.set(out.subarray(a, Math.min(len, a + next.length - b)), b);
        out = next;
        break;
      }
      case 5: {
        // splice with another seed
        const other = others[rng.below(others.length)];
        if (other === undefined || other.length === 0 || len === 0) break;
        const at = rng.below(len);
        const from = rng.below(other.length);
        const n = Math.min(len - at, other.length - from, 1 + rng.below(512));
        out.set(other.subarray(from, from + n), at);
        break;
      }
      default: // random bytes
        for (let i = 0, n = 1 + rng.below(16); i < n && len > 0; i++) out[rng.below(len)] = rng.below(256);
    }
  }
  return out.length > maxLength ? out.subarray(0, maxLength) : out;
}
