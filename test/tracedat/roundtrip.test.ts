// Our files against trace-cmd: from the same raw pages and the same
// tracefs-like directory, trace-cmd restore builds its file and our writer
// builds ours; `trace-cmd report` must print the same text for both (and
// the golden text), with nothing on stderr. Our reader reads our files
// back to the same pages, also after `trace-cmd convert`.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UnsupportedError } from '../../src/errors.js';
import { Option } from '../../src/tracedat/constants.js';
import { ByteWriter, textOption } from '../../src/tracedat/encode.js';
import { TraceDat, TraceDatWriter, convertTraceDat, zstdCanCompress } from '../../src/tracedat/index.js';
import type { TraceDatFinishInfo, TraceDatWriterOptions } from '../../src/tracedat/writer.js';
import { PAGE, fixture, makeRestoreDir, metadataFromDirectory, pagesOf, rawPages, report, tempDir, traceCmd, traceCmdSkip } from './support.js';

const golden = fs.readFileSync(fixture('sched.report.txt'), 'utf8');
let work = '';
let restore: { dir: string; kallsyms: string };
let referenceFile = '';
let referenceClock = 'local';
let meta: Omit<TraceDatFinishInfo, 'cpuCount'>;

before(() => {
  work = tempDir('roundtrip');
  restore = makeRestoreDir();
  meta = metadataFromDirectory(restore.dir, restore.kallsyms);
  if (traceCmdSkip() !== false) return;
  // trace-cmd's own file of the same pages and directory (restore touches no tracing state).
  const head = join(work, 'head.dat');
  referenceFile = join(work, 'reference.dat');
  for (const cpu of [0, 1]) fs.copyFileSync(fixture(`sched-cpu${cpu}.raw`), join(work, `cpu${cpu}.raw`));
  let r = traceCmd(['restore', '-c', '-t', restore.dir, '-k', restore.kallsyms, '-o', head]);
  assert.equal(r.status, 0, r.stderr);
  r = traceCmd(['restore', '-i', head, '-o', referenceFile, join(work, 'cpu0.raw'), join(work, 'cpu1.raw')]);
  assert.equal(r.status, 0, r.stderr);
  using ref = TraceDat.open(referenceFile);
  referenceClock = ref.top!.clock; // restore takes it from the live system
});

after(() => {
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(join(restore.dir, '..'), { recursive: true, force: true });
});

/** Writes the fixture pages (in uneven pieces) with `options`; `extra` adds a second buffer's pages. */
function writeFile(name: string, options: Omit<TraceDatWriterOptions, 'pageSize'>, extra?: (w: TraceDatWriter) => void, more: Partial<TraceDatFinishInfo> = {}): string {
  const out = join(work, name);
  const w = TraceDatWriter.create(out, { pageSize: PAGE, buffers: [{ name: '', clock: referenceClock }], ...options });
  for (const cpu of [0, 1]) {
    const raw = rawPages(cpu);
    w.writePages('', cpu, raw.subarray(0, PAGE));
    w.writePages('', cpu, raw.subarray(PAGE));
  }
  extra?.(w);
  w.finish({
    ...meta,
    cpuCount: 2,
    cpuStats: [0, 1].map((cpu) => ({ buffer: '', cpu, text: fs.readFileSync(join(import.meta.dirname, `../fixtures/sched/tracefs/per_cpu/cpu${cpu}/stats`), 'utf8') })),
    ...more,
  });
  return out;
}

const VARIANTS: { name: string; options: Omit<TraceDatWriterOptions, 'pageSize'> }[] = [
  { name: 'v7-none', options: { version: 7, compression: 'none' } },
  { name: 'v6', options: { version: 6 } },
  { name: 'v7-zstd', options: { version: 7, compression: 'zstd' } },
];

describe('our trace.dat files', () => {
  for (const v of VARIANTS) {
    const needsZstd = v.options.compression === 'zstd' && !zstdCanCompress;
    test(`${v.name}: trace-cmd report prints what it prints for its own file, with no warnings`, (t) => {
      if (needsZstd) {
        assert.throws(() => writeFile(`${v.name}.dat`, v.options), (e: unknown) => e instanceof UnsupportedError && /Node 22.15/.test(e.message));
        assert.ok(!fs.existsSync(join(work, `${v.name}.dat`)) && !fs.existsSync(join(work, `${v.name}.dat.tmp`)));
        return t.skip(`this Node (${process.version}) cannot write zstd: checked the coded error instead`);
      }
      const ours = writeFile(`${v.name}.dat`, v.options);
      const skip = traceCmdSkip();
      if (skip) return t.skip(skip);
      const mine = report(ours);
      assert.equal(mine.stderr, '');
      assert.equal(mine.stdout, report(referenceFile).stdout);
      assert.equal(mine.stdout, golden);
      assert.equal(traceCmd(['dump', '-v', ours]).status, 0);
      // The raw view too (every field of every event).
      assert.equal(report(ours, ['-R']).stdout, report(referenceFile, ['-R']).stdout);
    });

    test(`${v.name}: our reader reads it back to the same pages and options`, (t) => {
      if (needsZstd) return t.skip('no zstd writer on this Node');
      using dat = TraceDat.open(join(work, `${v.name}.dat`));
      assert.equal(dat.version, v.options.version);
      assert.equal(dat.compression?.name ?? 'none', v.options.compression ?? 'none');
      const pages = pagesOf(dat);
      for (const cpu of [0, 1]) assert.ok(pages.get(`/${cpu}`)?.equals(rawPages(cpu)), `CPU ${cpu}`);
      assert.equal(dat.options.cpuCount, 2);
      assert.deepEqual(dat.options.cpuStats.map((s) => [s.buffer, s.cpu]), [['', 0], ['', 1]]);
      assert.match(dat.options.cpuStats[0]!.text, /^entries: 27\noverrun: 0\n/);
      assert.equal(dat.options.traceClock, fs.readFileSync(join(restore.dir, 'trace_clock'), 'utf8'));
      assert.deepEqual(Buffer.from(dat.metadata.kallsyms!), fs.readFileSync(restore.kallsyms));
      // Page alignment of every CPU's data (trace-cmd aligns; readers may mmap).
      for (const c of dat.top!.cpus) assert.equal(c.offset % PAGE, 0);
    });
  }

  test('trace-cmd convert of our file to every other variant reads back to the same pages', (t) => {
    const skip = traceCmdSkip();
    if (skip) return t.skip(skip);
    const ours = join(work, 'v7-none.dat');
    const conversions: [string, string[]][] = [
      ['conv-v6.dat', ['--file-version', '6']],
      ['conv-zstd.dat', ['--compression', 'zstd']],
    ];
    if (zstdCanCompress) conversions.push(['conv-none.dat', ['--compression', 'none']]);
    for (const [name, args] of conversions) {
      const input = name === 'conv-none.dat' ? join(work, 'v7-zstd.dat') : ours;
      const out = join(work, name);
      const r = traceCmd(['convert', ...args, '-i', input, '-o', out]);
      assert.equal(r.status, 0, r.stderr);
      using dat = TraceDat.open(out);
      const pages = pagesOf(dat);
      for (const cpu of [0, 1]) assert.ok(pages.get(`/${cpu}`)?.equals(rawPages(cpu)), `${name} CPU ${cpu}`);
      assert.equal(report(out).stdout, golden);
    }
  });

  test('convertTraceDat: trace-cmd files to our variants and back give the same report', (t) => {
    const skip = traceCmdSkip();
    for (const source of ['sched-v7-zstd.dat', 'sched-v6.dat']) {
      using input = TraceDat.open(fixture(source));
      for (const target of [{ version: 7 as const }, { version: 6 as const }, ...(zstdCanCompress ? [{ version: 7 as const, compression: 'zstd' as const }] : [])]) {
        const out = join(work, `convert-${source}-${target.version}-${target.compression ?? 'none'}.dat`);
        convertTraceDat(input, out, target);
        using back = TraceDat.open(out);
        const pages = pagesOf(back);
        for (const cpu of [0, 1]) assert.ok(pages.get(`/${cpu}`)?.equals(rawPages(cpu)));
        if (!skip) assert.equal(report(out).stdout, golden);
      }
    }
    if (skip) t.skip(`${skip} (the pages were checked)`);
  });

  for (const version of [7, 6] as const) {
    test(`v${version} with two buffers: trace-cmd report shows both, our reader reads both`, (t) => {
      const name = `two-v${version}.dat`;
      // The instance gets CPU 0's pages only, so its lines can be told apart.
      const out = writeFile(name, { version, buffers: [{ name: '', clock: referenceClock }, { name: 'inst', clock: referenceClock }] }, (w) => w.writePages('inst', 0, rawPages(0)));
      using dat = TraceDat.open(out);
      assert.deepEqual(dat.buffers.map((b) => b.name), ['', 'inst']);
      const pages = pagesOf(dat);
      assert.ok(pages.get('/0')!.equals(rawPages(0)) && pages.get('/1')!.equals(rawPages(1)) && pages.get('inst/0')!.equals(rawPages(0)));
      assert.equal(pages.get('inst/1'), undefined);
      const skip = traceCmdSkip();
      if (skip) return t.skip(skip);
      const r = report(out);
      assert.equal(r.stderr, '');
      const lines = r.stdout.trimEnd().split('\n');
      const instLines = lines.filter((l) => l.startsWith('inst:')).map((l) => l.slice('inst:'.length).trim());
      const topLines = lines.slice(1).filter((l) => !l.startsWith('inst:')).map((l) => l.trim());
      const expected = golden.trimEnd().split('\n').slice(1).map((l) => l.trim());
      assert.deepEqual(topLines, expected);
      assert.deepEqual(instLines, expected.filter((l) => /\[000\]/.test(l)));
    });
  }

  test('OFFSET, DATE, TSC2NSEC and TRACEID options: trace-cmd reads them, our reader too, convertTraceDat carries them', (t) => {
    const extraOptions = [
      { id: Option.OFFSET, data: textOption('1000000000') },
      { id: Option.TRACEID, data: new ByteWriter(true).u64(0x1234567890abcdefn).finish() },
    ];
    const out = writeFile('offset.dat', { version: 7 }, undefined, { extraOptions });
    const converted = join(work, 'offset-v6.dat');
    {
      using dat = TraceDat.open(out);
      assert.equal(dat.options.offset, '1000000000');
      assert.equal(dat.options.traceId, 0x1234567890abcdefn);
      convertTraceDat(dat, converted, { version: 6 });
    }
    using back = TraceDat.open(converted);
    assert.equal(back.options.offset, '1000000000');
    assert.equal(back.options.traceId, 0x1234567890abcdefn);
    const skip = traceCmdSkip();
    if (skip) return t.skip(skip);
    // trace-cmd adds OFFSET (ns) to every timestamp: 400.000000 becomes 401.000000.
    const shifted = golden.replace(/ (\d+)\.(\d{6}):/g, (_, s: string, us: string) => ` ${Number(s) + 1}.${us}:`);
    for (const file of [out, converted]) assert.equal(report(file).stdout, shifted);
  });
});
