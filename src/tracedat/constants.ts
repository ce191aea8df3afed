// trace.dat (trace-cmd file format) constants: the magic, option and
// section ids, section flags. Ids as trace-cmd 3.1.6 defines them
// (lib/trace-cmd/include/private/trace-cmd-private.h); the layout notes
// are in /work/shared/spec/formats.md section A.

/** 0x17 0x08 0x44 "tracing". */
export const MAGIC = Uint8Array.of(0x17, 0x08, 0x44, 0x74, 0x72, 0x61, 0x63, 0x69, 0x6e, 0x67);

/** trace.dat option ids. */
export const Option = {
  DONE: 0,
  DATE: 1,
  CPUSTAT: 2,
  BUFFER: 3,
  TRACECLOCK: 4,
  UNAME: 5,
  HOOK: 6,
  OFFSET: 7,
  CPUCOUNT: 8,
  VERSION: 9,
  PROCMAPS: 10,
  TRACEID: 11,
  TIME_SHIFT: 12,
  GUEST: 13,
  TSC2NSEC: 14,
  STRINGS: 15,
  HEADER_INFO: 16,
  FTRACE_EVENTS: 17,
  EVENT_FORMATS: 18,
  KALLSYMS: 19,
  PRINTK: 20,
  CMDLINES: 21,
  BUFFER_TEXT: 22,
} as const;

/** Option names as `trace-cmd dump --options` prints them. */
export const OPTION_NAMES: Readonly<Record<number, string>> = {
  0: 'DONE',
  1: 'DATE',
  2: 'CPUSTAT',
  3: 'BUFFER',
  4: 'TRACECLOCK',
  5: 'UNAME',
  6: 'HOOK',
  7: 'OFFSET',
  8: 'CPUCOUNT',
  9: 'VERSION',
  10: 'PROCMAPS',
  11: 'TRACEID',
  12: 'TIME_SHIFT',
  13: 'GUEST',
  14: 'TSC2NSEC',
  15: 'STRINGS',
  16: 'HEADERS',
  17: 'FTRACE EVENTS',
  18: 'EVENT FORMATS',
  19: 'KALLSYMS',
  20: 'PRINTK',
  21: 'CMDLINES',
  22: 'BUFFER_LAT',
};

/** Section header flag: the section body is one compressed block. */
export const SECTION_COMPRESSED = 1;
/** u16 id, u16 flags, i32 description (offset into the strings), u64 size. */
export const SECTION_HEADER_SIZE = 16;
/** Pages per compressed chunk of CPU data (trace-output.c PAGES_IN_CHUNK). */
export const PAGES_IN_CHUNK = 10;

/** v6 markers between the inline metadata and the CPU data (10 bytes each). */
export const V6_OPTIONS = 'options  \0';
export const V6_FLYRECORD = 'flyrecord\0';
export const V6_LATENCY = 'latency  \0';

/** Sane limits for hostile input: beyond these a file is refused, not read. */
export const Limits = {
  /** Uncompressed bytes of one metadata section or option block. */
  sectionBytes: 256 << 20,
  /** Uncompressed bytes of one chunk of CPU data. */
  chunkBytes: 64 << 20,
  /** Options sections in one file (the chain is followed at most this far). */
  optionSections: 4096,
  /** Buffers (instances) in one file. */
  buffers: 4096,
  /** CPU id bound (the kernel's NR_CPUS max is 8192). */
  cpus: 8192,
  /** Largest page (sub-buffer) size accepted. */
  pageSize: 1 << 24,
  /** Longest NUL-terminated string in headers and options. */
  string: 1 << 16,
} as const;
