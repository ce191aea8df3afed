// JSON Lines that tools read exactly (src/output/json-fields.ts,
// json-out.ts): 64-bit values past 2^53 as strings ("0x…" where the kernel
// prints hex), NAME_sym beside %ps/%pS fields, NAME_str beside
// __print_flags/__print_symbolic fields. The companions are checked
// against the kernel's own text (the captures' expected/trace), and every
// line goes through JSON.parse and jq (Debian's jq 1.6 reads numbers as
// doubles: a bare 64-bit number would come back changed).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { SymbolTable } from '../../src/decode/kallsyms.js';
import { EventRegistry } from '../../src/decode/registry.js';
import { EventRenderer } from '../../src/decode/renderer.js';
import { RecordBatch } from '../../src/layout/record.js';
import { loadDecodeContext } from '../../src/output/decode-context.js';
import { JsonLines } from '../../src/output/json-lines.js';
import { jsonInt64Text, putJsonHexS64, putJsonHexU64, putJsonS64, putJsonU64 } from '../../src/output/json-out.js';
import { TimelineRenderer } from '../../src/output/report.js';
import { TaskNames } from '../../src/output/task-names.js';
import { Recording } from '../../src/recording/recording.js';
import { TextOut } from '../../src/decode/text-out.js';
import { FIXTURES, formatText } from '../decode/support.js';
import { JsonLinesReference } from './json-reference.js';
import { assertToolsReadExactly } from './json-tools.js';

const SAFE = (1n << 53n) - 1n;

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('64-bit JSON values', () => {
  const out = new TextOut(64);
  const text = (f: (buf: Uint8Array, dv: DataView, p: number) => number) => Buffer.from(out.buf.subarray(0, f(out.buf, out.dv, 0))).toString('latin1');
  it('numbers within 2^53, strings beyond, exactly as jsonInt64Text says', () => {
    const values: bigint[] = [];
    for (let b = 0; b < 64; b++) for (const d of [-1n, 0n, 1n]) values.push(BigInt.asUintN(64, (1n << BigInt(b)) + d));
    for (const d of [-2n, -1n, 0n, 1n, 2n]) values.push(BigInt.asUintN(64, SAFE + d), BigInt.asUintN(64, -SAFE + d));
    for (const v of values) {
      const hi = Number(v >> 32n);
      const lo = Number(v & 0xffffffffn);
      const s = BigInt.asIntN(64, v);
      assert.equal(text((b, d, p) => putJsonU64(b, d, p, hi, lo)), jsonInt64Text(v, false), `u64 ${v}`);
      assert.equal(text((b, d, p) => putJsonHexU64(b, d, p, hi, lo)), jsonInt64Text(v, true), `hex u64 ${v}`);
      assert.equal(text((b, d, p) => putJsonS64(b, d, p, hi | 0, lo)), jsonInt64Text(s, false), `s64 ${s}`);
      assert.equal(text((b, d, p) => putJsonHexS64(b, d, p, hi | 0, lo)), jsonInt64Text(s, true), `hex s64 ${s}`);
      // And they read back exactly.
      const parsed = JSON.parse(jsonInt64Text(s, true)) as number | string;
      assert.equal(typeof parsed === 'number' ? BigInt(parsed) : BigInt.asIntN(64, BigInt(parsed)), s);
    }
    assert.equal(jsonInt64Text(SAFE, false), '9007199254740991');
    assert.equal(jsonInt64Text(SAFE + 1n, false), '"9007199254740992"');
    assert.equal(jsonInt64Text(-SAFE - 1n, true), '"0xffe0000000000000"');
    assert.equal(jsonInt64Text(0xffff888100c06550n, true), '"0xffff888100c06550"');
  });
});

// A format with each kind of field the rules tell apart.
const FIELDS = [
  'unsigned long addr;8;8;0',
  'u64 big;16;8;0',
  'unsigned long ip;24;8;0',
  'unsigned long fn;32;8;0',
  'void * raw;40;8;0',
  'unsigned long mask;48;8;0',
  'int state;56;4;1',
  's64 neg;60;8;1',
  'u64 arith;68;8;0',
  'unsigned int flags;76;4;0',
  'unsigned int flags_str;80;4;0',
];
const PRINT_FMT =
  '"addr=%lx big=%llu ip=%pS fn=%ps raw=%px mask=%s state=%s%s neg=%llx arith=%llx flags=%s", REC->addr, REC->big, (void *)REC->ip, (void *)REC->fn, REC->raw, ' +
  '__print_flags(REC->mask, "|", { 1, "A" }, { 2, "B" }), __print_symbolic(REC->state, { 0, "ZERO" }, { 1, "ONE" }, { 2, "T\\"W\\\\O" }), REC->state > 1 ? "+" : "", ' +
  'REC->neg, REC->arith + 1, __print_flags(REC->flags, "|", { 1, "X" })';
const SYMBOLS = 'ffffffff81000000 T my_func\nffffffff81000100 T next_func\nffffffff81000200 T end_func\n';

function synthetic(): { registry: EventRegistry; renderer: EventRenderer } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracering-jsonf-'));
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, 'events/test/kinds'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'events/test/kinds/format'), formatText(FIELDS, PRINT_FMT, 'kinds', 900));
  const registry = EventRegistry.fromDirectory(dir);
  return { registry, renderer: new EventRenderer(registry, { symbols: SymbolTable.parse(SYMBOLS) }) };
}

function record(values: { addr: bigint; big: bigint; ip: bigint; fn: bigint; raw: bigint; mask: bigint; state: number; neg: bigint; arith: bigint }): RecordBatch {
  const bytes = new Uint8Array(96);
  const v = new DataView(bytes.buffer);
  v.setUint16(0, 900, true);
  v.setInt32(4, 7, true);
  v.setBigUint64(8, values.addr, true);
  v.setBigUint64(16, values.big, true);
  v.setBigUint64(24, values.ip, true);
  v.setBigUint64(32, values.fn, true);
  v.setBigUint64(40, values.raw, true);
  v.setBigUint64(48, values.mask, true);
  v.setInt32(56, values.state, true);
  v.setBigInt64(60, values.neg, true);
  v.setBigUint64(68, values.arith, true);
  v.setUint32(76, 1, true);
  v.setUint32(80, 5, true);
  const batch = new RecordBatch(1);
  batch.reset(bytes, v, 0, 0);
  batch.records.set([0, 84, 0, 5], 0);
  batch.count = 1;
  return batch;
}

describe('JSON fields: hex, NAME_sym and NAME_str from the print fmt', () => {
  const { registry, renderer } = synthetic();
  const tasks = new TaskNames(new Map([[7, 'seven']]));
  const json = new JsonLines(registry, tasks, true, renderer);
  const reference = new JsonLinesReference(registry, tasks, true, renderer);

  it('the rule, field by field, and the companions equal the event text', () => {
    const batch = record({
      addr: 0xffff888100c06550n,
      big: (1n << 64n) - 1n,
      ip: 0xffffffff81000010n,
      fn: 0xffffffff81000100n,
      raw: 0xffffffff81000000n,
      mask: 3n,
      state: 2,
      neg: -(1n << 60n),
      arith: 1n << 60n,
    });
    const line = json.line(batch, 0);
    assert.equal(line, reference.line(batch, 0));
    const fields = (JSON.parse(line) as { fields: Record<string, unknown> }).fields;
    assert.deepEqual(fields, {
      addr: '0xffff888100c06550',
      big: '18446744073709551615',
      ip: '0xffffffff81000010',
      ip_sym: 'my_func+0x10/0x100',
      fn: '0xffffffff81000100',
      fn_sym: 'next_func',
      raw: '0xffffffff81000000',
      mask: 3,
      mask_str: 'A|B',
      state: 2,
      state_str: 'T"W\\O+',
      neg: '0xf000000000000000',
      arith: '1152921504606846976',
      flags: 1,
      // no flags_str companion: a field has that name
      flags_str: 5,
    });
    // The companions are the event text's own words.
    const text = renderer.text(batch.view, batch.bytes, 0, 84);
    assert.match(text, / ip=my_func\+0x10\/0x100 fn=next_func raw=ffffffff81000000 mask=A\|B state=T"W\\O\+ neg=f000000000000000 /);
    assertToolsReadExactly(line);
  });

  it('small values stay numbers; an address kallsyms does not know has a null symbol', () => {
    const batch = record({ addr: 16n, big: 42n, ip: 0x1000n, fn: 0xffffffffc0001000n, raw: 0n, mask: 4n, state: 7, neg: -1n, arith: 9n });
    const line = json.line(batch, 0);
    assert.equal(line, reference.line(batch, 0));
    const f = (JSON.parse(line) as { fields: Record<string, unknown> }).fields;
    assert.equal(f.addr, 16);
    assert.equal(f.big, 42);
    assert.equal(f.ip, 4096);
    assert.equal(f.ip_sym, null);
    assert.equal(f.neg, -1);
    assert.equal(f.raw, 0);
    assert.equal(f.mask_str, '0x4');
    assert.equal(f.state_str, '0x7+');
  });

  it('without symbols there is no NAME_sym; without a renderer no companion at all', () => {
    const plain = new JsonLines(registry, tasks, true, new EventRenderer(registry));
    const batch = record({ addr: 1n, big: 1n, ip: 0xffffffff81000010n, fn: 1n, raw: 1n, mask: 1n, state: 0, neg: 1n, arith: 1n });
    const f = (JSON.parse(plain.line(batch, 0)) as { fields: Record<string, unknown> }).fields;
    assert.equal('ip_sym' in f, false);
    assert.equal(f.mask_str, 'A');
    assert.equal(f.state_str, 'ZERO');
    const bare = (JSON.parse(new JsonLines(registry, tasks).line(batch, 0)) as { fields: Record<string, unknown> }).fields;
    assert.equal('mask_str' in bare, false);
    assert.equal(bare.ip, '0xffffffff81000010');
  });
});

describe('JSON fields: the object-form writer (formats the generator leaves to it) follows the same rules', () => {
  it('a field name too long for the generated writer', () => {
    const long = `p${'x'.repeat(126)}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracering-jsono-'));
    dirs.push(dir);
    fs.mkdirSync(path.join(dir, 'events/test/longname'), { recursive: true });
    const fmt = formatText([`void * ${long};8;8;0`, 'unsigned long mask;16;8;0', 'u64 big;24;8;0'], `"%p %s %llu", REC->${long}, __print_flags(REC->mask, "|", { 1, "A" }), REC->big`, 'longname', 901);
    fs.writeFileSync(path.join(dir, 'events/test/longname/format'), fmt);
    const registry = EventRegistry.fromDirectory(dir);
    const renderer = new EventRenderer(registry);
    const tasks = new TaskNames();
    const bytes = new Uint8Array(40);
    const v = new DataView(bytes.buffer);
    v.setUint16(0, 901, true);
    v.setBigUint64(8, 0xffff888100c06550n, true);
    v.setBigUint64(16, 1n, true);
    v.setBigUint64(24, 1n << 63n, true);
    const batch = new RecordBatch(1);
    batch.reset(bytes, v, 0, 0);
    batch.records.set([0, 32, 0, 1], 0);
    batch.count = 1;
    const line = new JsonLines(registry, tasks, true, renderer).line(batch, 0);
    assert.equal(line, new JsonLinesReference(registry, tasks, true, renderer).line(batch, 0));
    assert.deepEqual((JSON.parse(line) as { fields: unknown }).fields, { [long]: '0xffff888100c06550', mask: 1, mask_str: 'A', big: '9223372036854775808' });
  });
});

describe('JSON fields on the captures, against the kernel\'s text', () => {
  /** JSON lines and the kernel's event lines of a capture, in the same (merged) order. */
  function pairs(capture: string): Array<{ json: { event: string; fields: Record<string, unknown> }; kernel: string; raw: string }> {
    const root = path.join(FIXTURES, capture, 'tracefs');
    const ctx = loadDecodeContext({ root, kallsyms: path.join(FIXTURES, 'kallsyms.gz'), constants: null });
    const recording = Recording.open(root);
    const readers = recording.openReaders();
    let text = '';
    try {
      new TimelineRenderer(readers, ctx, { format: 'json', write: (s) => (text += s), lostMarkers: false }).run();
    } finally {
      for (const r of readers) r.close();
    }
    assertToolsReadExactly(text);
    const lines = text.split('\n').filter((l) => l !== '');
    const kernel = fs
      .readFileSync(path.join(FIXTURES, capture, 'expected', 'trace'), 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    assert.equal(lines.length, kernel.length);
    return lines.map((l, i) => ({ json: JSON.parse(l) as { event: string; fields: Record<string, unknown> }, kernel: kernel[i]!, raw: l }));
  }

  it('sched: prev_state_str is the kernel\'s prev_state text', () => {
    let n = 0;
    for (const { json, kernel } of pairs('sched')) {
      if (json.event !== 'sched_switch') continue;
      const expected = / prev_state=(\S+) /.exec(kernel)?.[1];
      assert.equal(json.fields.prev_state_str, expected, kernel);
      assert.equal(typeof json.fields.prev_state, 'number');
      n++;
    }
    assert.ok(n > 100, `${n} sched_switch events`);
  });

  it('markers: ip is a hex string, ip_sym the kernel\'s symbol, the address exact', () => {
    let n = 0;
    for (const { json, kernel, raw } of pairs('markers')) {
      if (json.event !== 'print') continue;
      assert.equal(json.fields.ip_sym, / ([A-Za-z_][A-Za-z0-9_.]*): /.exec(kernel)?.[1], kernel);
      assert.match(String(json.fields.ip), /^0xffffffff[0-9a-f]{8}$/);
      // The address in the line is the record's, digit for digit.
      assert.ok(raw.includes(`"ip":"${String(json.fields.ip)}"`));
      n++;
    }
    assert.equal(n, 4);
  });
});
