// Micro benchmark of the decoding core (src/decode): ns/event for typed
// decoding (columns, accessors, objects), mixed-batch dispatch, and text
// rendering of event bodies. Input: the sched_switch records (and the whole
// mixed stream) of test/fixtures/pages/mmap_cpu1.bin, replicated in memory.
//
//   node --import tsx bench/decode-micro.ts [--quick]
//
// Figures are the measuring thread's on-CPU time (the machine is shared),
// medians of several rounds with their spread, each beside the load while
// measured. Alternatives kept here (closure columns, per-record dispatch,
// TextDecoder) are the designs the library did not pick; each is printed
// as a ratio to the library's design. The peers: libtraceevent
// (bench/c/tepdecode.c, Debian's libtraceevent-dev) walking, parsing every
// field of, and printing the same replicated pages.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EventDecoder as EventDecoderClass } from '../src/decode/field-decoder.js';
import { LoadMeter, compileC, ensureLibtraceevent, fromDist, loadText, outDir, stat, threadCpuNs, withSpread } from './lib/common.js';

// The library as the CLI runs it (dist/: tsx adds helpers to closures that would be measured too); types from src/.
const { BatchDecoder } = await fromDist<typeof import('../src/decode/batch-decoder.js')>('decode/batch-decoder.js');
const { EventDecoder } = await fromDist<typeof import('../src/decode/field-decoder.js')>('decode/field-decoder.js');
const { SymbolTable } = await fromDist<typeof import('../src/decode/kallsyms.js')>('decode/kallsyms.js');
const { EventRegistry } = await fromDist<typeof import('../src/decode/registry.js')>('decode/registry.js');
const { EventRenderer } = await fromDist<typeof import('../src/decode/renderer.js')>('decode/renderer.js');
const { StringTable } = await fromDist<typeof import('../src/decode/strings.js')>('decode/strings.js');
const { RecordBatch, WalkState, maxRecords, walkRecords } = await fromDist<typeof import('../src/layout/record.js')>('layout/record.js');
const { hostSubbufLayout, newSubbufHeader, readSubbufHeader } = await fromDist<typeof import('../src/layout/subbuf.js')>('layout/subbuf.js');
import { spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.join(root, 'test', 'fixtures');
const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 7;
const COPIES = quick ? 50 : 200;

// ---- input: records of the mmap capture, replicated -------------------

interface Records {
  bytes: Uint8Array;
  view: DataView;
  count: number;
  /** As RecordBatch.records: payload offset and length at i * 4 and i * 4 + 1. */
  records: Int32Array;
}

const offsetOf = (r: Records, i: number) => r.records[i * 4]!;
const lengthOf = (r: Records, i: number) => r.records[i * 4 + 1]!;

function loadRecords(): Records {
  const data = new Uint8Array(fs.readFileSync(path.join(fixtures, 'pages', 'mmap_cpu1.bin')));
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const layout = hostSubbufLayout(4096);
  const offs: number[] = [];
  const lens: number[] = [];
  for (let start = 0; start + 4096 <= data.length; start += 4096) {
    const h = readSubbufHeader(view, start, layout, newSubbufHeader());
    const walk = new WalkState();
    walk.begin(h.tsHi, h.tsLo);
    const batch = new RecordBatch(maxRecords(4080));
    batch.reset(data, view, 1, 0);
    walkRecords(layout, start + 16, h.commitSize, 0, walk, batch);
    for (let i = 0; i < batch.count; i++) {
      offs.push(batch.offset(i));
      lens.push(batch.length(i));
    }
  }
  // Replicate the pages COPIES times (records keep their in-page layout).
  const bytes = new Uint8Array(data.length * COPIES);
  for (let k = 0; k < COPIES; k++) bytes.set(data, k * data.length);
  const n = offs.length * COPIES;
  const records = new Int32Array(n * 4);
  for (let k = 0; k < COPIES; k++) {
    for (let i = 0; i < offs.length; i++) {
      records[(k * offs.length + i) * 4] = offs[i]! + k * data.length;
      records[(k * offs.length + i) * 4 + 1] = lens[i]!;
    }
  }
  return { bytes, view: new DataView(bytes.buffer), count: n, records };
}

function select(all: Records, id: number): Records {
  const keep: number[] = [];
  for (let i = 0; i < all.count; i++) if (all.view.getUint16(offsetOf(all, i), true) === id) keep.push(i);
  const records = new Int32Array(keep.length * 4);
  keep.forEach((i, k) => records.set([offsetOf(all, i), lengthOf(all, i)], k * 4));
  return { bytes: all.bytes, view: all.view, count: keep.length, records };
}

// ---- measurement ---------------------------------------------------------

let sink = 0;

/** Medians by name, for the ratios printed against the library's design. */
const figures = new Map<string, number>();

function measure(name: string, events: number, fn: () => void, versus?: string): number {
  fn(); // warm up (JIT)
  fn();
  const meter = new LoadMeter();
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = threadCpuNs();
    fn();
    times.push((threadCpuNs() - t0) / events);
  }
  const st = stat(times);
  figures.set(name, st.median);
  const base = versus !== undefined ? figures.get(versus) : undefined;
  const ratio = base !== undefined ? `  ${(st.median / base).toFixed(2)}x the library's design` : '';
  console.log(`${name.padEnd(58)} ${withSpread(st).padStart(12)} ns/event${ratio}   (${loadText(meter.stop())})`);
  return st.median;
}

const registry = EventRegistry.fromDirectory(path.join(fixtures, 'sched', 'tracefs'));
const switchFormat = registry.find('sched', 'sched_switch')!;
const all = loadRecords();
const sw = select(all, switchFormat.id);
console.log(`records: ${all.count} (sched_switch ${sw.count}), ${COPIES} copies of mmap_cpu1.bin, median of ${ROUNDS}\n`);

// 1. Tables: generated decoder, rows of int32 slots (the library's design).
// Per sub-buffer-sized chunk (a 4 KiB page holds ~60 sched_switch records;
// 256 rows stay in cache as they would for a streaming reader).
const strings = new StringTable();
const decoder = new EventDecoder(switchFormat, { strings });
const CHUNK = 256;
const chunkTable = decoder.createTable(CHUNK);
const TABLE = 'typed decode: table, generated (sched_switch, 256/chunk)';
const tableNs = measure(TABLE, sw.count, () => {
  for (let s = 0; s < sw.count; s += CHUNK) {
    chunkTable.clear();
    decoder.decodeRecords(chunkTable, sw.bytes, sw.view, sw.records.subarray(s * 4), null, Math.min(CHUNK, sw.count - s));
  }
  sink += chunkTable.data[chunkTable.stride + 5]!;
});
const bigTable = decoder.createTable(sw.count);
measure('  same, all records into one table', sw.count, () => {
  bigTable.clear();
  decoder.decodeRecords(bigTable, sw.bytes, sw.view, sw.records, null, sw.count);
  sink += bigTable.data[5]!;
});

// 2. Alternatives: one typed array per field (struct of arrays), generated
// code of the same shape, and per-field closures.
{
  const fields = switchFormat.fields.filter((f) => f.kind === 'int' || f.kind === 'pointer');
  const arrays = fields.flatMap((f) => (f.size === 8 ? [new Int32Array(CHUNK), new Int32Array(CHUNK)] : [new Int32Array(CHUNK)]));
  const po = new Int32Array(CHUNK);
  const pl = new Int32Array(CHUNK);
  const lines: string[] = [];
  let a = 0;
  for (const f of fields) {
    if (f.size === 8) {
      lines.push(`a[${a}][r] = v.getInt32(o + ${f.offset}, true); a[${a + 1}][r] = v.getInt32(o + ${f.offset + 4}, true);`);
      a += 2;
    } else {
      const g = f.size === 1 ? 'getUint8' : f.size === 2 ? 'getUint16' : 'getInt32';
      lines.push(`a[${a}][r] = v.${g}(o + ${f.offset}${f.size === 1 ? '' : ', true'});`);
      a++;
    }
  }
  // Bench-only code: the offsets come from the fixture's format file we ship.
  const soa = new Function('a', 'po', 'pl', `return (v, rec, count) => { for (let r = 0; r < count; r++) { const o = rec[r * 4], L = rec[r * 4 + 1]; po[r] = o; if (L < ${switchFormat.fixedSize}) { pl[r] = -1; continue; } pl[r] = L; ${lines.join(' ')} } };`)(arrays, po, pl) as (v: DataView, rec: Int32Array, n: number) => void;
  measure('  alternative: one typed array per field (generated)', sw.count, () => {
    for (let s = 0; s < sw.count; s += CHUNK) soa(sw.view, sw.records.subarray(s * 4), Math.min(CHUNK, sw.count - s));
  }, TABLE);
  type Writer = (view: DataView, o: number, r: number) => void;
  const writers: Writer[] = [];
  a = 0;
  for (const f of fields) {
    const at = f.offset;
    if (f.size === 8) {
      const lo = arrays[a++]!;
      const hi = arrays[a++]!;
      writers.push((v, o, r) => {
        lo[r] = v.getInt32(o + at, true);
        hi[r] = v.getInt32(o + at + 4, true);
      });
    } else {
      const arr = arrays[a++]!;
      if (f.size === 1) writers.push((v, o, r) => (arr[r] = v.getUint8(o + at)));
      else if (f.size === 2) writers.push((v, o, r) => (arr[r] = v.getUint16(o + at, true)));
      else writers.push((v, o, r) => (arr[r] = v.getInt32(o + at, true)));
    }
  }
  measure('  alternative: per-field closures (no code generation)', sw.count, () => {
    for (let s = 0; s < sw.count; s += CHUNK) {
      const n = Math.min(CHUNK, sw.count - s);
      for (let r = 0; r < n; r++) {
        const o = offsetOf(sw, s + r);
        for (let w = 0; w < writers.length; w++) writers[w]!(sw.view, o, r);
      }
    }
  }, TABLE);
}

// 3. Accessors: every numeric field of every record, allocation-free.
{
  const prevPid = decoder.int('prev_pid');
  const prevPrio = decoder.int('prev_prio');
  const prevState = decoder.wide('prev_state');
  const nextPid = decoder.int('next_pid');
  const nextPrio = decoder.int('next_prio');
  const pid = decoder.int('common_pid');
  measure('typed decode: accessors, 6 numeric fields (sched_switch)', sw.count, () => {
    const { view, records } = sw;
    let acc = 0;
    for (let i = 0; i < sw.count; i++) {
      const o = records[i * 4]!;
      acc += prevPid.get(view, o) + prevPrio.get(view, o) + prevState.lo(view, o) + prevState.hi(view, o) + nextPid.get(view, o) + nextPrio.get(view, o) + pid.get(view, o);
    }
    sink += acc;
  });
  const prevComm = decoder.string('prev_comm');
  const nextComm = decoder.string('next_comm');
  measure('  + both comms interned (ids)', sw.count, () => {
    const { view, bytes, records } = sw;
    let acc = 0;
    for (let i = 0; i < sw.count; i++) {
      const o = records[i * 4]!;
      const l = records[i * 4 + 1]!;
      acc += prevPid.get(view, o) + nextPid.get(view, o) + prevState.lo(view, o);
      acc += prevComm.id(view, bytes, o, l) + nextComm.id(view, bytes, o, l);
    }
    sink += acc;
  });
  const utf8 = new TextDecoder();
  measure('  alternative: both comms via TextDecoder', sw.count, () => {
    const { bytes, records } = sw;
    let acc = 0;
    for (let i = 0; i < sw.count; i++) {
      const o = records[i * 4]!;
      let e = o + 8;
      while (e < o + 24 && bytes[e] !== 0) e++;
      acc += utf8.decode(bytes.subarray(o + 8, e)).length;
      e = o + 40;
      while (e < o + 56 && bytes[e] !== 0) e++;
      acc += utf8.decode(bytes.subarray(o + 40, e)).length;
    }
    sink += acc;
  }, '  + both comms interned (ids)');
}

// 4. Object form.
{
  const n = Math.min(sw.count, 20000);
  measure('object form: toObject() (sched_switch)', n, () => {
    for (let i = 0; i < n; i++) sink += decoder.toObject(sw.view, sw.bytes, offsetOf(sw, i), lengthOf(sw, i)).next_pid as number;
  });
}

// 5. Mixed batch: group by id, then per-event generated decoders.
{
  const batchDecoder = new BatchDecoder(registry, { strings });
  measure('mixed stream: BatchDecoder (group by id + tables)', all.count, () => {
    // Decode in sub-buffer-sized chunks, as a reader hands them over.
    const chunk = 128;
    const view: Records = { ...all, count: 0 };
    for (let s = 0; s < all.count; s += chunk) {
      view.count = Math.min(chunk, all.count - s);
      view.records = all.records.subarray(s * 4);
      batchDecoder.decode(view);
    }
    sink += batchDecoder.unknown;
  });
  const decoders = new Map<number, EventDecoderClass>();
  const perId = new Map<number, ReturnType<EventDecoderClass['createTable']>>();
  for (const f of registry.formats()) {
    const d = new EventDecoder(f, { strings });
    decoders.set(f.id, d);
    perId.set(f.id, d.createTable(all.count));
  }
  const one = new Int32Array(1);
  measure('  alternative: per-record dispatch to decoders', all.count, () => {
    for (const c of perId.values()) c.clear();
    for (let i = 0; i < all.count; i++) {
      const id = all.view.getUint16(offsetOf(all, i), true);
      one[0] = i;
      decoders.get(id)!.decodeRecords(perId.get(id)!, all.bytes, all.view, all.records, one, 1);
    }
  }, 'mixed stream: BatchDecoder (group by id + tables)');
}

// 6. Text rendering of bodies, as the kernel prints them.
const symbols = SymbolTable.parse(fs.readFileSync(path.join(fixtures, 'kallsyms.gz')));
const renderer = new EventRenderer(registry, { symbols, strings });
let renderNs = 0;
{
  const n = Math.min(sw.count, 50000);
  renderNs = measure('render body (sched_switch)', n, () => {
    for (let i = 0; i < n; i++) sink += renderer.body(sw.view, sw.bytes, offsetOf(sw, i), lengthOf(sw, i)).length;
  });
  const m = Math.min(all.count, 50000);
  measure('render text, mixed stream (switch/wakeup/fork/exec/print)', m, () => {
    for (let i = 0; i < m; i++) sink += renderer.text(all.view, all.bytes, offsetOf(all, i), lengthOf(all, i)).length;
  });
}

// 7. The peers: libtraceevent on the same replicated pages (every record of the mixed stream).
let peer = 'libtraceevent peer skipped';
{
  const missing = ensureLibtraceevent(console.log);
  if (missing !== null) peer = `libtraceevent peer skipped: ${missing}`;
  else {
    const bin = compileC(['tepdecode'] as const, { tepdecode: ['-ltraceevent'] }).tepdecode;
    const raw = path.join(outDir, 'decode-micro-pages.bin');
    const kallsyms = path.join(outDir, 'decode-micro-kallsyms.txt');
    fs.writeFileSync(raw, all.bytes);
    fs.writeFileSync(kallsyms, gunzipSync(fs.readFileSync(path.join(fixtures, 'kallsyms.gz'))));
    const tracefsDir = path.join(fixtures, 'sched', 'tracefs');
    const meter = new LoadMeter();
    const r = spawnSync(bin, ['--dir', tracefsDir, '--raw', raw, '--subbuf', '4096', '--rounds', String(ROUNDS), '--modes', 'walk,lean,print', '--kallsyms', kallsyms], { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
    const load = loadText(meter.stop());
    fs.rmSync(raw, { force: true });
    fs.rmSync(kallsyms, { force: true });
    if (r.status !== 0) peer = `libtraceevent peer failed: ${r.stderr.trim().slice(0, 300)}`;
    else {
      const t = JSON.parse(r.stdout) as { events: number; walk: { cpuNs: number[] }; lean: { cpuNs: number[] }; print: { cpuNs: number[] } };
      if (t.events !== all.count) throw new Error(`libtraceevent saw ${t.events} records, the pages hold ${all.count}`);
      const per = (xs: number[]) => stat(xs.map((x) => x / t.events));
      const parse = stat(t.lean.cpuNs.map((x, i) => (x - t.walk.cpuNs[i]!) / t.events));
      const print = stat(t.print.cpuNs.map((x, i) => (x - t.walk.cpuNs[i]!) / t.events));
      const ours = figures.get('mixed stream: BatchDecoder (group by id + tables)')!;
      const text = figures.get('render text, mixed stream (switch/wakeup/fork/exec/print)')!;
      console.log(`${'libtraceevent: kbuffer walk'.padEnd(58)} ${withSpread(per(t.walk.cpuNs)).padStart(12)} ns/event   (${load})`);
      console.log(`${'libtraceevent: field parse on top of the walk'.padEnd(58)} ${withSpread(parse).padStart(12)} ns/event   BatchDecoder is ${(parse.median / ours).toFixed(2)}x faster (goal >= 10x)`);
      console.log(`${'libtraceevent: tep_print_event(INFO) on top of the walk'.padEnd(58)} ${withSpread(print).padStart(12)} ns/event   our text is ${(print.median / text).toFixed(2)}x faster`);
      peer = `BatchDecoder ${ours.toFixed(1)} ns/event vs libtraceevent field parse ${parse.median.toFixed(1)} (${(parse.median / ours).toFixed(2)}x faster, goal >= 10x); text ${text.toFixed(0)} vs tep_print_event ${print.median.toFixed(0)} ns/event (${(print.median / text).toFixed(2)}x)`;
    }
  }
}

console.log(`\nsummary: typed decode ${tableNs.toFixed(1)} ns/event (sched_switch table), sched_switch body ${renderNs.toFixed(0)} ns/event; ${peer}`);
if (sink === 0.5) console.log(sink);
