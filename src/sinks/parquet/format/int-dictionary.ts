// Dictionary encoding of integer columns: most event fields take few
// distinct values (CPU numbers, flags, states, pids, loss counts of 0), and
// RLE-coded indices take a fraction of PLAIN's 4 or 8 bytes per value.
// Columns with many distinct values (addresses, counters) give up early and
// stay PLAIN.

export interface IntDictionary {
  /** Per value (present rows only): its index. */
  readonly indices: Int32Array;
  /** Distinct values in index order, `stride` int32 slots each. */
  readonly values: Int32Array;
  readonly count: number;
}

/** Most distinct values a dictionary takes, relative to the values encoded. */
function limitFor(n: number): number {
  return Math.min(1 << 14, Math.max(16, n >> 3));
}

/** Values looked at first: a column with many distinct values among them is not tried further. */
const SAMPLE = 256;

let table = new Int32Array(1 << 12);
/** Reused between calls: the caller encodes the indices before the next call. */
let indexScratch = new Int32Array(1 << 16);
let dictScratch = new Int32Array(1 << 12);

/**
 * Dictionary of values[from*stride ..) for the `n` rows whose `present`
 * flag is set (all when present is null), or null when there are too many
 * distinct values. stride 1: int32 slots; 2: (low, high) pairs. The
 * indices are valid until the next call.
 */
export function intDictionary(values: Int32Array, present: Uint8Array | null, n: number, stride: 1 | 2): IntDictionary | null {
  const limit = limitFor(n);
  let size = 1 << 12;
  while (size < limit * 2) size <<= 1;
  if (table.length < size) table = new Int32Array(size);
  const slots = table.subarray(0, size);
  slots.fill(0);
  const mask = size - 1;
  if (dictScratch.length < (limit + 1) * stride) dictScratch = new Int32Array((limit + 1) * stride * 2);
  if (indexScratch.length < n) indexScratch = new Int32Array(n * 2);
  const dict = dictScratch;
  const indices = indexScratch;
  let count = 0;
  let m = 0;
  for (let r = 0; r < n; r++) {
    if (present !== null && present[r] === 0) continue;
    const lo = values[r * stride]!;
    const hi = stride === 2 ? values[r * stride + 1]! : 0;
    let h = Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1);
    h ^= h >>> 15;
    let s = h & mask;
    let found = -1;
    for (;;) {
      const v = slots[s]!;
      if (v === 0) break;
      const id = v - 1;
      if (dict[id * stride] === lo && (stride === 1 || dict[id * stride + 1] === hi)) {
        found = id;
        break;
      }
      s = (s + 1) & mask;
    }
    if (found < 0) {
      if (count === limit || (m < SAMPLE && count >= SAMPLE / 4)) return null;
      found = count++;
      dict[found * stride] = lo;
      if (stride === 2) dict[found * stride + 1] = hi;
      slots[s] = found + 1;
    }
    indices[m++] = found;
  }
  return { indices: indices.subarray(0, m), values: dict.slice(0, count * stride), count };
}
