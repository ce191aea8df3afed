// Fuzz target: a recording with one file changed. The base is a copy of
// test/fixtures/sched/tracefs (two CPUs of raw pages, sched and ftrace
// formats, saved_cmdlines...) made once in a temp directory; each input
// changes one file of it, is rendered with `tracering report`'s code path
// (reportRecording: text or JSON, strict or not), and the file is restored.
// The input is
//
//   [target] [mode] [u32 LE offset or length] [data...]
//
//   target  which file (TARGETS[target % TARGETS.length]); bit 7 of the
//           mode byte selects JSON output, bit 6 --strict
//   mode    (low 3 bits) 0 replace the file with data; 1 overwrite the
//           original at offset % size with data; 2 cut the original to
//           length % (size + 1) and append data; 3 put a directory where
//           the file was; 4 remove the file; 5 xor data into the original
//           from offset
//
// Only TraceringError subclasses (coded errors) may escape; the temp
// directory is removed when the process exits.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportRecording } from '../../src/cli/commands/report.js';
import type { FuzzTarget } from '../target.js';

const BASE = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/sched/tracefs');

/** Files an input may change (relative to the recording; absent ones are created). */
const TARGETS = [
  'per_cpu/cpu0/trace_pipe_raw',
  'per_cpu/cpu1/trace_pipe_raw',
  'events/header_page',
  'events/header_event',
  'events/sched/sched_switch/format',
  'events/sched/sched_wakeup/format',
  'events/ftrace/print/format',
  'per_cpu/cpu0/stats',
  'per_cpu/cpu1/stats',
  'saved_cmdlines',
  'saved_tgids',
  'printk_formats',
  'trace_clock',
  'buffer_subbuf_size_kb',
  'tracering.json',
  'kernel_constants',
  'options/irq-info',
  'options/record-tgid',
  'uname',
] as const;

let work: string | null = null;
function workDir(): string {
  if (work === null) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracering-fuzz-recording-'));
    fs.cpSync(BASE, dir, { recursive: true });
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    work = dir;
  }
  return work;
}

function original(relative: string): Uint8Array | null {
  try {
    return new Uint8Array(fs.readFileSync(path.join(BASE, relative)));
  } catch {
    return null;
  }
}

function restore(dir: string, relative: string): void {
  const target = path.join(dir, relative);
  fs.rmSync(target, { recursive: true, force: true });
  const bytes = original(relative);
  if (bytes !== null) fs.writeFileSync(target, bytes);
}

function mutate(dir: string, relative: string, mode: number, arg: number, data: Uint8Array): void {
  const target = path.join(dir, relative);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const base = original(relative) ?? new Uint8Array(0);
  switch (mode) {
    case 0:
      fs.writeFileSync(target, data);
      return;
    case 1: {
      const bytes = new Uint8Array(Math.max(base.length, 1));
      bytes.set(base);
      const at = arg % bytes.length;
      bytes.set(data.subarray(0, bytes.length - at), at);
      fs.writeFileSync(target, bytes);
      return;
    }
    case 2: {
      const cut = base.subarray(0, arg % (base.length + 1));
      const bytes = new Uint8Array(cut.length + data.length);
      bytes.set(cut);
      bytes.set(data, cut.length);
      fs.writeFileSync(target, bytes);
      return;
    }
    case 3:
      fs.rmSync(target, { recursive: true, force: true });
      fs.mkdirSync(target);
      return;
    case 4:
      fs.rmSync(target, { recursive: true, force: true });
      return;
    default: {
      const bytes = Uint8Array.from(base);
      for (let i = 0; i < data.length && bytes.length > 0; i++) bytes[(arg + i) % bytes.length]! ^= data[i]!;
      fs.writeFileSync(target, bytes);
    }
  }
}

async function run(input: Uint8Array): Promise<void> {
  const dir = workDir();
  const relative = TARGETS[(input[0] ?? 0) % TARGETS.length]!;
  const flags = input[1] ?? 0;
  const arg = (input[2] ?? 0) | ((input[3] ?? 0) << 8) | ((input[4] ?? 0) << 16) | ((input[5] ?? 0) << 24);
  mutate(dir, relative, flags & 7, arg >>> 0, input.subarray(6));
  try {
    // A coded error (TraceringError) may escape: the harness counts it as such.
    await reportRecording(dir, {
      json: (flags & 0x80) !== 0,
      strict: (flags & 0x40) !== 0,
      kallsyms: null,
      output: () => {},
      onWarning: () => {},
    });
  } finally {
    restore(dir, relative);
  }
}

function seed(target: number, flags: number, arg: number, data: Uint8Array | string = ''): Uint8Array {
  const body = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const out = new Uint8Array(6 + body.length);
  out.set([target, flags, arg & 255, (arg >>> 8) & 255, (arg >>> 16) & 255, arg >>> 24]);
  out.set(body, 6);
  return out;
}

/** The recording unchanged (text and JSON), each file cut in half, made a directory, and a few known cases. */
function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [seed(0, 1, 0, ''), seed(0, 0x81, 0, '')];
  TARGETS.forEach((relative, t) => {
    const size = original(relative)?.length ?? 0;
    out.push(seed(t, 2, size >>> 1), seed(t, 3, 0), seed(t, 0x80 | 5, 100, Uint8Array.from([0xff, 0x01, 0x80])));
  });
  const meta = TARGETS.indexOf('tracering.json');
  out.push(seed(meta, 0, 0, 'null'), seed(meta, 0, 0, '{"format":"tracering-snapshot","littleEndian":true,"subbufSize":16384}'));
  out.push(seed(TARGETS.indexOf('buffer_subbuf_size_kb'), 0, 0, '16\n'));
  out.push(seed(0, 0x40 | 2, 5000));
  return out;
}

export const target: FuzzTarget = { name: 'recording', seeds, run };

export default target;
