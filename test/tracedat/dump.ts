// Parsing `trace-cmd dump` output, the oracle for what a trace.dat holds.

import { traceCmd } from './support.js';

export interface DumpOption {
  name: string;
  size: number;
  /** The lines dump prints for it, up to the next option or section. */
  body: string;
}

export function dumpOptions(file: string): DumpOption[] {
  const r = traceCmd(['dump', '--options', file]);
  if (r.status !== 0) throw new Error(`trace-cmd dump --options ${file}: ${r.stderr}`);
  const out: DumpOption[] = [];
  let current: DumpOption | null = null;
  for (const line of r.stdout.split('\n')) {
    const m = /^\t\t\[Option (.+?), (\d+) bytes\]/.exec(line);
    if (m !== null) {
      current = { name: m[1]!, size: Number(m[2]), body: '' };
      out.push(current);
      continue;
    }
    if (/^\t\[/.test(line)) {
      current = null; // a section line or the closing count
      continue;
    }
    if (current !== null) current.body += `${line}\n`;
  }
  return out;
}

export interface DumpCpu {
  cpu: number;
  offset: number;
  size: number;
}

/** BUFFER option bodies: offset, name, clock, page size, CPUs. */
export function parseBufferBody(body: string): { offset: number; name: string; clock: string | null; pageSize: number | null; cpus: DumpCpu[] } {
  const offset = Number(/^(\d+) \[offset\]/m.exec(body)?.[1]);
  const name = /^"(.*)" \[name\]/m.exec(body)?.[1] ?? '';
  const clock = /^"(.*)" \[clock\]/m.exec(body)?.[1] ?? null;
  const page = /^(\d+) \[Page size, bytes\]/m.exec(body)?.[1];
  const cpus = [...body.matchAll(/^\s+(\d+) (\d+)\t(\d+)\t\[id, data offset and size\]/gm)].map((m) => ({ cpu: Number(m[1]), offset: Number(m[2]), size: Number(m[3]) }));
  return { offset, name, clock, pageSize: page === undefined ? null : Number(page), cpus };
}

/** v6: the top buffer's CPU offsets and sizes from `dump --flyrecord`. */
export function dumpFlyrecordV6(file: string): DumpCpu[] {
  const r = traceCmd(['dump', '--flyrecord', file]);
  if (r.status !== 0) throw new Error(`trace-cmd dump --flyrecord ${file}: ${r.stderr}`);
  return [...r.stdout.matchAll(/^\s+(\d+)\s+(\d+)\t\[offset, size of cpu (\d+)\]/gm)].map((m) => ({ cpu: Number(m[3]), offset: Number(m[1]), size: Number(m[2]) }));
}

/** `dump --summary`: version, endianness, long size, page size, compression, buffers. */
export function dumpSummary(file: string): {
  version: number;
  littleEndian: boolean;
  longSize: number;
  pageSize: number;
  compression: string | null;
  buffers: { name: string; clock: string; pageSize: number; cpus: number; bytes: number }[];
} {
  const r = traceCmd(['dump', '--summary', file]);
  if (r.status !== 0) throw new Error(`trace-cmd dump --summary ${file}: ${r.stderr}`);
  const s = r.stdout;
  const num = (re: RegExp) => Number(re.exec(s)?.[1]);
  const compression = /^\t\t(\S+)\t\[Compression algorithm\]/m.exec(s)?.[1] ?? null;
  return {
    version: num(/^\t\t(\d+)\t\[Version\]/m),
    littleEndian: /\[Little endian\]/.test(s),
    longSize: num(/^\t\t(\d+)\t\[Bytes in a long\]/m),
    pageSize: num(/^\t\t(\d+)\t\[Page size, bytes\]/m),
    compression: compression === 'none' ? null : compression,
    buffers: [...s.matchAll(/\[buffer "(.*)", "(.*)" clock, (\d+) page size, (\d+) cpus, (\d+) bytes flyrecord data\]/g)].map((m) => ({
      name: m[1]!,
      clock: m[2]!,
      pageSize: Number(m[3]),
      cpus: Number(m[4]),
      bytes: Number(m[5]),
    })),
  };
}
