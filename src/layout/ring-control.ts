// Binary layout of an application ring (src/ring/): the kernel's mapping
// layout, unchanged, followed by a control trailer and a schema area.
//
//   [0, S)                 meta region: struct trace_buffer_meta, rest zero
//   [S, S + n*S)           n sub-buffers (id i at S + i*S), kernel format
//   [C, C + ctrlBytes)     control trailer (below), C = S + n*S
//   [C + ctrlBytes, end)   schema area: event formats, appended
//
// S is the sub-buffer size (a power of two, at least 4096), n the number of
// sub-buffers including the reader's. A kernel-data consumer reading the
// first S + n*S bytes sees exactly what it sees in a tracefs mapping.
//
// Control trailer (little-endian host words; offsets in bytes):

import { MalformedInputError } from '../errors.js';

export const RING_MAGIC = 0x47525254; // "TRRG"
export const RING_VERSION = 1;

export const CTRL = {
  magic: 0,
  version: 4,
  subbufSize: 8,
  nrSubbufs: 12,
  /** 0 overwrite, 1 discard, 2 block. */
  mode: 16,
  /**
   * Ring position of the oldest unread page, shifted left by 2; bit 0: the
   * reader is swapping it out; bit 1: the writer is pushing it (overwrite)
   * and has not yet published the overrun.
   */
  head: 20,
  /** Ring position of the writer's page, shifted left by 2. */
  tail: 24,
  /** Writer claim: 0 free, else the writer's thread id. */
  writer: 28,
  /** Reader claim: 0 free, else the reader's process id. */
  reader: 32,
  /** Bumped by the writer when it wakes a waiting reader (the word readers wait on). */
  wakeSeq: 36,
  /** 1 while the reader waits (or is about to) for data. */
  readerWaiting: 40,
  /** 1 while a blocking writer waits for space (it waits on `head`). */
  writerWaiting: 44,
  /** Wake the reader when this percent of the ring holds unread pages (0: any data). */
  watermark: 48,
  schemaBytes: 52,
  /** Bytes of the schema area in use (published after the text is written). */
  schemaEnd: 56,
  ctrlBytes: 60,
  /** Process id of the writer (for liveness checks across processes). */
  writerPid: 64,
  readerPid: 68,
  /** Bit 0: the writer has closed the ring. */
  flags: 72,
  /** Lock word for appenders to the schema area. */
  schemaLock: 76,
  /** u64 counters (BigInt64 words): events committed, overwritten, refused. */
  entries: 80,
  overrun: 88,
  dropped: 96,
  /** Thread id of the last writer (kept after it closes, to name its events). */
  lastWriter: 104,
  /** Writer's name (comm), 16 bytes, NUL padded. */
  comm: 112,
  /** int32 ring[nrSubbufs - 1]: the sub-buffer id at each ring slot. */
  slots: 128,
} as const;

export const FLAG_WRITER_CLOSED = 1;
/** Head word bits. */
export const HEAD_SWAPPING = 1;
export const HEAD_UPDATING = 2;
export const HEAD_SHIFT = 2;
/** The ring modes. */
export const RING_MODES = ['overwrite', 'discard', 'block'] as const;
/** What an application ring's writer does when the ring is full: 'overwrite' the oldest, 'discard' the new, or 'block'. */
export type RingMode = (typeof RING_MODES)[number];

export interface RingGeometry {
  subbufSize: number;
  nrSubbufs: number;
  ctrlBytes: number;
  schemaBytes: number;
}

const PAGE = 4096;
const align = (n: number, to: number) => Math.ceil(n / to) * to;

/** Byte offsets of the per-page arrays inside the control trailer. */
export function ctrlArrays(nrSubbufs: number): { slots: number; pageEntries: number; realEnd: number; end: number } {
  const slots = CTRL.slots;
  const pageEntries = slots + 4 * (nrSubbufs - 1);
  const realEnd = pageEntries + 4 * nrSubbufs;
  return { slots, pageEntries, realEnd, end: realEnd + 4 * nrSubbufs };
}

export function ringGeometry(subbufSize: number, nrSubbufs: number, schemaBytes: number): RingGeometry {
  if (!(subbufSize >= PAGE && subbufSize <= 1 << 20 && (subbufSize & (subbufSize - 1)) === 0)) {
    throw new MalformedInputError(`ring sub-buffer size ${subbufSize} must be a power of two from 4096 to 1 MiB`);
  }
  if (!(Number.isInteger(nrSubbufs) && nrSubbufs >= 3 && nrSubbufs <= 65536)) {
    throw new MalformedInputError(`ring needs 3 to 65536 sub-buffers (got ${nrSubbufs})`);
  }
  if (!(Number.isInteger(schemaBytes) && schemaBytes >= PAGE && schemaBytes <= 1 << 24)) {
    throw new MalformedInputError(`ring schema area must be 4 KiB to 16 MiB (got ${schemaBytes})`);
  }
  const g = { subbufSize, nrSubbufs, ctrlBytes: align(ctrlArrays(nrSubbufs).end, PAGE), schemaBytes: align(schemaBytes, PAGE) };
  if (ringBytes(g) > 0x7fffffff) throw new MalformedInputError('a ring must stay below 2 GiB (record offsets are int32)');
  return g;
}

/** Offset of the control trailer. */
export function ctrlOffset(g: RingGeometry): number {
  return g.subbufSize * (1 + g.nrSubbufs);
}

export function ringBytes(g: RingGeometry): number {
  return ctrlOffset(g) + g.ctrlBytes + g.schemaBytes;
}

/** Reads and checks the geometry of an existing ring from its first bytes and trailer. */
export function readRingGeometry(view: DataView): RingGeometry {
  if (view.byteLength < PAGE) throw new MalformedInputError('not a tracering ring: too small');
  const subbufSize = view.getUint32(8, true);
  const nrSubbufs = view.getUint32(12, true);
  if (view.getUint32(0, true) !== subbufSize) throw new MalformedInputError('not a tracering ring: meta_page_size differs from subbuf_size');
  const at = subbufSize * (1 + nrSubbufs);
  if (!(at > 0 && at + CTRL.slots <= view.byteLength)) throw new MalformedInputError('not a tracering ring: geometry exceeds the file');
  if (view.getUint32(at + CTRL.magic, true) !== RING_MAGIC) throw new MalformedInputError('not a tracering ring: bad magic');
  const version = view.getUint32(at + CTRL.version, true);
  if (version !== RING_VERSION) throw new MalformedInputError(`tracering ring version ${version} is not supported (this is ${RING_VERSION})`);
  const g = ringGeometry(subbufSize, nrSubbufs, view.getUint32(at + CTRL.schemaBytes, true));
  if (view.getUint32(at + CTRL.subbufSize, true) !== subbufSize || view.getUint32(at + CTRL.nrSubbufs, true) !== nrSubbufs) {
    throw new MalformedInputError('not a tracering ring: trailer disagrees with the meta page');
  }
  if (view.getUint32(at + CTRL.ctrlBytes, true) !== g.ctrlBytes || ringBytes(g) > view.byteLength) {
    throw new MalformedInputError('tracering ring: control area size is inconsistent');
  }
  return g;
}
