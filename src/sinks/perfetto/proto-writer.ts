// A protobuf encoder that appends to one growable byte buffer, for the
// hot paths of the Perfetto sink: no objects per field, no BigInt.
//
// Nested messages whose size is not known up front reserve a 4-byte length
// (a varint padded with continuation bits, as Perfetto's own protozero
// writes them: decoders accept non-minimal varints) and patch it at the end,
// so a message is written once, front to back.

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const TWO32 = 4294967296;
/** Largest length a 4-byte padded varint holds. */
const MAX_NESTED = (1 << 28) - 1;

const encoder = new TextEncoder();

export class ProtoWriter {
  buf: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(capacity = 1 << 16) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  reset(): void {
    this.pos = 0;
  }

  /** The bytes written so far (a view, valid until the next write). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** A varint of a non-negative integer below 2^53. */
  rawVarint(v: number): void {
    this.reserve(10);
    const b = this.buf;
    let p = this.pos;
    if (v < 0x80) {
      b[p++] = v;
    } else if (v < TWO32) {
      let u = v >>> 0;
      while (u >= 0x80) {
        b[p++] = (u & 0x7f) | 0x80;
        u >>>= 7;
      }
      b[p++] = u;
    } else {
      const hi = Math.floor(v / TWO32);
      this.pos = p;
      this.rawVarint64(hi, v - hi * TWO32);
      return;
    }
    this.pos = p;
  }

  /** A varint of the 64-bit value (hi, lo), both unsigned 32-bit words. */
  rawVarint64(hi: number, lo: number): void {
    this.reserve(10);
    const b = this.buf;
    let p = this.pos;
    hi >>>= 0;
    lo >>>= 0;
    // 28 low bits first, as 4 groups of 7.
    while (hi !== 0 || lo >= 0x80) {
      b[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[p++] = lo;
    this.pos = p;
  }

  /** A varint of a signed integer (negative: its 64-bit two's complement, 10 bytes). */
  rawSigned(v: number): void {
    if (v >= 0) {
      this.rawVarint(v);
      return;
    }
    const hi = Math.floor(v / TWO32);
    this.rawVarint64(hi >>> 0, (v - hi * TWO32) >>> 0);
  }

  tag(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  /** uint32/uint64/int32/int64/bool/enum field from a Number (negative values as int64). */
  int(field: number, v: number): void {
    this.tag(field, WIRE_VARINT);
    this.rawSigned(v);
  }

  /** 64-bit varint field from (hi, lo) words. */
  int64(field: number, hi: number, lo: number): void {
    this.tag(field, WIRE_VARINT);
    this.rawVarint64(hi, lo);
  }

  bool(field: number, v: boolean): void {
    this.tag(field, WIRE_VARINT);
    this.reserve(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  double(field: number, v: number): void {
    this.tag(field, WIRE_FIXED64);
    this.reserve(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  string(field: number, s: string): void {
    this.tag(field, WIRE_LEN);
    // UTF-8 is at most 3 bytes per UTF-16 unit.
    const max = s.length * 3;
    if (max < 0x80) {
      this.reserve(1 + max);
      const at = this.pos++;
      const n = encoder.encodeInto(s, this.buf.subarray(this.pos, this.pos + max)).written;
      this.buf[at] = n;
      this.pos += n;
      return;
    }
    const bytes = encoder.encode(s);
    this.rawVarint(bytes.length);
    this.rawBytes(bytes, 0, bytes.length);
  }

  /** A length-delimited field holding `len` bytes of `src` from `start`. */
  bytesField(field: number, src: Uint8Array, start: number, len: number): void {
    this.tag(field, WIRE_LEN);
    this.rawVarint(len);
    this.rawBytes(src, start, len);
  }

  rawBytes(src: Uint8Array, start: number, len: number): void {
    this.reserve(len);
    const b = this.buf;
    let p = this.pos;
    if (len <= 16) {
      for (let i = 0; i < len; i++) b[p + i] = src[start + i]!;
    } else {
      b.set(src.subarray(start, start + len), p);
    }
    p += len;
    this.pos = p;
  }

  /** Opens a nested message (or packed field): returns the mark to pass to end(). */
  begin(field: number): number {
    this.tag(field, WIRE_LEN);
    this.reserve(4);
    const at = this.pos;
    this.pos += 4;
    return at;
  }

  /** Closes what begin() opened, writing its length as a 4-byte varint. */
  end(mark: number): void {
    const len = this.pos - mark - 4;
    if (len > MAX_NESTED) throw new RangeError(`nested protobuf message of ${len} bytes exceeds ${MAX_NESTED}`);
    const b = this.buf;
    b[mark] = (len & 0x7f) | 0x80;
    b[mark + 1] = ((len >>> 7) & 0x7f) | 0x80;
    b[mark + 2] = ((len >>> 14) & 0x7f) | 0x80;
    b[mark + 3] = (len >>> 21) & 0x7f;
  }

  /**
   * Opens a nested message expected to stay under 128 bytes (an ftrace
   * event, a generic field): one length byte, widened at endShort() if the
   * message turned out longer. Saves 3 bytes per message over begin().
   */
  beginShort(field: number): number {
    this.tag(field, WIRE_LEN);
    this.reserve(1);
    return this.pos++;
  }

  endShort(mark: number): void {
    const len = this.pos - mark - 1;
    if (len < 0x80) {
      this.buf[mark] = len;
      return;
    }
    let extra = 1;
    while (len >= 2 ** (7 * (extra + 1))) extra++;
    this.reserve(extra);
    const b = this.buf;
    b.copyWithin(mark + 1 + extra, mark + 1, this.pos);
    this.pos = mark;
    this.rawVarint(len);
    this.pos = mark + 1 + extra + len;
  }

  /** Appends another writer's bytes. */
  append(other: ProtoWriter): void {
    this.rawBytes(other.buf, 0, other.pos);
  }
}

export const WIRE = { varint: WIRE_VARINT, fixed64: WIRE_FIXED64, len: WIRE_LEN } as const;

/** The UTF-8 bytes of a field name or other constant string, encoded once. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}
