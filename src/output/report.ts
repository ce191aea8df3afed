// Rendering per-CPU sources merged into one timeline, as kernel text or
// JSON Lines, in large chunks. Text is gathered as UTF-8 bytes; a string
// sink gets each chunk decoded, a byte sink (writeBytes) the bytes as they
// are.

import { TextOut } from '../decode/text-out.js';
import type { BatchSource } from '../layout/batch-source.js';
import type { DecodeContext } from './decode-context.js';
import type { HeaderFigures } from './kernel-text.js';
import { JsonLines } from './json-lines.js';
import { CpuMerger } from './merge.js';

/** 'text' (the kernel's) or 'json' (JSON Lines). */
export type OutputFormat = 'text' | 'json';

/** Options of TimelineRenderer. */
export interface RenderOptions {
  format: OutputFormat;
  /** Receives the output as strings (unless writeBytes is given). */
  write?: (chunk: string) => void;
  /**
   * Receives the output as UTF-8 bytes, valid only during the call (the
   * buffer is reused). Faster than `write`: no decoding.
   */
  writeBytes?: (chunk: Uint8Array) => void;
  /** Print `CPU:N [LOST M EVENTS]` markers (trace_pipe style); default true. */
  lostMarkers?: boolean;
  /**
   * Print the `trace` file's "##### CPU N buffer started ####" before the
   * first event of each CPU but the very first event (test_cpu_buff_start();
   * the kernel does it when the buffers overran and the annotate option is
   * on). Text only; default false.
   */
  annotateCpuStart?: boolean;
  /** Bytes gathered before each write; default 64 Ki. */
  chunk?: number;
}

/** What a TimelineRenderer.run() rendered. */
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
  readonly #chunk: number;
  readonly #out: TextOut;
  /** CPUs that had an event (for annotateCpuStart), and events so far. */
  readonly #started = new Set<number>();
  #rendered = 0;

  constructor(sources: readonly BatchSource[], ctx: DecodeContext, options: RenderOptions) {
    if (options.write === undefined && options.writeBytes === undefined) throw new TypeError('RenderOptions: write or writeBytes is required');
    this.#merger = new CpuMerger(sources);
    this.#ctx = ctx;
    this.#options = options;
    this.#json = options.format === 'json' ? new JsonLines(ctx.registry, ctx.tasks, ctx.littleEndian) : null;
    this.#chunk = Math.max(1, options.chunk ?? 65536);
    // Room for a chunk and the event that crosses its end.
    this.#out = new TextOut(this.#chunk + 16384);
  }

  /** Renders the `trace` file's header (text only). */
  header(figures: HeaderFigures): void {
    if (this.#json === null) this.#emit(this.#ctx.text.header(figures));
  }

  #emit(s: string): void {
    this.#out.str(s);
    if (this.#out.pos >= this.#chunk) this.flush();
  }

  /** Writes out what is gathered. */
  flush(): void {
    const out = this.#out;
    if (out.pos === 0) return;
    const { write, writeBytes } = this.#options;
    if (writeBytes !== undefined) writeBytes(out.buf.subarray(0, out.pos));
    else write!(out.toString());
    out.reset();
  }

  /** Renders what the sources hold now; call again for more (live). */
  run(): RenderSummary {
    const summary: RenderSummary = { events: 0, losses: [] };
    const text = this.#ctx.text;
    const json = this.#json;
    const out = this.#out;
    const chunk = this.#chunk;
    const markers = this.#options.lostMarkers ?? true;
    const annotate = json === null && (this.#options.annotateCpuStart ?? false);
    summary.events = this.#merger.run({
      event: (batch, i) => {
        if (annotate && !this.#started.has(batch.cpu)) {
          this.#started.add(batch.cpu);
          if (this.#rendered > 0) this.#emit(text.cpuStarted(batch.cpu));
        }
        this.#rendered++;
        if (json !== null) json.writeLine(out, batch, i);
        else text.writeLine(out, batch, i);
        if (out.pos >= chunk) this.flush();
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
