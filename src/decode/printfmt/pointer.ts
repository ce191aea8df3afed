// %p extensions of the kernel's vsprintf (lib/vsprintf.c pointer()):
// symbols (%ps %pS %pB, legacy %pf %pF), raw pointers (%p with hash-ptr
// off, %px, %pK), IP addresses (%pI4 %pi4 %pI6 %pi6 %pI6c %pIS[pfsc]),
// MAC (%pM %pMR %pMF %pm), UUID (%pU[bBlL]), hex buffers (%*ph[CDN]),
// bitmaps (%*pb %*pbl) and %pa.
//
// Arguments are either a value (an address: symbols, raw pointers) or bytes
// of the record (everything that dereferences). The trace output never
// dereferences kernel memory we cannot see: such cases print "(efault)".

import { type Int, toU64 } from '../int64.js';
import { type SymbolTable, split } from '../kallsyms.js';
import { FLAG_ZEROPAD, formatNumber, formatString } from './printk.js';

export const HEX = '0123456789abcdef';
const HEX_UPPER = '0123456789ABCDEF';

/** What an extension consumes. */
export type PointerArgKind = 'address' | 'bytes';

/** Extensions that print the pointer value itself; everything else reads what it points to. */
export function pointerArgKind(ext: string): PointerArgKind {
  const c = ext[0];
  if (c === undefined) return 'address';
  switch (c) {
    case 'S':
    case 's':
    case 'B':
    case 'F':
    case 'f':
    case 'x':
    case 'K':
    case 'e':
      return 'address';
    case 'I':
    case 'i':
    case 'M':
    case 'm':
    case 'U':
    case 'h':
    case 'b':
    case 'a':
    case 'E':
    case 'V':
      return 'bytes';
    default:
      // Unknown extensions print the (unhashed) pointer value.
      return 'address';
  }
}

function hexByte(b: number): string {
  return HEX[b >>> 4]! + HEX[b & 15]!;
}

/** %px: the address as 2*sizeof(long) zero-padded hex digits (or the given width). */
export function rawPointer(value: Int, longSize: 4 | 8, flags: number, width: number, precision: number): string {
  const v = toU64(value);
  if (width < 0) return formatNumber(v, 16, false, false, flags | FLAG_ZEROPAD, longSize * 2, precision);
  return formatNumber(v, 16, false, false, flags, width, precision);
}

/**
 * %ps / %pS / %pB (and legacy %pf / %pF): "name", "name+0xoff/0xsize",
 * plus " [module]" for module symbols; "0x<hex>" when not found.
 */
export function symbolString(symbols: SymbolTable, value: Int, ext: string): string {
  const c = ext[0];
  const withOffset = c === 'S' || c === 'F' || c === 'B';
  const backtrace = c === 'B';
  let [hi, lo] = split(value);
  if (backtrace) {
    // sprint_backtrace(): look up address - 1 (a return address may be past the end).
    if (lo === 0) {
      hi = (hi - 1) >>> 0;
      lo = 0xffffffff;
    } else lo -= 1;
  }
  const sym = symbols.lookupHiLo(hi, lo);
  if (sym === null) return `0x${toU64(value).toString(16)}`;
  let out = sym.name;
  if (withOffset) out += `+0x${(sym.offset + (backtrace ? 1 : 0)).toString(16)}/0x${sym.size.toString(16)}`;
  if (sym.module !== '') out += ` [${sym.module}]`;
  return out;
}

function ip4(bytes: Uint8Array, at: number, leadingZeros: boolean, order: string): string {
  let index = 0;
  let step = 1;
  // 'h' = host order (little endian here), 'l' = little endian, default network order.
  if (order === 'h' || order === 'l') {
    index = 3;
    step = -1;
  }
  let out = '';
  for (let i = 0; i < 4; i++) {
    const b = bytes[at + index]!;
    out += leadingZeros ? String(b).padStart(3, '0') : String(b);
    if (i < 3) out += '.';
    index += step;
  }
  return out;
}

function ip6Full(bytes: Uint8Array, at: number, colons: boolean): string {
  let out = '';
  for (let i = 0; i < 8; i++) {
    out += hexByte(bytes[at + 2 * i]!) + hexByte(bytes[at + 2 * i + 1]!);
    if (colons && i !== 7) out += ':';
  }
  return out;
}

/** ip6_compressed_string(): RFC 5952 style, IPv4-mapped and ISATAP with a dotted tail. */
function ip6Compressed(bytes: Uint8Array, at: number): string {
  const word = (i: number): number => (bytes[at + 2 * i]! << 8) | bytes[at + 2 * i + 1]!;
  let v4mapped = true;
  for (let i = 0; i < 10; i++) if (bytes[at + i] !== 0) v4mapped = false;
  if (bytes[at + 10] !== 0xff || bytes[at + 11] !== 0xff) v4mapped = false;
  // ISATAP: (s6_addr32[2] | htonl(0x02000000)) == htonl(0x02005efe)
  const isatap = (bytes[at + 8]! | 0x02) === 0x02 && bytes[at + 9] === 0x00 && bytes[at + 10] === 0x5e && bytes[at + 11] === 0xfe;
  const useIPv4 = v4mapped || isatap;
  const range = useIPv4 ? 6 : 8;
  let longest = 1;
  let colonpos = -1;
  for (let i = 0; i < range; i++) {
    let z = 0;
    for (let j = i; j < range && word(j) === 0; j++) z++;
    if (z > longest) {
      longest = z;
      colonpos = i;
    }
  }
  let out = '';
  let needColon = false;
  for (let i = 0; i < range; i++) {
    if (i === colonpos) {
      if (needColon || i === 0) out += ':';
      out += ':';
      needColon = false;
      i += longest - 1;
      continue;
    }
    if (needColon) out += ':';
    out += word(i).toString(16);
    needColon = true;
  }
  if (useIPv4) {
    if (needColon) out += ':';
    out += ip4(bytes, at + 12, false, '');
  }
  return out;
}

const AF_INET = 2;
const AF_INET6 = 10;

/**
 * %pI / %pi: `ext` is what follows 'p' ("I4", "i6", "I6c", "ISpc"...).
 * `len` is the number of readable bytes at `at`.
 */
export function ipString(bytes: Uint8Array, at: number, len: number, ext: string, le: boolean): string {
  const kind = ext[1];
  const leading = ext[0] === 'i';
  if (kind === '4') {
    if (len < 4) return '(efault)';
    return ip4(bytes, at, leading, ext[2] ?? '');
  }
  if (kind === '6') {
    if (len < 16) return '(efault)';
    if (ext[0] === 'I' && ext[2] === 'c') return ip6Compressed(bytes, at);
    return ip6Full(bytes, at, ext[0] === 'I');
  }
  if (kind === 'S') {
    if (len < 2) return '(efault)';
    const family = le ? bytes[at]! | (bytes[at + 1]! << 8) : (bytes[at]! << 8) | bytes[at + 1]!;
    const flags = ext.slice(2);
    const port = () => String((bytes[at + 2]! << 8) | bytes[at + 3]!);
    if (family === AF_INET) {
      if (len < 8) return '(efault)';
      let order = '';
      for (const f of flags) if (f === 'h' || f === 'l' || f === 'n' || f === 'b') order = f;
      let out = ip4(bytes, at + 4, leading, order);
      if (flags.includes('p')) out += `:${port()}`;
      return out;
    }
    if (family === AF_INET6) {
      if (len < 28) return '(efault)';
      const p = flags.includes('p');
      const f = flags.includes('f');
      const s = flags.includes('s');
      const c = flags.includes('c');
      let out = p || s || f ? '[' : '';
      out += ext[0] === 'I' && c ? ip6Compressed(bytes, at + 8) : ip6Full(bytes, at + 8, ext[0] === 'I');
      if (p || s || f) out += ']';
      if (p) out += `:${port()}`;
      if (f) {
        const flow = ((bytes[at + 4]! << 24) | (bytes[at + 5]! << 16) | (bytes[at + 6]! << 8) | bytes[at + 7]!) & 0x0fffffff;
        out += `/${flow >>> 0}`;
      }
      if (s) {
        const scope = le
          ? (bytes[at + 24]! | (bytes[at + 25]! << 8) | (bytes[at + 26]! << 16) | (bytes[at + 27]! << 24)) >>> 0
          : ((bytes[at + 24]! << 24) | (bytes[at + 25]! << 16) | (bytes[at + 26]! << 8) | bytes[at + 27]!) >>> 0;
        out += `%${scope}`;
      }
      return out;
    }
    return '(einval)';
  }
  // "%pI" alone: the kernel falls back to a plain pointer; we have no address.
  return '(einval)';
}

/** %pM %pMR %pMF %pm: six bytes. */
export function macString(bytes: Uint8Array, at: number, len: number, ext: string): string {
  if (len < 6) return '(efault)';
  const sep = ext[1] === 'F' ? '-' : ':';
  const reversed = ext[1] === 'R';
  let out = '';
  for (let i = 0; i < 6; i++) {
    out += hexByte(bytes[at + (reversed ? 5 - i : i)]!);
    if (ext[0] === 'M' && i !== 5) out += sep;
  }
  return out;
}

const UUID_INDEX = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const GUID_INDEX = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];

/** %pU[bBlL]. */
export function uuidString(bytes: Uint8Array, at: number, len: number, ext: string): string {
  if (len < 16) return '(efault)';
  const m = ext[1];
  const upper = m === 'B' || m === 'L';
  const index = m === 'l' || m === 'L' ? GUID_INDEX : UUID_INDEX;
  const digits = upper ? HEX_UPPER : HEX;
  let out = '';
  for (let i = 0; i < 16; i++) {
    const b = bytes[at + index[i]!]!;
    out += digits[b >>> 4]! + digits[b & 15]!;
    if (i === 3 || i === 5 || i === 7 || i === 9) out += '-';
  }
  return out;
}

/** %*ph[CDN]: `count` bytes (the field width; default 1, at most 64). */
export function hexString(bytes: Uint8Array, at: number, len: number, ext: string, count: number): string {
  if (count === 0) return '';
  let n = count > 0 ? Math.min(count, 64) : 1;
  n = Math.min(n, Math.max(0, len));
  const m = ext[1];
  const sep = m === 'C' ? ':' : m === 'D' ? '-' : m === 'N' ? '' : ' ';
  let out = '';
  for (let i = 0; i < n; i++) {
    out += hexByte(bytes[at + i]!);
    if (sep !== '' && i !== n - 1) out += sep;
  }
  return out;
}

/** Bit `i` of a bitmap of `longSize`-byte words in the given byte order. */
function bit(bytes: Uint8Array, at: number, len: number, i: number, longSize: 4 | 8, le: boolean): boolean {
  const word = Math.floor(i / (longSize * 8));
  const inWord = i % (longSize * 8);
  const byteInWord = inWord >>> 3;
  const b = at + word * longSize + (le ? byteInWord : longSize - 1 - byteInWord);
  if (b - at >= len || b < at) return false;
  return (bytes[b]! & (1 << (inWord & 7))) !== 0;
}

/** %*pb: 32-bit chunks in hex, most significant first, comma-separated, zero-padded. */
export function bitmapString(bytes: Uint8Array, at: number, len: number, nbits: number, longSize: 4 | 8, le: boolean): string {
  nbits = Math.max(0, Math.min(nbits, len * 8, 1 << 20));
  let chunk = nbits & 31;
  if (chunk === 0) chunk = 32;
  let out = '';
  let first = true;
  for (let i = Math.ceil(nbits / 32) * 32 - 32; i >= 0; i -= 32) {
    let val = 0;
    for (let b = 0; b < chunk; b++) if (bit(bytes, at, len, i + b, longSize, le)) val |= 1 << b;
    if (!first) out += ',';
    first = false;
    out += (val >>> 0).toString(16).padStart(Math.ceil(chunk / 4), '0');
    chunk = 32;
  }
  return out;
}

/** %*pbl: ranges of set bits, "0-3,5". */
export function bitmapListString(bytes: Uint8Array, at: number, len: number, nbits: number, longSize: 4 | 8, le: boolean): string {
  nbits = Math.max(0, Math.min(nbits, len * 8, 1 << 20));
  let out = '';
  let i = 0;
  while (i < nbits) {
    if (!bit(bytes, at, len, i, longSize, le)) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < nbits && bit(bytes, at, len, j, longSize, le)) j++;
    if (out !== '') out += ',';
    out += j === i + 1 ? String(i) : `${i}-${j - 1}`;
    i = j;
  }
  return out;
}

/** %pa[pd]: the phys_addr_t / dma_addr_t pointed to, as 0x + zero-padded hex. */
export function addressValue(view: DataView, at: number, len: number, longSize: 4 | 8, le: boolean): string {
  if (len < longSize) return '(efault)';
  let v: bigint;
  if (longSize === 8) v = view.getBigUint64(at, le);
  else v = BigInt(view.getUint32(at, le));
  return `0x${v.toString(16).padStart(longSize * 2, '0')}`;
}

/** Applies width/precision of the directive to a pointer extension's text (string_nocheck). */
export function widen(s: string, flags: number, width: number, precision: number): string {
  return width < 0 && precision < 0 ? s : formatString(s, flags, width, precision);
}
