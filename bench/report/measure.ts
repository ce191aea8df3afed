// The in-process measurements of bench/report.ts, each run in a fresh Node
// process (see runMeasureChild there) so that no mode inherits another's JIT
// state: typed decoding (walk only, walk + BatchDecoder, BatchDecoder over
// pre-indexed pages), kernel text (TimelineRenderer; the merge alone; each
// event type's bodies alone; a CPU profile of a text pass sorted into the
// helpers it spends its time in), JSON Lines. Every pass opens fresh
// FileCpuReaders on the recording (the files are in the page cache after
// the first pass); opening them is not timed, reading and indexing the
// pages is. Times are the measuring thread's on-CPU time (threadCpuNs: the
// machine is shared), wall time beside them.

import fs from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import type { BatchDecoder, RecordsLike } from '../../src/decode/batch-decoder.js';
import type { DecodeContext } from '../../src/output/decode-context.js';
import type { FileCpuReader, Recording as RecordingClass } from '../../src/recording/recording.js';
import { type Load, fromDist, repeat, threadCpuNs } from '../lib/common.js';

// The library as the CLI runs it (dist/); types from src/.
const { BatchDecoder: BatchDecoderClass } = await fromDist<typeof import('../../src/decode/batch-decoder.js')>('decode/batch-decoder.js');
const { TextOut } = await fromDist<typeof import('../../src/decode/text-out.js')>('decode/text-out.js');
const { RecordBatch, WalkState, maxRecords, walkRecords } = await fromDist<typeof import('../../src/layout/record.js')>('layout/record.js');
const { dataSize, newSubbufHeader, readSubbufHeader } = await fromDist<typeof import('../../src/layout/subbuf.js')>('layout/subbuf.js');
const { loadDecodeContext } = await fromDist<typeof import('../../src/output/decode-context.js')>('output/decode-context.js');
const { CpuMerger } = await fromDist<typeof import('../../src/output/merge.js')>('output/merge.js');
const { TimelineRenderer } = await fromDist<typeof import('../../src/output/report.js')>('output/report.js');
const { Recording } = await fromDist<typeof import('../../src/recording/recording.js')>('recording/recording.js');

export type MeasureMode = 'decode' | 'text' | 'json' | 'profile';

export interface TypeCost {
  name: string;
  events: number;
  /** Body text only (no line prefix), warm, CPU ns per event. */
  ns: number;
  bytes: number;
}

export interface MeasureResult {
  mode: MeasureMode;
  events: number;
  /** loadDecodeContext (formats indexed, names), CPU ms. */
  ctxMs: number;
  /** The first text pass (cold: formats parsed, print fmts compiled, symbols loaded, JIT warming up), CPU ns. */
  coldNs?: number;
  /** Per timed series: CPU ns per pass, one entry per round ("<name>Wall": wall ns). */
  series: Record<string, number[]>;
  load: Load;
  rounds: number;
  /** Checks made on an untimed pass. */
  checks: Record<string, number>;
  /** Decode mode: the most frequent event types ("system:name", records). */
  mix?: Array<[string, number]>;
  /** Text mode: body cost per event type, most expensive share first. */
  types?: TypeCost[];
  /** Text mode: shares of a profiled text pass by helper. */
  helpers?: Array<[string, number]>;
  /** Decode mode: mean table slots (int32) written per event. */
  slotsPerEvent?: number;
}

let sink = 0;

function withReaders<T>(dir: string, fn: (readers: FileCpuReader[]) => T): T {
  const readers = Recording.open(dir).openReaders();
  try {
    return fn(readers);
  } finally {
    for (const r of readers) r.close();
  }
}

interface Pass {
  cpuNs: number;
  wallNs: number;
  events: number;
}

function timedPass(dir: string, body: (readers: FileCpuReader[]) => number): Pass {
  return withReaders(dir, (readers) => {
    const w0 = process.hrtime.bigint();
    const c0 = threadCpuNs();
    const events = body(readers);
    const cpuNs = threadCpuNs() - c0;
    return { cpuNs, wallNs: Number(process.hrtime.bigint() - w0), events };
  });
}

/** Reading + indexing only: every batch of every CPU. */
function walkPass(dir: string): Pass {
  return timedPass(dir, (readers) => {
    let events = 0;
    for (const r of readers) for (let b = r.next(); b !== null; b = r.next()) events += b.count;
    return events;
  });
}

/** Reading + indexing + BatchDecoder.decode of every batch (per CPU, as the readers hand them over). */
function decodePass(dir: string, decoder: BatchDecoder): Pass {
  const p = timedPass(dir, (readers) => {
    let events = 0;
    for (const r of readers) {
      for (let b = r.next(); b !== null; b = r.next()) {
        decoder.decode(b);
        events += b.count;
      }
    }
    return events;
  });
  sink += decoder.unknown;
  return p;
}

/** Untimed: rows decoded + unknown records must be every record. */
function checkDecode(
  dir: string,
  decoder: BatchDecoder,
): { rows: number; unknown: number; events: number; eventTypes: number; slots: number; mix: Array<[string, number]> } {
  const perType = new Map<string, number>();
  return withReaders(dir, (readers) => {
    let rows = 0;
    let unknown = 0;
    let events = 0;
    let slots = 0;
    for (const r of readers) {
      for (let b = r.next(); b !== null; b = r.next()) {
        decoder.decode(b);
        events += b.count;
        unknown += decoder.unknown;
        for (const t of decoder.tables()) {
          rows += t.length;
          slots += t.length * t.stride;
          const name = `${t.format.system}:${t.format.name}`;
          perType.set(name, (perType.get(name) ?? 0) + t.length);
        }
      }
    }
    const mix = [...perType].sort((a, b) => b[1] - a[1]).slice(0, 12);
    return { rows, unknown, events, eventTypes: perType.size, slots, mix };
  });
}

/** Every page of every CPU walked once into memory: records to decode with no reading or walking. */
function preIndex(recording: RecordingClass): RecordsLike[] {
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

function decodeOnlyPass(pages: RecordsLike[], decoder: BatchDecoder): Pass {
  const w0 = process.hrtime.bigint();
  const c0 = threadCpuNs();
  let events = 0;
  for (let p = 0; p < pages.length; p++) {
    decoder.decode(pages[p]!);
    events += pages[p]!.count;
  }
  const cpuNs = threadCpuNs() - c0;
  sink += decoder.unknown;
  return { cpuNs, wallNs: Number(process.hrtime.bigint() - w0), events };
}

function renderPass(dir: string, ctx: DecodeContext, format: 'text' | 'json'): Pass & { chars: number } {
  let chars = 0;
  const p = timedPass(dir, (readers) => {
    const renderer = new TimelineRenderer(readers, ctx, {
      format,
      writeBytes: (chunk) => {
        chars += chunk.length;
      },
      lostMarkers: false,
    });
    return renderer.run().events;
  });
  return { ...p, chars };
}

/** Reading, indexing and the timestamp merge, no rendering. */
function mergePass(dir: string): Pass {
  let acc = 0;
  const p = timedPass(dir, (readers) =>
    new CpuMerger(readers).run({
      event: (_batch, i) => {
        acc += i;
      },
    }),
  );
  sink += acc;
  return p;
}

/** Each event type's bodies rendered alone (records copied out per type), warm: what each type costs. */
function typeCosts(dir: string, ctx: DecodeContext): TypeCost[] {
  const per = new Map<number, { chunks: Uint8Array[]; bytes: number }>();
  withReaders(dir, (readers) => {
    for (const r of readers) {
      for (let b = r.next(); b !== null; b = r.next()) {
        for (let i = 0; i < b.count; i++) {
          const o = b.offset(i);
          const len = b.length(i);
          if (len < 2) continue;
          const id = b.view.getUint16(o, ctx.littleEndian);
          let e = per.get(id);
          if (e === undefined) per.set(id, (e = { chunks: [], bytes: 0 }));
          e.chunks.push(b.bytes.slice(o, o + len));
          e.bytes += len;
        }
      }
    }
  });
  const out = new TextOut(1 << 20);
  const costs: TypeCost[] = [];
  for (const [id, e] of per) {
    const n = e.chunks.length;
    const bytes = new Uint8Array(e.bytes + 8);
    const offs = new Int32Array(n);
    const lens = new Int32Array(n);
    let at = 0;
    e.chunks.forEach((c, i) => {
      bytes.set(c, at);
      offs[i] = at;
      lens[i] = c.length;
      at += c.length;
    });
    const view = new DataView(bytes.buffer);
    const renderer = ctx.renderer;
    let written = 0;
    const pass = () => {
      written = 0;
      for (let i = 0; i < n; i++) {
        if (out.pos > out.buf.length - 16384) {
          written += out.pos;
          out.reset();
        }
        renderer.writeText(view, bytes, offs[i]!, lens[i]!, out);
      }
      written += out.pos;
      out.reset();
    };
    pass();
    const reps = Math.max(1, Math.ceil(20_000 / n));
    const c0 = threadCpuNs();
    for (let k = 0; k < reps; k++) pass();
    const ns = (threadCpuNs() - c0) / (reps * n);
    const f = ctx.registry.get(id);
    costs.push({ name: f !== undefined ? `${f.system}:${f.name}` : `id ${id}`, events: n, ns, bytes: written / n });
  }
  return costs.sort((a, b) => b.ns * b.events - a.ns * a.events);
}

/** Where a profiled text pass spends its time, by helper (function names of src/ and the generated emitters). */
const HELPERS: Array<[string, RegExp]> = [
  ['%pS/%ps symbol lookup (cache misses, kallsyms search)', /^(symbolString|lookupHiLo|indexOf|#search|#info|#name|nameOf|lookup|get #loaded)$|kallsyms|^write output\.js$/],
  ['%pI/%pM/%pU network and id formatting', /^(ipString|ip4|ip6Full|ip6Compressed|macString|uuidString|hexString|hexByte) /],
  ['__print_flags / __print_symbolic', /^(printFlags|print|and64|sub64|toU64) |helpers\.js/],
  ['widths, padding, general number formatting', /^(numberTo|formatNumber|hex64To|widen|repeat|formatString|formatChar|viaString|pad\w*) /],
  ['numbers (decimal, hex)', /^(u32|uint|int|hex32|hex64|hex64Fixed|#hexDigits|zeroPadded|digits6|hexByte) /],
  ['strings and literals (copies)', /^(cString|asciiCString|str|lit|bytes|#utf8|decodeCString|string|set) /],
  ['text buffer (reserve, byte, grow)', /^(reserve|byte|#grow|reset) /],
  ['line prefix (task, CPU, flags, timestamp)', /line-prefix|prefix-caches/],
  ['syscall bodies', /syscall-bodies/],
  ['[FAILED TO PARSE] field lists (kmem page events: vmemmap_base unknown)', /fallback-text/],
  ['ftrace bodies (print, raw_data, ...)', /ftrace-bodies|bprintf|printk/],
  ['generated emitters and print fmt closures', /^(emit|fn|\(anon\)) |interpreter\.js|values\.js|output\.js|codegen\.js|int64\.js/],
  ['dispatch (writeText, writeLine, event)', /^(writeText|writeLine|event|run|dispatch) /],
  ['merge, walk, reading pages', /merge\.js|record\.js|page-stream|recording\.js|cursor|^read |readSync/],
  ['garbage collection', /garbage collector/],
];

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

async function helperShares(dir: string, ctx: DecodeContext): Promise<Array<[string, number]>> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  renderPass(dir, ctx, 'text');
  const { profile } = (await post('Profiler.stop')) as { profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] } };
  session.disconnect();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const shares = new Map<string, number>();
  let total = 0;
  for (const [id, t] of self) {
    const n = byId.get(id)!;
    const name = n.callFrame.functionName || '(anon)';
    if (name === '(idle)' || name === '(program)' || name === '(root)') continue;
    total += t;
    const key = `${name} ${n.callFrame.url.split('/').slice(-2).join('/')}`;
    const helper = HELPERS.find(([, re]) => re.test(key));
    const label = helper?.[0] ?? 'other';
    shares.set(label, (shares.get(label) ?? 0) + t);
  }
  return [...shares].map(([k, v]): [string, number] => [k, v / Math.max(1, total)]).sort((a, b) => b[1] - a[1]);
}

export async function measure(mode: MeasureMode, dir: string, maxRounds: number, expected: number): Promise<MeasureResult> {
  const c0 = threadCpuNs();
  const ctx = loadDecodeContext({ root: dir, array: dir });
  const ctxMs = (threadCpuNs() - c0) / 1e6;
  const checks: Record<string, number> = {};
  const result: Partial<MeasureResult> = { mode, events: expected, ctxMs, checks };
  const expect = (what: string, n: number) => {
    if (n !== expected) throw new Error(`${mode}: ${what} saw ${n} events, expected ${expected}`);
  };
  const opts = { minRounds: Math.min(5, maxRounds), maxRounds, spread: 0.04, budgetMs: 120_000 };
  const both = (into: Record<string, number>, name: string, p: Pass) => {
    into[name] = p.cpuNs;
    into[`${name}Wall`] = p.wallNs;
  };

  let repeated: Awaited<ReturnType<typeof repeat>>;
  if (mode === 'profile') {
    // Run with inlining off (see report.ts): self time then stays with the function that spends it.
    const first = renderPass(dir, ctx, 'text');
    expect('text', first.events);
    for (let w = 0; w < 2; w++) renderPass(dir, ctx, 'text');
    const meter = repeat(() => ({}), { minRounds: 1, maxRounds: 1 });
    result.helpers = await helperShares(dir, ctx);
    const r = await meter;
    return { ...(result as MeasureResult), series: {}, load: r.load, rounds: 1 };
  }
  if (mode === 'decode') {
    const decoder = new BatchDecoderClass(ctx.registry, { littleEndian: ctx.littleEndian });
    const c = checkDecode(dir, decoder); // also the first warm-up pass
    expect('decode check', c.events);
    if (c.rows + c.unknown !== c.events) throw new Error(`decode: ${c.rows} rows + ${c.unknown} unknown != ${c.events} records`);
    Object.assign(checks, { rows: c.rows, unknown: c.unknown, events: c.events, eventTypes: c.eventTypes });
    result.mix = c.mix;
    result.slotsPerEvent = c.slots / Math.max(1, c.rows);
    const pages = preIndex(Recording.open(dir));
    checks.pages = pages.length;
    expect('pre-index', pages.reduce((a, p) => a + p.count, 0));
    for (let w = 0; w < 2; w++) {
      walkPass(dir);
      decodePass(dir, decoder);
      decodeOnlyPass(pages, decoder);
    }
    repeated = await repeat(() => {
      const r: Record<string, number> = {};
      const w = walkPass(dir);
      expect('walk', w.events);
      both(r, 'walk', w);
      const d = decodePass(dir, decoder);
      expect('walk + decode', d.events);
      both(r, 'walkDecode', d);
      r.decodeOnTop = d.cpuNs - w.cpuNs;
      both(r, 'decodeOnly', decodeOnlyPass(pages, decoder));
      return r;
    }, opts);
  } else {
    const format = mode === 'text' ? 'text' : 'json';
    const first = renderPass(dir, ctx, format); // cold, then the warm-up
    expect(format, first.events);
    result.coldNs = first.cpuNs;
    checks.chars = first.chars;
    if (mode === 'text') for (let w = 0; w < 2; w++) mergePass(dir);
    repeated = await repeat(() => {
      const r: Record<string, number> = {};
      const p = renderPass(dir, ctx, format);
      expect(format, p.events);
      both(r, format, p);
      if (mode === 'text') {
        const m = mergePass(dir);
        expect('merge', m.events);
        both(r, 'merge', m);
      }
      return r;
    }, mode === 'json' ? { ...opts, maxRounds: Math.min(maxRounds, 5), minRounds: Math.min(3, maxRounds) } : opts);
    if (mode === 'text') result.types = typeCosts(dir, ctx);
  }
  if (sink === 0.5) console.log(sink);
  return { ...(result as MeasureResult), series: repeated.series, load: repeated.load, rounds: repeated.rounds };
}
