// Ring-buffer timestamps are unsigned 64-bit values (nanoseconds for most
// clocks). They pass 2^53 after ~104 days of uptime, and x86-tsc much sooner,
// so hot paths carry them as two exact 32-bit halves (hi, lo) and never use
// BigInt. These helpers convert at the edges.

export const TWO_POW_32 = 4294967296;

/** Exact 64-bit value of a (hi, lo) pair. */
export function tsToBigInt(hi: number, lo: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** (hi, lo) of a 64-bit value. */
export function tsFromBigInt(value: bigint): [hi: number, lo: number] {
  return [Number((value >> 32n) & 0xffffffffn), Number(value & 0xffffffffn)];
}

/** The pair as a Number: exact while hi < 2^21 (values below 2^53). */
export function tsToNumber(hi: number, lo: number): number {
  return hi * TWO_POW_32 + lo;
}

/** True if the pair is exactly representable as a Number. */
export function tsIsSafe(hi: number): boolean {
  return hi < 0x200000;
}

/** Compares two pairs: negative, zero or positive. */
export function tsCompare(aHi: number, aLo: number, bHi: number, bLo: number): number {
  return aHi !== bHi ? aHi - bHi : aLo - bLo;
}

/**
 * Divides the 64-bit value (hi, lo) by `divisor` (1 <= divisor < 2^32) exactly,
 * without BigInt: long division over 16-bit limbs keeps every intermediate
 * below 2^53. Returns the quotient as a pair and the remainder.
 */
export function tsDivMod(hi: number, lo: number, divisor: number): [qHi: number, qLo: number, rem: number] {
  const qHi = Math.floor(hi / divisor);
  let r = hi - qHi * divisor;
  const a = r * 65536 + (lo >>> 16);
  const qA = Math.floor(a / divisor);
  r = a - qA * divisor;
  const b = r * 65536 + (lo & 0xffff);
  const qB = Math.floor(b / divisor);
  r = b - qB * divisor;
  // r < divisor, so a and b stay below divisor * 2^16 and qA, qB below 2^16.
  return [qHi, qA * 65536 + qB, r];
}

/** Decimal string of the unsigned 64-bit pair, without BigInt. */
export function tsToDecimal(hi: number, lo: number): string {
  if (hi < 0x200000) return String(hi * TWO_POW_32 + lo);
  // Split at 10^9: both halves are exact Numbers.
  const [qHi, qLo, rem] = tsDivMod(hi, lo, 1e9);
  return tsToDecimal(qHi, qLo) + String(rem).padStart(9, '0');
}
