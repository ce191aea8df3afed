// print fmt: C expression semantics, helper macros, and hostile input.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrintkFormats } from '../../src/decode/printk-formats.js';
import { UnsupportedPrintFmtError } from '../../src/decode/printfmt/interpreter.js';
import { parsePrintFmt } from '../../src/decode/printfmt/parser.js';
import { MalformedInputError } from '../../src/errors.js';
import { cpuMs } from '../helpers/cpu-time.js';
import { Payload, render } from './support.js';

const c = (fmt: string, ...args: string[]) => render([], [JSON.stringify(fmt), ...args].join(', '), null);

describe('C expressions', () => {
  it('follows integer promotions, conversions and wrap-around', () => {
    assert.equal(c('%d', '(u8)300'), '44');
    assert.equal(c('%d', '(s8)200'), '-56');
    assert.equal(c('%d', '1 << 31'), '-2147483648');
    assert.equal(c('%u', '0x80000000 >> 31'), '1'); // hex literal is unsigned int
    assert.equal(c('%d', '-1 >> 1'), '-1'); // arithmetic shift of int
    assert.equal(c('%u', '(unsigned)-1 >> 1'), '2147483647');
    assert.equal(c('%lu', '1UL << 63'), '9223372036854775808');
    assert.equal(c('%lu', '~0UL'), '18446744073709551615');
    assert.equal(c('%d', '~0'), '-1');
    assert.equal(c('%d %d', '-7 / 2', '-7 % 2'), '-3 -1'); // truncation toward zero
    assert.equal(c('%d', '-1 < 0U'), '0'); // -1 converted to unsigned
    assert.equal(c('%d', '-1L < 0U'), '1'); // long holds every unsigned int
    assert.equal(c('%d', '2147483647 + 1'), '-2147483648');
    assert.equal(c('%llu', '4294967295U * 4294967295ULL'), '18446744065119617025');
    assert.equal(c('%lld', '-9223372036854775807LL - 1'), '-9223372036854775808');
    assert.equal(c('%d %d %d', '!0', '!5', '3 && 0 || 2'), '1 0 1');
    assert.equal(c('%d', "'a' + 1"), '98');
    assert.equal(c('%d', '1 ? 2 : 3 ? 4 : 5'), '2');
    assert.equal(c('%d', '(1, 2, 3)'), '3');
    assert.equal(c('%zu %d', 'sizeof(u64)', 'sizeof(unsigned short)'), '8 2');
    assert.equal(c('%d', '(bool)256'), '1');
    assert.equal(c('%s', '1 ? "yes" : "no"'), 'yes');
    assert.equal(c('%s', '"con" "cat"'), 'concat');
  });

  it('keeps 64-bit field values exact (kernel addresses exceed 2^53)', () => {
    const fields = ['unsigned long addr;8;8;0', 's64 delta;16;8;1', 'u32 lo;24;4;0'];
    const p = () => new Payload(32).u64(8, 0xffffffff81234567n).u64(16, -2n).u32(24, 0xdeadbeef);
    assert.equal(render(fields, '"%lx", REC->addr', p()), 'ffffffff81234567');
    assert.equal(render(fields, '"%lu", REC->addr', p()), '18446744071581156711');
    assert.equal(render(fields, '"%lx", REC->addr + 1', p()), 'ffffffff81234568');
    assert.equal(render(fields, '"%d", REC->addr == 0xffffffff81234567UL', p()), '1');
    assert.equal(render(fields, '"%d", REC->addr == 0xffffffff81234566UL', p()), '0');
    assert.equal(render(fields, '"%lx", REC->addr & 0xfff', p()), '567');
    assert.equal(render(fields, '"%lx", REC->addr >> 32', p()), 'ffffffff');
    assert.equal(render(fields, '"%lld %llx", REC->delta, REC->delta', p()), '-2 fffffffffffffffe');
    assert.equal(render(fields, '"%llx", ((u64)REC->lo << 32) | REC->lo', p()), 'deadbeefdeadbeef');
    assert.equal(render(fields, '"%lld", REC->delta * 4611686018427387904LL', p()), '-9223372036854775808');
  });

  it('evaluates statement expressions (min()/max() expansions)', () => {
    const fields = ['int a;8;4;1', 'int b;12;4;1'];
    const min = '"%d", ({ int __x = (REC->a); int __y = (REC->b); ((__x) < (__y) ? (__x) : (__y)); })';
    assert.equal(render(fields, min, new Payload(16).i32(8, 7).i32(12, 3)), '3');
    assert.equal(render(fields, min, new Payload(16).i32(8, -7).i32(12, 3)), '-7');
    const typeofMax = '"%d", ({ typeof(REC->a) x = REC->a; typeof(REC->b) y = REC->b; x > y ? x : y; })';
    assert.equal(render(fields, typeofMax, new Payload(16).i32(8, 7).i32(12, 30)), '30');
  });

  it('reads arrays, dynamic arrays and relative locations', () => {
    const fields = ['unsigned long caller[3];8;24;0', '__data_loc char[] name;32;4;0', '__rel_loc char[] rel;36;4;0', 'char buf[];40;0;0'];
    const p = new Payload(64).u64(8, 1n).u64(16, 2n).u64(24, 0xffffffff81000000n).loc(32, 44, 4).str(44, 'abc\0').u32(36, 12 | (3 << 16)).str(52, 'xy\0').str(40, 'tail');
    assert.equal(render(fields, '"%lu %lu %lx", REC->caller[0], REC->caller[1], REC->caller[2]', p), '1 2 ffffffff81000000');
    assert.equal(render(fields, '"%s %d", __get_str(name), __get_dynamic_array_len(name)', p), 'abc 4');
    // __rel_loc: offset from the end of the 4-byte field (36 + 4 + 12 = 52).
    assert.equal(render(fields, '"%s", __get_rel_str(rel)', p), 'xy');
    assert.equal(render(fields, '"%d", REC->caller[7]', p), '0'); // out of range reads nothing
  });

  it('clamps hostile __data_loc words to the payload', () => {
    const fields = ['__data_loc char[] name;8;4;0'];
    const p = new Payload(16).loc(8, 12, 60000).str(12, 'ab');
    assert.equal(render(fields, '"[%s]", __get_str(name)', p), '[ab]');
    const q = new Payload(16).loc(8, 65000, 10);
    assert.equal(render(fields, '"[%s]", __get_str(name)', q), '[]');
  });

  it('does pointer arithmetic with known sizes only', () => {
    const fields = ['unsigned long pfn;8;8;0'];
    const p = new Payload(16).u64(8, 2n);
    const fmt = '"page=%p", (((struct page *)vmemmap_base) + (REC->pfn))';
    assert.throws(() => render(fields, fmt, p), UnsupportedPrintFmtError);
    const out = render(fields, fmt, p, { constants: new Map([['vmemmap_base', 0xffffea0000000000n]]), typeSizes: new Map([['struct page', 64]]) });
    assert.equal(out, 'page=ffffea0000000080');
    assert.equal(render(fields, '"%lx", (unsigned long)((u32 *)REC->pfn + 1)', p), '6');
  });
});

describe('helpers', () => {
  const v = ['unsigned long v;8;8;0'];
  const pv = (x: bigint) => new Payload(16).u64(8, x);

  it('__print_flags', () => {
    const fmt = '"%s", __print_flags(REC->v, "|", { 0x1, "A" }, { 0x4, "C" }, { 0x6, "BC" })';
    assert.equal(render(v, fmt, pv(0x5n)), 'A|C');
    assert.equal(render(v, fmt, pv(0xdn)), 'A|C|0x8');
    assert.equal(render(v, fmt, pv(0x6n)), 'C|0x2'); // C matches first and clears bit 2
    assert.equal(render(v, fmt, pv(0n)), '');
    assert.equal(render(v, fmt, pv(0x10n)), '0x10');
    // A mask of 0 always matches while bits remain.
    assert.equal(render(v, '"%s", __print_flags(REC->v, ",", { 0, "ZERO" }, { 1, "ONE" })', pv(1n)), 'ZERO,ONE');
    // NULL name ends the table.
    assert.equal(render(v, '"%s", __print_flags(REC->v, "|", { 1, "A" }, { 0, ((void *)0) }, { 2, "B" })', pv(3n)), 'A|0x2');
    assert.equal(render(v, '"%s", __print_flags_u64(REC->v, "|", { 1ULL << 40, "HIGH" }, { 1, "LOW" })', pv((1n << 40n) | 3n)), 'HIGH|LOW|0x2');
  });

  it('__print_symbolic', () => {
    const fmt = '"%s", __print_symbolic(REC->v, { 1, "one" }, { 3, "three" }, { 3, "dup" })';
    assert.equal(render(v, fmt, pv(3n)), 'three');
    assert.equal(render(v, fmt, pv(7n)), '0x7');
    assert.equal(render(v, '"%s", __print_symbolic(-1, { -1, "minus" })', null), 'minus');
    assert.equal(render(v, '"%s", __print_symbolic(REC->v, { })', pv(5n)), '0x5');
    assert.equal(render(v, '"%s", __print_symbolic_u64(REC->v, { 0xffffffffffffffffULL, "all" })', pv(-1n)), 'all');
  });

  it('__print_symbolic with unresolved enum names skips those entries (noted) or uses constants', () => {
    const fmt = '"%s", __print_symbolic(REC->v, { FOO_A, "a" }, { 2, "b" })';
    assert.equal(render(v, fmt, pv(2n)), 'b');
    assert.equal(render(v, fmt, pv(1n)), '0x1');
    assert.equal(render(v, fmt, pv(1n), { constants: new Map([['FOO_A', 1n]]) }), 'a');
  });

  const buf = ['u8 b[20];8;20;0', 'u32 w[3];28;12;0', '__data_loc u64[] d;40;4;0'];
  const pb = () => {
    const p = new Payload(64).bytesAt(8, Array.from({ length: 20 }, (_, i) => i * 13)).u32(28, 1).u32(32, 0x10).u32(36, 0xffffffff).loc(40, 48, 16);
    return p.u64(48, 1n).u64(56, -1n);
  };

  it('__print_hex and __print_hex_str', () => {
    assert.equal(render(buf, '"%s", __print_hex(REC->b, 3)', pb()), '00 0d 1a');
    assert.equal(render(buf, '"%s", __print_hex_str(REC->b, 3)', pb()), '000d1a');
    // Groups of 16 are joined by a space: one space everywhere.
    assert.equal(render(buf, '"%s", __print_hex(REC->b, 18)', pb()), Array.from({ length: 18 }, (_, i) => ((i * 13) & 255).toString(16).padStart(2, '0')).join(' '));
    assert.equal(render(buf, '"[%s]", __print_hex(REC->b, 0)', pb()), '[]');
    assert.equal(render(buf, '"%s", __print_hex(REC->b, 100)', pb()).split(' ').length, 20); // clamped to the field
  });

  it('__print_array and __print_dynamic_array', () => {
    assert.equal(render(buf, '"%s", __print_array(REC->w, 3, sizeof(u32))', pb()), '{0x1,0x10,0xffffffff}');
    assert.equal(render(buf, '"%s", __print_array(REC->b, 2, 1)', pb()), '{0x0,0xd}');
    assert.equal(render(buf, '"%s", __print_array(REC->w, 0, 4)', pb()), '{}');
    assert.equal(render(buf, '"%s", __print_array(__get_dynamic_array(d), __get_dynamic_array_len(d) / sizeof(u64), sizeof(u64))', pb()), '{0x1,0xffffffffffffffff}');
    assert.equal(render(buf, '"%s", __print_dynamic_array(d, 8)', pb()), '{0x1,0xffffffffffffffff}');
    assert.equal(render(buf, '"%s", __print_array(REC->b, 1, 3)', pb()), '{BAD SIZE:3 0x0,0xd,0x1a}');
  });

  it('__print_hex_dump', () => {
    const out = render(buf, '"%s", __print_hex_dump("p: ", 2, 16, 1, REC->b, 20, true)', pb());
    const bytes = Array.from({ length: 20 }, (_, i) => (i * 13) & 255);
    const hex = (a: number[]) => a.map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const asc = (a: number[]) => a.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    const row1 = `p: 00000000: ${hex(bytes.slice(0, 16)).padEnd(49)}${asc(bytes.slice(0, 16))}`;
    const row2 = `p: 00000010: ${hex(bytes.slice(16)).padEnd(49)}${asc(bytes.slice(16))}`;
    assert.equal(out, `\n${row1}\n${row2}\n`);
    const grouped = render(buf, '"%s", __print_hex_dump("", 0, 16, 4, REC->w, 12, false)', pb());
    assert.equal(grouped, '\n00000001 00000010 ffffffff\n');
  });

  it('__get_bitmask, __get_cpumask, __get_sockaddr', () => {
    const fields = ['__data_loc cpumask_t cpumask;8;4;0', '__data_loc char[] sa;12;4;0'];
    const p = new Payload(48).loc(8, 16, 8).bytesAt(16, [0x03, 0, 0, 0, 0x01, 0, 0, 0]).loc(12, 24, 16).bytesAt(24, [2, 0, 0, 80, 127, 0, 0, 1]);
    assert.equal(render(fields, '"cpus=%s", __get_cpumask(cpumask)', p), 'cpus=00000001,00000003');
    assert.equal(render(fields, '"cpus=%s", __get_bitmask(cpumask)', p), 'cpus=00000001,00000003');
    assert.equal(render(fields, '"%pISpc", __get_sockaddr(sa)', p), '127.0.0.1:80');
  });

  it('jiffies_to_msecs, mc_event_error_type, __builtin_expect', () => {
    const fields = ['unsigned long j;8;8;0'];
    assert.equal(render(fields, '"%u", jiffies_to_msecs(REC->j)', new Payload(16).u64(8, 10n), { hz: 250 }), '40');
    assert.equal(render(fields, '"%s", mc_event_error_type(REC->j)', new Payload(16).u64(8, 1n)), 'Uncorrected');
    assert.equal(render(fields, '"%d", __builtin_expect(!!(REC->j), 0)', new Payload(16).u64(8, 9n)), '1');
  });

  it('%s of a kernel pointer: printk_formats (tracepoint_string) or the address', () => {
    const fields = ['const char * msg;8;8;0'];
    const printkFormats = PrintkFormats.parse('0xffffffff82000000 : "from rodata"\n');
    assert.equal(render(fields, '"%s", REC->msg', new Payload(16).u64(8, 0xffffffff82000000n), { printkFormats }), 'from rodata');
    assert.equal(render(fields, '"%s", REC->msg', new Payload(16).u64(8, 0xffffffff82000010n), { printkFormats }), '0xffffffff82000010');
    assert.equal(render(fields, '"%s", REC->msg', new Payload(16)), '(null)');
  });
});

describe('hostile print fmts', () => {
  const bad = (text: string, pattern?: RegExp) =>
    assert.throws(
      () => render(['int a;8;4;1'], text, null),
      (e: unknown) => e instanceof MalformedInputError && (pattern === undefined || pattern.test((e as Error).message)),
    );

  it('bounds nesting depth and size', () => {
    const cpu = cpuMs(() => {
      bad(`"%d", ${'('.repeat(100000)}1${')'.repeat(100000)}`, /nesting|too many tokens/);
      bad(`"%d", ${'('.repeat(500)}1${')'.repeat(500)}`, /nesting/);
      bad(`"%d", ${'~'.repeat(5000)}1`, /nesting/);
      bad(`"%d", 1${' ? 1 : 1'.repeat(5000)}`, /nesting/);
      bad(`"%s", ${'__print_flags('.repeat(200)}`, /nesting/);
      // Operator chains nest the tree without nesting the parser: bounded too.
      bad(`"%d", REC->a${' + 1'.repeat(30000)}`, /nesting 30001 exceeds/);
      bad(`"%d", REC->a${' ? 1 : REC->a'.repeat(3000)}`, /nesting/);
      bad(`"x"${', 1'.repeat(70000)}`, /too many/);
      bad(`"${'x'.repeat(300000)}"`, /too long/);
    });
    assert.ok(cpu < 2000, `hostile inputs are rejected quickly (${cpu.toFixed(0)} ms of CPU)`);
  });

  it('rejects unterminated and invalid text', () => {
    bad('"abc', /unterminated string/);
    bad('"%d", \'a', /character literal/);
    bad('"%d", 1 +', /expected an expression/);
    bad('"%d", (1', /expected "\)"/);
    bad('"%d", 1 @ 2', /unexpected character/);
    bad('"%d", `1`', /unexpected character/);
    bad('"%d", 0x', /0x without digits/);
    bad('"%d", 99999999999999999999999999', /exceeds 64 bits/);
    bad('"%d", 1.5', /unsupported number/);
    bad('%d, 1', /format string/);
    bad('"%d", REC->missing', /unknown field/);
    bad('"%d", a++', /increment/);
    bad('"%d", x += 1', /assignment/);
  });

  it('treats injection attempts as data, never as code', () => {
    // In the format string: printed literally.
    const marker = `${process.pid}`;
    assert.equal(render(['int a;8;4;1'], '"\\"); process.exit(1); //", REC->a', null), '"); process.exit(1); //');
    // In expressions: parse or compile errors, nothing runs.
    bad('"%d", process.exit(1)', /only named functions/);
    bad('"%d", REC->a"); process.exit(1); //', /unterminated string|unexpected token/);
    bad('"%s", require("child_process")', /unknown function/);
    bad('"%d", constructor.constructor("return process")()', /only named functions/);
    bad('"%s", __print_flags(REC->a, "|", { 1, "x" + process.exit(1) })', /only named functions/);
    assert.equal(`${process.pid}`, marker);
  });

  it('parses without compiling unknown constructs', () => {
    // The parser accepts valid C it cannot evaluate; the compiler reports it.
    assert.ok(parsePrintFmt('"%s", ({ static const char *s[] = { "a", "b" }; s[0]; })'));
    assert.throws(() => render(['int a;8;4;1'], '"%s", ({ static const char *s[] = { "a", "b" }; s[0]; })', null), UnsupportedPrintFmtError);
    assert.throws(() => render(['int a;8;4;1'], '"%s", trace_seq_buffer_ptr(p)', null), /unknown function trace_seq_buffer_ptr/);
  });
});
