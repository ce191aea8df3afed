// Rendering per-CPU sources merged into one timeline, as kernel text or
// JSON Lines, in large chunks.

import type { BatchSource } from '../layout/batch-source.js';
import type { DecodeContext } from './decode-context.js';
import type { HeaderFigures } from './kernel-text.js';
import { JsonLines } from './json-lines.js';
import { CpuMerger } from './merge.js';

export type OutputFormat = 'text' | 'json';

export interface RenderOptions {
  format: OutputFormat;
  write: (chunk: string) => void;
  /** Print `CPU:N [LOST M EVENTS]` markers (trace_pipe style); default true. */
  lostMarkers?: boolean;
  /**
   * Print the `trace` file's "##### CPU N buffer started ####" before the
   * first event of each CPU but the very first event (test_cpu_buff_start();
   * the kernel does it when the buffers overran and the annotate option is
   * on). Text only; default false.
   */
  annotateCpuStart?: boolean;
  /** Characters gathered before each write; default 64 Ki. */
  chunk?: number;
}

export interface RenderSummary {
  events: number;
  /** Lost-event reports seen (count -1 when unknown). */
  losses: Array<{ cpu: number; count: number }>;
}

/** Renders everything the sources hold now, merged by timestamp. */
export class TimelineRenderer {
  readonly #merger: CpuMerger;
  readonly #ctx: DecodeContext;
  readonly #options: RenderOptions;
  readonly #json: JsonLines | null;
  #pending = '';
  /** CPUs that had an event (for annotateCpuStart), and events so far. */
  readonly #started = new Set<number>();
  #rendered = 0;

  constructor(sources: readonly BatchSource[], ctx: DecodeContext, options: RenderOptions) {
    this.#merger = new CpuMerger(sources);
    this.#ctx = ctx;
    this.#options = options;
    this.#json = options.format === 'json' ? new JsonLines(ctx.registry, ctx.tasks, ctx.littleEndian) : null;
  }

  header(figures: HeaderFigures): void {
    if (this.#json === null) this.#emit(this.#ctx.text.header(figures));
  }

  #emit(s: string): void {
    this.#pending += s;
    if (this.#pending.length >= (this.#options.chunk ?? 65536)) this.flush();
  }

  flush(): void {
    if (this.#pending.length === 0) return;
    const out = this.#pending;
    this.#pending = '';
    this.#options.write(out);
  }

  /** Renders what the sources hold now; call again for more (live). */
  run(): RenderSummary {
    const summary: RenderSummary = { events: 0, losses: [] };
    const text = this.#ctx.text;
    const json = this.#json;
    const markers = this.#options.lostMarkers ?? true;
    const annotate = json === null && (this.#options.annotateCpuStart ?? false);
    summary.events = this.#merger.run({
      event: (batch, i) => {
        if (annotate && !this.#started.has(batch.cpu)) {
          this.#started.add(batch.cpu);
          if (this.#rendered > 0) this.#emit(text.cpuStarted(batch.cpu));
        }
        this.#rendered++;
        this.#emit(json ? json.line(batch, i) : text.line(batch, i));
      },
      lost: (cpu, count) => {
        summary.losses.push({ cpu, count });
        if (markers) this.#emit(json ? json.lost(cpu, count) : text.lost(cpu, count));
      },
    });
    this.flush();
    return summary;
  }
}
