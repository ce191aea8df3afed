// Fixed cost: CPU and wall time of a consumer from start to exit with no
// load, on a fresh empty instance (4 MiB per CPU, as in the ladder). Tools
// that end by themselves (drain, the C consumer, report) run to their end;
// the others (stream, record, trace-cmd record) get Ctrl-C as soon as they
// read (their start-up and their stop, nothing in between).

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { join } from 'node:path';
import type { Instance, Tracefs } from '../../src/kernel/tracefs.js';
import { checkInterrupted, killGroup, removeInstance, sleep, trackGroup, trackInstance, untrackGroup } from './guard.js';
import { descendants, fdHolders } from './proc.js';
import { withTopLevelSaved } from './toplevel-guard.js';

export interface FixedTool {
  id: string;
  label: string;
  argv(instance: Instance, work: string): string[];
  env?: Record<string, string>;
  /** Runs until Ctrl-C: sent once it reads. */
  untilStopped: boolean;
  /** trace-cmd record: the top level is saved and restored around it. */
  touchesTopLevel?: boolean;
  /** Events enabled on the instance before it starts (for tools that only read). */
}

export interface FixedSample {
  tool: string;
  wallMs: number;
  cpuMs: number;
  /** Until it read (untilStopped tools). */
  readyMs: number | null;
}

async function runTool(tracefs: Tracefs, t: FixedTool, runstat: string, workRoot: string, cpu: number, nice: number, stateDir: string): Promise<FixedSample> {
  const once = async (): Promise<FixedSample> => {
    const work = fs.mkdtempSync(join(workRoot, `fixed-${t.id}-`));
    const instance = trackInstance(tracefs.createUniqueInstance('trbench'));
    let rs: ChildProcess | null = null;
    let pgid: number | null = null;
    try {
      instance.setBufferSizeKb(4096);
      const out = join(work, 'runstat.json');
      const t0 = Date.now();
      rs = spawn(runstat, ['--out', out, '--cpu', String(cpu), '--nice', String(nice), '--stdout', '/dev/null', '--stderr', join(work, 'stderr'), '--max-ms', '60000', '--', ...t.argv(instance, work)], {
        stdio: 'ignore',
        cwd: work,
        env: { ...process.env, ...t.env },
      });
      const exited = new Promise<void>((resolve) => rs!.once('exit', () => resolve()));
      let readyMs: number | null = null;
      if (t.untilStopped) {
        const pipe = instance.file('per_cpu/cpu0/trace_pipe_raw');
        for (;;) {
          checkInterrupted();
          if (rs.exitCode !== null || rs.signalCode !== null) throw new Error(`${t.label} exited early: ${fs.readFileSync(join(work, 'stderr'), 'utf8').slice(-400)}`);
          const tree = descendants(rs.pid!);
          pgid ??= tree.find((p) => p !== rs!.pid) ?? null;
          if (pgid !== null) trackGroup(pgid);
          if (instance.readText('tracing_on').trim() === '1' && instance.readText('set_event').trim() !== '' && fdHolders(pipe, tree).length > 0) break;
          if (Date.now() - t0 > 30_000) throw new Error(`${t.label} did not start reading within 30 s`);
          await sleep(10);
        }
        readyMs = Date.now() - t0;
        rs.kill('SIGINT');
      }
      await exited;
      const r = JSON.parse(fs.readFileSync(out, 'utf8')) as { exit: number; wall_ns: number; user_us: number; sys_us: number };
      if (r.exit !== 0) throw new Error(`${t.label}: exit ${r.exit}: ${fs.readFileSync(join(work, 'stderr'), 'utf8').slice(-400)}`);
      return { tool: t.id, wallMs: r.wall_ns / 1e6, cpuMs: (r.user_us + r.sys_us) / 1000, readyMs };
    } finally {
      if (rs !== null && rs.exitCode === null && rs.signalCode === null) {
        rs.kill('SIGINT');
        await Promise.race([new Promise((r) => rs!.once('exit', r)), sleep(20_000)]);
      }
      if (pgid !== null) {
        killGroup(pgid, 'SIGKILL');
        untrackGroup(pgid);
      }
      removeInstance(instance);
      fs.rmSync(work, { recursive: true, force: true });
    }
  };
  return t.touchesTopLevel ? withTopLevelSaved(tracefs.root, stateDir, `${t.id} (fixed cost)`, once) : once();
}

export async function runFixed(
  tracefs: Tracefs,
  tools: readonly FixedTool[],
  opts: { runstat: string; workRoot: string; cpu: number; nice: number; reps: number; stateDir: string },
): Promise<FixedSample[]> {
  const out: FixedSample[] = [];
  for (let rep = 0; rep < opts.reps; rep++) {
    const shift = rep % tools.length;
    for (const t of [...tools.slice(shift), ...tools.slice(0, shift)]) {
      checkInterrupted();
      out.push(await runTool(tracefs, t, opts.runstat, opts.workRoot, opts.cpu, opts.nice, opts.stateDir));
    }
  }
  return out;
}
