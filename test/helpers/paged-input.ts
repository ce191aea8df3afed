// A live-like SinkInput made from a recording: each CPU's recorded pages are
// held in memory and handed out a few at a time. advance() makes the next
// slice available; consume() then sees it, and the cursors return null
// until the next advance(), as a live capture's cursors do between
// wake-ups. The pages are copied into the reader's own buffer, which the
// next slice overwrites: a sink that kept references would see them change.

import fs from 'node:fs';
import { join } from 'node:path';
import { newCounters } from '../../src/consumer/counters.js';
import { DirectorySource } from '../../src/decode/registry.js';
import { PageStream } from '../../src/layout/page-stream.js';
import type { RecordBatch } from '../../src/layout/record.js';
import type { SubbufLayout } from '../../src/layout/subbuf.js';
import { type DecodeContext, loadDecodeContext } from '../../src/output/decode-context.js';
import { ReaderCursor } from '../../src/pipeline/cursor.js';
import { Recording } from '../../src/recording/recording.js';
import type { ClockPair, MachineInfo, SinkEnd, SinkInput } from '../../src/sinks/sink.js';

class MemoryCpuReader {
  readonly cpu: number;
  readonly layout: SubbufLayout;
  readonly #pages: Uint8Array;
  readonly #count: number;
  readonly #stream: PageStream;
  /** Pages handed out so far, and how many may be. */
  delivered = 0;
  allowed = 0;
  readonly total: number;

  constructor(cpu: number, layout: SubbufLayout, pages: Uint8Array, repeat: number) {
    this.cpu = cpu;
    this.layout = layout;
    this.#pages = pages;
    this.#count = pages.length / layout.subbufSize;
    this.total = this.#count * repeat;
    this.#stream = new PageStream(layout, cpu, (into, size, max) => {
      let n = 0;
      while (n < max && this.delivered < Math.min(this.allowed, this.total)) {
        const page = this.delivered % this.#count;
        into.set(this.#pages.subarray(page * size, (page + 1) * size), n * size);
        this.delivered++;
        n++;
      }
      return n;
    }, { pagesPerBatch: 16, readBytes: 64 * 1024 });
  }

  next(): RecordBatch | null {
    return this.#stream.next();
  }

  get caughtUp(): boolean {
    return this.#stream.caughtUp;
  }

  get lastPages(): Uint8Array {
    return this.#stream.lastPages;
  }
}

export interface PagedInputOptions {
  /** Pages per CPU made available by each advance() (default 8). */
  step?: number;
  /** Hand the recording out this many times over (default 1). */
  repeat?: number;
  /** Clock readings to report (default none: timestamps stay on the trace clock). */
  clockPairs?: ClockPair[];
  hostname?: string;
  bootId?: string;
  live?: boolean;
}

export class PagedInput {
  readonly recording: Recording;
  readonly input: SinkInput;
  readonly #readers: MemoryCpuReader[];
  readonly #step: number;
  readonly #stats = new Map<number, string>();

  constructor(dir: string, options: PagedInputOptions = {}) {
    const rec = Recording.open(dir);
    this.recording = rec;
    this.#step = options.step ?? 8;
    const repeat = options.repeat ?? 1;
    this.#readers = rec.cpus.map((cpu) => new MemoryCpuReader(cpu, rec.layout, fs.readFileSync(join(dir, `per_cpu/cpu${cpu}/trace_pipe_raw`)), repeat));
    for (const cpu of rec.cpus) {
      const text = rec.readText(`per_cpu/cpu${cpu}/stats`);
      if (text !== null) this.#stats.set(cpu, text);
    }
    const files = new DirectorySource(dir);
    let ctx: DecodeContext | null = null;
    const machine: MachineInfo = {
      sysname: 'Linux',
      hostname: options.hostname ?? '',
      release: rec.meta?.kernel ?? '',
      machine: '',
      bootId: options.bootId ?? '',
      onlineCpus: rec.cpus.length,
      littleEndian: rec.layout.littleEndian,
      longSize: rec.layout.longSize === 4 ? 4 : 8,
    };
    this.input = {
      live: options.live ?? true,
      label: `paged:${dir}`,
      buffers: [{ name: '', clock: rec.clock, layout: rec.layout, cpus: this.#readers.map((r) => new ReaderCursor(r)), files, startStats: this.#stats }],
      rings: [],
      files,
      kallsyms: () => null,
      context: () => (ctx ??= loadDecodeContext({ root: dir, kallsyms: null }, rec.layout.littleEndian)),
      machine,
      clockPairs: options.clockPairs ?? [],
      onWarning: () => undefined,
    };
  }

  /** Makes the next slice available; false once everything was handed out. */
  advance(): boolean {
    let more = false;
    for (const r of this.#readers) {
      if (r.allowed < r.total) {
        r.allowed = Math.min(r.total, r.allowed + this.#step);
        more = true;
      }
    }
    return more;
  }

  /** Makes everything available at once. */
  releaseAll(): void {
    for (const r of this.#readers) r.allowed = r.total;
  }

  end(): SinkEnd {
    return {
      reason: 'end-of-input',
      buffers: [
        {
          name: '',
          cpus: this.#readers.map((r) => ({ cpu: r.cpu, stats: this.#stats.get(r.cpu) ?? null, counters: newCounters(), stagingLost: 0 })),
        },
      ],
      rings: [],
      clockPairs: [],
    };
  }
}
