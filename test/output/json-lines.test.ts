// JSON Lines written as bytes (src/output/json-lines.ts, json-emit.ts,
// json-out.ts) must equal, byte for byte, what the object-based writer
// gave (test/output/json-reference.ts): over the captured fixtures, the
// bench recording when present, synthetic formats with every field kind,
// strings needing escapes, invalid UTF-8, random payloads and both byte
// orders.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { EventRegistry } from '../../src/decode/registry.js';
import { TextOut } from '../../src/decode/text-out.js';
import type { BatchSource } from '../../src/layout/batch-source.js';
import { RecordBatch, WalkState, maxRecords, walkRecords } from '../../src/layout/record.js';
import { hostSubbufLayout, newSubbufHeader, readSubbufHeader } from '../../src/layout/subbuf.js';
import type { DecodeContext } from '../../src/output/decode-context.js';
import { loadDecodeContext } from '../../src/output/decode-context.js';
import { JsonLines } from '../../src/output/json-lines.js';
import { CpuMerger } from '../../src/output/merge.js';
import { putI32, putS64, putU32, putU64 } from '../../src/output/json-out.js';
import { TimelineRenderer } from '../../src/output/report.js';
import { TaskNames } from '../../src/output/task-names.js';
import { Recording } from '../../src/recording/recording.js';
import { FIXTURES, formatText } from '../decode/support.js';
import { JsonLinesReference } from './json-reference.js';

const scratchDirs: string[] = [];
after(() => {
  for (const dir of scratchDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A registry over a temporary directory of format files. */
function registryOf(files: Record<string, string>): EventRegistry {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracering-json-'));
  scratchDirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return EventRegistry.fromDirectory(dir);
}

/** One batch per page of a trace_pipe_raw file. */
function pageBatches(file: string, cpu: number, subbufSize = 4096): RecordBatch[] {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const layout = hostSubbufLayout(subbufSize);
  const out: RecordBatch[] = [];
  const walk = new WalkState();
  for (let start = 0; start + subbufSize <= bytes.length; start += subbufSize) {
    const h = readSubbufHeader(view, start, layout, newSubbufHeader());
    walk.begin(h.tsHi, h.tsLo);
    const batch = new RecordBatch(maxRecords(subbufSize - 16));
    batch.reset(bytes, view, cpu, start / subbufSize);
    walkRecords(layout, start + layout.dataOffset, h.commitSize, 0, walk, batch);
    if (batch.corrupt !== null) throw batch.corrupt;
    out.push(batch);
  }
  return out;
}

/** Compares every record's line; returns the lines (new writer). */
function compareBatches(json: JsonLines, reference: JsonLinesReference, batches: readonly RecordBatch[]): string[] {
  const lines: string[] = [];
  const mismatches: string[] = [];
  for (const batch of batches) {
    for (let i = 0; i < batch.count; i++) {
      const got = json.line(batch, i);
      const expected = reference.line(batch, i);
      if (got !== expected && mismatches.length < 5) mismatches.push(`cpu ${batch.cpu} record ${i}\n  got:      ${got}  expected: ${expected}`);
      lines.push(got);
    }
  }
  assert.deepEqual(mismatches, []);
  return lines;
}

/** Every line ends with a newline and parses as one JSON object. */
function assertJsonLines(lines: readonly string[]): void {
  for (const line of lines) {
    assert.ok(line.endsWith('\n') && line.indexOf('\n') === line.length - 1, line);
    const v = JSON.parse(line) as unknown;
    assert.equal(typeof v, 'object');
  }
}

describe('JSON Lines as bytes equal the object-based writer', () => {
  for (const capture of ['sched', 'markers']) {
    it(`${capture} capture: every record, and TimelineRenderer's output`, () => {
      const root = path.join(FIXTURES, capture, 'tracefs');
      const registry = EventRegistry.fromDirectory(root);
      const read = (f: string) => fs.readFileSync(path.join(root, f), 'utf8');
      const tasks = TaskNames.parse(read('saved_cmdlines'), read('saved_tgids'));
      const json = new JsonLines(registry, tasks);
      const reference = new JsonLinesReference(registry, tasks);
      let count = 0;
      for (const cpu of [0, 1]) {
        const lines = compareBatches(json, reference, pageBatches(path.join(root, 'per_cpu', `cpu${cpu}`, 'trace_pipe_raw'), cpu));
        assertJsonLines(lines);
        count += lines.length;
      }
      assert.equal(count, { sched: 499, markers: 7 }[capture]);

      // The renderer (bytes and strings) gives the same lines merged by time.
      const ctx = loadDecodeContext({ root, kallsyms: null, constants: null });
      const sources = (): BatchSource[] =>
        [0, 1].map((cpu) => {
          const batches = pageBatches(path.join(root, 'per_cpu', `cpu${cpu}`, 'trace_pipe_raw'), cpu);
          return { cpu, caughtUp: false, next: () => batches.shift() ?? null };
        });
      let text = '';
      new TimelineRenderer(sources(), ctx, { format: 'json', write: (s) => (text += s), chunk: 512 }).run();
      const chunks: Buffer[] = [];
      new TimelineRenderer(sources(), ctx, { format: 'json', writeBytes: (b) => chunks.push(Buffer.from(b)) }).run();
      assert.equal(Buffer.concat(chunks).toString('utf8'), text);
      // Reference lines in the merger's order, with its loss markers.
      let expected = '';
      const refLines = new JsonLinesReference(ctx.registry, ctx.tasks, ctx.littleEndian, ctx.renderer);
      new CpuMerger(sources()).run({
        event: (b, i) => (expected += refLines.line(b, i)),
        lost: (cpu, n) => (expected += refLines.lost(cpu, n)),
      });
      assert.ok(expected.length > 0);
      assert.equal(text, expected);
    });
  }

  const BENCH = '/tmp/trrep-data/recording';
  it('the bench recording (when present): every record', { skip: !fs.existsSync(path.join(BENCH, 'tracering.json')) }, () => {
    const ctx = loadDecodeContext({ root: BENCH, array: BENCH });
    const json = new JsonLines(ctx.registry, ctx.tasks, ctx.littleEndian, ctx.renderer);
    const reference = new JsonLinesReference(ctx.registry, ctx.tasks, ctx.littleEndian, ctx.renderer);
    const readers = Recording.open(BENCH).openReaders();
    let n = 0;
    try {
      for (const r of readers) {
        for (let b = r.next(); b !== null; b = r.next()) {
          for (let i = 0; i < b.count; i++) {
            const got = json.line(b, i);
            const expected = reference.line(b, i);
            if (got !== expected) assert.equal(got, expected, `cpu ${b.cpu} record ${i}`);
            // Parse a sample (parsing every line would take long).
            if ((n & 1023) === 0) JSON.parse(got);
            n++;
          }
        }
      }
    } finally {
      for (const r of readers) r.close();
    }
    assert.ok(n > 0);
  });
});

// ---- synthetic formats ----------------------------------------------------

const KINDS_FIELDS = [
  'char str[16];8;16;1',
  '__data_loc char[] dyn;24;4;1',
  'u64 big;28;8;0',
  's64 sbig;36;8;1',
  'int s32;44;4;1',
  'unsigned int u32;48;4;0',
  'short s16;52;2;1',
  'unsigned short u16;54;2;0',
  'signed char s8;56;1;1',
  'unsigned char u8;57;1;0',
  'void * ptr;58;8;0',
  'unsigned long arr[3];66;24;0',
  'long sarr[2];90;16;1',
  'u8 raw[5];106;5;0',
  'short shorts[2];111;4;1',
  'unsigned int words[2];115;8;0',
  '__data_loc cpumask_t mask;123;4;0',
  '__rel_loc char[] rel;127;4;1',
  '__data_loc u32[] dwords;131;4;0',
  'char tail[];135;0;1',
];
const KINDS = formatText(KINDS_FIELDS, '"x"', 'kinds', 900);
const FIXED_SIZE = 135;

/** A batch of the given payloads (each at a 4-byte aligned offset), with timestamps. */
function batchOf(payloads: readonly Uint8Array[], cpu = 0, ts: readonly bigint[] = []): RecordBatch {
  let size = 0;
  const offsets: number[] = [];
  for (const p of payloads) {
    offsets.push(size);
    size += (p.length + 7) & ~3;
  }
  const bytes = new Uint8Array(size + 8);
  const view = new DataView(bytes.buffer);
  const batch = new RecordBatch(payloads.length);
  batch.reset(bytes, view, cpu, 0);
  payloads.forEach((p, i) => {
    bytes.set(p, offsets[i]!);
    const t = ts[i] ?? BigInt(1_000_000_000 * (i + 1) + i);
    batch.records.set([offsets[i]!, p.length, Number(t >> 32n) | 0, Number(t & 0xffffffffn) | 0], i * 4);
  });
  batch.count = payloads.length;
  return batch;
}

/** Deterministic pseudo-random bytes (xorshift). */
function prng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

class Builder {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly le: boolean;
  constructor(size: number, le = true, id = 900) {
    this.le = le;
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.view.setUint16(0, id, le);
    this.view.setInt32(4, 42, le);
  }
  u32(at: number, v: number): this {
    this.view.setUint32(at, v >>> 0, this.le);
    return this;
  }
  u64(at: number, v: bigint): this {
    this.view.setBigUint64(at, BigInt.asUintN(64, v), this.le);
    return this;
  }
  str(at: number, s: string | Uint8Array): this {
    this.bytes.set(typeof s === 'string' ? Buffer.from(s, 'utf8') : s, at);
    return this;
  }
  loc(at: number, dataAt: number, len: number, rel = false): this {
    return this.u32(at, ((rel ? dataAt - at - 4 : dataAt) & 0xffff) | (len << 16));
  }
}

/** Strings that need care: escapes, control bytes, DEL, UTF-8, invalid UTF-8, a BOM, word boundaries. */
const NASTY: Array<string | Uint8Array> = [
  '',
  'plain',
  'abcd',
  'abcdefgh',
  'quote " and \\ backslash',
  '"\\"\\',
  'tab\there\nnewline\r\b\f',
  '\u0001\u001f\u007f end',
  'caf\u00e9 \u{1f600} \u2028 \u2029',
  Uint8Array.from([0x61, 0xff, 0x62, 0xc3, 0x28, 0xe2, 0x82]),
  Uint8Array.from([0xef, 0xbb, 0xbf, 0x42, 0x4f, 0x4d]),
  Uint8Array.from([0xef, 0xbb, 0xbf, ...Buffer.from('a BOM then more than thirty-two bytes of text')]),
  Uint8Array.from([0xed, 0xa0, 0x80, 0x41]),
  'x'.repeat(300),
  `${'y'.repeat(40)}"${'z'.repeat(40)}\u0000hidden`,
];

function kindsPayload(s: string | Uint8Array, k: number, le: boolean): Uint8Array {
  const enc = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  const dynAt = 140;
  const relAt = dynAt + enc.length + 1;
  const maskAt = relAt + enc.length + 1;
  const dwAt = maskAt + 16;
  const tailAt = dwAt + 12;
  const p = new Builder(tailAt + enc.length + 3, le);
  p.bytes.set(enc.subarray(0, 16), 8);
  p.loc(24, dynAt, enc.length + 1).str(dynAt, enc);
  p.loc(127, relAt, enc.length + 1, true).str(relAt, enc);
  const big = [0n, 1n, (1n << 32n) - 1n, 1n << 32n, (1n << 53n) - 1n, 1n << 53n, (1n << 53n) + 1n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n];
  const sbig = [0n, -1n, -(1n << 31n), -(1n << 32n), -(1n << 32n) - 1n, -(1n << 53n), -(1n << 53n) - 1n, -(1n << 63n), (1n << 63n) - 1n, 123456789012345n];
  p.u64(28, big[k % big.length]!).u64(36, sbig[k % sbig.length]!);
  p.view.setInt32(44, -2147483648 + k, le);
  p.view.setUint32(48, 4294967295 - k, le);
  p.view.setInt16(52, -32768 + k, le);
  p.view.setUint16(54, 65535 - k, le);
  p.view.setInt8(56, -128 + k);
  p.view.setUint8(57, 255 - k);
  p.u64(58, 0xffffffff81234567n + BigInt(k));
  for (let e = 0; e < 3; e++) p.u64(66 + 8 * e, big[(k + e) % big.length]!);
  for (let e = 0; e < 2; e++) p.u64(90 + 8 * e, sbig[(k + e) % sbig.length]!);
  p.str(106, Uint8Array.from([0, 1, 0xab, 0xff, k & 255]));
  p.view.setInt16(111, -k, le);
  p.view.setInt16(113, 1000 + k, le);
  p.u32(115, 0x80000000 + k).u32(119, k);
  p.loc(123, maskAt, 16);
  p.u64(maskAt, 0x8000000000000005n + BigInt(k)).u64(maskAt + 8, 1n << BigInt(k % 64));
  p.loc(131, dwAt, 10);
  p.u32(dwAt, 7).u32(dwAt + 4, 0xfffffff0);
  p.str(tailAt, enc);
  return p.bytes;
}

describe('JSON Lines: synthetic formats', () => {
  const registry = registryOf({ 'events/test/kinds/format': KINDS });
  const tasks = new TaskNames(new Map([[42, 'quote"back\\slash\u0001é']]));

  for (const le of [true, false]) {
    it(`every field kind, nasty strings, boundary integers (${le ? 'little' : 'big'} endian)`, () => {
      const payloads = NASTY.map((s, k) => kindsPayload(s, k, le));
      const lines = compareBatches(new JsonLines(registry, tasks, le), new JsonLinesReference(registry, tasks, le), [batchOf(payloads)]);
      assertJsonLines(lines);
      // Spot checks on what the reference gives (it is the specification).
      const first = JSON.parse(lines[4]!) as { comm: string; fields: Record<string, unknown> };
      assert.equal(first.comm, 'quote"back\\slash\u0001é');
      assert.equal(first.fields.dyn, 'quote " and \\ backslash');
      assert.match(lines[4]!, /"big":9007199254740991,/);
      // Past 2^53: strings (decimal; a pointer in hex).
      assert.match(lines[5]!, /"big":"9007199254740992","sbig":"-9007199254740992",/);
      assert.match(lines[8]!, /"big":"9223372036854775808","sbig":"9223372036854775807",/);
      assert.match(lines[7]!, /"sbig":"-9223372036854775808",/);
      assert.match(lines[4]!, /"ptr":"0xffffffff8123456b",/);
      assert.match(lines[1]!, /"big":1,"sbig":-1,/);
      assert.match(lines[6]!, /"dyn":"tab\\there\\nnewline\\r\\b\\f"/);
      assert.match(lines[7]!, /"dyn":"\\u0001\\u001f\u007f end"/);
    });

    it(`truncated payloads leave integers out and clamp data (${le ? 'little' : 'big'} endian)`, () => {
      const full = kindsPayload('some text here', 3, le);
      const payloads: Uint8Array[] = [];
      for (let n = 0; n <= full.length; n++) payloads.push(full.slice(0, n));
      const lines = compareBatches(new JsonLines(registry, tasks, le), new JsonLinesReference(registry, tasks, le), [batchOf(payloads)]);
      assertJsonLines(lines);
      assert.match(lines[FIXED_SIZE - 40]!, /"fields":\{"str":"some text here","dyn":"","big":/);
    });

    it(`random payloads (${le ? 'little' : 'big'} endian)`, () => {
      const rand = prng(le ? 12345 : 54321);
      const payloads: Uint8Array[] = [];
      for (let k = 0; k < 3000; k++) {
        const n = Math.floor(rand() * 400);
        const p = new Builder(Math.max(n, 8), le);
        for (let i = 8; i < n; i++) {
          // Mostly printable, some control and high bytes, loc words now and then in range.
          const r = rand();
          p.bytes[i] = r < 0.7 ? 32 + Math.floor(rand() * 95) : r < 0.8 ? Math.floor(rand() * 32) : Math.floor(rand() * 256);
        }
        if (n >= 28 && rand() < 0.5) p.loc(24, 8 + Math.floor(rand() * n), Math.floor(rand() * 64));
        if (n >= 127 + 4 && rand() < 0.5) p.u32(127, Math.floor(rand() * 256) | (Math.floor(rand() * 64) << 16));
        payloads.push(p.bytes.slice(0, n));
      }
      const lines = compareBatches(new JsonLines(registry, tasks, le), new JsonLinesReference(registry, tasks, le), [batchOf(payloads)]);
      assertJsonLines(lines);
    });
  }

  it('unknown events, timestamps past 2^53, CPUs and pids of every size, lost lines', () => {
    const payloads = [new Builder(16, true, 901).bytes, new Builder(12, true, 900).bytes, kindsPayload('x', 1, true)];
    payloads[2]!.set([0xff, 0xff, 0xff, 0xff], 4); // pid -1
    const ts = [(1n << 64n) - 1n, (1n << 53n) + 12345n, 999_999_999n];
    const json = new JsonLines(registry, tasks);
    const reference = new JsonLinesReference(registry, tasks);
    for (const cpu of [0, 7, 1500]) {
      const lines = compareBatches(json, reference, [batchOf(payloads, cpu, ts)]);
      assertJsonLines(lines);
      assert.match(lines[0]!, new RegExp(`^\\{"ts":"18446744073709551615","cpu":${cpu},"pid":42,"comm":.*,"id":901,"event":null,"payload":"850300002a0000000000000000000000"\\}\\n$`));
    }
    assert.equal(json.lost(3, 17), reference.lost(3, 17));
    assert.equal(json.lost(0, -1), '{"lost":null,"cpu":0}\n');
  });

  it('timestamps across seconds, backwards and below one second', () => {
    const ts = [5n, 999_999_999n, 1_000_000_000n, 1_999_999_999n, 2_000_000_001n, 1_500_000_000n, 86_400_000_000_123n, 86_400_999_999_999n, 1n << 52n, (1n << 53n) - 1n];
    const payloads = ts.map(() => kindsPayload('t', 0, true));
    assertJsonLines(compareBatches(new JsonLines(registry, tasks), new JsonLinesReference(registry, tasks), [batchOf(payloads, 0, ts)]));
  });

  it('comm names follow TaskNames changes', () => {
    const names = new TaskNames(new Map([[42, 'before']]));
    const json = new JsonLines(registry, names);
    const batch = batchOf([kindsPayload('a', 0, true)]);
    assert.match(json.line(batch, 0), /"comm":"before"/);
    names.setComm(42, 'after\n');
    assert.match(json.line(batch, 0), /"comm":"after\\n"/);
  });

  it('writeLine appends to a TextOut that grows', () => {
    const json = new JsonLines(registry, tasks);
    const batch = batchOf([kindsPayload('x'.repeat(300), 2, true), kindsPayload(Uint8Array.from([0xff]), 2, true)]);
    const out = new TextOut(64);
    json.writeLine(out, batch, 0);
    json.writeLine(out, batch, 1);
    assert.equal(out.toString(), json.line(batch, 0) + json.line(batch, 1));
  });
});

describe('JSON number writers', () => {
  const out = new TextOut(64);
  const text = (f: (buf: Uint8Array, dv: DataView, p: number) => number) => {
    const end = f(out.buf, out.dv, 0);
    return Buffer.from(out.buf.subarray(0, end)).toString('latin1');
  };

  it('u64 and s64 from halves equal BigInt decimals', () => {
    const rand = prng(777);
    const values: bigint[] = [];
    for (let b = 0; b < 64; b++) for (const d of [-1n, 0n, 1n]) values.push(BigInt.asUintN(64, (1n << BigInt(b)) + d));
    for (const p of [9, 10, 16, 18, 19, 20]) for (const d of [-1n, 0n, 1n]) values.push(BigInt.asUintN(64, 10n ** BigInt(p) + d));
    for (let k = 0; k < 20000; k++) {
      const hi = BigInt(Math.floor(rand() * 4294967296) >>> (k % 33));
      values.push((hi << 32n) | BigInt(Math.floor(rand() * 4294967296)));
    }
    for (const v of values) {
      const hi = Number(v >> 32n);
      const lo = Number(v & 0xffffffffn);
      assert.equal(
        text((b, d, p) => putU64(b, d, p, hi, lo)),
        v.toString(),
        `u64 ${v}`,
      );
      const s = BigInt.asIntN(64, v);
      assert.equal(
        text((b, d, p) => putS64(b, d, p, hi | 0, lo)),
        s.toString(),
        `s64 ${s}`,
      );
    }
  });

  it('u32 and i32 equal String()', () => {
    const rand = prng(4242);
    const values = [0, 1, 9, 10, 99, 100, 2147483647, 2147483648, 4294967295, 999999999, 1000000000, 3999999999, 4000000000];
    for (let k = 0; k < 20000; k++) values.push(Math.floor(rand() * 4294967296) >>> (k % 32));
    for (const v of values) {
      assert.equal(text((b, d, p) => putU32(b, d, p, v)), String(v));
      assert.equal(text((b, d, p) => putI32(b, d, p, v | 0)), String(v | 0));
    }
  });
});
