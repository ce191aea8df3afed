// Internal ftrace events (kernel-abi.md §7.4), kallsyms, printk_formats
// and BTF enums.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { loadBtfEnums, parseBtfEnums } from '../../src/decode/btf-enums.js';
import { SymbolTable } from '../../src/decode/kallsyms.js';
import { PrintkFormats } from '../../src/decode/printk-formats.js';
import { EventRegistry } from '../../src/decode/registry.js';
import { EventRenderer } from '../../src/decode/renderer.js';
import { MalformedInputError } from '../../src/errors.js';
import { FIXTURES, Payload, fixtureSymbols } from './support.js';

const registry = EventRegistry.fromDirectory(path.join(FIXTURES, 'markers', 'tracefs'));
const symbols = fixtureSymbols();
const kallsymsText = gunzipSync(fs.readFileSync(path.join(FIXTURES, 'kallsyms.gz'))).toString('latin1');
const addressOf = (name: string): bigint => {
  const m = new RegExp(`^([0-9a-f]{16}) [tT] ${name}$`, 'm').exec(kallsymsText);
  if (m === null) throw new Error(`no symbol ${name}`);
  return BigInt(`0x${m[1]}`);
};

const MARK = addressOf('tracing_mark_write');
const VFS_WRITE = addressOf('vfs_write');
const FMT_ADDR = 0xffffffff90000000n;
const STR_ADDR = 0xffffffff90000100n;
const printk = PrintkFormats.parse(
  [
    `0x${FMT_ADDR.toString(16)} : "val=%d s=%s big=%llx c=%c w=%*d h=%hx p=%ps ip=%pI4 pct=%%\\n"`,
    `0x${STR_ADDR.toString(16)} : "a \\"quoted\\" string\\twith tab\\n"`,
  ].join('\n'),
);
const renderer = new EventRenderer(registry, { symbols, printkFormats: printk });
const text = (p: Payload, len = p.bytes.length) => renderer.text(p.view, p.bytes, 0, len);

describe('internal ftrace events', () => {
  it('print: <sym(ip)>: <buf>', () => {
    const p = new Payload(32, 5).u64(8, MARK + 0x8an).str(16, 'hello\n\0');
    assert.equal(text(p), 'tracing_mark_write: hello');
    assert.equal(renderer.body(p.view, p.bytes, 0, 32), 'tracing_mark_write: hello');
    assert.equal(text(new Payload(32, 5).u64(8, 0x1234n).str(16, 'x\n')), '0x00001234: x');
    assert.equal(text(new Payload(32, 5).u64(8, 0n).str(16, 'x\n')), '0: x');
    assert.equal(text(new Payload(32, 5).u64(8, MARK).str(16, 'no newline')), 'tracing_mark_write: no newline');
  });

  it('bputs: the string comes from printk_formats', () => {
    const p = new Payload(24, 15).u64(8, MARK).u64(16, STR_ADDR);
    assert.equal(text(p), 'tracing_mark_write: a "quoted" string\twith tab');
    const q = new Payload(24, 15).u64(8, MARK).u64(16, 0xffffffff90000200n);
    assert.equal(text(q), 'tracing_mark_write: [unknown string 0xffffffff90000200]');
  });

  it('bprint: arguments packed by vbin_printf', () => {
    const p = new Payload(96, 6).u64(8, MARK).u64(16, FMT_ADDR);
    const buf = 24;
    p.i32(buf + 0, 42); // %d
    p.str(buf + 4, 'str\0'); // %s inline, unaligned
    p.u32(buf + 8, 0x55667788).u32(buf + 12, 0x11223344); // %llx: two u32, low first, 4-aligned
    p.u8(buf + 16, 0x5a); // %c: one byte
    p.i32(buf + 20, 5).i32(buf + 24, 7); // %*d: width then value, each an int
    p.u16(buf + 28, 0xbeef); // %hx: a short
    p.u64(buf + 32, VFS_WRITE); // %ps: the pointer value
    p.str(buf + 40, '1.2.3.4\0'); // %pI4: rendered at record time
    assert.equal(text(p), 'tracing_mark_write: val=42 s=str big=1122334455667788 c=Z w=    7 h=beef p=vfs_write ip=1.2.3.4 pct=%');
    const unknown = new Payload(32, 6).u64(8, MARK).u64(16, 0x42n);
    assert.equal(text(unknown), 'tracing_mark_write: [unknown format 0x42]');
    // Arguments missing from a short buffer read as 0 / empty, without throwing.
    assert.equal(text(p, 24 + 4), 'tracing_mark_write: val=42 s= big=0 c=\0 w=0 h=0 p=0x0 ip= pct=%');
  });

  it('raw_data: every payload byte after the id, slack included', () => {
    const p = new Payload(20, 19).u32(8, 0x2a).bytesAt(12, [0x70, 0x61, 0, 0, 0, 0, 0, 0]);
    assert.equal(text(p), '# 2a buf: 70 61 00 00 00 00 00 00');
    assert.equal(text(new Payload(12, 19).u32(8, 1)), '# 1 buf:');
  });

  it('function: <sym(ip)> <-<sym(parent_ip)>', () => {
    const p = new Payload(24, 1).u64(8, MARK + 4n).u64(16, VFS_WRITE + 0x20n);
    assert.equal(text(p), 'tracing_mark_write <-vfs_write');
    assert.equal(text(new Payload(24, 1).u64(8, MARK)), 'tracing_mark_write');
    const withOffsets = new EventRenderer(registry, { symbols, symOffset: true, symAddr: true });
    const out = withOffsets.text(p.view, p.bytes, 0, 24);
    assert.match(out, /^tracing_mark_write\+0x4\/0x[0-9a-f]+ <[0-9a-f]{16}> <-vfs_write\+0x20\/0x[0-9a-f]+ <[0-9a-f]{16}>$/);
    const noParent = new EventRenderer(registry, { symbols, printParent: false });
    assert.equal(noParent.text(p.view, p.bytes, 0, 24), 'tracing_mark_write');
  });

  it('kernel_stack and user_stack', () => {
    const k = new Payload(88, 4).i32(8, 24).u64(16, MARK).u64(24, VFS_WRITE).u64(32, 0xffffffffffffffffn);
    assert.equal(text(k), '<stack trace>\n => tracing_mark_write\n => vfs_write');
    const u = new Payload(88, 13).u32(8, 1).u64(16, 0x7f0000001000n).u64(24, 0x400000n);
    assert.equal(text(u), '<user stack trace>\n =>  <00007f0000001000>\n =>  <0000000000400000>');
  });

  it('other ftrace events use their print fmt, without "<name>: "', () => {
    const p = new Payload(24, 18).u32(8, 3).i32(12, 1).u64(16, 12345n);
    assert.equal(text(p), 'seq:3\tcontext:1\ttimer_latency:12345');
  });
});

describe('kallsyms', () => {
  const text = [
    'ffffffff81000000 T _stext',
    'ffffffff81000000 T alias_b',
    'ffffffff81000010 t __pfx_f',
    'ffffffff81000020 t f',
    'ffffffff81000080 T _etext',
    'ffffffffc0000000 t m1\t[modA]',
    'ffffffffc0000100 t m2\t[modA]',
    'ffffffffc0000040 t n1\t[modB]',
    '0000000000000000 A fixed_percpu_data',
  ].join('\n');

  it('parses text and gzip, sorts, sizes from the next symbol of the same group', () => {
    for (const t of [SymbolTable.parse(text), SymbolTable.parse(gzipSync(Buffer.from(text)))]) {
      assert.equal(t.size, 9);
      assert.deepEqual(t.lookup(0xffffffff81000000n), { name: '_stext', module: '', offset: 0, size: 0x10 }); // first alias listed wins
      assert.deepEqual(t.lookup(0xffffffff81000030n), { name: 'f', module: '', offset: 0x10, size: 0x60 });
      assert.equal(t.lookup(0xffffffff81000080n), null); // _etext has no size
      assert.deepEqual(t.lookup(0xffffffffc0000050n), { name: 'm1', module: 'modA', offset: 0x50, size: 0x100 });
      // n1 is modB's only symbol: no known end (module sizes are not in
      // kallsyms), so the address falls in modA's m1.
      assert.deepEqual(t.lookup(0xffffffffc0000040n), { name: 'm1', module: 'modA', offset: 0x40, size: 0x100 });
      assert.equal(t.lookup(0xffffffffc0000100n), null); // the last symbol of modA: no end either
      assert.equal(t.nameOf(0xffffffff, 0x81000021), 'f');
    }
  });

  it('loads the fixture table', () => {
    assert.equal(symbols.size, 122117);
    assert.equal(symbols.lookup(MARK + 0x8an)?.name, 'tracing_mark_write');
  });

  it('rejects malformed input', () => {
    assert.throws(() => SymbolTable.parse('not a kallsyms line'), MalformedInputError);
    assert.throws(() => SymbolTable.parse(Uint8Array.of(0x1f, 0x8b, 1, 2, 3)), /decompress/);
  });
});

describe('printk_formats', () => {
  it('unescapes \\n \\t \\" and keeps other backslashes', () => {
    const f = PrintkFormats.parse('0xffffffff82000000 : "a\\nb\\tc\\"d\\\\x\\q"\n0x10 : ""\n');
    assert.equal(f.get(0xffffffff82000000n), 'a\nb\tc"d\\\\x\\q');
    assert.equal(f.get(0x10), '');
    assert.equal(f.get(0x11), undefined);
    assert.equal(f.size, 2);
  });

  it('parses the fixture file and rejects garbage', () => {
    const f = PrintkFormats.parse(fs.readFileSync(path.join(FIXTURES, 'sched', 'tracefs', 'printk_formats'), 'utf8'));
    assert.equal(f.get(0xffffffff8281942fn), 'thaw_processes');
    assert.throws(() => PrintkFormats.parse('0xzz : "x"'), MalformedInputError);
    assert.throws(() => PrintkFormats.parse('0x10 : "unterminated'), MalformedInputError);
  });
});

describe('BTF enums', () => {
  /** A minimal BTF blob: one ENUM (unsigned) and one ENUM64 (signed). */
  function blob(): Uint8Array {
    const strings = Buffer.from('\0A_ONE\0A_TWO\0BIG\0NEG\0', 'latin1');
    const types: number[] = [];
    const u32 = (v: number) => types.push(v >>> 0);
    // ENUM, vlen 2, size 4: A_ONE=1, A_TWO=0xffffffff (unsigned)
    u32(0), u32((6 << 24) | 2), u32(4), u32(1), u32(1), u32(7), u32(0xffffffff);
    // ENUM64 signed, vlen 2: BIG = 1<<40, NEG = -5
    u32(0), u32((1 << 31) | (19 << 24) | 2), u32(8), u32(13), u32(0), u32(1 << 8), u32(17), u32(0xfffffffb), u32(0xffffffff);
    const typeBytes = Buffer.alloc(types.length * 4);
    types.forEach((v, i) => typeBytes.writeUInt32LE(v, i * 4));
    const hdr = Buffer.alloc(24);
    hdr.writeUInt16LE(0xeb9f, 0);
    hdr.writeUInt8(1, 2);
    hdr.writeUInt32LE(24, 4);
    hdr.writeUInt32LE(0, 8);
    hdr.writeUInt32LE(typeBytes.length, 12);
    hdr.writeUInt32LE(typeBytes.length, 16);
    hdr.writeUInt32LE(strings.length, 20);
    return new Uint8Array(Buffer.concat([hdr, typeBytes, strings]));
  }

  it('reads ENUM and ENUM64 values', () => {
    const out = new Map<string, bigint>();
    parseBtfEnums(blob(), out, new Set());
    assert.deepEqual(Object.fromEntries(out), { A_ONE: 1n, A_TWO: 0xffffffffn, BIG: 1n << 40n, NEG: -5n });
  });

  it('rejects truncated or bogus blobs', () => {
    assert.throws(() => parseBtfEnums(blob().subarray(0, 40), new Map(), new Set()), MalformedInputError);
    assert.throws(() => parseBtfEnums(new Uint8Array(64), new Map(), new Set()), /bad magic/);
  });

  it('loads the running kernel BTF when present', (t) => {
    if (!fs.existsSync('/sys/kernel/btf/vmlinux')) {
      t.skip('no /sys/kernel/btf/vmlinux');
      return;
    }
    const enums = loadBtfEnums();
    assert.ok(enums.size > 1000);
    assert.equal(enums.get('IOPRIO_CLASS_RT'), 1n);
  });
});
