// Enum values from BTF (/sys/kernel/btf/vmlinux and module files).
//
// Some print fmts name enum constants the kernel did not resolve (the
// subsystem lacks TRACE_DEFINE_ENUM): `{ IOPRIO_CLASS_NONE, "none" }`. The
// running kernel's BTF has their values; pass the map as the renderer's
// `constants` option. Only for the kernel that produced the trace: a
// recording from another machine needs that machine's BTF.
//
// ENUM and ENUM64 types are read, and the sizes of named structs and unions
// (for pointer arithmetic such as `(struct page *)vmemmap_base + pfn`);
// everything else is skipped by its size. All offsets are bounds-checked
// (MalformedInputError otherwise).

import fs from 'node:fs';
import path from 'node:path';
import { MalformedInputError } from '../errors.js';

const BTF_MAGIC = 0xeb9f;
const KIND_STRUCT = 4;
const KIND_UNION = 5;
const KIND_ENUM = 6;
const KIND_ENUM64 = 19;

/** Bytes following a btf_type, by kind (vlen = number of members). */
function trailing(kind: number, vlen: number): number {
  switch (kind) {
    case 1: // INT
    case 14: // VAR
    case 17: // DECL_TAG
      return 4;
    case 3: // ARRAY
      return 12;
    case 4: // STRUCT
    case 5: // UNION
    case 15: // DATASEC
    case 19: // ENUM64
      return 12 * vlen;
    case 6: // ENUM
    case 13: // FUNC_PROTO
      return 8 * vlen;
    case 0:
    case 2:
    case 7:
    case 8:
    case 9:
    case 10:
    case 11:
    case 12:
    case 16:
    case 18:
      return 0;
    default:
      throw new MalformedInputError(`BTF: unknown type kind ${kind}`);
  }
}

export interface ParsedBtf {
  /** The string section (for split BTF of modules). */
  strings: Uint8Array;
}

/**
 * Adds the enumerators of one BTF blob to `out` (`ambiguous` collects names
 * seen with different values). `base` is vmlinux's string section when
 * parsing a module's split BTF (its string offsets continue the base's).
 * With `sizes`, named structs and unions are added as "struct name" ->
 * bytes (names seen with different sizes are removed and become ambiguous).
 */
export function parseBtfEnums(
  data: Uint8Array,
  out: Map<string, bigint>,
  ambiguous: Set<string>,
  base?: Uint8Array,
  sizes?: Map<string, number>,
): ParsedBtf {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 24) throw new MalformedInputError('BTF: too short');
  let le = true;
  if (view.getUint16(0, true) !== BTF_MAGIC) {
    if (view.getUint16(0, false) !== BTF_MAGIC) throw new MalformedInputError('BTF: bad magic');
    le = false;
  }
  const hdrLen = view.getUint32(4, le);
  const typeOff = view.getUint32(8, le);
  const typeLen = view.getUint32(12, le);
  const strOff = view.getUint32(16, le);
  const strLen = view.getUint32(20, le);
  const typesStart = hdrLen + typeOff;
  const stringsStart = hdrLen + strOff;
  if (hdrLen < 24 || typesStart + typeLen > data.length || stringsStart + strLen > data.length) {
    throw new MalformedInputError('BTF: sections exceed the data');
  }
  const strings = data.subarray(stringsStart, stringsStart + strLen);
  const baseLen = base?.length ?? 0;
  const decoder = new TextDecoder();
  const name = (off: number): string => {
    let s: Uint8Array;
    let at: number;
    if (base !== undefined && off < baseLen) {
      s = base;
      at = off;
    } else {
      s = strings;
      at = off - baseLen;
    }
    if (at < 0 || at >= s.length) throw new MalformedInputError(`BTF: string offset ${off} out of range`);
    let end = at;
    while (end < s.length && s[end] !== 0) end++;
    return decoder.decode(s.subarray(at, end));
  };
  const add = (n: string, v: bigint): void => {
    if (n.length === 0 || ambiguous.has(n)) return;
    const prev = out.get(n);
    if (prev === undefined) out.set(n, v);
    else if (prev !== v) {
      out.delete(n);
      ambiguous.add(n);
    }
  };
  let p = typesStart;
  const end = typesStart + typeLen;
  while (p < end) {
    if (p + 12 > end) throw new MalformedInputError('BTF: truncated type');
    const info = view.getUint32(p + 4, le);
    const vlen = info & 0xffff;
    const kind = (info >>> 24) & 0x1f;
    const signed = info >>> 31 === 1;
    const size = trailing(kind, vlen);
    const q = p + 12;
    if (q + size > end) throw new MalformedInputError('BTF: truncated type members');
    if ((kind === KIND_STRUCT || kind === KIND_UNION) && sizes !== undefined) {
      const n = name(view.getUint32(p, le));
      if (n.length > 0) {
        const key = `${kind === KIND_STRUCT ? 'struct' : 'union'} ${n}`;
        const bytes = view.getUint32(p + 8, le);
        const prev = sizes.get(key);
        if (ambiguous.has(key)) {
          // seen with different sizes: stays unknown
        } else if (prev === undefined) sizes.set(key, bytes);
        else if (prev !== bytes) {
          sizes.delete(key);
          ambiguous.add(key);
        }
      }
    } else if (kind === KIND_ENUM) {
      for (let i = 0; i < vlen; i++) {
        const m = q + 8 * i;
        const v = signed ? view.getInt32(m + 4, le) : view.getUint32(m + 4, le);
        add(name(view.getUint32(m, le)), BigInt(v));
      }
    } else if (kind === KIND_ENUM64) {
      for (let i = 0; i < vlen; i++) {
        const m = q + 12 * i;
        const v = (BigInt(view.getUint32(m + 8, le)) << 32n) | BigInt(view.getUint32(m + 4, le));
        add(name(view.getUint32(m, le)), signed ? BigInt.asIntN(64, v) : v);
      }
    }
    p = q + size;
  }
  return { strings };
}

/**
 * Enumerator values of the running kernel: vmlinux plus every module in
 * `dir` (default /sys/kernel/btf). Names defined with different values in
 * different enums are left out. Returns an empty map if BTF is absent.
 */
export function loadBtfEnums(dir = '/sys/kernel/btf'): Map<string, bigint> {
  return loadBtfFacts(dir).enums;
}

/** What the kernel's BTF tells about enums and type sizes, for print fmts that name them. */
export interface BtfFacts {
  enums: Map<string, bigint>;
  /** "struct page" -> 64 */
  typeSizes: Map<string, number>;
}

/** Enumerators and struct/union sizes of the running kernel (empty without BTF). */
export function loadBtfFacts(dir = '/sys/kernel/btf'): BtfFacts {
  const out = new Map<string, bigint>();
  const typeSizes = new Map<string, number>();
  const ambiguous = new Set<string>();
  let vmlinux: Uint8Array;
  try {
    vmlinux = new Uint8Array(fs.readFileSync(path.join(dir, 'vmlinux')));
  } catch {
    return { enums: out, typeSizes };
  }
  const base = parseBtfEnums(vmlinux, out, ambiguous, undefined, typeSizes).strings;
  let modules: string[] = [];
  try {
    modules = fs.readdirSync(dir).filter((n) => n !== 'vmlinux');
  } catch {
    // no module BTF
  }
  for (const m of modules) {
    try {
      parseBtfEnums(new Uint8Array(fs.readFileSync(path.join(dir, m))), out, ambiguous, base, typeSizes);
    } catch {
      // A module unloaded meanwhile or unreadable BTF: its enums stay unknown.
    }
  }
  return { enums: out, typeSizes };
}
