// Hostile trace.dat files: truncated at every structural boundary and at
// random points, bits flipped in headers, section sizes, compression
// sizes and option lengths, and crafted attacks (an options loop, huge
// counts, offsets past the end, decompression bombs). Every outcome must
// be a clean read or a coded TraceringError, within a time bound.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TraceringError } from '../../src/errors.js';
import { TraceDat, TraceDatWriter } from '../../src/tracedat/index.js';
import target, { walkTraceDat } from '../../fuzz/targets/tracedat.js';
import { PAGE, fixture, makeRestoreDir, metadataFromDirectory, rawPages, tempDir } from './support.js';

/** Per-input bound: far above a normal read (~1 ms), far below a hang. */
const TIME_BOUND_MS = 5000;

/** xorshift32, seeded: the same inputs on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

interface Outcome {
  ok: boolean;
  code: string | null;
}

function attempt(bytes: Uint8Array, what: string): Outcome {
  const start = performance.now();
  let outcome: Outcome;
  try {
    walkTraceDat(bytes);
    outcome = { ok: true, code: null };
  } catch (error) {
    if (!(error instanceof TraceringError)) {
      assert.fail(`${what}: threw ${(error as Error)?.constructor?.name}: ${(error as Error)?.stack ?? String(error)}`);
    }
    outcome = { ok: false, code: error.code };
  }
  const ms = performance.now() - start;
  assert.ok(ms < TIME_BOUND_MS, `${what}: took ${ms.toFixed(0)} ms`);
  return outcome;
}

/** Offsets where the structure of a v7 file changes, found by walking it independently of the reader. */
interface Landmarks {
  boundaries: number[];
  sectionHeaders: number[];
  compressionHeaders: number[];
  optionHeaders: number[];
  dataStarts: number[];
}

function landmarksV7(bytes: Uint8Array): Landmarks {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m: Landmarks = { boundaries: [], sectionHeaders: [], compressionHeaders: [], optionHeaders: [], dataStarts: [] };
  let at = 10;
  at = bytes.indexOf(0, at) + 1 + 2 + 4; // version, endian, long, page size
  m.boundaries.push(10, at);
  const compressed = bytes[at] !== 0x6e; // "none"
  at = bytes.indexOf(0, at) + 1;
  at = bytes.indexOf(0, at) + 1;
  m.boundaries.push(at);
  let next = Number(v.getBigUint64(at, true));
  m.boundaries.push(at + 8);
  const section = (off: number) => {
    m.sectionHeaders.push(off);
    m.boundaries.push(off, off + 2, off + 4, off + 8, off + 16, off + 16 + Number(v.getBigUint64(off + 8, true)));
    if ((v.getUint16(off + 2, true) & 1) !== 0) m.compressionHeaders.push(off + 16);
  };
  const seen = new Set<number>();
  while (next !== 0 && !seen.has(next)) {
    seen.add(next);
    section(next);
    let p = next + 16;
    const end = p + Number(v.getBigUint64(next + 8, true));
    next = 0;
    while (p + 6 <= end) {
      const id = v.getUint16(p, true);
      const size = v.getUint32(p + 2, true);
      m.optionHeaders.push(p);
      m.boundaries.push(p, p + 6, p + 6 + size);
      const data = p + 6;
      if (id >= 15 && id <= 21) section(Number(v.getBigUint64(data, true)));
      if (id === 3) {
        section(Number(v.getBigUint64(data, true)));
        let q = bytes.indexOf(0, data + 8) + 1;
        q = bytes.indexOf(0, q) + 1;
        const cpus = v.getUint32(q + 4, true);
        for (let i = 0; i < cpus; i++) {
          const o = Number(v.getBigUint64(q + 8 + i * 20 + 4, true));
          const s = Number(v.getBigUint64(q + 8 + i * 20 + 12, true));
          m.dataStarts.push(o);
          m.boundaries.push(o, o + 4, o + s);
          if (compressed) m.compressionHeaders.push(o + 4);
        }
      }
      if (id === 0) {
        next = Number(v.getBigUint64(data, true));
        break;
      }
      p = data + size;
    }
  }
  return m;
}

/** v6: the inline parts, found by their tags and the flyrecord offsets. */
function landmarksV6(bytes: Uint8Array): Landmarks {
  const m: Landmarks = { boundaries: [10], sectionHeaders: [], compressionHeaders: [], optionHeaders: [], dataStarts: [] };
  const text = Buffer.from(bytes).toString('latin1');
  for (const tag of ['header_page\0', 'header_event\0', 'options  \0', 'flyrecord\0']) {
    for (let i = text.indexOf(tag); i >= 0; i = text.indexOf(tag, i + 1)) {
      m.boundaries.push(i, i + tag.length, i + tag.length + 8);
      m.sectionHeaders.push(i + tag.length);
      if (tag === 'options  \0') m.optionHeaders.push(i + tag.length);
    }
  }
  using dat = TraceDat.fromBytes(bytes);
  for (const b of dat.buffers) for (const c of b.cpus) m.boundaries.push(c.offset, c.offset + c.size), m.dataStarts.push(c.offset);
  return m;
}

let work = '';
const seeds: { name: string; bytes: Uint8Array }[] = [];

before(() => {
  work = tempDir('hostile');
  for (const name of ['sched-v7-none.dat', 'sched-v7-zstd.dat', 'sched-v6.dat', 'handmade-v7-min.dat', 'handmade-v6-min.dat']) {
    seeds.push({ name, bytes: new Uint8Array(fs.readFileSync(fixture(name))) });
  }
  // Ours too: two buffers, every option we write, in both versions.
  const restore = makeRestoreDir();
  for (const version of [7, 6] as const) {
    const out = join(work, `ours-v${version}.dat`);
    const w = TraceDatWriter.create(out, { version, pageSize: PAGE, buffers: [{ name: '' }, { name: 'inst' }] });
    for (const cpu of [0, 1]) w.writePages('', cpu, rawPages(cpu));
    w.writePages('inst', 1, rawPages(1));
    w.finish({ ...metadataFromDirectory(restore.dir, restore.kallsyms), cpuCount: 2, cpuStats: [{ buffer: 'inst', cpu: 1, text: 'entries: 1\n' }] });
    seeds.push({ name: `ours-v${version}.dat`, bytes: new Uint8Array(fs.readFileSync(out)) });
  }
  fs.rmSync(join(restore.dir, '..'), { recursive: true, force: true });
});

after(() => fs.rmSync(work, { recursive: true, force: true }));

describe('hostile trace.dat input', () => {
  test('the seeds read cleanly (the fuzz target accepts its own seeds)', () => {
    for (const s of seeds) assert.deepEqual(attempt(s.bytes, s.name), { ok: true, code: null });
    assert.equal(target.name, 'tracedat');
    assert.ok(target.seeds().length >= 5);
  });

  test('truncation at every structural boundary (and next to it) and at random points', () => {
    const random = rng(0x7ace);
    let errors = 0;
    let inputs = 0;
    for (const s of seeds) {
      const marks = s.name.includes('v6') ? landmarksV6(s.bytes) : landmarksV7(s.bytes);
      const cuts = new Set<number>();
      for (const b of marks.boundaries) for (const d of [-1, 0, 1, 7]) if (b + d > 0 && b + d < s.bytes.length) cuts.add(b + d);
      for (let i = 0; i < 60; i++) cuts.add(Math.floor(random() * s.bytes.length));
      for (const cut of cuts) {
        inputs++;
        const o = attempt(s.bytes.subarray(0, cut), `${s.name} cut at ${cut}`);
        if (!o.ok) errors++;
      }
    }
    // Nearly every cut removes data a reader needs; they must be refused, not misread.
    assert.ok(inputs > 300);
    assert.ok(errors > inputs * 0.8, `${errors} of ${inputs} truncations refused`);
  });

  test('bit flips in section headers and sizes, compression headers, option lengths and anywhere', () => {
    const random = rng(0xb17);
    const codes = new Map<string, number>();
    let inputs = 0;
    for (const s of seeds) {
      const marks = s.name.includes('v6') ? landmarksV6(s.bytes) : landmarksV7(s.bytes);
      const targets: [number, number][] = [
        [0, 40], // the file header
        ...marks.sectionHeaders.map((o): [number, number] => [o, 16]),
        ...marks.sectionHeaders.map((o): [number, number] => [o + 8, 8]), // section sizes (v6: the length words)
        ...marks.compressionHeaders.map((o): [number, number] => [o, 8]),
        ...marks.optionHeaders.map((o): [number, number] => [o, 6]),
        ...marks.dataStarts.map((o): [number, number] => [o, 16]), // page headers, chunk counts
      ];
      for (const [start, length] of targets) {
        for (let k = 0; k < 6; k++) {
          const at = start + Math.floor(random() * length);
          if (at >= s.bytes.length) continue;
          const bytes = Uint8Array.from(s.bytes);
          bytes[at]! ^= 1 << Math.floor(random() * 8);
          if (k % 3 === 2) bytes[Math.min(bytes.length - 1, at + 1)]! ^= 0xff; // sometimes a whole high byte
          inputs++;
          const o = attempt(bytes, `${s.name} flip at ${at}`);
          if (o.code !== null) codes.set(o.code, (codes.get(o.code) ?? 0) + 1);
        }
      }
      for (let k = 0; k < 150; k++) {
        const bytes = Uint8Array.from(s.bytes);
        const at = Math.floor(random() * bytes.length);
        bytes[at] = Math.floor(random() * 256);
        inputs++;
        attempt(bytes, `${s.name} byte at ${at}`);
      }
    }
    assert.ok(inputs > 1000);
    assert.ok((codes.get('ERR_MALFORMED_INPUT') ?? 0) > 100, `codes: ${JSON.stringify([...codes])}`);
    for (const code of codes.keys()) assert.match(code, /^ERR_(MALFORMED_INPUT|UNSUPPORTED|CORRUPT_SUBBUF|TRACEFS_NOT_FOUND)$/);
  });

  test('an options chain that loops back is refused', () => {
    const bytes = Uint8Array.from(seeds.find((s) => s.name === 'sched-v7-none.dat')!.bytes);
    const v = new DataView(bytes.buffer);
    const marks = landmarksV7(bytes);
    // The DONE option of the last options section: point it at the first one.
    const first = Number(v.getBigUint64(32 - 8, true));
    const last = marks.optionHeaders.filter((p) => v.getUint16(p, true) === 0).at(-1)!;
    v.setBigUint64(last + 6, BigInt(first), true);
    assert.throws(() => walkTraceDat(bytes), { code: 'ERR_MALFORMED_INPUT', message: /loop/ });
    // A DONE that points at itself (the section it ends).
    v.setBigUint64(last + 6, BigInt(marks.sectionHeaders.filter((o) => v.getUint16(o, true) === 0).at(-1)!), true);
    assert.throws(() => walkTraceDat(bytes), { code: 'ERR_MALFORMED_INPUT', message: /loop/ });
  });

  test('huge counts and offsets past the end are refused before anything is allocated', () => {
    const base = seeds.find((s) => s.name === 'sched-v7-none.dat')!.bytes;
    const marks = landmarksV7(base);
    const patch = (fn: (v: DataView) => void) => {
      const bytes = Uint8Array.from(base);
      fn(new DataView(bytes.buffer));
      return bytes;
    };
    const bufferOption = marks.optionHeaders.find((p) => new DataView(base.buffer, base.byteOffset).getUint16(p, true) === 3)!;
    const cpuCountAt = bufferOption + 6 + 8 + 1 + 'local'.length + 1 + 4;
    const cases: [string, Uint8Array, RegExp][] = [
      ['BUFFER CPU count 2^32-1', patch((v) => v.setUint32(cpuCountAt, 0xffffffff, true)), /lists 4294967295 CPUs/],
      ['CPU data offset past the end', patch((v) => v.setBigUint64(cpuCountAt + 4 + 4, BigInt(base.length + PAGE), true)), /beyond the end/],
      ['CPU data size past the end', patch((v) => v.setBigUint64(cpuCountAt + 4 + 12, 1n << 40n, true)), /beyond the end/],
      ['section size 2^63', patch((v) => v.setBigUint64(marks.sectionHeaders[0]! + 8, 1n << 63n, true)), /out of range|beyond the end/],
      ['option length 2^32-1', patch((v) => v.setUint32(marks.optionHeaders[0]! + 2, 0xffffffff, true)), /truncated option/],
      ['first options offset past the end', patch((v) => v.setBigUint64(24, BigInt(base.length * 4), true)), /beyond the end/],
    ];
    for (const [what, bytes, message] of cases) {
      assert.throws(() => walkTraceDat(bytes), (e: unknown) => e instanceof TraceringError && e.code === 'ERR_MALFORMED_INPUT' && message.test(e.message), what);
    }
  });

  test('decompression bombs: a chunk or section claiming more than zstd can hold, a frame of many RLE blocks', () => {
    const base = seeds.find((s) => s.name === 'sched-v7-zstd.dat')!.bytes;
    const marks = landmarksV7(base);
    const chunk = marks.dataStarts[0]! + 4; // CPU 0's first chunk header: u32 csize, u32 usize
    const section = marks.compressionHeaders.find((o) => o < marks.dataStarts[0]!)!;
    const patch = (fn: (v: DataView, bytes: Uint8Array) => void) => {
      const bytes = Uint8Array.from(base);
      fn(new DataView(bytes.buffer), bytes);
      return bytes;
    };
    const claims = [
      patch((v) => v.setUint32(chunk + 4, 0x7fffffff, true)),
      patch((v) => v.setUint32(section + 4, 0xfffffff0, true)),
      patch((v) => v.setUint32(section + 4, 200 << 20, true)),
    ];
    for (const bytes of claims) assert.throws(() => walkTraceDat(bytes), { code: 'ERR_MALFORMED_INPUT' });
    // A real zstd frame of 30 RLE blocks of 128 KiB (3.75 MiB) where the chunk says 12288 bytes.
    const csize = new DataView(base.buffer, base.byteOffset).getUint32(chunk, true);
    const frame = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58]; // magic; no content size, not single segment; window 2^(10+11)
    const blocks = Math.floor((csize - frame.length) / 4);
    for (let i = 0; i < blocks; i++) {
      const header = ((i === blocks - 1 ? 1 : 0) | (1 << 1) | ((128 * 1024) << 3)) >>> 0;
      frame.push(header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff, 0x41);
    }
    const bomb = patch((v, bytes) => {
      bytes.set(frame, chunk + 8);
      v.setUint32(chunk, frame.length, true);
    });
    const start = performance.now();
    assert.throws(() => walkTraceDat(bomb), { code: 'ERR_MALFORMED_INPUT' });
    assert.ok(performance.now() - start < TIME_BOUND_MS);
  });
});
