// Reading recordings that are not what they should be (src/recording/
// recording.ts, report's reportRecording): the sched capture (raw pages the
// kernel gave, and the kernel's own text of them in expected/) copied to a
// temp dir with one file broken. Each case ends in a coded error, or in a
// render whose every line is the kernel's and whose damage is reported.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { type RecordingReportOptions, reportRecording } from '../../src/cli/commands/report.js';
import { CorruptRecordingError, FileAccessError, MalformedInputError, type TraceringWarning, TracefsNotFoundError } from '../../src/errors.js';
import { Recording } from '../../src/recording/recording.js';
import { FIXTURES } from '../decode/support.js';

const SCHED = path.join(FIXTURES, 'sched', 'tracefs');
const KALLSYMS = path.join(FIXTURES, 'kallsyms.gz');
const EXPECTED = fs.readFileSync(path.join(FIXTURES, 'sched', 'expected', 'trace'), 'utf8');
const EVENT_LINE = /^ +\S.*-\d+ +\[\d{3}\] \S{5} +\d+\.\d{6}: /;

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A copy of a fixture recording. */
function copyOf(src = SCHED): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracering-rec-'));
  dirs.push(dir);
  fs.cpSync(src, dir, { recursive: true });
  return dir;
}

interface Rendered {
  text: string;
  warnings: TraceringWarning[];
  events: number;
}

async function render(dir: string, options: Partial<RecordingReportOptions> = {}): Promise<Rendered> {
  const chunks: Buffer[] = [];
  const warnings: TraceringWarning[] = [];
  const r = await reportRecording(dir, {
    kallsyms: KALLSYMS,
    output: (b) => chunks.push(Buffer.from(b)),
    onWarning: (w) => warnings.push(w),
    ...options,
  });
  return { text: Buffer.concat(chunks).toString('utf8'), warnings, events: r.events };
}

/** Event lines of one CPU, in order. */
function cpuLines(text: string, cpu: number): string[] {
  const tag = `[${String(cpu).padStart(3, '0')}]`;
  return text.split('\n').filter((l) => EVENT_LINE.test(l) && l.includes(tag));
}

async function throwsCode(fn: () => unknown, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(async () => fn(), (error: unknown) => {
    assert.ok(error instanceof Error && 'code' in error, String(error));
    assert.equal((error as { code: string }).code, code, (error as Error).message);
    if (message) assert.match((error as Error).message, message);
    return true;
  });
}

describe('recordings: files that are not what they should be', () => {
  it('the fixture itself renders as the kernel did, with no warning', async () => {
    const r = await render(copyOf());
    assert.equal(r.text, EXPECTED);
    assert.deepEqual(r.warnings, []);
  });

  for (const text of ['null', '[]', '"snapshot"', '42', '{"format":"tracering-snapshot"}', '{"format":"tracering-snapshot","littleEndian":true,"subbufSize":"4096"}', '{"format":"other","littleEndian":true}', '{']) {
    it(`tracering.json ${text}: ERR_MALFORMED_INPUT`, async () => {
      const dir = copyOf();
      fs.writeFileSync(path.join(dir, 'tracering.json'), text);
      assert.throws(() => Recording.open(dir), MalformedInputError);
      await throwsCode(() => render(dir), 'ERR_MALFORMED_INPUT', /tracering\.json/);
    });
  }

  it('a minimal tracering.json is enough', async () => {
    const dir = copyOf();
    fs.writeFileSync(path.join(dir, 'tracering.json'), '{"format":"tracering-snapshot","littleEndian":true}');
    assert.equal((await render(dir)).text, EXPECTED);
  });

  for (const file of ['per_cpu/cpu0/trace_pipe_raw', 'events/header_page', 'events/header_event', 'tracering.json', 'trace_clock', 'per_cpu/cpu1/stats']) {
    it(`${file} is a directory: ERR_FILE_ACCESS (EISDIR)`, async () => {
      const dir = copyOf();
      fs.rmSync(path.join(dir, file), { force: true });
      fs.mkdirSync(path.join(dir, file));
      await assert.rejects(() => render(dir),
        (error: unknown) => {
          assert.ok(error instanceof FileAccessError, String(error));
          assert.equal(error.code, 'ERR_FILE_ACCESS');
          assert.equal(error.errno, 'EISDIR');
          assert.equal(error.path, path.join(dir, file));
          assert.match(error.message, /is a directory/);
          return true;
        },
      );
    });
  }

  it('per_cpu/cpu0 is a file: ERR_FILE_ACCESS (ENOTDIR)', async () => {
    const dir = copyOf();
    fs.rmSync(path.join(dir, 'per_cpu/cpu0'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'per_cpu/cpu0'), 'x');
    await assert.rejects(() => render(dir), (e: unknown) => e instanceof FileAccessError && e.errno === 'ENOTDIR');
  });

  it('a FIFO as trace_pipe_raw is refused, not waited on', async () => {
    const dir = copyOf();
    const fifo = path.join(dir, 'per_cpu/cpu0/trace_pipe_raw');
    fs.rmSync(fifo);
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
    await throwsCode(() => render(dir), 'ERR_MALFORMED_INPUT', /not a regular file/);
  });

  for (const file of ['saved_cmdlines', 'printk_formats', 'options/irq-info', 'events/sched/sched_switch/format', 'kallsyms.gz']) {
    it(`a FIFO as ${file} is refused before anything blocks on it`, async () => {
      const dir = copyOf();
      fs.rmSync(path.join(dir, file), { force: true });
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      assert.equal(spawnSync('mkfifo', [path.join(dir, file)]).status, 0, 'mkfifo');
      await throwsCode(() => render(dir, { kallsyms: undefined }), 'ERR_MALFORMED_INPUT', /is not a regular file/);
    });
  }

  it('saved_cmdlines that is a directory: ERR_FILE_ACCESS, not a render without names', async () => {
    const dir = copyOf();
    fs.rmSync(path.join(dir, 'saved_cmdlines'));
    fs.mkdirSync(path.join(dir, 'saved_cmdlines'));
    await assert.rejects(() => render(dir), (e: unknown) => e instanceof FileAccessError && e.errno === 'EISDIR');
  });

  it('no events/header_page: ERR_TRACEFS_NOT_FOUND', async () => {
    const dir = copyOf();
    fs.rmSync(path.join(dir, 'events/header_page'));
    await assert.rejects(() => render(dir), TracefsNotFoundError);
  });

  it('a header_event with another record encoding: ERR_MALFORMED_INPUT', async () => {
    const dir = copyOf();
    const file = path.join(dir, 'events/header_event');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('type_len    :    5 bits', 'type_len    :    6 bits'));
    await throwsCode(() => render(dir), 'ERR_MALFORMED_INPUT', /type_len|typeLenBits|unexpected line/);
  });
});

describe('recordings: damaged per-CPU data is decoded as far as it goes and reported', () => {
  const expected1 = cpuLines(EXPECTED, 1);
  const expected0 = cpuLines(EXPECTED, 0);

  it('cut inside a sub-buffer: the events before the cut are the kernel\'s, the rest is reported; --strict fails', async () => {
    const dir = copyOf();
    const file = path.join(dir, 'per_cpu/cpu1/trace_pipe_raw');
    fs.truncateSync(file, 10000);
    const r = await render(dir);
    const got1 = cpuLines(r.text, 1);
    assert.ok(got1.length > 0 && got1.length < expected1.length, `${got1.length} of ${expected1.length}`);
    assert.deepEqual(got1, expected1.slice(0, got1.length));
    assert.deepEqual(cpuLines(r.text, 0), expected0);
    const codes = r.warnings.map((w) => w.code);
    assert.ok(codes.includes('TRACERING_TRUNCATED_RECORDING'), JSON.stringify(r.warnings));
    const summary = r.warnings.find((w) => /stats counts 472/.test(w.message));
    assert.ok(summary, JSON.stringify(r.warnings));
    assert.equal(summary.cpu, 1);
    // Every line is whole: the header, then event lines.
    for (const line of r.text.split('\n').slice(0, -1)) assert.ok(line.startsWith('#') || EVENT_LINE.test(line), line);
    await assert.rejects(() => render(dir, { strict: true }), (e: unknown) => e instanceof CorruptRecordingError && e.code === 'ERR_CORRUPT_RECORDING' && /CPU 1/.test(e.message));
  });

  it('cut on a sub-buffer boundary: the stats tell', async () => {
    const dir = copyOf();
    fs.truncateSync(path.join(dir, 'per_cpu/cpu1/trace_pipe_raw'), 8192);
    const r = await render(dir);
    const got1 = cpuLines(r.text, 1);
    assert.deepEqual(got1, expected1.slice(0, got1.length));
    const w = r.warnings.filter((x) => x.cpu === 1);
    assert.equal(w.length, 1, JSON.stringify(r.warnings));
    assert.equal(w[0]!.code, 'TRACERING_TRUNCATED_RECORDING');
    assert.match(w[0]!.message, new RegExp(`${got1.length} events decoded where per_cpu/cpu1/stats counts 472`));
    await assert.rejects(() => render(dir, { strict: true, json: true }), CorruptRecordingError);
  });

  it('an empty file where the stats count events', async () => {
    const dir = copyOf();
    fs.truncateSync(path.join(dir, 'per_cpu/cpu0/trace_pipe_raw'), 0);
    const r = await render(dir);
    assert.deepEqual(cpuLines(r.text, 0), []);
    assert.deepEqual(cpuLines(r.text, 1), expected1);
    assert.match(r.warnings.map((w) => w.message).join('\n'), /0 events decoded where per_cpu\/cpu0\/stats counts 27/);
  });

  it('random bytes: corrupt sub-buffers reported, nothing printed from them, --strict fails', async () => {
    const dir = copyOf();
    let x = 0x12345678;
    const junk = Uint8Array.from({ length: 4 * 4096 }, () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x & 255;
    });
    fs.writeFileSync(path.join(dir, 'per_cpu/cpu0/trace_pipe_raw'), junk);
    const r = await render(dir);
    assert.deepEqual(cpuLines(r.text, 1), expected1);
    const first = r.warnings.find((w) => w.code === 'TRACERING_CORRUPT_SUBBUF' && w.cpu === 0);
    assert.ok(first, JSON.stringify(r.warnings));
    assert.match(first.message, /per_cpu\/cpu0\/trace_pipe_raw: sub-buffer 0 \(byte 0\)/);
    const summary = r.warnings.find((w) => w.cpu === 0 && w.message.startsWith('recording damaged'));
    assert.ok(summary, JSON.stringify(r.warnings));
    assert.match(summary.message, /\d+ corrupt sub-buffers?/);
    for (const line of r.text.split('\n').slice(0, -1)) assert.ok(line.startsWith('#') || EVENT_LINE.test(line), line);
    await assert.rejects(() => render(dir, { strict: true }), CorruptRecordingError);
  });

  it('a missing trace_pipe_raw is reported', async () => {
    const dir = copyOf();
    fs.rmSync(path.join(dir, 'per_cpu/cpu0/trace_pipe_raw'));
    const r = await render(dir);
    assert.deepEqual(cpuLines(r.text, 1), expected1);
    assert.ok(r.warnings.some((w) => w.cpu === 0 && /missing/.test(w.message)), JSON.stringify(r.warnings));
    await assert.rejects(() => render(dir, { strict: true }), CorruptRecordingError);
  });

  it('a corrupt format file: its events print "Unknown type N", each on its own line', async () => {
    const dir = copyOf();
    const file = path.join(dir, 'events/sched/sched_switch/format');
    const id = /^ID: (\d+)$/m.exec(fs.readFileSync(file, 'utf8'))![1];
    fs.writeFileSync(file, `name: sched_switch\nID: ${id}\nformat:\n\tgarbage\n`);
    const r = await render(dir);
    const lines = r.text.split('\n');
    assert.equal(lines.pop(), '');
    const unknown = lines.filter((l) => l.endsWith(`: Unknown type ${id}`));
    const switches = EXPECTED.split('\n').filter((l) => l.includes(' sched_switch: '));
    assert.equal(unknown.length, switches.length);
    // Every other line is the kernel's, in order.
    assert.deepEqual(
      lines.filter((l) => !l.endsWith(`: Unknown type ${id}`)),
      EXPECTED.split('\n').slice(0, -1).filter((l) => !l.includes(' sched_switch: ')),
    );
  });
});
