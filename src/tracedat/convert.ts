// Rewriting a trace.dat as another variant (v6/v7, none/zstd): every
// buffer's pages copied verbatim, the metadata and options carried over.

import { Option } from './constants.js';
import { ByteWriter, textOption } from './encode.js';
import type { TraceDat } from './reader.js';
import { type TraceDatWriteResult, TraceDatWriter } from './writer.js';

/** Options of convertTraceDat(). */
export interface ConvertOptions {
  version?: 6 | 7;
  compression?: 'none' | 'zstd';
  /** Pages per write (default 64). */
  batchPages?: number;
}

/** Writes a trace.dat as another trace.dat (version, compression). */
export function convertTraceDat(input: TraceDat, output: string, options: ConvertOptions = {}): TraceDatWriteResult {
  const buffers = input.buffers.filter((b) => b.kind === 'flyrecord');
  const writer = TraceDatWriter.create(output, {
    ...(options.version !== undefined ? { version: options.version } : {}),
    ...(options.compression !== undefined ? { compression: options.compression } : {}),
    pageSize: input.pageSize,
    littleEndian: input.littleEndian,
    longSize: input.longSize,
    buffers: buffers.map((b) => ({ name: b.name, clock: b.clock, pageSize: b.pageSize })),
  });
  try {
    for (const b of buffers) {
      for (const c of b.cpus) for (const pages of input.pages(b, c.cpu, options.batchPages ?? 64)) writer.writePages(b.name, c.cpu, pages);
    }
    const m = input.metadata;
    const o = input.options;
    return writer.finish({
      headerPage: m.headerPage ?? '',
      headerEvent: m.headerEvent ?? '',
      ftraceFormats: m.ftraceFormats,
      eventSystems: m.eventSystems,
      kallsyms: m.kallsyms,
      printk: m.printk,
      cmdlines: m.cmdlines,
      cpuCount: Math.max(input.cpuCount, ...buffers.flatMap((b) => b.cpus.map((c) => c.cpu + 1))),
      traceClock: o.traceClock,
      uname: o.uname,
      version: o.version,
      cpuStats: o.cpuStats,
      extraOptions: carriedOptions(input),
    });
  } catch (error) {
    writer.abort();
    throw error;
  }
}

/** The options that change how timestamps read (DATE, OFFSET, TSC2NSEC) and the session id, as stored. */
function carriedOptions(input: TraceDat): { id: number; data: Uint8Array }[] {
  const o = input.options;
  const le = input.littleEndian;
  const out: { id: number; data: Uint8Array }[] = [];
  if (o.date !== null) out.push({ id: Option.DATE, data: textOption(o.date) });
  if (o.offset !== null) out.push({ id: Option.OFFSET, data: textOption(o.offset) });
  if (o.tsc2nsec !== null) out.push({ id: Option.TSC2NSEC, data: new ByteWriter(le).u32(o.tsc2nsec.mult).u32(o.tsc2nsec.shift).u64(o.tsc2nsec.offset).finish() });
  if (o.traceId !== null) out.push({ id: Option.TRACEID, data: new ByteWriter(le).u64(o.traceId).finish() });
  for (const hook of o.hooks) out.push({ id: Option.HOOK, data: textOption(hook) });
  return out;
}
