// Fuzz target: bytes opened as an application ring file (in a scratch
// file), read to the end and rendered the way `tracering report --ring`
// renders, then written to and read again. Every outcome must be a render
// or a TraceringError (a coded error); anything else is a bug, and so is
// an input that does not end.
//
// Seeds are real ring files written by a real writer in several states
// (closed, abandoned by a dead writer, overwritten with losses, part read,
// killed mid-push). mutateRingFile() damages them where it hurts: the
// geometry, control words, claims, per-page arrays, page headers, records
// and the schema area.

import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { RoundLimitedSource, renderRings } from '../../src/cli/rings.js';
import { TraceringError } from '../../src/errors.js';
import { CTRL, HEAD_UPDATING, ctrlArrays, ctrlOffset } from '../../src/layout/ring-control.js';
import { loadDecodeContext } from '../../src/output/decode-context.js';
import { TimelineRenderer } from '../../src/output/report.js';
import { AppRing, type AppRingOptions } from '../../src/ring/app-ring.js';
import type { FuzzTarget } from '../target.js';

/** A pid above any pid_max: its claim reads as a dead process's. */
export const DEAD_PID = 0x3fffffff;

let scratchCount = 0;
const scratchBase = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();

/** A fresh file name for one input (each run removes its file; no directory to leave behind). */
function scratchPath(tag: string): string {
  return join(scratchBase, `tracering-fuzz-ring-${process.pid}-${threadId}-${tag}-${scratchCount++}`);
}

const noWarnings = () => {};

/** Reads a ring file to the end and renders it (text or JSON), as report --ring does. */
async function readAndRender(path: string, format: 'text' | 'json'): Promise<number> {
  const ring = AppRing.open(path);
  try {
    ring.stats();
    const reader = ring.reader({ onWarning: noWarnings });
    try {
      const ctx = loadDecodeContext({ formats: [ring.formats] });
      const tid = ring.lastWriterTid;
      if (tid !== 0) ctx.tasks.setComm(tid, ring.name);
      const sources = [new RoundLimitedSource(reader)];
      let bytes = 0;
      const renderer = new TimelineRenderer(sources, ctx, { format, writeBytes: (b) => (bytes += b.length) });
      await renderRings({ sources }, () => renderer.run(), new AbortController().signal);
      reader.finish();
      ring.stats();
      return bytes;
    } finally {
      ring.releaseReader();
    }
  } finally {
    ring.close();
  }
}

/** Writes across a few pages of the ring (raw records and a declared event), then closes the writer. */
function writeSome(path: string, seed: number): void {
  const ring = AppRing.open(path);
  try {
    const writer = ring.writer({ autoFlush: false });
    const payload = new Uint8Array(300);
    for (let i = 0; i < 48; i++) {
      const length = 8 + ((seed + i * 37) % 280);
      payload.fill(i & 0xff, 0, length);
      writer.write(payload.subarray(0, length));
      if (i % 16 === 15) writer.flush();
    }
    const event = ring.event('tick') ?? ring.defineEvent({ name: `fuzz${seed & 0xffff}`, fields: [['n', 'u32'], ['s', 'string']] });
    event.write(writer, ...(event.layout.slots.map((slot) => (slot.kind === 'string' ? 'x' : slot.kind === 'bytes' ? new Uint8Array(3) : 7)) as [number]));
    writer.close();
  } finally {
    ring.close();
  }
}

export async function run(input: Uint8Array): Promise<void> {
  const path = scratchPath('in');
  fs.writeFileSync(path, input);
  try {
    const format = input.length > 0 && ((input[input.length - 1] as number) & 1) === 1 ? 'json' : 'text';
    await readAndRender(path, format);
    writeSome(path, input.length);
    await readAndRender(path, format);
  } finally {
    fs.rmSync(path, { force: true });
  }
}

// ---- seeds: real rings in real states -------------------------------------

interface SeedPlan {
  options: AppRingOptions;
  events: number;
  /** Events to read (and release the reader) before taking the file. */
  readFirst?: number;
  /** Leave the writer unclosed, its claim pointing at a dead process. */
  abandon?: boolean;
  /** Leave HEAD_UPDATING set as a writer killed in its head push does. */
  killedInPush?: boolean;
  /** Time jumps between records (TIME_EXTEND records). */
  jumps?: boolean;
}

const SEED_PLANS: SeedPlan[] = [
  { options: { subbufs: 4, schemaBytes: 4096, mode: 'discard' }, events: 150 },
  { options: { subbufs: 4, schemaBytes: 4096, mode: 'overwrite' }, events: 400, readFirst: 20, abandon: true },
  { options: { subbufs: 5, schemaBytes: 4096, mode: 'overwrite' }, events: 600, killedInPush: true },
  { options: { subbufs: 3, schemaBytes: 4096, mode: 'block' }, events: 60, jumps: true },
  { options: { subbufs: 3, subbufSize: 8192, schemaBytes: 4096, mode: 'overwrite' }, events: 300, abandon: true },
];

function buildSeed(plan: SeedPlan, index: number): Uint8Array {
  const path = scratchPath(`seed${index}`);
  const ring = AppRing.create({ ...plan.options, path, name: `seed${index}` });
  try {
    const tick = ring.defineEvent({ name: 'tick', fields: [['n', 'u32'], ['what', 'string'], ['big', 'u64']] });
    const blob = ring.defineEvent({ name: 'blob', fields: [['tag', 'char[8]'], ['data', 'bytes']] });
    const writer = ring.writer({ autoFlush: false, blockTimeoutMs: 1 });
    let time = 1_000;
    for (let n = 0; n < plan.events; n++) {
      if (plan.jumps === true) {
        time += n % 7 === 0 ? 2 ** 28 + n : 1_000;
        const at = writer.reserveAt(12 + (n % 5) * 40, time);
        if (at >= 0) {
          writer.view.setUint32(at, n, true);
          writer.commit();
        }
      } else if (n % 3 === 2) blob.write(writer, `b${n}`, new Uint8Array(n % 90).fill(n & 0xff));
      else tick.write(writer, n, `event ${n}`, BigInt(n) * 0x100000001n);
      if (n % 25 === 24) writer.flush();
    }
    writer.flush();
    if (plan.readFirst !== undefined) {
      const reader = ring.reader({ onWarning: noWarnings });
      let read = 0;
      for (let b = reader.next(); b !== null && read < plan.readFirst; b = reader.next()) read += b.count;
      ring.releaseReader();
    }
    const c = ctrlOffset(ring.geometry);
    const view = ring.memory.view;
    if (plan.abandon === true || plan.killedInPush === true) {
      // As a process killed while it held the writer role leaves it.
      view.setInt32(c + CTRL.writer, DEAD_PID, true);
      view.setInt32(c + CTRL.writerPid, DEAD_PID, true);
    } else writer.close();
    if (plan.killedInPush === true) leaveHalfPush(view, ring.geometry.nrSubbufs);
  } finally {
    ring.close();
  }
  const bytes = new Uint8Array(fs.readFileSync(path));
  fs.rmSync(path, { force: true });
  return bytes;
}

/**
 * Does the first half of an overwriting writer's head push on a full ring,
 * as a writer killed between its head CAS and its overrun store leaves it:
 * the overrun announced, the head moved on and marked HEAD_UPDATING, the
 * overrun itself not stored. Returns the pushed page's event count.
 */
export function leaveHalfPush(view: DataView, nrSubbufs: number): number {
  const subbufSize = view.getUint32(8, true);
  const c = subbufSize * (1 + nrSubbufs);
  const slots = nrSubbufs - 1;
  const wrap = slots * Math.floor(2 ** 29 / slots);
  const headPos = view.getUint32(c + CTRL.head, true) >>> 2;
  const id = view.getInt32(c + CTRL.slots + 4 * (headPos % slots), true);
  const pushed = view.getInt32(c + ctrlArrays(nrSubbufs).pageEntries + 4 * id, true);
  view.setInt32(c + CTRL.pushOverrun, (view.getUint32(c + CTRL.overrun, true) + pushed) | 0, true);
  view.setInt32(c + CTRL.head, ((headPos + 1 === wrap ? 0 : headPos + 1) << 2) | HEAD_UPDATING, true);
  return pushed;
}

let seedCache: Uint8Array[] | null = null;

export function seeds(): Uint8Array[] {
  seedCache ??= SEED_PLANS.map(buildSeed);
  return seedCache.map((s) => s.slice());
}

// ---- structure-aware mutations --------------------------------------------

/** A small seeded generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [0, 1, 2, 3, 4, -1, -2, 0x7fffffff, -0x80000000, 0x3fffffff, 0x40000000, 0x80000000 | 0, 4096, 4095, 4080, 8192, 65536, 0xffff];

/** Where a ring file's parts are, from its own first bytes (a seed's geometry). */
function regions(bytes: Uint8Array): Array<[string, number, number]> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const subbufSize = view.getUint32(8, true);
  const nr = view.getUint32(12, true);
  const c = subbufSize * (1 + nr);
  const arrays = ctrlArrays(nr);
  const out: Array<[string, number, number]> = [
    ['meta', 0, 80],
    ['trailer', c, c + CTRL.slots],
    ['slots', c + arrays.slots, c + arrays.pageEntries],
    ['page arrays', c + arrays.pageEntries, c + arrays.end],
    ['schema', c + view.getUint32(c + CTRL.ctrlBytes, true), bytes.length],
  ];
  for (let id = 0; id < nr; id++) {
    const start = subbufSize * (1 + id);
    out.push([`page ${id} header`, start, start + 16], [`page ${id} records`, start + 16, start + subbufSize]);
  }
  return out.filter(([, from, to]) => from >= 0 && to <= bytes.length && to > from);
}

/** One to four damages to a ring file: words set to edge values, bits flipped, bytes cut or added. */
export function mutateRingFile(seed: Uint8Array, random: () => number): Uint8Array {
  let bytes = seed.slice();
  const parts = regions(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const rounds = 1 + Math.floor(random() * 4);
  for (let r = 0; r < rounds; r++) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const what = random();
    if (what < 0.06) {
      // Cut short or grown, sometimes to a size that is not a multiple of 4.
      const size = random() < 0.5 ? Math.floor(random() * bytes.length) : bytes.length + 1 + Math.floor(random() * 8192);
      const next = new Uint8Array(size);
      next.set(bytes.subarray(0, Math.min(size, bytes.length)));
      bytes = next;
      continue;
    }
    const [, from, to] = pick(parts);
    if (to > bytes.length) continue;
    const at = from + (Math.floor((random() * (to - from)) / 4) * 4);
    if (at + 4 > bytes.length) continue;
    if (what < 0.55) view.setInt32(at, pick(INTERESTING), true);
    else if (what < 0.7) view.setInt32(at, view.getInt32(at, true) + (random() < 0.5 ? 1 : -1), true);
    else if (what < 0.85) view.setUint32(at, view.getUint32(at, true) ^ (1 << Math.floor(random() * 32)), true);
    else view.setUint32(at, Math.floor(random() * 4294967296), true);
  }
  return bytes;
}

/** Whether an error is an expected outcome (a coded error), not a bug. */
export function isCodedError(error: unknown): boolean {
  return error instanceof TraceringError;
}

const target: FuzzTarget = { name: 'ring-file', seeds, run };
export default target;
