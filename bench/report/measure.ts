// The in-process measurements of bench/report.ts, each run in a fresh Node
// process (see runMeasureChild there) so that no mode inherits another's JIT
// state: typed decoding (walk only, walk + BatchDecoder, BatchDecoder over
// pre-indexed pages), kernel text (TimelineRenderer; also the merge alone),
// JSON Lines. Every pass opens fresh FileCpuReaders on the recording (the
// files are in the page cache after the first pass); opening them is not
// timed, reading and indexing the pages is.

import fs from 'node:fs';
import { join } from 'node:path';
import { BatchDecoder, type RecordsLike } from '../../src/decode/batch-decoder.js';
import { RecordBatch, WalkState, maxRecords, walkRecords } from '../../src/layout/record.js';
import { dataSize, newSubbufHeader, readSubbufHeader } from '../../src/layout/subbuf.js';
import { type DecodeContext, loadDecodeContext } from '../../src/output/decode-context.js';
import { CpuMerger } from '../../src/output/merge.js';
import { TimelineRenderer } from '../../src/output/report.js';
import { type FileCpuReader, Recording } from '../../src/recording/recording.js';

export type MeasureMode = 'decode' | 'text' | 'json';

export interface MeasureResult {
  mode: MeasureMode;
  events: number;
  /** loadDecodeContext (formats, kallsyms, printk formats, names), ms. */
  ctxMs: number;
  /** Per timed series: ns per pass, one entry per round. */
  series: Record<string, number[]>;
  /** Checks made on an untimed pass. */
  checks: Record<string, number>;
  /** Decode mode: the most frequent event types ("system:name", records). */
  mix?: Array<[string, number]>;
}

const now = () => process.hrtime.bigint();
let sink = 0;

function withReaders<T>(dir: string, fn: (readers: FileCpuReader[]) => T): T {
  const readers = Recording.open(dir).openReaders();
  try {
    return fn(readers);
  } finally {
    for (const r of readers) r.close();
  }
}

/** Reading + indexing only: every batch of every CPU. */
function walkPass(dir: string): { ns: number; events: number } {
  return withReaders(dir, (readers) => {
    let events = 0;
    const t0 = now();
    for (const r of readers) for (let b = r.next(); b !== null; b = r.next()) events += b.count;
    return { ns: Number(now() - t0), events };
  });
}

/** Reading + indexing + BatchDecoder.decode of every batch (per CPU, as the readers hand them over). */
function decodePass(dir: string, decoder: BatchDecoder): { ns: number; events: number } {
  return withReaders(dir, (readers) => {
    let events = 0;
    const t0 = now();
    for (const r of readers) {
      for (let b = r.next(); b !== null; b = r.next()) {
        decoder.decode(b);
        events += b.count;
      }
    }
    const ns = Number(now() - t0);
    sink += decoder.unknown;
    return { ns, events };
  });
}

/** Untimed: rows decoded + unknown records must be every record. */
function checkDecode(
  dir: string,
  decoder: BatchDecoder,
): { rows: number; unknown: number; events: number; eventTypes: number; mix: Array<[string, number]> } {
  const perType = new Map<string, number>();
  return withReaders(dir, (readers) => {
    let rows = 0;
    let unknown = 0;
    let events = 0;
    for (const r of readers) {
      for (let b = r.next(); b !== null; b = r.next()) {
        decoder.decode(b);
        events += b.count;
        unknown += decoder.unknown;
        for (const t of decoder.tables()) {
          rows += t.length;
          const name = `${t.format.system}:${t.format.name}`;
          perType.set(name, (perType.get(name) ?? 0) + t.length);
        }
      }
    }
    const mix = [...perType].sort((a, b) => b[1] - a[1]).slice(0, 12);
    return { rows, unknown, events, eventTypes: perType.size, mix };
  });
}

/** Every page of every CPU walked once into memory: records to decode with no reading or walking. */
function preIndex(recording: Recording): RecordsLike[] {
  const out: RecordsLike[] = [];
  const layout = recording.layout;
  const batch = new RecordBatch(maxRecords(dataSize(layout)));
  const header = newSubbufHeader();
  const walk = new WalkState();
  for (const cpu of recording.cpus) {
    const bytes = new Uint8Array(fs.readFileSync(join(recording.root, `per_cpu/cpu${cpu}/trace_pipe_raw`)));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let start = 0; start + layout.subbufSize <= bytes.length; start += layout.subbufSize) {
      const h = readSubbufHeader(view, start, layout, header);
      walk.begin(h.tsHi, h.tsLo);
      batch.reset(bytes, view, cpu, 0);
      walkRecords(layout, start + layout.dataOffset, h.commitSize, 0, walk, batch);
      out.push({ bytes, view, count: batch.count, records: batch.records.slice(0, batch.count * 4) });
    }
  }
  return out;
}

function decodeOnlyPass(pages: RecordsLike[], decoder: BatchDecoder): number {
  const t0 = now();
  for (let p = 0; p < pages.length; p++) decoder.decode(pages[p]!);
  const ns = Number(now() - t0);
  sink += decoder.unknown;
  return ns;
}

function renderPass(dir: string, ctx: DecodeContext, format: 'text' | 'json'): { ns: number; events: number; chars: number } {
  return withReaders(dir, (readers) => {
    let chars = 0;
    const renderer = new TimelineRenderer(readers, ctx, {
      format,
      write: (chunk) => {
        chars += chunk.length;
      },
      lostMarkers: false,
    });
    const t0 = now();
    const summary = renderer.run();
    return { ns: Number(now() - t0), events: summary.events, chars };
  });
}

/** Reading, indexing and the timestamp merge, no rendering. */
function mergePass(dir: string): { ns: number; events: number } {
  return withReaders(dir, (readers) => {
    const merger = new CpuMerger(readers);
    let acc = 0;
    const t0 = now();
    const events = merger.run({
      event: (batch, i) => {
        acc += i;
      },
    });
    const ns = Number(now() - t0);
    sink += acc;
    return { ns, events };
  });
}

export function measure(mode: MeasureMode, dir: string, rounds: number, expected: number): MeasureResult {
  const t0 = performance.now();
  const ctx = loadDecodeContext({ root: dir, array: dir });
  const ctxMs = performance.now() - t0;
  const series: Record<string, number[]> = {};
  const checks: Record<string, number> = {};
  let mix: Array<[string, number]> | undefined;
  const push = (name: string, ns: number) => (series[name] ??= []).push(ns);
  const expect = (what: string, n: number) => {
    if (n !== expected) throw new Error(`${mode}: ${what} saw ${n} events, expected ${expected}`);
  };

  if (mode === 'decode') {
    const decoder = new BatchDecoder(ctx.registry, { littleEndian: ctx.littleEndian });
    const c = checkDecode(dir, decoder); // also the first warm-up pass
    expect('decode check', c.events);
    if (c.rows + c.unknown !== c.events) throw new Error(`decode: ${c.rows} rows + ${c.unknown} unknown != ${c.events} records`);
    checks.rows = c.rows;
    checks.unknown = c.unknown;
    checks.events = c.events;
    checks.eventTypes = c.eventTypes;
    mix = c.mix;
    const pages = preIndex(Recording.open(dir));
    checks.pages = pages.length;
    expect('pre-index', pages.reduce((a, p) => a + p.count, 0));
    for (let w = 0; w < 2; w++) {
      walkPass(dir);
      decodePass(dir, decoder);
      decodeOnlyPass(pages, decoder);
    }
    for (let r = 0; r < rounds; r++) {
      const w = walkPass(dir);
      expect('walk', w.events);
      push('walk', w.ns);
      const d = decodePass(dir, decoder);
      expect('walk + decode', d.events);
      push('walkDecode', d.ns);
      push('decodeOnly', decodeOnlyPass(pages, decoder));
    }
  } else {
    const format = mode === 'text' ? 'text' : 'json';
    const first = renderPass(dir, ctx, format); // warm-up
    expect(format, first.events);
    checks.chars = first.chars;
    if (mode === 'text') {
      for (let w = 0; w < 2; w++) mergePass(dir);
    }
    for (let r = 0; r < rounds; r++) {
      const p = renderPass(dir, ctx, format);
      expect(format, p.events);
      push(format, p.ns);
      if (mode === 'text') {
        const m = mergePass(dir);
        expect('merge', m.events);
        push('merge', m.ns);
      }
    }
  }
  if (sink === 0.5) console.log(sink);
  return { mode, events: expected, ctxMs, series, checks, ...(mix !== undefined ? { mix } : {}) };
}
