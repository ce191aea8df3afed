// `tracering report FILE.dat > /dev/null` against `trace-cmd report -i
// FILE.dat > /dev/null`, end to end, on the same files: the report
// benchmark's recording (a realistic mix of ~15 event systems) as
// trace-cmd builds it (trace-cmd restore) and as tracering converts it.
// Both tools' event lines are counted once per file (untimed) and must
// equal the kernel's count; then rounds alternate the two tools.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { join } from 'node:path';
import type { Tracefs } from '../../src/kernel/tracefs.js';
import { scanCommand } from '../report/lines.js';
import { buildRecording, removeLiveInstance } from '../report/record.js';
import { checkInterrupted } from './guard.js';

export interface ReportSample {
  file: string;
  tool: 'tracering' | 'trace-cmd';
  wallMs: number;
  cpuMs: number;
}

export interface ReportComparison {
  events: number;
  files: Array<{ name: string; path: string; bytes: number }>;
  samples: ReportSample[];
  checks: string[];
  buildMs: number;
}

function timed(runstat: string, argv: string[], work: string, cpu: number, nice: number): Promise<{ wallMs: number; cpuMs: number }> {
  return new Promise((resolve, reject) => {
    const out = join(work, `rs-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
    const err = join(work, 'report.stderr');
    const child = spawn(runstat, ['--out', out, '--cpu', String(cpu), '--nice', String(nice), '--stdout', '/dev/null', '--stderr', err, '--max-ms', '300000', '--', ...argv], { stdio: 'ignore' });
    child.once('exit', () => {
      try {
        const r = JSON.parse(fs.readFileSync(out, 'utf8')) as { exit: number; signal: number; wall_ns: number; user_us: number; sys_us: number };
        fs.rmSync(out, { force: true });
        if (r.exit !== 0) return reject(new Error(`${argv.join(' ')}: exit ${r.exit} signal ${r.signal}: ${fs.readFileSync(err, 'utf8').slice(-400)}`));
        resolve({ wallMs: r.wall_ns / 1e6, cpuMs: (r.user_us + r.sys_us) / 1000 });
      } catch (error) {
        reject(error);
      }
    });
  });
}

export async function compareReports(opts: {
  tracefs: Tracefs;
  work: string;
  events: number;
  rounds: number;
  loadgen: string;
  runstat: string;
  node: string;
  cli: string;
  cpu: number;
  nice: number;
  log: (line: string) => void;
}): Promise<ReportComparison> {
  const t0 = performance.now();
  let rec;
  try {
    rec = await buildRecording({ tracefs: opts.tracefs, work: opts.work, target: opts.events, loadgen: opts.loadgen, maxLoadMs: 10_000, log: opts.log });
  } finally {
    removeLiveInstance();
  }
  const ours = join(opts.work, 'tracering.dat');
  const conv = await timed(opts.runstat, [opts.node, opts.cli, 'convert', rec.dir, ours, '--compression', 'none'], opts.work, opts.cpu, opts.nice);
  opts.log(`  trace-cmd restore built ${rec.traceDat}; tracering convert wrote ${ours} in ${conv.wallMs.toFixed(0)} ms`);
  const files = [
    { name: 'trace-cmd restore (v7, zstd)', path: rec.traceDat, bytes: fs.statSync(rec.traceDat).size },
    { name: 'tracering convert (v7, none)', path: ours, bytes: fs.statSync(ours).size },
  ];
  const checks: string[] = [];
  for (const f of files) {
    checkInterrupted();
    const a = await scanCommand(opts.node, [opts.cli, 'report', f.path], { timeoutMs: 300_000, sampleEvery: 100_000, header: (l) => l.startsWith('#') || /^cpus=\d+$/.test(l) });
    const b = await scanCommand('trace-cmd', ['report', '-i', f.path], { timeoutMs: 300_000, sampleEvery: 100_000, header: (l) => /^cpus=\d+$/.test(l) });
    for (const [who, s] of [['tracering report', a], ['trace-cmd report', b]] as const) {
      if (s.status !== 0) checks.push(`${who} ${f.name}: exit ${s.signal ?? s.status}: ${s.stderr.slice(-300)}`);
      else if (s.events !== rec.events) checks.push(`${who} ${f.name}: ${s.events} event lines, the recording holds ${rec.events}`);
    }
  }
  const samples: ReportSample[] = [];
  for (let round = 0; round < opts.rounds; round++) {
    for (const f of files) {
      const order: Array<'tracering' | 'trace-cmd'> = round % 2 === 0 ? ['tracering', 'trace-cmd'] : ['trace-cmd', 'tracering'];
      for (const tool of order) {
        checkInterrupted();
        const argv = tool === 'tracering' ? [opts.node, opts.cli, 'report', f.path] : ['trace-cmd', 'report', '-i', f.path];
        const r = await timed(opts.runstat, argv, opts.work, opts.cpu, opts.nice);
        samples.push({ file: f.name, tool, ...r });
      }
    }
  }
  return { events: rec.events, files, samples, checks, buildMs: performance.now() - t0 };
}
