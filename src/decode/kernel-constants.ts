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
import path from 'node:path';
import { zlib } from '../lazy-builtins.js';
import { MalformedInputError, WarningCode, type WarningHandler, emitProcessWarning } from '../errors.js';
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
      text = zlib().gunzipSync(gz).toString('latin1');
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

// ---- recordings without kernel_constants (made by other tools) ----------
//
// Raw pages plus format files, with no kernel_constants: the enum values
// the print fmts need (I_NEW, HRTIMER_MODE_REL...) are not in the
// recording. The running kernel's BTF has them when it is the kernel that
// recorded, or at least the same release; nothing else can tell. The
// release comes from tracering.json's "kernel", or a `uname` (`uname -r`
// or `uname -a` output), `osrelease` (/proc/sys/kernel/osrelease) or
// `version` (/proc/version) file in the recording; without one it is
// unknown, and the values stay unknown (their tables print numbers).
//
// Deciding costs a BTF parse (~50 ms) and a warning, so it waits until a
// print fmt asks for a value the recording lacks; recordings whose
// formats need none (most) load nothing and say nothing.

/** Where a recording says which kernel release recorded it. */
export interface RecordingRelease {
  release: string | null;
  /** The file it came from ("tracering.json", "uname"...), null if none. */
  source: string | null;
}

const RELEASE = /^[A-Za-z0-9._+~-]{1,64}$/;

function readText(path: string): string | null {
  try {
    const st = fs.statSync(path);
    if (!st.isFile() || st.size > 65536) return null;
    return fs.readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

/** The kernel release a recording directory names, if any. */
export function recordingRelease(root: string): RecordingRelease {
  const meta = readText(path.join(root, 'tracering.json'));
  if (meta !== null) {
    try {
      const m = JSON.parse(meta) as unknown;
      const kernel = typeof m === 'object' && m !== null ? (m as { kernel?: unknown }).kernel : undefined;
      if (typeof kernel === 'string' && RELEASE.test(kernel)) return { release: kernel, source: 'tracering.json' };
    } catch {
      // not JSON: Recording.open reports it
    }
  }
  const uname = readText(path.join(root, 'uname'))?.trim().split(/\s+/);
  // `uname -r` is one word; `uname -a` is "Linux HOST RELEASE ...".
  const fromUname = uname === undefined ? undefined : uname.length === 1 ? uname[0] : uname[0] === 'Linux' ? uname[2] : undefined;
  if (fromUname !== undefined && RELEASE.test(fromUname)) return { release: fromUname, source: 'uname' };
  const osrelease = readText(path.join(root, 'osrelease'))?.trim();
  if (osrelease !== undefined && RELEASE.test(osrelease)) return { release: osrelease, source: 'osrelease' };
  const version = readText(path.join(root, 'version'));
  const fromVersion = version === null ? undefined : /^Linux version (\S+)/.exec(version)?.[1];
  if (fromVersion !== undefined && RELEASE.test(fromVersion)) return { release: fromVersion, source: 'version' };
  return { release: null, source: null };
}

/** A map that, the first time it lacks a key, asks `onMiss` once (which may fill it). */
class OnDemandMap<V> extends Map<string, V> {
  readonly #onMiss: (key: string) => void;
  constructor(onMiss: (key: string) => void) {
    super();
    this.#onMiss = onMiss;
  }
  override get(key: string): V | undefined {
    const v = super.get(key);
    // HZ is never in BTF (decode contexts ask for it up front).
    if (v !== undefined || key === HZ_KEY) return v;
    this.#onMiss(key);
    return super.get(key);
  }
  override has(key: string): boolean {
    return this.get(key) !== undefined;
  }
}

export interface ForeignConstantsOptions {
  onWarning?: WarningHandler;
  /** BTF of the running kernel (default /sys/kernel/btf). */
  btfDir?: string;
  /** The running kernel's release (default os.release()). */
  runningRelease?: string;
}

/**
 * Kernel constants for a recording without a kernel_constants file: the
 * running kernel's BTF enumerators and type sizes if the recording names
 * the same release, else none. Decided, and warned about once, when a
 * print fmt first asks for a value.
 */
export function foreignRecordingConstants(root: string, options: ForeignConstantsOptions = {}): KernelConstants {
  const onWarning = options.onWarning ?? emitProcessWarning;
  let decided = false;
  const values = new OnDemandMap<bigint>((key) => decide(key));
  const typeSizes = new OnDemandMap<number>((key) => decide(key));
  const decide = (key: string): void => {
    if (decided) return;
    decided = true;
    const { release, source } = recordingRelease(root);
    const running = options.runningRelease ?? os.release();
    const lacking = `${root} has no ${CONSTANTS_FILE} file, and its print fmts need values it does not give (${key}...)`;
    if (release === null) {
      onWarning({
        code: WarningCode.kernelConstants,
        message:
          `${lacking}; it does not say which kernel recorded it (no kernel in tracering.json, no uname, osrelease or version file), ` +
          `so the running kernel's BTF cannot be trusted for them: those fields print as numbers. ` +
          `A uname file with the recording kernel's \`uname -r\` enables BTF when it is the running release`,
      });
      return;
    }
    if (release !== running) {
      onWarning({
        code: WarningCode.kernelConstants,
        message: `${lacking}; it was recorded on ${release} (${source}), not the running ${running}, whose BTF may differ: those fields print as numbers`,
      });
      return;
    }
    const facts = loadBtfFacts(options.btfDir);
    if (facts.enums.size === 0) {
      onWarning({
        code: WarningCode.kernelConstants,
        message: `${lacking}; the running kernel is the same release (${release}) but has no BTF (${options.btfDir ?? '/sys/kernel/btf'}/vmlinux): those fields print as numbers`,
      });
      return;
    }
    for (const [k, v] of facts.enums) values.set(k, v);
    for (const [k, v] of facts.typeSizes) typeSizes.set(k, v);
    onWarning({
      code: WarningCode.kernelConstants,
      message: `${lacking}; they come from the running kernel's BTF: the same release (${release}, from ${source}), though not necessarily the same build`,
    });
  };
  return { values, typeSizes };
}
