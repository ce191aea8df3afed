// Kernel values some print fmts need but format files do not give:
//
// * enum names the kernel left unresolved (no TRACE_DEFINE_ENUM), e.g.
//   HRTIMER_MODE_ABS, I_DIRTY_PAGES, IOPRIO_CLASS_BE: from BTF;
// * sizes of structs used in pointer arithmetic (`(struct page *)base +
//   pfn`): from BTF;
// * `jiffies` (writeback's "age" is jiffies at the moment the text is
//   produced minus a recorded time): from /proc/timer_list;
// * HZ, for jiffies_to_msecs(): CONFIG_HZ from /proc/config.gz or
//   /boot/config-<release>. Kept under the key "HZ" (the macro itself
//   never appears in a print fmt: the compiler expanded it).
//
// Not available: kernel variables such as vmemmap_base (randomised by
// KASLR, readable only through /proc/kcore or with CONFIG_KALLSYMS_ALL);
// a caller who knows one can add it to `values`.
//
// They describe the running kernel, so a recording keeps the ones its
// formats use in a `kernel_constants` file ("NAME VALUE" lines, decimal,
// and "sizeof(struct NAME) BYTES"), written when it is captured and read
// wherever it is decoded.

import fs from 'node:fs';
import os from 'node:os';
import { gunzipSync } from 'node:zlib';
import { MalformedInputError } from '../errors.js';
import { loadBtfFacts } from './btf-enums.js';

/** Name of the file in a recording that holds the kernel constants. */
export const CONSTANTS_FILE = 'kernel_constants';
/** Key of the kernel's HZ in a constants map. */
export const HZ_KEY = 'HZ';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MAX_LINES = 1 << 20;
const SIZEOF = /^sizeof\((struct|union) ([A-Za-z_][A-Za-z0-9_]{0,127})\) (\d{1,9})$/;

/** Values print fmts leave unresolved: enum constants (from BTF), type sizes, jiffies, HZ. */
export interface KernelConstants {
  /** Identifier -> value (enumerators, jiffies, HZ under HZ_KEY). */
  values: Map<string, bigint>;
  /** "struct page" -> bytes. */
  typeSizes: Map<string, number>;
}

/** No constants. */
export function emptyKernelConstants(): KernelConstants {
  return { values: new Map(), typeSizes: new Map() };
}

/** Parses a kernel_constants file. */
export function parseKernelConstants(text: string): KernelConstants {
  const out = new Map<string, bigint>();
  const typeSizes = new Map<string, number>();
  const lines = text.split('\n');
  if (lines.length > MAX_LINES) throw new MalformedInputError(`${CONSTANTS_FILE}: too many lines`);
  for (const line of lines) {
    if (line === '' || line.startsWith('#')) continue;
    const t = SIZEOF.exec(line);
    if (t !== null) {
      typeSizes.set(`${t[1]} ${t[2]}`, Number(t[3]));
      continue;
    }
    const m = /^(\S+) (-?\d{1,20})$/.exec(line);
    if (m === null || !IDENT.test(m[1]!)) throw new MalformedInputError(`${CONSTANTS_FILE}: bad line ${JSON.stringify(line.slice(0, 80))}`);
    const v = BigInt(m[2]!);
    if (v < -(1n << 63n) || v >= 1n << 64n) throw new MalformedInputError(`${CONSTANTS_FILE}: ${m[1]} out of 64-bit range`);
    out.set(m[1]!, v);
  }
  return { values: out, typeSizes };
}

const byKey = <T>([a]: [string, T], [b]: [string, T]) => (a < b ? -1 : a > b ? 1 : 0);

/** The kernel_constants file text of `k`. */
export function formatKernelConstants(k: KernelConstants): string {
  let s = '# kernel values the print fmts of this recording use: NAME VALUE, sizeof(struct NAME) BYTES\n';
  for (const [name, v] of [...k.values].sort(byKey)) s += `${name} ${v}\n`;
  for (const [type, size] of [...k.typeSizes].sort(byKey)) s += `sizeof(${type}) ${size}\n`;
  return s;
}

/** The constants named in `texts` (print fmts, format files), plus HZ. */
export function constantsUsedBy(texts: Iterable<string>, k: KernelConstants): KernelConstants {
  const out = emptyKernelConstants();
  const hz = k.values.get(HZ_KEY);
  if (hz !== undefined) out.values.set(HZ_KEY, hz);
  for (const text of texts) {
    for (const m of text.matchAll(/\b(?:(struct|union)\s+)?([A-Za-z_][A-Za-z0-9_]*)/g)) {
      if (m[1] !== undefined) {
        const key = `${m[1]} ${m[2]}`;
        const size = k.typeSizes.get(key);
        if (size !== undefined) out.typeSizes.set(key, size);
        continue;
      }
      const v = k.values.get(m[2]!);
      if (v !== undefined) out.values.set(m[2]!, v);
    }
  }
  return out;
}

function readOptional(path: string): Buffer | null {
  try {
    return fs.readFileSync(path);
  } catch {
    return null;
  }
}

/** CONFIG_HZ of the running kernel, or null if its config is not readable. */
export function readKernelHz(): number | null {
  const gz = readOptional('/proc/config.gz');
  let text: string | null = null;
  if (gz !== null) {
    try {
      text = gunzipSync(gz).toString('latin1');
    } catch {
      text = null;
    }
  }
  text ??= readOptional(`/boot/config-${os.release()}`)?.toString('latin1') ?? null;
  const hz = text === null ? null : /^CONFIG_HZ=(\d+)$/m.exec(text)?.[1];
  return hz ? Number(hz) : null;
}

/** The kernel's jiffies now (from /proc/timer_list), or null. */
export function readJiffies(): bigint | null {
  const text = readOptional('/proc/timer_list')?.toString('latin1');
  const j = text === undefined ? undefined : /^jiffies: (\d+)$/m.exec(text)?.[1];
  return j ? BigInt(j) : null;
}

/**
 * The running kernel's constants: BTF enumerators and struct sizes,
 * `jiffies` now and HZ. Whatever is not available is left out.
 */
export function readLiveKernelConstants(btfDir?: string): KernelConstants {
  const { enums: values, typeSizes } = loadBtfFacts(btfDir);
  const jiffies = readJiffies();
  if (jiffies !== null) values.set('jiffies', jiffies);
  const hz = readKernelHz();
  if (hz !== null) values.set(HZ_KEY, BigInt(hz));
  return { values, typeSizes };
}
