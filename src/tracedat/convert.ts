// Rewriting a trace.dat as another variant (v6/v7, none/zstd): every
// buffer's pages copied verbatim, the metadata and options carried over.

import type { TraceDat } from './reader.js';
import { type TraceDatWriteResult, TraceDatWriter } from './writer.js';

export interface ConvertOptions {
  version?: 6 | 7;
  compression?: 'none' | 'zstd';
  /** Pages per write (default 64). */
  batchPages?: number;
}

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
    });
  } catch (error) {
    writer.abort();
    throw error;
  }
}
