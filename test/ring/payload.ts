// Test payloads for ring tests: sequence number, length, and bytes derived
// from both, so a reader can check integrity and order on its own.

export const HEADER = 8;

/** Deterministic pseudo-random numbers (xorshift32) from a seed, for replayable tests. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** Writes payload `seq` of `length` (>= 8) bytes at `at`. */
export function fillPayload(bytes: Uint8Array, view: DataView, at: number, seq: number, length: number): void {
  view.setUint32(at, seq, true);
  view.setUint32(at + 4, length, true);
  for (let i = HEADER; i < length; i++) bytes[at + i] = (seq * 31 + i) & 0xff;
}

/** The payload's sequence number, after checking its bytes; throws on corruption. */
export function checkPayload(bytes: Uint8Array, view: DataView, at: number, area: number): number {
  const seq = view.getUint32(at, true);
  const length = view.getUint32(at + 4, true);
  if (length < HEADER || length > area) throw new Error(`payload ${seq}: length ${length} outside its record (${area})`);
  for (let i = HEADER; i < length; i++) {
    if (bytes[at + i] !== ((seq * 31 + i) & 0xff)) throw new Error(`payload ${seq}: byte ${i} corrupt`);
  }
  return seq;
}
