// The consumers the recording benchmark measures: how to start each on an
// instance, and how to read what it says it consumed and lost.

import fs from 'node:fs';
import { join } from 'node:path';

export interface RunContext {
  /** Instance name (-B). */
  instance: string;
  /** Kernel filter keeping only the load generator's events. */
  filter: string;
  /** Per-run scratch directory (also the cwd: trace-cmd leaves temp files there). */
  work: string;
  bufferKb: number;
}

export interface ToolSummary {
  events: number;
  /** Overwritten in the kernel buffer (the tool's count). */
  lost: number;
  /** Refused by a full buffer. */
  dropped: number;
  /** Lost in the tool's own staging memory. */
  stagingLost: number;
  /** The reader path the tool reports (mmap/read). */
  mode?: string;
}

export interface Consumer {
  id: string;
  /** What the tables call it. */
  label: string;
  family: 'drain' | 'stream' | 'record' | 'trace-cmd' | 'top';
  /** Program and arguments. */
  argv(ctx: RunContext): string[];
  env?: Record<string, string>;
  /** Its stdout is the data (stream): /dev/null, as the benchmark's name says. */
  discardStdout?: boolean;
  /** The benchmark enables the events itself (drain only reads). */
  presetEvents: boolean;
  /** The output file or directory the consumer writes, if any. */
  output?(ctx: RunContext): string;
  /** What the consumer said it did, from its stdout/stderr; null: it says nothing (the kernel's counters stand in). */
  parse(stdout: string, stderr: string): ToolSummary | null;
  /** Why it cannot run here (null: it can). Set by the suite's probes. */
  unavailable?: string | null;
}

export interface Programs {
  node: string;
  /** Node 24's binary (zstd in zlib), when npx could provide it. */
  node24: string | null;
  cli: string;
  shim: string;
  shimLog: string;
}

function jsonTotal(stdout: string, who: string): ToolSummary {
  const line = stdout.split('\n').reverse().find((l) => l.startsWith('{'));
  if (line === undefined) throw new Error(`${who} printed no JSON summary (stdout: ${JSON.stringify(stdout.slice(0, 300))})`);
  const j = JSON.parse(line) as { mode?: string; total: { events: number; lost: number; dropped: number; stagingLost?: number } };
  return {
    events: j.total.events,
    lost: j.total.lost,
    dropped: j.total.dropped,
    stagingLost: j.total.stagingLost ?? 0,
    ...(j.mode !== undefined ? { mode: j.mode } : {}),
  };
}

/** stream --summary's table on stderr: the "total" row (cpu mode events lost dropped staging-lost bytes). */
function streamSummary(stderr: string): ToolSummary {
  const row = stderr.split('\n').find((l) => l.startsWith('total '));
  if (row === undefined) throw new Error(`stream printed no summary (stderr: ${JSON.stringify(stderr.slice(-500))})`);
  // The mode column may hold spaces ("auto (mmap)"): the five counts are the last columns.
  const m = /^total\s+(.*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(row);
  if (m === null) throw new Error(`stream's summary row is not what the benchmark reads: ${JSON.stringify(row)}`);
  const [, mode, events, lost, dropped, staging] = m;
  return { events: Number(events), lost: Number(lost), dropped: Number(dropped), stagingLost: Number(staging), mode: mode ?? '?' };
}

/** trace-cmd record prints "CPU N: M events lost" per CPU that lost some; events come from the file. */
function traceCmdSummary(stdout: string, stderr: string): ToolSummary {
  let lost = 0;
  for (const m of `${stdout}\n${stderr}`.matchAll(/^CPU (\d+): (\d+) events lost/gm)) lost += Number(m[2]);
  return { events: Number.NaN, lost, dropped: 0, stagingLost: 0, mode: 'splice' };
}

export function consumers(p: Programs): Consumer[] {
  const tr = (node: string, args: (ctx: RunContext) => string[]) => (ctx: RunContext) => [node, p.cli, ...args(ctx)];
  const drain = (mode: string): Consumer => ({
    id: `drain-${mode}`,
    label: `drain --mode ${mode}`,
    family: 'drain',
    presetEvents: true,
    argv: tr(p.node, (c) => ['drain', '-B', c.instance, '--mode', mode, '--duration', '3600', '--json']),
    parse: (out) => jsonTotal(out, 'drain'),
  });
  const events = (c: RunContext) => ['-e', 'raw_syscalls', '-f', c.filter];
  const stream = (json: boolean): Consumer => ({
    id: json ? 'stream-json' : 'stream-text',
    label: json ? 'stream --json >/dev/null' : 'stream (text) >/dev/null',
    family: 'stream',
    presetEvents: false,
    discardStdout: true,
    argv: tr(p.node, (c) => ['stream', '-B', c.instance, ...events(c), ...(json ? ['--json'] : []), '--summary']),
    parse: (_out, err) => streamSummary(err),
  });
  const record = (id: string, label: string, node: string | null, output: (c: RunContext) => string, extra: string[]): Consumer => ({
    id,
    label,
    family: 'record',
    presetEvents: false,
    argv: tr(node ?? p.node, (c) => ['record', '-B', c.instance, ...events(c), '-b', String(c.bufferKb), '-o', output(c), ...extra, '--json']),
    output,
    parse: (out) => jsonTotal(out, 'record'),
    ...(node === null ? { unavailable: 'no Node 24 (TRBENCH_NODE24=0, or npx -y node@24 failed: said above)' } : {}),
  });
  const traceCmd = (id: string, label: string, extra: string[]): Consumer => ({
    id,
    label,
    family: 'trace-cmd',
    presetEvents: false,
    argv: (c) => ['trace-cmd', 'record', '-B', c.instance, ...events(c), '-b', String(c.bufferKb), '-o', join(c.work, 'tc.dat'), ...extra],
    env: { LD_PRELOAD: p.shim, TRBENCH_SHIM_LOG: p.shimLog },
    output: (c) => join(c.work, 'tc.dat'),
    parse: traceCmdSummary,
  });
  return [
    drain('mmap'),
    drain('read'),
    drain('auto'),
    stream(true),
    stream(false),
    record('record-dat', 'record -o x.dat (v7, none)', p.node, (c) => join(c.work, 'x.dat'), ['--compression', 'none']),
    record('record-dat-zstd', 'record -o x.dat (v7, zstd, Node 24)', p.node24, (c) => join(c.work, 'x.dat'), ['--compression', 'zstd']),
    record('record-dir', 'record -o DIR', p.node, (c) => join(c.work, 'rec'), []),
    record('record-dat-read', 'record -o x.dat --mode read (none)', p.node, (c) => join(c.work, 'x.dat'), ['--compression', 'none', '--mode', 'read']),
    record('record-perfetto', 'record -o x.perfetto-trace', p.node, (c) => join(c.work, 'x.perfetto-trace'), []),
    record('record-parquet', 'record --format parquet', p.node, (c) => join(c.work, 'pq'), ['--format', 'parquet']),
    {
      // The live view (issue 9), where this build has it: its CPU on top of the capture's.
      id: 'top-json',
      label: 'top --json >/dev/null (live view)',
      family: 'top',
      presetEvents: false,
      discardStdout: true,
      argv: tr(p.node, (c) => ['top', '-B', c.instance, ...events(c), '--json']),
      parse: () => null,
    },
    traceCmd('trace-cmd', 'trace-cmd record (zstd, its default)', []),
    traceCmd('trace-cmd-none', 'trace-cmd record --compression none', ['--compression', 'none']),
  ];
}

/** Bytes of a file, or of every file under a directory. */
export function outputBytes(path: string): number {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.size;
  let sum = 0;
  for (const e of fs.readdirSync(path, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) sum += fs.statSync(join(e.parentPath, e.name)).size;
  }
  return sum;
}
