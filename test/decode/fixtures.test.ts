// Offline ground truth: raw pages captured from a 6.18 kernel, decoded and
// rendered, must equal the kernel's own text of the same events
// (test/fixtures/README.md, test/fixtures/pages/README.md).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PrintkFormats } from '../../src/decode/printk-formats.js';
import { EventRegistry } from '../../src/decode/registry.js';
import { EventRenderer } from '../../src/decode/renderer.js';
import { FIXTURES, fixtureSymbols, readPages, traceEntries } from './support.js';

function compare(renderer: EventRenderer, pagesFile: string, expectedText: string, subbufSize = 4096): { count: number; mismatches: string[] } {
  const pages = readPages(pagesFile, subbufSize);
  const got = pages.offsets.map((o, i) => {
    const text = renderer.text(pages.view, pages.bytes, o, pages.lengths[i]!);
    assert.equal(renderer.status, 'ok', `record ${i}: ${text}`);
    return text;
  });
  const expected = traceEntries(expectedText);
  const mismatches: string[] = [];
  for (let i = 0; i < Math.max(got.length, expected.length); i++) {
    if (got[i] !== expected[i]) mismatches.push(`#${i}\n  got:      ${JSON.stringify(got[i])}\n  expected: ${JSON.stringify(expected[i])}`);
  }
  assert.equal(got.length, expected.length, `record count of ${path.basename(pagesFile)}`);
  return { count: got.length, mismatches };
}

for (const capture of ['sched', 'markers']) {
  describe(`${capture} capture`, () => {
    const root = path.join(FIXTURES, capture, 'tracefs');
    const registry = EventRegistry.fromDirectory(root);
    const renderer = new EventRenderer(registry, {
      symbols: fixtureSymbols(),
      printkFormats: PrintkFormats.parse(fs.readFileSync(path.join(root, 'printk_formats'), 'utf8')),
    });

    it('loads the formats and header files', () => {
      assert.equal(registry.failures.length, 0);
      assert.equal(registry.headerPage?.subbufSize, 4096);
      assert.equal(registry.longSize, 8);
      assert.ok(registry.find('ftrace', 'print'));
    });

    for (const cpu of [0, 1]) {
      it(`cpu${cpu}: every body equals the kernel's text`, () => {
        const { count, mismatches } = compare(
          renderer,
          path.join(root, 'per_cpu', `cpu${cpu}`, 'trace_pipe_raw'),
          fs.readFileSync(path.join(FIXTURES, capture, 'expected', 'per_cpu', `cpu${cpu}`, 'trace'), 'utf8'),
        );
        assert.deepEqual(mismatches, []);
        // sched: 27 + 472 events; markers: 0 + 7.
        const expectedCount = { sched: [27, 472], markers: [0, 7] }[capture as 'sched' | 'markers'][cpu];
        assert.equal(count, expectedCount);
      });
    }

    it('body() strips "<event>: " from trace events only', () => {
      const pages = readPages(path.join(root, 'per_cpu', 'cpu1', 'trace_pipe_raw'));
      const i = 0;
      const text = renderer.text(pages.view, pages.bytes, pages.offsets[i]!, pages.lengths[i]!);
      const body = renderer.body(pages.view, pages.bytes, pages.offsets[i]!, pages.lengths[i]!);
      if (capture === 'sched') assert.equal(text, `${text.split(': ')[0]}: ${body}`);
      else assert.equal(text, body); // ftrace print: the kernel prints no event name
    });
  });
}

describe('pages captures', () => {
  // The page captures carry ids but no format files. Their README lists
  // print=5, raw_data=19, sched_process_exec=365, sched_process_fork=366,
  // sched_process_exit=369, sched_switch=372, sched_wakeup=374: the same ids
  // as the sched capture's formats (same kernel), checked below. A record
  // with any other id is not decodable here and is reported as such.
  const registry = EventRegistry.fromDirectory(path.join(FIXTURES, 'sched', 'tracefs'));
  const renderer = new EventRenderer(registry, { symbols: fixtureSymbols() });
  const pagesDir = path.join(FIXTURES, 'pages');

  it('the listed ids match the sched capture formats', () => {
    const listed: [number, string, string][] = [
      [5, 'ftrace', 'print'], [19, 'ftrace', 'raw_data'], [365, 'sched', 'sched_process_exec'], [366, 'sched', 'sched_process_fork'],
      [369, 'sched', 'sched_process_exit'], [372, 'sched', 'sched_switch'], [374, 'sched', 'sched_wakeup'],
    ];
    for (const [id, system, name] of listed) {
      const f = registry.get(id);
      assert.ok(f, `id ${id}`);
      assert.deepEqual([f.system, f.name], [system, name]);
    }
  });

  for (const [bin, txt] of [['cpu0_read.bin', 'cpu0_decoded.txt'], ['cpu1_read.bin', 'cpu1_decoded.txt'], ['mmap_cpu1.bin', 'mmap_cpu1_decoded.txt']] as const) {
    it(`${bin} equals ${txt}`, () => {
      const { count, mismatches } = compare(renderer, path.join(pagesDir, bin), fs.readFileSync(path.join(pagesDir, txt), 'utf8'));
      assert.deepEqual(mismatches, []);
      assert.equal(count, { 'cpu0_read.bin': 10, 'cpu1_read.bin': 35, 'mmap_cpu1.bin': 1096 }[bin]);
    });
  }

  it('mmap_cpu1_trace_ref.txt (the kernel text) agrees too', () => {
    const { mismatches } = compare(renderer, path.join(pagesDir, 'mmap_cpu1.bin'), fs.readFileSync(path.join(pagesDir, 'mmap_cpu1_trace_ref.txt'), 'utf8'));
    assert.deepEqual(mismatches, []);
  });

  it('renders the other page captures (print events, 8 KiB sub-buffer, large and multi-line records)', () => {
    const text = (bin: string, size = 4096) => {
      const p = readPages(path.join(pagesDir, bin), size);
      return p.offsets.map((o, i) => renderer.text(p.view, p.bytes, o, p.lengths[i]!));
    };
    assert.deepEqual(text('marker3.0.bin'), ['tracing_mark_write: hello1', 'tracing_mark_write: hello-two', 'tracing_mark_write: 3']);
    assert.deepEqual(text('multiline_marker.bin'), ['tracing_mark_write: two\nlines']);
    assert.deepEqual(text('subbuf8k.0.bin', 8192), ['tracing_mark_write: eight-k-1', 'tracing_mark_write: eight-k-2']);
    const big = text('big_event.bin');
    assert.equal(big.length, 2);
    assert.match(big[1]!, /^tracing_mark_write: B{150}$/);
    // counter clock capture: bodies of its print events.
    const counter = text('counter_clock.bin');
    const expected = traceEntries(fs.readFileSync(path.join(pagesDir, 'counter_clock_trace.txt'), 'utf8').replace(/^( +\S+-\d+ +\[\d{3}\] \S{5}) +(\d+): /gm, '$1 0.000000: '));
    assert.equal(counter.length, 2);
    assert.deepEqual(counter, expected);
  });
});
