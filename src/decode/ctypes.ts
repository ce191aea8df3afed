// C scalar types as they appear in format files and print fmt casts.
//
// Format files give each field's size and signedness, but element types of
// dynamic arrays (`__data_loc u32[] x`), casts (`(unsigned long)x`) and
// `sizeof(u64)` in print fmts only give a type name. This table maps the
// names the kernel uses to a width and signedness. `long` and pointers take
// the recording kernel's word size (8 on 64-bit, 4 on 32-bit kernels).

/** A C integer type: its size in bytes and signedness. */
export interface IntType {
  /** Width in bytes: 1, 2, 4 or 8. */
  readonly size: 1 | 2 | 4 | 8;
  readonly signed: boolean;
}

export const S8: IntType = { size: 1, signed: true };
export const U8: IntType = { size: 1, signed: false };
export const S16: IntType = { size: 2, signed: true };
export const U16: IntType = { size: 2, signed: false };
export const S32: IntType = { size: 4, signed: true };
export const U32: IntType = { size: 4, signed: false };
export const S64: IntType = { size: 8, signed: true };
export const U64: IntType = { size: 8, signed: false };

/** Fixed-width typedefs (kernel, uapi and C99 spellings). */
const FIXED: ReadonlyMap<string, IntType> = new Map<string, IntType>([
  ['u8', U8], ['__u8', U8], ['uint8_t', U8], ['s8', S8], ['__s8', S8], ['int8_t', S8],
  ['u16', U16], ['__u16', U16], ['uint16_t', U16], ['__le16', U16], ['__be16', U16],
  ['s16', S16], ['__s16', S16], ['int16_t', S16],
  ['u32', U32], ['__u32', U32], ['uint32_t', U32], ['__le32', U32], ['__be32', U32], ['uint', U32],
  ['s32', S32], ['__s32', S32], ['int32_t', S32],
  ['u64', U64], ['__u64', U64], ['uint64_t', U64], ['__le64', U64], ['__be64', U64],
  ['s64', S64], ['__s64', S64], ['int64_t', S64],
  ['bool', U8], ['_Bool', U8],
  ['pid_t', S32], ['tid_t', S32], ['uid_t', U32], ['gid_t', U32], ['dev_t', U32], ['umode_t', U16],
  ['gfp_t', U32], ['slab_flags_t', U32], ['blk_opf_t', U32], ['fmode_t', U32], ['__kernel_rwf_t', S32],
  ['loff_t', S64], ['sector_t', U64], ['blkcnt_t', U64], ['ktime_t', S64], ['time64_t', S64],
  ['int', S32], ['signed', S32], ['unsigned', U32], ['short', S16], ['char', S8],
  ['clockid_t', S32], ['timer_t', S32], ['mqd_t', S32], ['key_serial_t', S32], ['qid_t', U32],
]);

/** Names whose width is the kernel's `long`. */
const LONG_SIGNED = new Set(['long', 'ssize_t', 'ptrdiff_t', 'intptr_t', '__kernel_long_t', 'off_t', 'time_t', 'clock_t']);
const LONG_UNSIGNED = new Set([
  'size_t', 'uintptr_t', 'phys_addr_t', 'dma_addr_t', 'resource_size_t', 'pgoff_t', 'ino_t', 'vm_flags_t',
  '__kernel_ulong_t', 'cpumask_t', 'fl_owner_t',
]);

const QUALIFIERS = new Set(['const', 'volatile', 'restrict', '__restrict', '__user', '__iomem', '__rcu', '__percpu', '__force', '__bitwise']);

/**
 * Width and signedness of a C type name ("unsigned long", "u32", "const
 * int"), or null when unknown. Pointers (`T *`) are unsigned and `longSize`
 * wide. `enum X` is an int; `struct`/`union` values have no scalar type.
 */
export function scalarType(name: string, longSize: 4 | 8): IntType | null {
  const text = name.trim();
  if (text.endsWith('*')) return longSize === 8 ? U64 : U32;
  const words = text.split(/\s+/).filter((w) => w.length > 0 && !QUALIFIERS.has(w));
  if (words.length === 0) return null;
  if (words[0] === 'enum') return words.length === 2 ? U32 : null;
  if (words[0] === 'struct' || words[0] === 'union') return null;
  if (words.length === 1) {
    const w = words[0]!;
    const fixed = FIXED.get(w);
    if (fixed !== undefined) return fixed;
    if (LONG_SIGNED.has(w)) return longSize === 8 ? S64 : S32;
    if (LONG_UNSIGNED.has(w)) return longSize === 8 ? U64 : U32;
    return null;
  }
  // Combinations of the basic keywords: signed/unsigned, char/short/int/long.
  let signed = true;
  let longs = 0;
  let base: 'char' | 'short' | 'int' | null = null;
  for (const w of words) {
    if (w === 'unsigned') signed = false;
    else if (w === 'signed') signed = true;
    else if (w === 'long') longs++;
    else if (w === 'char' || w === 'short' || w === 'int') {
      if (base !== null && !(base === 'int' || w === 'int')) return null;
      if (base === null || base === 'int') base = w;
    } else return null;
  }
  if (longs > 2) return null;
  if (base === 'char') return longs > 0 ? null : signed ? S8 : U8;
  if (base === 'short') return longs > 0 ? null : signed ? S16 : U16;
  if (longs === 2) return signed ? S64 : U64;
  if (longs === 1) return longSize === 8 ? (signed ? S64 : U64) : signed ? S32 : U32;
  return signed ? S32 : U32;
}

/** True for the 1-byte character types whose arrays are strings. */
export function isCharType(name: string): boolean {
  const words = name.trim().split(/\s+/).filter((w) => w.length > 0 && !QUALIFIERS.has(w));
  return words.length > 0 && words[words.length - 1] === 'char' && words.every((w) => w === 'char' || w === 'signed' || w === 'unsigned');
}

/** Integer type of a scalar field of `size` bytes (format files give the size, not always a known name). */
export function intTypeOfSize(size: number, signed: boolean): IntType | null {
  switch (size) {
    case 1:
      return signed ? S8 : U8;
    case 2:
      return signed ? S16 : U16;
    case 4:
      return signed ? S32 : U32;
    case 8:
      return signed ? S64 : U64;
    default:
      return null;
  }
}
