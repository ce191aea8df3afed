// The protobuf writer against protobufjs's reader: varints of every width
// (Numbers, (hi, lo) words, negative values as 64-bit two's complement),
// strings, doubles, nested messages with padded and widened lengths.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { ProtoWriter } from '../../src/sinks/perfetto/proto-writer.js';
import { rawFields } from './decode.js';

const U64 = [0n, 1n, 127n, 128n, 16383n, 16384n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 63n, 2n ** 64n - 1n];

describe('ProtoWriter', () => {
  it('varints of Numbers and of (hi, lo) words decode to the same values', () => {
    for (const v of U64) {
      const w = new ProtoWriter(4);
      w.int64(1, Number(v >> 32n), Number(v & 0xffffffffn));
      if (v < 2n ** 53n) w.int(2, Number(v));
      const r = protobuf.Reader.create(w.bytes());
      assert.equal(r.uint32() >>> 3, 1);
      assert.equal(BigInt(r.uint64().toString()), v);
      if (v < 2n ** 53n) {
        r.uint32();
        assert.equal(BigInt(r.uint64().toString()), v);
      }
      assert.equal(r.pos, w.pos);
    }
  });

  it('negative values are 10-byte two\'s complement, as int32 and int64 read them', () => {
    for (const v of [-1, -2, -128, -(2 ** 31), -(2 ** 40), -(2 ** 53) + 1]) {
      const w = new ProtoWriter();
      w.int(1, v);
      const f = rawFields(w.bytes())[0]!;
      assert.equal(BigInt.asIntN(64, f.int), BigInt(v));
      assert.equal(w.pos, 11);
      if (v >= -(2 ** 31)) {
        const r = protobuf.Reader.create(w.bytes());
        r.uint32();
        assert.equal(r.int32(), v);
      }
    }
  });

  it('strings, doubles, bools and nested messages (padded and widened lengths)', () => {
    const w = new ProtoWriter(8);
    const outer = w.begin(1);
    w.string(2, 'héllo ☃');
    w.double(3, 0.1);
    w.bool(4, true);
    const short = w.beginShort(5);
    w.string(1, 'x'.repeat(300)); // widened from one length byte to two
    w.endShort(short);
    const tiny = w.beginShort(6);
    w.int(1, 7);
    w.endShort(tiny);
    w.end(outer);
    const [o] = rawFields(w.bytes());
    assert.equal(o!.no, 1);
    const inner = rawFields(o!.bytes);
    assert.deepEqual(inner.map((f) => f.no), [2, 3, 4, 5, 6]);
    assert.equal(new TextDecoder().decode(inner[0]!.bytes), 'héllo ☃');
    assert.equal(new DataView(new BigUint64Array([inner[1]!.int]).buffer).getFloat64(0, true), 0.1);
    assert.equal(inner[2]!.int, 1n);
    assert.equal(new TextDecoder().decode(rawFields(inner[3]!.bytes)[0]!.bytes), 'x'.repeat(300));
    assert.equal(rawFields(inner[4]!.bytes)[0]!.int, 7n);
  });
});
