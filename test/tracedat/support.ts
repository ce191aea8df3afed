// Shared pieces of the trace.dat tests: fixture paths, trace-cmd as the
// reference tool, temp directories, and the metadata of a tracefs-like
// directory in the writer's shape.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { TraceDatFinishInfo } from '../../src/tracedat/writer.js';

export const FORMATS = join(import.meta.dirname, '../fixtures/formats');
export const SCHED_TRACEFS = join(import.meta.dirname, '../fixtures/sched/tracefs');
export const fixture = (name: string) => join(FORMATS, name);
export const PAGE = 4096;

/** The raw pages of the fixtures' CPU `cpu`. */
export function rawPages(cpu: number): Buffer {
  return fs.readFileSync(fixture(`sched-cpu${cpu}.raw`));
}

const probe = spawnSync('trace-cmd', ['--version'], { encoding: 'utf8' });
export const haveTraceCmd = probe.status === 0 || /version/.test(`${probe.stdout}${probe.stderr}`);

/** Skip reason for tests that need trace-cmd (never skipped under CI). */
export function traceCmdSkip(): string | false {
  if (haveTraceCmd) return false;
  if (process.env['CI'] === 'true') throw new Error('trace-cmd is required under CI (.ci/run installs it)');
  return 'trace-cmd is not installed';
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function traceCmd(args: string[], cwd?: string): Run {
  const r = spawnSync('trace-cmd', args, { encoding: 'utf8', cwd, maxBuffer: 64 << 20, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** trace-cmd report of `file`; fails the test if it exits non-zero. */
export function report(file: string, extra: string[] = []): Run {
  const r = traceCmd(['report', ...extra, file]);
  if (r.status !== 0) throw new Error(`trace-cmd report ${file} failed (${r.status}): ${r.stderr}`);
  return r;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(join(os.tmpdir(), `tracering-${prefix}-`));
}

/** The metadata of a tracefs-like directory, as TraceDatWriter.finish takes it. */
export function metadataFromDirectory(dir: string, kallsyms: string | null): Omit<TraceDatFinishInfo, 'cpuCount'> {
  const read = (rel: string) => fs.readFileSync(join(dir, rel));
  const optional = (rel: string) => (fs.existsSync(join(dir, rel)) ? read(rel) : null);
  const formatsOf = (system: string) =>
    fs
      .readdirSync(join(dir, 'events', system), { withFileTypes: true })
      .filter((e) => e.isDirectory() && fs.existsSync(join(dir, 'events', system, e.name, 'format')))
      .map((e) => read(`events/${system}/${e.name}/format`));
  const systems = fs
    .readdirSync(join(dir, 'events'), { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== 'ftrace')
    .map((e) => ({ name: e.name, formats: formatsOf(e.name) }));
  return {
    headerPage: read('events/header_page'),
    headerEvent: read('events/header_event'),
    ftraceFormats: formatsOf('ftrace'),
    eventSystems: systems,
    kallsyms: kallsyms === null ? null : fs.readFileSync(kallsyms),
    printk: optional('printk_formats'),
    cmdlines: optional('saved_cmdlines'),
    traceClock: optional('trace_clock'),
  };
}

/**
 * A tracefs-like directory for `trace-cmd restore -c -t DIR`: the sched
 * capture's formats and headers, with saved_cmdlines naming the pids of
 * the fixture pages, and a small kallsyms beside it.
 */
export function makeRestoreDir(): { dir: string; kallsyms: string } {
  const root = tempDir('restore');
  const dir = join(root, 'tracefs');
  fs.cpSync(join(SCHED_TRACEFS, 'events'), join(dir, 'events'), { recursive: true });
  fs.copyFileSync(join(SCHED_TRACEFS, 'printk_formats'), join(dir, 'printk_formats'));
  fs.copyFileSync(join(SCHED_TRACEFS, 'trace_clock'), join(dir, 'trace_clock'));
  fs.writeFileSync(join(dir, 'saved_cmdlines'), '100 worker\n200 tracering\n');
  const kallsyms = join(root, 'kallsyms');
  fs.writeFileSync(kallsyms, 'ffffffff81000000 T _stext\nffffffff814aa7c0 T tracing_mark_write\nffffffff81e00000 T _etext\n');
  return { dir, kallsyms };
}

/** All pages of every CPU of every buffer, concatenated per buffer and CPU. */
export function pagesOf(t: { buffers: readonly { name: string; cpus: readonly { cpu: number }[] }[]; pages(b: string, cpu: number): Iterable<Uint8Array> }): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const b of t.buffers) {
    for (const c of b.cpus) {
      const parts: Buffer[] = [];
      for (const p of t.pages(b.name, c.cpu)) parts.push(Buffer.from(p));
      const all = Buffer.concat(parts);
      if (all.length > 0) out.set(`${b.name}/${c.cpu}`, all);
    }
  }
  return out;
}
