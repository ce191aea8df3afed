import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { META, MetaPage, checkMetaGeometry } from '../../src/layout/meta-page.js';

function metaBytes(fields: Partial<Record<keyof typeof META, number>>, structLen = 80, le = true): DataView {
  const view = new DataView(new ArrayBuffer(4096));
  view.setUint32(META.metaStructLen, structLen, le);
  for (const [key, value] of Object.entries(fields) as Array<[keyof typeof META, number]>) {
    const off = META[key];
    if (key === 'metaPageSize' || key === 'metaStructLen' || key === 'subbufSize' || key === 'nrSubbufs' || key === 'readerId' || key === 'readerRead') {
      view.setUint32(off, value, le);
    } else {
      view.setUint32(off + (le ? 0 : 4), value % 2 ** 32, le);
      view.setUint32(off + (le ? 4 : 0), Math.floor(value / 2 ** 32), le);
    }
  }
  return view;
}

describe('meta page (struct trace_buffer_meta)', () => {
  it('reads every field, 64-bit counters exactly', () => {
    const m = new MetaPage(
      metaBytes({ metaPageSize: 8192, subbufSize: 8192, nrSubbufs: 130, readerId: 7, readerRead: 4064, entries: 2 ** 40 + 3, overrun: 12, read: 2 ** 33 }),
    );
    assert.deepEqual(
      [m.metaPageSize, m.subbufSize, m.nrSubbufs, m.readerId, m.readerRead, m.entries, m.overrun, m.read],
      [8192, 8192, 130, 7, 4064, 2 ** 40 + 3, 12, 2 ** 33],
    );
    checkMetaGeometry(m, 4096);
  });

  it('honours meta_struct_len: fields past it read as 0', () => {
    const m = new MetaPage(metaBytes({ metaPageSize: 4096, subbufSize: 4096, nrSubbufs: 6, readerId: 3, entries: 9, overrun: 4, read: 2 }, 48));
    assert.equal(m.readerId, 3);
    assert.equal(m.entries, 9);
    assert.equal(m.overrun, 0); // offset 48 + 8 > 48
    assert.equal(m.read, 0);
  });

  it('reads big-endian meta pages', () => {
    const m = new MetaPage(metaBytes({ metaPageSize: 4096, subbufSize: 4096, nrSubbufs: 6, readerRead: 28, entries: 5 }, 80, false), false);
    assert.deepEqual([m.subbufSize, m.readerRead, m.entries], [4096, 28, 5]);
  });

  it('rejects implausible geometry with a coded error', () => {
    for (const fields of [
      { metaPageSize: 4096, subbufSize: 3000, nrSubbufs: 6 },
      { metaPageSize: 100, subbufSize: 4096, nrSubbufs: 6 },
      { metaPageSize: 4096, subbufSize: 4096, nrSubbufs: 0 },
    ]) {
      assert.throws(() => checkMetaGeometry(new MetaPage(metaBytes(fields)), 4096), { code: 'ERR_MALFORMED_INPUT' });
    }
  });
});
