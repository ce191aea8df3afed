// The sub-buffer size of a recording when events/header_page,
// buffer_subbuf_size_kb and tracering.json disagree (src/recording/
// geometry.ts), on recordings of full 16 KiB (and 4 KiB) sub-buffers
// written with the kernel's record encoding (src/layout/encode.ts) and the
// markers capture's formats; and the live reader's size
// (read-cpu-reader.ts arraySubbufSize) on a real instance.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { reportRecording } from '../../src/cli/commands/report.js';
import type { TraceringWarning } from '../../src/errors.js';
import { arraySubbufSize } from '../../src/kernel/read-cpu-reader.js';
import { TraceArray } from '../../src/kernel/trace-array.js';
import { recordLength, writeDataHeader, writeSubbufHeader } from '../../src/layout/encode.js';
import { hostSubbufLayout } from '../../src/layout/subbuf.js';
import { Recording } from '../../src/recording/recording.js';
import { FIXTURES } from '../decode/support.js';
import { kernelOrSkip, testInstance } from '../helpers/kernel.js';

const MARKERS = path.join(FIXTURES, 'markers', 'tracefs');
const PRINT_ID = 5;
const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Messages of `pages` sub-buffers of `size` bytes, each filled with print events. */
function pagesOf(size: number, pages: number, cpu: number): { bytes: Uint8Array; messages: string[] } {
  const layout = hostSubbufLayout(size);
  const bytes = new Uint8Array(size * pages);
  const view = new DataView(bytes.buffer);
  const messages: string[] = [];
  let ts = 1_000_000_000 + cpu * 7;
  for (let p = 0; p < pages; p++) {
    const start = p * size;
    let pos = 0;
    const room = size - layout.dataOffset;
    for (let e = 0; ; e++) {
      const text = `cpu ${cpu} page ${p} event ${e} ${'x'.repeat(e % 40)}\n`;
      const payload = 16 + Buffer.byteLength(text) + 1;
      const length = recordLength(payload);
      if (pos + length > room) break;
      const at = writeDataHeader(view, start + layout.dataOffset + pos, length, pos === 0 ? 0 : 1000, true);
      view.setUint16(at, PRINT_ID, true);
      view.setInt32(at + 4, 4242, true);
      view.setBigUint64(at + 8, 0xffffffff8149895an, true);
      bytes.set(Buffer.from(text), at + 16);
      messages.push(text.slice(0, -1));
      pos += length;
    }
    writeSubbufHeader(view, start, layout, 0, ts, pos);
    ts += 1_000_000;
  }
  return { bytes, messages };
}

/** The markers capture's formats with `pages` sub-buffers of `size` bytes per CPU, stated sizes as given. */
function recordingOf(size: number, stated: { headerPage: number; kb?: number; meta?: number }): { dir: string; messages: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracering-geom-'));
  dirs.push(dir);
  fs.cpSync(path.join(MARKERS, 'events'), path.join(dir, 'events'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'events/header_page'),
    fs.readFileSync(path.join(MARKERS, 'events/header_page'), 'utf8').replace(/size:4080;/, `size:${stated.headerPage - 16};`),
  );
  if (stated.kb !== undefined) fs.writeFileSync(path.join(dir, 'buffer_subbuf_size_kb'), `${stated.kb / 1024}\n`);
  if (stated.meta !== undefined) fs.writeFileSync(path.join(dir, 'tracering.json'), JSON.stringify({ format: 'tracering-snapshot', littleEndian: true, subbufSize: stated.meta }));
  const messages: string[] = [];
  for (const cpu of [0, 1]) {
    const { bytes, messages: m } = pagesOf(size, 3, cpu);
    fs.mkdirSync(path.join(dir, `per_cpu/cpu${cpu}`), { recursive: true });
    fs.writeFileSync(path.join(dir, `per_cpu/cpu${cpu}/trace_pipe_raw`), bytes);
    messages.push(...m);
  }
  return { dir, messages };
}

async function render(dir: string): Promise<{ messages: string[]; warnings: TraceringWarning[] }> {
  const chunks: Buffer[] = [];
  const warnings: TraceringWarning[] = [];
  await reportRecording(dir, { kallsyms: null, output: (b) => chunks.push(Buffer.from(b)), onWarning: (w) => warnings.push(w) });
  const messages = Buffer.concat(chunks)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.includes('0xffffffff8149895a: '))
    .map((l) => l.replace(/^.*0xffffffff8149895a: /, ''));
  return { messages, warnings };
}

const sorted = (a: readonly string[]) => [...a].sort();

describe('recordings: the sub-buffer size the files state, checked on the data', () => {
  it('16 KiB data, every file says 16 KiB: read as is, no warning', async () => {
    const { dir, messages } = recordingOf(16384, { headerPage: 16384, kb: 16384, meta: 16384 });
    assert.ok(messages.length > 3 * 2 * 200);
    const r = await render(dir);
    assert.deepEqual(sorted(r.messages), sorted(messages));
    assert.deepEqual(r.warnings, []);
  });

  it('16 KiB data, header_page from a 4 KiB buffer, buffer_subbuf_size_kb 16: 16 KiB wins, and the disagreement is reported', async () => {
    const { dir, messages } = recordingOf(16384, { headerPage: 4096, kb: 16384 });
    assert.equal(Recording.open(dir, { onWarning: () => {} }).layout.subbufSize, 16384);
    const r = await render(dir);
    assert.deepEqual(sorted(r.messages), sorted(messages));
    const w = r.warnings.filter((x) => x.code === 'TRACERING_GEOMETRY');
    assert.equal(w.length, 1, JSON.stringify(r.warnings));
    assert.match(w[0]!.message, /events\/header_page says 4096, buffer_subbuf_size_kb says 16384.*using 16384/);
    assert.equal(r.warnings.length, 1, JSON.stringify(r.warnings));
  });

  it('4 KiB data, header_page says 16 KiB, tracering.json 4 KiB: 4 KiB wins (16 KiB would drop three pages in four)', async () => {
    const { dir, messages } = recordingOf(4096, { headerPage: 16384, meta: 4096 });
    const r = await render(dir);
    assert.deepEqual(sorted(r.messages), sorted(messages));
    assert.match(r.warnings.find((x) => x.code === 'TRACERING_GEOMETRY')?.message ?? '', /using 4096/);
  });

  it('16 KiB data, nothing but a 4 KiB header_page: the data decides (16 KiB), with a warning', async () => {
    const { dir, messages } = recordingOf(16384, { headerPage: 4096 });
    const r = await render(dir);
    assert.deepEqual(sorted(r.messages), sorted(messages));
    const w = r.warnings.filter((x) => x.code === 'TRACERING_GEOMETRY');
    assert.equal(w.length, 1, JSON.stringify(r.warnings));
    assert.match(w[0]!.message, /reads as 16384-byte sub-buffers/);
  });

  it('16 KiB data, header_page 4 KiB, buffer_subbuf_size_kb 8 KiB: neither reads, 16 KiB does and is used', async () => {
    const { dir, messages } = recordingOf(16384, { headerPage: 4096, kb: 8192 });
    const r = await render(dir);
    assert.deepEqual(sorted(r.messages), sorted(messages));
    assert.match(r.warnings.find((x) => x.code === 'TRACERING_GEOMETRY')?.message ?? '', /reads as 16384-byte sub-buffers/);
  });

  it('sizes that disagree on data no size reads cleanly (random bytes): ERR_MALFORMED_INPUT', async () => {
    const { dir } = recordingOf(16384, { headerPage: 4096, kb: 8192 });
    let x = 99;
    for (const cpu of [0, 1]) {
      const junk = Uint8Array.from({ length: 65536 }, () => ((x = (x * 1103515245 + 12345) >>> 0), x >>> 24));
      fs.writeFileSync(path.join(dir, `per_cpu/cpu${cpu}/trace_pipe_raw`), junk);
    }
    assert.throws(
      () => Recording.open(dir, { onWarning: () => {} }),
      (e: unknown) => (e as { code?: string }).code === 'ERR_MALFORMED_INPUT' && /inconsistent \(events\/header_page says 4096, buffer_subbuf_size_kb says 8192\)/.test((e as Error).message),
    );
  });
});

describe('live readers: the sub-buffer size of a trace array', () => {
  it('buffer_subbuf_size_kb and header_page agree on a real 16 KiB instance', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    inst.setSubbufSizeKb(16);
    const warnings: TraceringWarning[] = [];
    assert.equal(arraySubbufSize(inst, (w) => warnings.push(w)), 16384);
    assert.match(inst.readText('events/header_page'), /size:16368;/);
    assert.deepEqual(warnings, []);
  });

  it('when they disagree, the larger is read (a smaller one would split sub-buffers) and it is reported', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracering-array-'));
    dirs.push(dir);
    fs.mkdirSync(path.join(dir, 'events'));
    fs.copyFileSync(path.join(MARKERS, 'events/header_page'), path.join(dir, 'events/header_page'));
    fs.writeFileSync(path.join(dir, 'buffer_subbuf_size_kb'), '16\n');
    const warnings: TraceringWarning[] = [];
    assert.equal(arraySubbufSize(new TraceArray(dir, 'fake'), (w) => warnings.push(w)), 16384);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.code, 'TRACERING_GEOMETRY');
    fs.writeFileSync(path.join(dir, 'buffer_subbuf_size_kb'), '4\n');
    assert.equal(arraySubbufSize(new TraceArray(dir, 'fake'), (w) => warnings.push(w)), 4096);
    assert.equal(warnings.length, 1);
  });
});
