// Kernel text (what the `trace` file or trace_pipe prints) or JSON Lines,
// CPUs and rings merged by time: the sink behind report, stream and
// convert to .txt/.jsonl.

import { TraceringError } from '../errors.js';
import { parseCpuStats } from '../kernel/cpu-stats.js';
import type { BatchSource } from '../layout/batch-source.js';
import type { FdWriter } from '../output/fd-writer.js';
import { type OutputFormat, type RenderSummary, TimelineRenderer } from '../output/report.js';
import type { BufferInput, SinkEnd, SinkInput, SinkReport, TraceSink } from './sink.js';

/** Options of TextSink. */
export interface TextSinkOptions {
  format: OutputFormat;
  /** Where the bytes go: an FdWriter (async backpressure) or a function. */
  output: FdWriter | ((bytes: Uint8Array) => void);
  /** The `trace` file's header before the events (text only; needs each CPU's stats). Default false. */
  header?: boolean;
  /**
   * `CPU:N [LOST M EVENTS]` lines where events were lost (trace_pipe's
   * form); default true. A recording printed as its `trace` file has none.
   */
  lostMarkers?: boolean;
  /** "##### CPU N buffer started ####" lines after overruns, as `trace` prints them (default: when the header says events were overwritten). */
  annotateCpuStart?: boolean;
  /** Which kernel buffer to print (default the first). */
  buffer?: string;
  /** Only these CPUs (default all). */
  cpus?: readonly number[];
  /** Leave out application rings. */
  noRings?: boolean;
}

/** Header figures from the buffer's `stats` texts, when every CPU has one. */
export function headerFigures(buffer: BufferInput, cpus?: readonly number[]): { entriesInBuffer: number; entriesWritten: number } | null {
  let entriesInBuffer = 0;
  let entriesWritten = 0;
  for (const cursor of buffer.cpus) {
    if (cpus !== undefined && !cpus.includes(cursor.cpu)) continue;
    const text = buffer.startStats.get(cursor.cpu);
    if (text === undefined) return null;
    const stats = parseCpuStats(text);
    entriesInBuffer += stats.entries;
    entriesWritten += stats.entries + stats.overrun;
  }
  return { entriesInBuffer, entriesWritten };
}

/** Kernel text or JSON Lines, CPUs and rings merged by time, to a writer or a function. */
export class TextSink implements TraceSink {
  readonly kind: string;
  readonly #options: TextSinkOptions;
  #renderer: TimelineRenderer | null = null;
  #events = 0;
  #header = false;
  readonly #losses: RenderSummary['losses'] = [];

  constructor(options: TextSinkOptions) {
    this.#options = options;
    this.kind = options.format === 'json' ? 'json' : 'text';
  }

  /** Lost-event reports seen so far (count -1 when unknown). */
  get losses(): RenderSummary['losses'] {
    return this.#losses;
  }

  get events(): number {
    return this.#events;
  }

  /** The `trace` header was printed (every CPU had stats for it). */
  get hadHeader(): boolean {
    return this.#header;
  }

  open(input: SinkInput): void {
    const o = this.#options;
    const buffer = o.buffer === undefined ? input.buffers[0] : input.buffers.find((b) => b.name === o.buffer);
    if (o.buffer !== undefined && buffer === undefined) {
      throw new TraceringError(
        'ERR_INVALID_ARG_VALUE',
        `${input.label} has no buffer ${JSON.stringify(o.buffer)} (it has: ${input.buffers.map((b) => (b.name === '' ? '(top level)' : b.name)).join(', ')})`,
      );
    }
    const sources: BatchSource[] = [];
    if (buffer !== undefined) {
      for (const c of buffer.cpus) if (o.cpus === undefined || o.cpus.includes(c.cpu)) sources.push(c);
    }
    if (!o.noRings) for (const r of input.rings) sources.push(r.cursor);
    const ctx = input.context(buffer);
    const out = o.output;
    const writeBytes = typeof out === 'function' ? out : (bytes: Uint8Array) => out.write(bytes);
    // The kernel's per_cpu/cpuN/trace header counts every CPU too.
    const figures = buffer !== undefined && o.header ? headerFigures(buffer) : null;
    const overran = figures !== null && figures.entriesWritten > figures.entriesInBuffer;
    this.#renderer = new TimelineRenderer(sources, ctx, {
      format: o.format,
      writeBytes,
      lostMarkers: o.lostMarkers ?? true,
      annotateCpuStart: o.annotateCpuStart ?? (overran && ctx.annotate),
    });
    if (figures !== null) {
      this.#renderer.header({ ...figures, cpus: input.machine.onlineCpus });
      this.#header = true;
    }
  }

  async consume(): Promise<void> {
    const summary = this.#renderer!.run();
    this.#events += summary.events;
    for (const l of summary.losses) this.#losses.push(l);
    const out = this.#options.output;
    if (typeof out !== 'function' && out.pendingBytes > 0) await out.drained();
  }

  async close(_end: SinkEnd): Promise<SinkReport> {
    const out = this.#options.output;
    if (typeof out !== 'function') await out.drained();
    return {
      kind: this.kind,
      path: null,
      bytes: typeof out === 'function' ? 0 : out.written,
      events: this.#events,
      notes: [],
    };
  }

  abort(): void {
    this.#renderer = null;
  }
}
