// Decoder fixes found by the live differential test
// (test/kernel/differential.test.ts), pinned down without a kernel:
// syscall events, kallsyms ranges without CONFIG_KALLSYMS_ALL, kernel
// constants (BTF enums and struct sizes, jiffies, HZ) and their file.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseBtfEnums } from '../../src/decode/btf-enums.js';
import { parseFormatFile } from '../../src/decode/format-file.js';
import { SymbolTable } from '../../src/decode/kallsyms.js';
import {
  CONSTANTS_FILE,
  constantsUsedBy,
  formatKernelConstants,
  parseKernelConstants,
} from '../../src/decode/kernel-constants.js';
import { EventRegistry } from '../../src/decode/registry.js';
import { EventRenderer } from '../../src/decode/renderer.js';
import { MalformedInputError } from '../../src/errors.js';
import { RecordBatch } from '../../src/layout/record.js';
import { type DecodeContext, loadDecodeContext } from '../../src/output/decode-context.js';
import { KernelText } from '../../src/output/kernel-text.js';
import { TimelineRenderer } from '../../src/output/report.js';
import { TaskNames } from '../../src/output/task-names.js';
import { Payload, formatText } from './support.js';

const scratchDirs: string[] = [];
after(() => {
  for (const dir of scratchDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A registry over a temporary directory of format files (removed after the tests). */
function registryOf(files: Record<string, string>, extra: Record<string, string> = {}): { registry: EventRegistry; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracering-decode-'));
  scratchDirs.push(dir);
  for (const [rel, text] of Object.entries({ ...files, ...extra })) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return { registry: EventRegistry.fromDirectory(dir), dir };
}

const ENTER_OPENAT = formatText(
  [
    'int __syscall_nr;8;4;1',
    'int dfd;16;8;0',
    'const char * filename;24;8;0',
    'int flags;32;8;0',
    'umode_t mode;40;8;0',
  ],
  '"dfd: 0x%08lx, filename: 0x%08lx, flags: 0x%08lx, mode: 0x%08lx", ((unsigned long)(REC->dfd)), ((unsigned long)(REC->filename)), ((unsigned long)(REC->flags)), ((unsigned long)(REC->mode))',
  'sys_enter_openat',
  700,
);
const EXIT_OPENAT = formatText(['int __syscall_nr;8;4;1', 'long ret;16;8;1'], '"0x%lx", REC->ret', 'sys_exit_openat', 701);
const ENTER_GETPID = formatText(['int __syscall_nr;8;4;1'], '""', 'sys_enter_getpid', 702);

describe('syscall events (print_syscall_enter / print_syscall_exit)', () => {
  const { registry } = registryOf({
    'events/syscalls/sys_enter_openat/format': ENTER_OPENAT,
    'events/syscalls/sys_exit_openat/format': EXIT_OPENAT,
    'events/syscalls/sys_enter_getpid/format': ENTER_GETPID,
  });
  const renderer = new EventRenderer(registry);
  const text = (r: EventRenderer, p: Payload) => r.text(p.view, p.bytes, 0, p.bytes.length);

  it('enter: name(arg: value, ...), values below 10 in decimal, others 0x%lx of the raw word', () => {
    const p = new Payload(48, 700).i32(8, 257).u64(16, 0xffffff9cn).u64(24, 0x7ffd12345678n).u64(32, 9n).u64(40, 10n);
    assert.equal(text(renderer, p), 'sys_openat(dfd: 0xffffff9c, filename: 0x7ffd12345678, flags: 9, mode: 0xa)');
    assert.equal(renderer.endsLine, true);
    assert.equal(renderer.body(p.view, p.bytes, 0, 48), 'sys_openat(dfd: 0xffffff9c, filename: 0x7ffd12345678, flags: 9, mode: 0xa)');
    assert.equal(text(renderer, new Payload(16, 702).i32(8, 39)), 'sys_getpid()');
  });

  it('exit: name -> 0x%lx of the long return value', () => {
    assert.equal(text(renderer, new Payload(24, 701).u64(16, 3n)), 'sys_openat -> 0x3');
    assert.equal(text(renderer, new Payload(24, 701).u64(16, -2n)), 'sys_openat -> 0xfffffffffffffffe');
  });

  it('verbose option: the C type before each argument', () => {
    const verbose = new EventRenderer(registry, { verbose: true });
    const p = new Payload(48, 700).u64(16, 1n).u64(24, 0x10n).u64(32, 0n).u64(40, 0n);
    assert.equal(text(verbose, p), 'sys_openat(int dfd: 1, const char * filename: 0x10, int flags: 0, umode_t mode: 0)');
  });

  it('an event of another system with the same shape keeps its print fmt', () => {
    const f = parseFormatFile(EXIT_OPENAT.replace('sys_exit_openat', 'other'), { system: 'test' });
    const { registry: r } = registryOf({ 'events/test/other/format': formatText(['int __syscall_nr;8;4;1', 'long ret;16;8;1'], '"0x%lx", REC->ret', 'other', 703) });
    assert.equal(f.name, 'other');
    const out = new EventRenderer(r);
    assert.equal(text(out, new Payload(24, 703).u64(16, 3n)), 'other: 0x3');
  });
});

describe('kallsyms without CONFIG_KALLSYMS_ALL', () => {
  const lines = [
    'ffffffff81000000 T _stext',
    'ffffffff81000100 T f',
    'ffffffff81000200 T _etext',
    'ffffffff82400000 D __start_rodata',
    'ffffffff82500000 D __start_ro_after_init',
    'ffffffff83000000 T _sinittext',
    'ffffffff83000040 t init_fn',
    'ffffffff83000080 T _einittext',
  ];

  it('resolves core addresses only in [_stext, _etext) and [_sinittext, _einittext)', () => {
    const t = SymbolTable.parse(lines.join('\n'));
    assert.deepEqual(t.lookup(0xffffffff81000110n), { name: 'f', module: '', offset: 0x10, size: 0x100 });
    assert.deepEqual(t.lookup(0xffffffff83000050n), { name: 'init_fn', module: '', offset: 0x10, size: 0x40 });
    // A pointer into rodata (an ops table): the kernel prints it as hex.
    assert.equal(t.lookup(0xffffffff8245a760n), null);
    assert.equal(t.nameOf(0xffffffff, 0x8245a760), null);
  });

  it('with static data symbols listed (KALLSYMS_ALL), data addresses resolve', () => {
    const t = SymbolTable.parse([...lines, 'ffffffff8245a700 d ext4_iomap_ops'].join('\n'));
    assert.deepEqual(t.lookup(0xffffffff8245a760n)?.name, 'ext4_iomap_ops');
  });
});

describe('kernel constants', () => {
  it('round-trips values and struct sizes through the kernel_constants file', () => {
    const k = {
      values: new Map([
        ['HZ', 250n],
        ['jiffies', 4295760082n],
        ['NEG', -5n],
      ]),
      typeSizes: new Map([['struct page', 64]]),
    };
    assert.deepEqual(parseKernelConstants(formatKernelConstants(k)), k);
    assert.throws(() => parseKernelConstants('bad-name 1\n'), MalformedInputError);
    assert.throws(() => parseKernelConstants('X 99999999999999999999\n'), MalformedInputError);
  });

  it('keeps what the format texts name, and HZ', () => {
    const all = {
      values: new Map([
        ['HZ', 100n],
        ['I_DIRTY_SYNC', 1n],
        ['UNUSED', 2n],
        ['jiffies', 7n],
      ]),
      typeSizes: new Map([
        ['struct page', 64],
        ['struct other', 8],
      ]),
    };
    const used = constantsUsedBy(['{I_DIRTY_SYNC, "I_DIRTY_SYNC"}, (jiffies - x) / 100', '((struct page *)vmemmap_base) + pfn'], all);
    assert.deepEqual(used, { values: new Map([['HZ', 100n], ['I_DIRTY_SYNC', 1n], ['jiffies', 7n]]), typeSizes: new Map([['struct page', 64]]) });
  });

  it('reads struct and union sizes from BTF', () => {
    const strings = Buffer.from('\0page\0u\0', 'latin1');
    const words = [
      // STRUCT "page", vlen 0, size 64
      0x1, 4 << 24, 64,
      // UNION "u", vlen 0, size 8
      0x6, 5 << 24, 8,
    ];
    const types = Buffer.alloc(words.length * 4);
    words.forEach((v, i) => types.writeUInt32LE(v >>> 0, i * 4));
    const hdr = Buffer.alloc(24);
    hdr.writeUInt16LE(0xeb9f, 0);
    hdr.writeUInt8(1, 2);
    hdr.writeUInt32LE(24, 4);
    hdr.writeUInt32LE(0, 8);
    hdr.writeUInt32LE(types.length, 12);
    hdr.writeUInt32LE(types.length, 16);
    hdr.writeUInt32LE(strings.length, 20);
    const sizes = new Map<string, number>();
    parseBtfEnums(new Uint8Array(Buffer.concat([hdr, types, strings])), new Map(), new Set(), undefined, sizes);
    assert.deepEqual(Object.fromEntries(sizes), { 'struct page': 64, 'union u': 8 });
  });

  it('a recording decodes with its kernel_constants: enums, kernel variables, struct sizes, HZ', () => {
    const fmt = formatText(
      ['unsigned long pfn;8;8;0', 'int mode;16;4;1', 'unsigned int wait;20;4;0'],
      '"page=%p mode=%s wait=%u", (((struct page *)vmemmap_base) + (REC->pfn)), __print_symbolic(REC->mode, { HRTIMER_MODE_ABS, "ABS" }, { HRTIMER_MODE_REL, "REL" }), jiffies_to_msecs(REC->wait)',
      'ev',
      710,
    );
    const constants = formatKernelConstants({
      values: new Map([
        ['HRTIMER_MODE_ABS', 0n],
        ['HRTIMER_MODE_REL', 1n],
        ['vmemmap_base', 0xffffea0000000000n],
        ['HZ', 250n],
      ]),
      typeSizes: new Map([['struct page', 64]]),
    });
    const { dir } = registryOf(
      { 'events/test/ev/format': fmt },
      { [CONSTANTS_FILE]: constants },
    );
    const ctx = loadDecodeContext({ root: dir, kallsyms: null });
    const p = new Payload(24, 710).u64(8, 0x137fd9n).i32(16, 1).u32(20, 3);
    assert.equal(ctx.renderer.text(p.view, p.bytes, 0, 24), 'ev: page=ffffea0004dff640 mode=REL wait=12');
    const none = loadDecodeContext({ root: dir, kallsyms: null, constants: null });
    assert.match(none.renderer.text(p.view, p.bytes, 0, 24), /FAILED TO PARSE/);
  });
});

describe('trace text options (trace_default_header, print_trace_fmt)', () => {
  const { registry } = registryOf({ 'events/syscalls/sys_exit_openat/format': EXIT_OPENAT });
  const renderer = new EventRenderer(registry);
  const figures = { entriesInBuffer: 1, entriesWritten: 1, cpus: 2 };
  const p = new Payload(24, 701).i32(4, 42).u64(16, 3n);
  const batch = new RecordBatch(1);
  batch.reset(p.bytes, p.view, 1, 0);
  batch.count = 1;
  batch.records.set([0, 24, 0, 1_500_000_000]); // offset, length, timestamp hi, lo
  const tasks = new TaskNames(new Map([[42, 'sh']]));

  it('verbose on: no column header', () => {
    const text = new KernelText(renderer, { clock: 'local', tasks, verbose: true });
    assert.equal(text.header(figures), '# tracer: nop\n#\n');
    assert.equal(text.line(batch, 0), '              sh-42      [001] .....     1.500000: sys_openat -> 0x3\n');
  });

  it('context-info off: no column header, lines without the task/cpu/time prefix', () => {
    const text = new KernelText(renderer, { clock: 'local', tasks, contextInfo: false });
    assert.equal(text.header(figures), '# tracer: nop\n#\n');
    assert.equal(text.line(batch, 0), 'sys_openat -> 0x3\n');
  });
});

describe('TimelineRenderer as the trace file after overruns', () => {
  it('"##### CPU N buffer started ####" before each CPU\'s first event but the very first, no loss markers', () => {
    const { registry } = registryOf({ 'events/syscalls/sys_exit_openat/format': EXIT_OPENAT });
    const tasks = new TaskNames(new Map([[42, 'sh']]));
    const text = new KernelText(new EventRenderer(registry), { clock: 'counter', tasks });
    const ctx = { text, registry } as unknown as DecodeContext;
    /** One CPU's events at the given counter values, reported after a loss. */
    const source = (cpu: number, stamps: number[]) => {
      const p = new Payload(24 * stamps.length);
      const batch = new RecordBatch(stamps.length);
      batch.reset(p.bytes, p.view, cpu, 0);
      stamps.forEach((ts, i) => {
        p.u16(24 * i, 701).i32(24 * i + 4, 42).u64(24 * i + 16, BigInt(ts));
        batch.records.set([24 * i, 24, 0, ts], i * 4); // offset, length, timestamp hi, lo
      });
      batch.count = stamps.length;
      batch.lostBefore = 5;
      let done = false;
      return { cpu, caughtUp: false, next: () => (done ? null : ((done = true), batch)) };
    };
    let out = '';
    const r = new TimelineRenderer([source(0, [2, 4]), source(1, [1, 3])], ctx, {
      format: 'text',
      write: (s) => (out += s),
      lostMarkers: false,
      annotateCpuStart: true,
    });
    r.run();
    const line = (cpu: number, ts: number) => `              sh-42      [00${cpu}] ..... ${String(ts).padStart(12)}: sys_openat -> 0x${ts.toString(16)}\n`;
    assert.equal(out, line(1, 1) + '##### CPU 0 buffer started ####\n' + line(0, 2) + line(1, 3) + line(0, 4));
  });
});
