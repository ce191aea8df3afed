// Walking files of raw sub-buffers (captures, fixtures) in tests.

import fs from 'node:fs';
import { RecordBatch, WalkState, maxRecords, walkRecords } from '../../src/layout/record.js';
import { type SubbufHeader, type SubbufLayout, hostSubbufLayout, newSubbufHeader, readSubbufHeader } from '../../src/layout/subbuf.js';

export interface WalkedRecord {
  page: number;
  /** Offset of the payload in the page's data area. */
  dataOffset: number;
  /** Absolute offset of the payload in the file. */
  fileOffset: number;
  length: number;
  ts: bigint;
  /** common_type of the payload. */
  type: number;
  pid: number;
}

export interface WalkedPage {
  header: SubbufHeader;
  records: WalkedRecord[];
  end: number;
  ended: boolean;
  corrupt: string | null;
}

export function readBytes(path: string): Uint8Array {
  const b = fs.readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function walkPages(bytes: Uint8Array, layout: SubbufLayout = hostSubbufLayout(4096)): WalkedPage[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pages: WalkedPage[] = [];
  const batch = new RecordBatch(maxRecords(layout.subbufSize));
  for (let p = 0; (p + 1) * layout.subbufSize <= bytes.byteLength; p++) {
    const start = p * layout.subbufSize;
    const header = readSubbufHeader(view, start, layout, newSubbufHeader());
    const walk = new WalkState();
    walk.begin(header.tsHi, header.tsLo);
    batch.reset(bytes, view, -1, p);
    walkRecords(layout, start + layout.dataOffset, header.commitSize, 0, walk, batch);
    const records: WalkedRecord[] = [];
    for (let i = 0; i < batch.count; i++) {
      const off = batch.offset(i);
      records.push({
        page: p,
        dataOffset: off - start - layout.dataOffset,
        fileOffset: off,
        length: batch.length(i),
        ts: batch.timestampBigInt(i),
        type: view.getUint16(off, layout.littleEndian),
        pid: view.getInt32(off + 4, layout.littleEndian),
      });
    }
    pages.push({ header: { ...header }, records, end: walk.pos, ended: walk.ended, corrupt: batch.corrupt?.message ?? null });
  }
  return pages;
}

/** Timestamps in the kernel's text (µs, rounded) with the pid, from trace lines. */
export function textTimestamps(text: string): Array<{ cpu: number; pid: number; micros: bigint }> {
  const out = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(.*?)-(\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[(\d{3})\]\s+\S{5}\s+(\d+)\.(\d{6}):/.exec(line);
    if (!m) continue;
    out.push({ pid: Number(m[2]), cpu: Number(m[3]), micros: BigInt(m[4] as string) * 1000000n + BigInt(m[5] as string) });
  }
  return out;
}

/** The kernel's rounding of a nanosecond timestamp to printed microseconds. */
export function kernelMicros(ns: bigint): bigint {
  return (ns + 500n) / 1000n;
}
