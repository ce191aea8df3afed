// printk conversions, flags, widths, lengths and %p extensions, against
// the kernel's lib/vsprintf.c behaviour (number(), string(), pointer()).
// Where the kernel differs from C printf the test says so.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SymbolTable } from '../../src/decode/kallsyms.js';
import { parseFormat } from '../../src/decode/printfmt/printk.js';
import { MalformedInputError } from '../../src/errors.js';
import { Payload, render } from './support.js';

/** Renders `fmt` with constant arguments (no record fields). */
const f = (fmt: string, ...args: string[]) => render([], [JSON.stringify(fmt), ...args].join(', '), null);

describe('integer conversions', () => {
  it('prints %d %i %u %x %X %o', () => {
    assert.equal(f('%d %i %u %x %X %o', '-5', '7', '42', '255', '255', '8'), '-5 7 42 ff FF 10');
    assert.equal(f('%d', '0'), '0');
    assert.equal(f('%%d'), '%d');
    assert.equal(f('100%%'), '100%');
  });

  it('applies flags - + space # 0 and widths', () => {
    assert.equal(f('[%5d]', '42'), '[   42]');
    assert.equal(f('[%-5d]', '42'), '[42   ]');
    assert.equal(f('[%05d]', '-42'), '[-0042]');
    assert.equal(f('[%+d] [%+d]', '5', '-5'), '[+5] [-5]');
    assert.equal(f('[% d] [% d]', '5', '-5'), '[ 5] [-5]');
    assert.equal(f('[%#x] [%#X] [%#o]', '255', '255', '8'), '[0xff] [0XFF] [010]');
    assert.equal(f('[%#10x] [%#010x] [%-#10x]', '255', '255', '255'), '[      0xff] [0x000000ff] [0xff      ]');
    assert.equal(f('[%-05d]', '7'), '[7    ]'); // '-' cancels '0'
    assert.equal(f('[%2d]', '100'), '[100]');
  });

  it('follows the kernel where it differs from C', () => {
    // "%#x" of 0 prints the prefix (glibc prints "0").
    assert.equal(f('%#x', '0'), '0x0');
    assert.equal(f('%#o', '0'), '0');
    // Precision 0 still prints a zero digit (glibc prints nothing).
    assert.equal(f('[%.0d]', '0'), '[0]');
    // '0' is not cancelled by a precision (glibc would pad with spaces).
    assert.equal(f('[%08.3d]', '5'), '[00000005]');
    assert.equal(f('[%8.3d]', '5'), '[     005]');
    // "%.d": the kernel leaves the precision unset.
    assert.equal(f('[%.d]', '5'), '[5]');
  });

  it('converts to the length modifier type', () => {
    assert.equal(f('%u', '-1'), '4294967295');
    assert.equal(f('%lu', '-1'), '18446744073709551615');
    assert.equal(f('%ld %lld', '-1', '-1'), '-1 -1');
    assert.equal(f('%lx', '-1'), 'ffffffffffffffff');
    assert.equal(f('%x', '-1'), 'ffffffff');
    assert.equal(f('%hhd %hhu %hhx', '255', '257', '-1'), '-1 1 ff');
    assert.equal(f('%hd %hu %hx', '65535', '65537', '-1'), '-1 1 ffff');
    assert.equal(f('%d', '4294967297UL'), '1'); // int reads the low 32 bits
    assert.equal(f('%lld', '0x8000000000000000ULL'), '-9223372036854775808');
    assert.equal(f('%llu', '0x8000000000000000ULL'), '9223372036854775808');
    assert.equal(f('%zu %zd', '-1', '-1'), '18446744073709551615 -1');
    assert.equal(f('%Lu', '-1'), '18446744073709551615');
  });

  it('prints %c', () => {
    assert.equal(f('[%c]', "'A'"), '[A]');
    assert.equal(f('[%3c] [%-3c]', '65', '66'), '[  A] [B  ]');
    assert.equal(f('[%c]', '0x141'), '[A]'); // (unsigned char)
  });

  it('prints %s with width and precision', () => {
    assert.equal(f('[%s]', '"abc"'), '[abc]');
    assert.equal(f('[%5s] [%-5s] [%.2s]', '"abc"', '"abc"', '"abc"'), '[  abc] [abc  ] [ab]');
    assert.equal(f('[%*s] [%-*s] [%.*s]', '5', '"ab"', '4', '"ab"', '1', '"ab"'), '[   ab] [ab  ] [a]');
    assert.equal(f('[%*d]', '-4', '7'), '[7   ]'); // negative width: left-justified
    assert.equal(f('[%.*s]', '-1', '"ab"'), '[]'); // negative precision becomes 0
    assert.equal(f('[%s]', '0'), '[(null)]');
    // Precision counts bytes: "é" is 2 bytes in UTF-8; its first byte alone
    // is what a UTF-8 reader of the kernel's text shows as U+FFFD.
    assert.equal(f('[%.1s|%.2s]', '"é"', '"é"'), '[\ufffd|é]');
    assert.equal(f('[%4s]', '"é"'), '[  é]');
  });

  it('stops at an unsupported conversion, like vsnprintf', () => {
    assert.equal(f('a=%d b=%f c=%d', '1', '2', '3'), 'a=1 b=');
    assert.equal(f('a=%d %n', '1', '2'), 'a=1 ');
  });

  it('rejects absurd widths and missing arguments', () => {
    assert.throws(() => f('%99999d', '1'), MalformedInputError);
    assert.throws(() => f('%d %d', '1'), /not enough arguments/);
  });

  it('splits formats as format_decode() does', () => {
    const p = parseFormat('a%-08.3lldb%pISpc,%*pbl%%');
    assert.deepEqual(p.map((x) => (typeof x === 'string' ? x : `${x.conv}:${x.qualifier}:${x.ext}:${x.flags}:${x.width}:${x.precision}`)), [
      'a', 'd:ll::17:8:3', 'b', 'p::ISpc:0:-1:-1', ',', 'p::bl:0:-2:-1', '%',
    ]);
  });
});

describe('pointer extensions', () => {
  const symbols = SymbolTable.parse(
    [
      'ffffffff81000000 T _stext',
      'ffffffff81000100 T first_func',
      'ffffffff81000140 t second_func',
      'ffffffff81000200 T _etext',
      'ffffffffc0001000 t mod_func\t[mymod]',
      'ffffffffc0001080 t mod_other\t[mymod]',
    ].join('\n'),
  );
  const ptr = ['unsigned long ip;8;8;0'];
  const withIp = (v: bigint) => new Payload(16).u64(8, v);
  const sym = (fmt: string, v: bigint) => render(ptr, `"${fmt}", (void *)REC->ip`, withIp(v), { symbols });

  it('prints raw pointers: %p (hash-ptr off), %px, %pK', () => {
    assert.equal(sym('%p', 0xffffffff81000110n), 'ffffffff81000110');
    assert.equal(sym('%px', 0x1234n), '0000000000001234');
    assert.equal(sym('%pK', 0xffff888001234000n), 'ffff888001234000');
    assert.equal(sym('[%20p]', 0x1234n), '[                1234]');
  });

  it('prints symbols: %ps %pS %pB %pf %pF', () => {
    assert.equal(sym('%ps', 0xffffffff81000110n), 'first_func');
    assert.equal(sym('%pS', 0xffffffff81000110n), 'first_func+0x10/0x40');
    assert.equal(sym('%pS', 0xffffffff81000100n), 'first_func+0x0/0x40');
    assert.equal(sym('%pB', 0xffffffff81000140n), 'first_func+0x40/0x40'); // looks up address - 1
    assert.equal(sym('%pf', 0xffffffff81000150n), 'second_func');
    assert.equal(sym('%pF', 0xffffffff81000150n), 'second_func+0x10/0xc0');
    assert.equal(sym('%pS', 0xffffffffc0001010n), 'mod_func+0x10/0x80 [mymod]');
    assert.equal(sym('%ps', 0xffffffffc0001010n), 'mod_func [mymod]');
    assert.equal(sym('%ps', 0x1234n), '0x1234'); // not found
    assert.equal(sym('%ps', 0xffffffff81000300n), '0xffffffff81000300'); // past _etext
    assert.equal(sym('[%-14ps]', 0xffffffff81000110n), '[first_func    ]');
  });

  const bytesField = ['u8 a[16];8;16;0', 'u8 sa[28];24;28;0'];
  const ip = (fmt: string, data: number[], field = 'a') => render(bytesField, `"${fmt}", REC->${field}`, new Payload(52).bytesAt(field === 'a' ? 8 : 24, data));

  it('prints IPv4 and IPv6 addresses', () => {
    assert.equal(ip('%pI4', [192, 168, 1, 20]), '192.168.1.20');
    assert.equal(ip('%pi4', [10, 0, 0, 1]), '010.000.000.001');
    const v6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    assert.equal(ip('%pI6', v6), '2001:0db8:0000:0000:0000:0000:0000:0001');
    assert.equal(ip('%pi6', v6), '20010db8000000000000000000000001');
    assert.equal(ip('%pI6c', v6), '2001:db8::1');
    assert.equal(ip('%pI6c', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), '::1');
    assert.equal(ip('%pI6c', new Array(16).fill(0)), '::');
    assert.equal(ip('%pI6c', [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), '1::');
    assert.equal(ip('%pI6c', [0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]), '1:0:0:1::1'); // first longest run wins
    assert.equal(ip('%pI6c', [0, 1, 0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7]), '1:0:2:3:4:5:6:7'); // a single 0 stays
    assert.equal(ip('%pI6c', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]), '::ffff:1.2.3.4');
  });

  it('prints sockaddrs (%pISpc)', () => {
    // struct sockaddr_in: family (host order) 2, port 8080 (network order), 10.0.0.1
    const sin = [2, 0, 0x1f, 0x90, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    assert.equal(ip('%pISpc', sin, 'sa'), '10.0.0.1:8080');
    assert.equal(ip('%pIS', sin, 'sa'), '10.0.0.1');
    // struct sockaddr_in6: family 10, port 443, flowinfo, 2001:db8::1, scope 3
    const sin6 = [10, 0, 0x01, 0xbb, 0, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 0, 0, 0];
    assert.equal(ip('%pISpc', sin6, 'sa'), '[2001:db8::1]:443');
    assert.equal(ip('%pISc', sin6, 'sa'), '2001:db8::1');
    assert.equal(ip('%pISpsc', sin6, 'sa'), '[2001:db8::1]:443%3');
    assert.equal(ip('%pISpc', [1, 0], 'sa'), '(einval)');
  });

  it('prints MAC addresses and UUIDs', () => {
    const mac = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];
    assert.equal(ip('%pM', mac), '00:11:22:33:44:55');
    assert.equal(ip('%pMR', mac), '55:44:33:22:11:00');
    assert.equal(ip('%pMF', mac), '00-11-22-33-44-55');
    assert.equal(ip('%pm', mac), '001122334455');
    const uuid = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff];
    assert.equal(ip('%pU', uuid), '00112233-4455-6677-8899-aabbccddeeff');
    assert.equal(ip('%pUB', uuid), '00112233-4455-6677-8899-AABBCCDDEEFF');
    assert.equal(ip('%pUl', uuid), '33221100-5544-7766-8899-aabbccddeeff');
    assert.equal(ip('%pUL', uuid), '33221100-5544-7766-8899-AABBCCDDEEFF');
  });

  it('prints hex buffers (%*ph) and bitmaps (%*pb, %*pbl)', () => {
    const fields = ['u8 a[8];8;8;0'];
    const p = () => new Payload(16).bytesAt(8, [0xde, 0xad, 0xbe, 0xef, 0x07, 0x01, 0, 0]);
    assert.equal(render(fields, '"%*ph", 4, REC->a', p()), 'de ad be ef');
    assert.equal(render(fields, '"%*phC", 4, REC->a', p()), 'de:ad:be:ef');
    assert.equal(render(fields, '"%*phD", 2, REC->a', p()), 'de-ad');
    assert.equal(render(fields, '"%*phN", 3, REC->a', p()), 'deadbe');
    const bits = () => new Payload(16).bytesAt(8, [0xa7, 0x01, 0, 0, 0, 0, 0, 0x80]); // bits 0,1,2,5,7,8,63
    assert.equal(render(fields, '"%*pb", 64, REC->a', bits()), '80000000,000001a7');
    assert.equal(render(fields, '"%*pb", 10, REC->a', bits()), '1a7');
    assert.equal(render(fields, '"%*pbl", 64, REC->a', bits()), '0-2,5,7-8,63');
    assert.equal(render(fields, '"%*pbl", 8, REC->a', bits()), '0-2,5,7');
  });
});
