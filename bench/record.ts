// Recording and streaming benchmark (issues 7, 9 and 14): every figure
// beside a peer measured in the same run (trace-cmd, the C consumer, the
// load generator's maximum), as a ratio, with the machine's load beside it
// and the spread over repetitions.
//
// 1. The load: bench/c/syscall-load.c, getppid() in a loop at a target
//    rate (paced by clock_gettime in 1 ms bursts), pinned to the last CPU,
//    bounded in time; the instance's filter `common_pid == <its pid>` keeps
//    only its events (two raw_syscalls events per call). Its maximum is
//    measured first, untraced and traced.
// 2. Max lossless rate: a fresh instance (trbench-*, 4 MiB per CPU) per
//    run; 5 s per rate; rates up to the generator's maximum; each consumer
//    under bench/c/runstat, pinned to the other CPU, stopped with Ctrl-C
//    (SIGINT to its process group). For each run: losses (kernel overrun +
//    dropped + staging, from the tool's summary, checked against the
//    instance's per_cpu stats, or for trace-cmd against the CPUSTAT in its
//    file), events delivered (read back from the output where there is
//    one), consumer CPU from the start of the load to its exit per M events.
//    Consumers: drain --mode mmap|read|auto, stream --json, stream (text),
//    record -o x.dat (v7 none; zstd on Node 24), record -o DIR, record
//    -o x.perfetto-trace and --format parquet when this build has them, and
//    trace-cmd record -B NAME (under bench/c/noftrace-shim.c, which makes
//    the function tracer's files look absent; the top-level settings are
//    saved before and restored after each trace-cmd run, and diffed).
// 3. Stop time (Ctrl-C to a complete file) and file bytes per event, at
//    one rate, tracering record against trace-cmd record (its default zstd,
//    and --compression none).
// 4. tracering report FILE.dat > /dev/null against trace-cmd report, end
//    to end, on the report benchmark's recording (bench/report/record.ts)
//    as trace-cmd restore builds it and as tracering convert writes it.
// 5. Fixed cost: start to exit of drain, stream and record on an empty
//    instance, against the C consumer (bench/c/drain.c) and trace-cmd
//    (record of 0 s; report of a tiny file).
//
// Both sides of every comparison run at the same niceness (TRBENCH_NICE,
// default -10), each in a session and scheduler autogroup of its own at
// that niceness (with sched_autogroup_enabled, nice counts only within a
// session): the machine is shared, and other work would otherwise decide
// the rates. Order: 1, 5, 4, then 2 and 3 (the ladder takes what the time
// budget leaves).
//
// Environment: BENCH_QUICK=1 (2 s per rate, 1 repetition, fewer rates, a
// smaller report file), TRBENCH_SECONDS (5), TRBENCH_REPS (2),
// TRBENCH_RATES (M events/s, comma-separated; "max" = unpaced), TRBENCH_PARTS
// (lossless,stop,report,fixed), TRBENCH_CONSUMERS (ids, comma-separated),
// TRBENCH_NICE (-10), TRBENCH_NODE24=0 (skip Node 24), TRBENCH_REPORT_EVENTS
// (1500000), TRBENCH_BUDGET_MIN (16: ladder runs past it are skipped, and said so),
// TRBENCH_BUFFER_KB (4096 per CPU: smaller finds where each consumer starts
// to lose on a machine whose generator is too slow to make 4 MiB overflow).
//
// Run: npm run bench -- record   (or node --import tsx bench/record.ts)

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Tracefs } from '../src/kernel/tracefs.js';
import { benchDir, compileC, envInt, median, outDir, runIfMain, usableTracefs } from './lib/common.js';
import { type Consumer, consumers as allConsumers } from './record/consumers.js';
import { type FixedSample, type FixedTool, runFixed } from './record/fixed.js';
import {
  InterruptedError,
  checkInterrupted,
  installGuard,
  interrupted,
  onLastResort,
  recoverTopLevel,
  removeDeadBenchInstances,
  removeInstance,
  sleep,
  trackInstance,
} from './record/guard.js';
import { type Failed, rateText, runLadder } from './record/ladder.js';
import type { RunResult } from './record/measure.js';
import { busyBetween, loadAverage, machineSample } from './record/proc.js';
import { type ReportComparison, compareReports } from './record/report-cmp.js';
import { type Cell, cellsOf, ladderOrder, lossText, maxLossless, maxText, printTable, spread } from './record/summary.js';
import { diffTopLevel, saveTopLevel, settingCount } from './record/toplevel.js';
import { restoreLog } from './record/toplevel-guard.js';
import { removeLiveInstance } from './report/record.js';

const root = join(benchDir, '..');
// TRBENCH_CLI: a built copy to measure while the tree is rebuilt (default this tree's dist).
const cli = process.env.TRBENCH_CLI ?? join(root, 'dist', 'cli', 'main.js');
const REPORT_GOAL = 5;
const FIXED_GOAL = 2;
const PARTS = ['lossless', 'stop', 'report', 'fixed'] as const;
type Part = (typeof PARTS)[number];

interface Config {
  quick: boolean;
  seconds: number;
  reps: number;
  rates: number[] | null;
  parts: Set<Part>;
  consumerIds: string[] | null;
  nice: number;
  node24: boolean;
  reportEvents: number;
  reportRounds: number;
  fixedReps: number;
  budgetMin: number;
  loadCpu: number;
  consumerCpu: number;
  bufferKb: number;
}

function readConfig(): Config {
  const quick = process.env.BENCH_QUICK === '1';
  const cpus = os.availableParallelism();
  if (cpus < 2) throw new Error('the recording benchmark needs 2 CPUs: the load on one, the consumer on another');
  const rates = process.env.TRBENCH_RATES
    ? process.env.TRBENCH_RATES.split(',').map((r) => {
        if (r.trim() === 'max') return 0;
        const n = Number(r) * 1e6;
        if (!(n > 0 && n <= 20e6)) throw new RangeError('TRBENCH_RATES: M events/s in (0, 20], or max');
        return n;
      })
    : null;
  const parts = new Set((process.env.TRBENCH_PARTS ?? PARTS.join(',')).split(',') as Part[]);
  for (const p of parts) if (!PARTS.includes(p)) throw new RangeError(`TRBENCH_PARTS: ${PARTS.join(', ')}`);
  return {
    quick,
    seconds: envInt('TRBENCH_SECONDS', quick ? 2 : 5, 1, 60),
    reps: envInt('TRBENCH_REPS', quick ? 1 : 2, 1, 10),
    rates,
    parts,
    consumerIds: process.env.TRBENCH_CONSUMERS ? process.env.TRBENCH_CONSUMERS.split(',') : null,
    nice: envInt('TRBENCH_NICE', -10, -20, 19),
    node24: process.env.TRBENCH_NODE24 !== '0',
    reportEvents: envInt('TRBENCH_REPORT_EVENTS', quick ? 1_000_000 : 1_500_000, 10_000, 20_000_000),
    reportRounds: envInt('TRBENCH_REPORT_ROUNDS', quick ? 1 : 3, 1, 20),
    fixedReps: envInt('TRBENCH_FIXED_REPS', quick ? 2 : 5, 1, 50),
    budgetMin: envInt('TRBENCH_BUDGET_MIN', 16, 1, 240),
    loadCpu: cpus - 1,
    consumerCpu: 0,
    bufferKb: envInt('TRBENCH_BUFFER_KB', 4096, 64, 1 << 20),
  };
}

// --- set-up --------------------------------------------------------------------------

function compileShim(): string {
  const out = join(outDir, 'noftrace-shim.so');
  execFileSync(process.env.CC ?? 'cc', ['-O2', '-Wall', '-shared', '-fPIC', '-o', out, join(benchDir, 'c', 'noftrace-shim.c'), '-ldl'], { stdio: 'pipe' });
  return out;
}

function traceCmdVersion(): string | null {
  const r = spawnSync('trace-cmd', ['restore', '-h'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return null;
  return /trace-cmd version (\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? '?';
}

function checkDistFresh(): void {
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run npm run build (npm run bench does)`);
  let newest = 0;
  for (const e of fs.readdirSync(join(root, 'src'), { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  if (fs.statSync(cli).mtimeMs < newest) throw new Error('dist/ is older than src/: run npm run build (npm run bench does)');
}

/** Node 24's binary through npx (it has zstd in zlib); null with the reason printed. */
function findNode24(): string | null {
  const r = spawnSync('npx', ['-y', 'node@24', '-p', 'process.execPath + " " + typeof require("zlib").zstdCompressSync'], {
    encoding: 'utf8',
    timeout: 180_000,
    cwd: os.tmpdir(),
  });
  const [path, zstd] = (r.stdout ?? '').trim().split('\n').at(-1)?.split(' ') ?? [];
  if (r.status !== 0 || path === undefined || !fs.existsSync(path)) {
    console.log(`record: Node 24 unavailable (npx -y node@24: ${r.error?.message ?? (r.stderr ?? '').trim().slice(-200)}); the zstd record runs are skipped`);
    return null;
  }
  if (zstd !== 'function') {
    console.log(`record: ${path} has no zlib zstd; the zstd record runs are skipped`);
    return null;
  }
  return path;
}

interface LoadMax {
  untraced: number[];
  traced: number[];
}

/** Starts the generator unpaced for 1 s, waiting for "go" on stdin. */
function startGenerator(load: string, cfg: Config): { pid: number; go: () => void; done: Promise<{ syscalls: number; elapsed_ns: number }> } {
  const child = spawn(load, ['--cpu', String(cfg.loadCpu), '--nice', String(cfg.nice), '--rate', '0', '--duration-ms', '1000', '--wait-stdin'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<{ syscalls: number; elapsed_ns: number }>((resolve, reject) => {
    child.once('exit', (code, signal) => {
      if (signal !== null) return reject(new InterruptedError(signal));
      if (code !== 0) return reject(new Error(`syscall-load: exit ${code}`));
      resolve(JSON.parse(out) as { syscalls: number; elapsed_ns: number });
    });
  });
  return { pid: child.pid!, go: () => child.stdin!.end('g'), done };
}

/** The generator unpaced, 1 s each: untraced (syscalls/s), and traced into an instance with no reader (events/s). */
async function generatorMax(tracefs: Tracefs, load: string, cfg: Config): Promise<LoadMax> {
  const result: LoadMax = { untraced: [], traced: [] };
  for (let i = 0; i < 3; i++) {
    checkInterrupted();
    const u = startGenerator(load, cfg);
    u.go();
    const r = await u.done;
    result.untraced.push((r.syscalls * 1e9) / r.elapsed_ns);
    checkInterrupted();
    const instance = trackInstance(tracefs.createUniqueInstance('trbench'));
    try {
      instance.setBufferSizeKb(cfg.bufferKb);
      const g = startGenerator(load, cfg);
      instance.enableEvents(['raw_syscalls']);
      instance.setEventFilter('raw_syscalls', `common_pid == ${g.pid}`);
      instance.clear();
      instance.tracingOn = true;
      g.go();
      const t = await g.done;
      result.traced.push((2 * t.syscalls * 1e9) / t.elapsed_ns);
    } finally {
      removeInstance(instance);
    }
  }
  return result;
}

/** Whether `record` can write this output kind here: a 0.2 s recording of nothing. */
function probeOutput(tracefs: Tracefs, work: string, args: string[]): string | null {
  const instance = trackInstance(tracefs.createUniqueInstance('trbench'));
  try {
    const r = spawnSync(process.execPath, [cli, 'record', '-B', instance.name!, '-e', 'raw_syscalls', '-f', 'common_pid == 0', ...args, '--duration', '0.2', '-q'], {
      encoding: 'utf8',
      timeout: 60_000,
      cwd: work,
    });
    if (r.signal === 'SIGINT' || r.signal === 'SIGTERM') throw new InterruptedError(r.signal);
    if (r.status === 0) return null;
    return (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n')[0]!.replace(/^tracering: /, '');
  } finally {
    removeInstance(instance);
  }
}

/** Runs one part; a failure (not an interruption) is recorded and the suite goes on. */
async function partOrFailure<T>(name: string, failures: Failed[], fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof InterruptedError || interrupted() !== null) throw error;
    const message = (error as Error).message.split('\n').slice(0, 3).join(' | ');
    console.log(`  ${name} FAILED: ${message}`);
    failures.push({ consumer: name, targetRate: -1, error: message });
    return null;
  }
}

// --- the suite -------------------------------------------------------------------------

export async function run(): Promise<void> {
  installGuard();
  onLastResort(removeLiveInstance);
  try {
    await suite();
  } catch (error) {
    if (interrupted() === null && !(error instanceof InterruptedError)) throw error;
    console.error(`record: interrupted by ${interrupted() ?? 'a signal'}; its instances were removed and the top-level settings restored`);
    process.exitCode = 130;
  }
}

interface Row {
  figure: string;
  value: string;
  peer: string;
  peerValue: string;
  ratio: string;
  goal: string;
  verdict: string;
  load: string;
}

async function suite(): Promise<void> {
  const cfg = readConfig();
  const tracefs = usableTracefs('record');
  if (tracefs === null) return;
  const started = Date.now();
  const deadline = { deadline: started + cfg.budgetMin * 60_000 };
  checkDistFresh();
  const bins = compileC(['syscall-load', 'runstat', 'drain', 'reportload'] as const);
  const shim = compileShim();
  const stateDir = outDir;
  const recovered = recoverTopLevel(join(stateDir, 'toplevel-saved.json'));
  if (recovered !== null) console.log(`record: ${recovered}`);
  const dead = removeDeadBenchInstances(tracefs);
  if (dead.length > 0) console.log(`record: removed instances left by killed benchmark runs: ${dead.join(', ')}`);
  const stale = fs.readdirSync(outDir).filter((n) => n.startsWith('record-work-'));
  for (const n of stale) fs.rmSync(join(outDir, n), { recursive: true, force: true });
  if (stale.length > 0) console.log(`record: removed scratch directories left by killed runs: ${stale.join(', ')}`);
  const tcVersion = traceCmdVersion();
  const initialTop = saveTopLevel(tracefs.root);
  const workRoot = fs.mkdtempSync(join(outDir, 'record-work-'));
  const shimLog = join(outDir, 'shim.log');
  fs.rmSync(shimLog, { force: true });
  const m0 = machineSample();
  await sleep(500);
  const busy0 = busyBetween(m0, machineSample());
  console.log(
    `record: ${os.release()}, Node ${process.version}, ${os.cpus()[0]?.model ?? '?'} x${os.availableParallelism()}, ` +
      `trace-cmd ${tcVersion ?? 'absent'}; load on CPU ${cfg.loadCpu}, consumers on CPU ${cfg.consumerCpu}, nice ${cfg.nice}; ` +
      `${cfg.seconds} s per rate, ${cfg.reps} repetition(s), ${cfg.bufferKb / 1024} MiB per CPU; ` +
      `machine ${(busy0 * 100).toFixed(0)}% busy before start, load average ${loadAverage().toFixed(1)}`,
  );
  if (busy0 > 0.1) console.log('record: note: the machine is shared and busy; figures carry that load (shown beside each)');
  const rows: Row[] = [];
  const failures: Failed[] = [];
  let skippedForTime = 0;
  let ladderRuns: RunResult[] = [];
  let stopRuns: RunResult[] = [];
  let rates: number[] = [];
  let genMax: LoadMax | null = null;
  let report: ReportComparison | null = null;
  let fixed: FixedSample[] = [];
  let rate3 = 0;
  let fixedBusy = 0;
  try {
    // 1. the generator's maximum
    genMax = await generatorMax(tracefs, bins['syscall-load'], cfg);
    const tracedMax = median(genMax.traced);
    console.log(
      `\n1. load generator (getppid, pinned to CPU ${cfg.loadCpu}, 1 s each): untraced ${(median(genMax.untraced) / 1e6).toFixed(2)} M syscalls/s ` +
        `(${genMax.untraced.map((x) => (x / 1e6).toFixed(2)).join(', ')}); traced (raw_syscalls, no reader) ${(tracedMax / 1e6).toFixed(2)} M events/s ` +
        `(${genMax.traced.map((x) => (x / 1e6).toFixed(2)).join(', ')})`,
    );
    // Four rungs: the issue's low rates on a slow machine, higher ones where the generator goes further.
    const paced = cfg.quick ? [0.5e6] : tracedMax > 2.4e6 ? [0.5e6, 1e6, 2e6] : [0.25e6, 0.5e6, 1e6];
    rates = cfg.rates ?? [...paced.filter((r) => r < 0.9 * tracedMax), 0];
    rates = ladderOrder(rates);
    rate3 = rates.includes(1e6) ? 1e6 : (rates.filter((r) => r > 0).at(-1) ?? 0);

    // the consumers
    const node24 = cfg.node24 ? findNode24() : null;
    const list = allConsumers({ node: process.execPath, node24, cli, shim, shimLog }).filter(
      (c) => cfg.consumerIds === null || cfg.consumerIds.includes(c.id),
    );
    if (tcVersion === null) for (const c of list) if (c.family === 'trace-cmd') c.unavailable = 'trace-cmd is not installed';
    for (const [id, args] of [
      ['record-perfetto', ['-o', join(workRoot, 'probe.perfetto-trace')]],
      ['record-parquet', ['--format', 'parquet', '-o', join(workRoot, 'probe-pq')]],
    ] as const) {
      const c = list.find((x) => x.id === id);
      if (c !== undefined && !c.unavailable) c.unavailable = probeOutput(tracefs, workRoot, [...args]);
    }
    const top = list.find((x) => x.id === 'top-json');
    if (top !== undefined) {
      const r = spawnSync(process.execPath, [cli, 'top', '--help'], { encoding: 'utf8', timeout: 30_000 });
      if (r.status !== 0 || !/usage: tracering top/.test(r.stdout)) top.unavailable = 'tracering top is not in this build';
    }
    for (const c of list) if (c.unavailable) console.log(`record: skipping ${c.label}: ${c.unavailable}`);
    const extraIds = ['trace-cmd-none', 'record-dat-read', 'top-json'];
    const ladderConsumers = list.filter((c) => !extraIds.includes(c.id));
    const settings = {
      loadCpu: cfg.loadCpu,
      consumerCpu: cfg.consumerCpu,
      bufferKb: cfg.bufferKb,
      seconds: cfg.seconds,
      nice: cfg.nice,
      cpus: os.availableParallelism(),
      workRoot,
      stateDir,
      reps: cfg.reps,
    };

    // Fixed cost and report first: short, and the ladder takes what the time budget leaves.
    // 5. fixed cost
    if (cfg.parts.has('fixed')) {
      console.log('\n5. fixed cost (empty instance, 4 MiB per CPU; start to exit)');
      const mf0 = machineSample();
      fixed = (await partOrFailure('fixed cost', failures, () => fixedCost(tracefs, cfg, bins, shim, shimLog, workRoot, stateDir, tcVersion !== null))) ?? [];
      fixedBusy = busyBetween(mf0, machineSample());
    }
    // 4. report
    if (cfg.parts.has('report') && tcVersion !== null) {
      if (Date.now() > deadline.deadline) {
        console.log('\n4. report: skipped, the time budget is spent (TRBENCH_BUDGET_MIN)');
      } else {
        console.log(`\n4. tracering report vs trace-cmd report (${(cfg.reportEvents / 1e6).toFixed(1)} M events, ${cfg.reportRounds} rounds)`);
        const work = fs.mkdtempSync(join(workRoot, 'report-'));
        const mr0 = machineSample();
        report = await partOrFailure('report', failures, () => compareReports({
          tracefs,
          work,
          events: cfg.reportEvents,
          rounds: cfg.reportRounds,
          loadgen: bins.reportload,
          runstat: bins.runstat,
          node: process.execPath,
          cli,
          cpu: cfg.consumerCpu,
          nice: cfg.nice,
          log: (l) => console.log(l),
        }));
        if (report !== null) (report as ReportComparison & { busy?: number }).busy = busyBetween(mr0, machineSample());
        fs.rmSync(work, { recursive: true, force: true });
      }
    }
    // 2. the ladder
    if (cfg.parts.has('lossless')) {
      console.log(`\n2. max lossless rate: rates ${rates.map(rateText).join(', ')}; ${ladderConsumers.filter((c) => !c.unavailable).length} consumers`);
      const r = await runLadder(tracefs, ladderConsumers, { ...settings, rates }, { load: bins['syscall-load'], runstat: bins.runstat }, deadline);
      ladderRuns = r.runs;
      failures.push(...r.failed);
      skippedForTime += r.skippedForTime;
    }
    // 3. stop time and bytes per event: trace-cmd --compression none at one rate (the ladder has the rest)
    if (cfg.parts.has('stop')) {
      const extras = list.filter((c) => extraIds.includes(c.id) && !c.unavailable);
      const extra = cfg.parts.has('lossless') ? extras : list.filter((c) => c.family === 'record' || c.family === 'trace-cmd');
      console.log(`\n3. stop time and bytes per event at ${rateText(rate3)} (the ladder's runs, and ${extra.map((c) => c.label).join(', ')})`);
      const r = await runLadder(tracefs, extra, { ...settings, rates: [rate3] }, { load: bins['syscall-load'], runstat: bins.runstat }, deadline);
      stopRuns = r.runs;
      failures.push(...r.failed);
      skippedForTime += r.skippedForTime;
    }
  } finally {
    fs.rmSync(workRoot, { recursive: true, force: true });
  }

  // --- the figures ---------------------------------------------------------------------
  const seconds = (Date.now() - started) / 1000;
  console.log(`\n=== figures (${seconds.toFixed(0)} s; the machine is shared: "others" is the share of all CPUs busy with work not ours) ===`);
  if (genMax !== null) {
    rows.push({
      figure: 'load generator maximum, traced (events/s)',
      value: `${(median(genMax.traced) / 1e6).toFixed(2)} M`,
      peer: 'untraced, x2 events per call',
      peerValue: `${((2 * median(genMax.untraced)) / 1e6).toFixed(2)} M`,
      ratio: (median(genMax.traced) / (2 * median(genMax.untraced))).toFixed(2),
      goal: '-',
      verdict: 'limit',
      load: `${genMax.traced.map((x) => (x / 1e6).toFixed(2)).join('/')}`,
    });
  }
  if (ladderRuns.length > 0) ladderFigures(ladderRuns, rates, rows, genMax === null ? null : median(genMax.traced));
  if (stopRuns.length > 0 || ladderRuns.length > 0) stopFigures([...ladderRuns, ...stopRuns], rate3, rows);
  liveViewFigure([...ladderRuns, ...stopRuns], rate3, rows);
  if (fixed.length > 0) fixedFigures(fixed, rows, `machine ${pctText(fixedBusy)} busy`);
  if (report !== null) reportFigures(report, rows);

  // the top level, from the start of the suite to now
  const finalDiff = diffTopLevel(initialTop, saveTopLevel(tracefs.root));
  console.log('\ntop-level settings around trace-cmd (saved before each run, restored after, compared):');
  for (const r of restoreLog) {
    console.log(
      `  ${r.what}: ${r.settings} settings; trace-cmd changed ${r.touched.length}${r.touched.length > 0 ? ` (${r.touched.slice(0, 4).join('; ')})` : ''}; ` +
        `after restore ${r.after.length === 0 ? 'identical' : `DIFFERENT: ${r.after.join('; ')}`}${r.refused.length > 0 ? `; refused: ${r.refused.join('; ')}` : ''}`,
    );
  }
  console.log(
    `  whole suite: ${settingCount(initialTop)} top-level settings (tracing_on, set_event, trace_clock, buffer sizes, current_tracer, ` +
      `set_event_pid, tracing_cpumask, options/*, kptr_restrict, and the filter and trigger of each of ${initialTop.eventsScanned} events) at the start vs the end: ` +
      `${finalDiff.length === 0 ? 'identical' : `DIFFERENT: ${finalDiff.join('; ')}`}`,
  );
  const hits = fs.existsSync(shimLog) ? fs.readFileSync(shimLog, 'utf8').split('\n').filter(Boolean) : [];
  if (hits.length > 0) {
    const kinds = new Map<string, number>();
    for (const h of hits) {
      const [, call, path] = h.split(' ');
      const key = `${call} ${path!.replace(/instances\/[^/]+\//, 'instances/NAME/')}`;
      kinds.set(key, (kinds.get(key) ?? 0) + 1);
    }
    console.log(`LD_PRELOAD shim (bench/c/noftrace-shim.c) answered ENOENT ${hits.length} times: ${[...kinds].map(([k, n]) => `${k} x${n}`).join(', ')}`);
  }
  if (failures.length > 0) {
    console.log('\nfailed runs:');
    for (const f of failures) console.log(`  ${f.consumer}${f.targetRate >= 0 ? ` at ${rateText(f.targetRate)}` : ''}: ${f.error}`);
  }
  if (skippedForTime > 0) console.log(`\n${skippedForTime} runs skipped: the time budget (TRBENCH_BUDGET_MIN=${cfg.budgetMin}) was spent`);
  console.log('\nfinal table:');
  printTable(
    ['figure', 'value', 'peer', 'peer value', 'ratio', 'goal', 'verdict', 'load / spread'],
    rows.map((r) => [r.figure, r.value, r.peer, r.peerValue, r.ratio, r.goal, r.verdict, r.load]),
    1,
  );
  console.log(
    JSON.stringify({
      suite: 'record',
      kernel: os.release(),
      node: process.version,
      seconds: Math.round(seconds),
      nice: cfg.nice,
      rates,
      figures: rows,
      failed: failures,
      topLevelRestored: finalDiff.length === 0 && restoreLog.every((r) => r.after.length === 0),
    }),
  );
  if (finalDiff.length > 0 || restoreLog.some((r) => r.after.length > 0)) {
    console.error('record: the top-level settings were not restored exactly (see above)');
    process.exitCode = 1;
  }
  const disagreements = [...ladderRuns, ...stopRuns].filter((r) => r.checks.length > 0).length + (report?.checks.length ?? 0);
  if (failures.length > 0 || disagreements > 0) {
    console.error(`record: ${failures.length} failed runs, ${disagreements} accounting disagreements (see above); the goals are reported, not enforced`);
    process.exitCode = 1;
  }
}

// --- figures of each part ----------------------------------------------------------------

const pctText = (x: number) => `${(x * 100).toFixed(0)}%`;
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? (a / b).toFixed(2) : '-');

function ladderFigures(runs: RunResult[], rates: number[], rows: Row[], tracedMax: number | null): void {
  const cells = cellsOf(runs);
  const ids = [...cells.keys()];
  const tc = cells.get('trace-cmd');
  console.log('\nlossless ladder: lost (as % of the events generated; 0 = lossless in every repetition) / consumer CPU ms per M events (median, min-max) / machine share busy with others');
  const head = ['consumer', ...rates.map((r) => rateText(r))];
  const body = ids.map((id) => [
    id,
    ...rates.map((r) => {
      const c = cells.get(id)?.get(r);
      if (c === undefined) return '-';
      return `${lossText(c)} / ${spread(c.cpuPerM)} / ${pctText(c.others)}`;
    }),
  ]);
  body.push(['(rate achieved)', ...rates.map((r) => {
    const all = runs.filter((x) => x.targetRate === r).map((x) => x.rate);
    return all.length > 0 ? `${(median(all) / 1e6).toFixed(2)} M/s (${(Math.min(...all) / 1e6).toFixed(2)}-${(Math.max(...all) / 1e6).toFixed(2)})` : '-';
  })]);
  printTable(head, body);
  const checks = runs.filter((r) => r.checks.length > 0);
  if (checks.length > 0) {
    console.log('accounting disagreements (tool vs kernel vs output):');
    for (const r of checks) console.log(`  ${r.consumer} at ${rateText(r.targetRate)}: ${r.checks.join('; ')}`);
  } else {
    console.log('accounting: every run\'s tool summary agrees with the kernel\'s counters and with what its output holds');
  }

  const tcMax = maxLossless(tc, rates);
  const loadAt = (c: Cell | undefined) => (c === undefined ? '-' : `others ${pctText(c.others)}`);
  for (const id of ids) {
    const m = maxLossless(cells.get(id), rates);
    const family = id.startsWith('record') ? 'record' : id.startsWith('stream') ? 'stream' : id.startsWith('drain') ? 'drain' : 'trace-cmd';
    let goal = '-';
    let verdict = '';
    if (family === 'record' && tc !== undefined) {
      goal = '> trace-cmd\'s';
      const rank = (r: number) => (r < 0 ? -1 : r === 0 ? Infinity : r);
      verdict = rank(m) > rank(tcMax) ? 'pass' : rank(m) === rank(tcMax) ? (m === 0 ? 'equal (both at the generator max)' : 'equal: miss') : 'MISS';
    }
    rows.push({
      figure: `max lossless rate: ${id}`,
      value: maxText(m, cells.get(id)),
      peer: id === 'trace-cmd' ? 'the generator (traced, no reader)' : 'trace-cmd record',
      peerValue: id === 'trace-cmd' ? (tracedMax === null ? 'max' : `${(tracedMax / 1e6).toFixed(2)} M/s`) : maxText(tcMax, tc),
      ratio: '-',
      goal,
      verdict,
      load: loadAt(cells.get(id)?.get(m)),
    });
  }
  // record vs trace-cmd per rate: lossless where it is; CPU per event
  for (const id of ids.filter((x) => x.startsWith('record'))) {
    for (const r of rates) {
      const c = cells.get(id)?.get(r);
      const t = tc?.get(r);
      if (c === undefined || t === undefined) continue;
      rows.push({
        figure: `${id} at ${rateText(r)}: CPU ms per M events`,
        value: spread(c.cpuPerM),
        peer: 'trace-cmd record',
        peerValue: spread(t.cpuPerM),
        ratio: ratio(c.cpuPerM.median, t.cpuPerM.median),
        goal: '<= 1',
        verdict: c.cpuPerM.median <= t.cpuPerM.median ? 'pass' : 'MISS',
        load: `lost ${lossText(c)} vs ${lossText(t)}; others ${pctText(c.others)}`,
      });
      if (t.lossless && !c.lossless) {
        rows.push({ figure: `${id} at ${rateText(r)}: lossless where trace-cmd is`, value: `lost ${lossText(c)}`, peer: 'trace-cmd record', peerValue: '0', ratio: '-', goal: 'lossless', verdict: 'MISS', load: `others ${pctText(c.others)}` });
      }
    }
  }
  // stream vs drain: every drain mode that ran; a rate counts where any of them was lossless.
  const drainIds = ['drain-auto', 'drain-read', 'drain-mmap'].filter((x) => cells.has(x));
  const drainDefault = cells.get(drainIds[0] ?? 'drain-auto');
  const drainLossless = (r: number) => drainIds.some((d) => cells.get(d)?.get(r)?.lossless === true);
  for (const id of ids.filter((x) => x.startsWith('stream'))) {
    const misses = rates.filter((r) => drainLossless(r) && cells.get(id)?.get(r)?.lossless === false);
    const none = drainIds.length === 0;
    rows.push({
      figure: `${id}: lossless wherever drain is`,
      value: none ? '-' : misses.length === 0 ? 'yes' : `lost at ${misses.map(rateText).join(', ')}`,
      peer: none ? 'no drain ran' : drainIds.map((d) => d.replace('drain-', 'drain --mode ')).join(', '),
      peerValue: none ? '-' : drainIds.map((d) => maxText(maxLossless(cells.get(d), rates), cells.get(d))).join(', '),
      ratio: '-',
      goal: 'lossless where drain is',
      verdict: none ? '-' : misses.length === 0 ? 'pass' : 'MISS',
      load: misses.map((r) => `${rateText(r)}: lost ${lossText(cells.get(id)?.get(r))}, others ${pctText(cells.get(id)?.get(r)?.others ?? 0)}`).join('; '),
    });
    for (const r of rates) {
      const c = cells.get(id)?.get(r);
      const d = drainDefault?.get(r);
      if (c === undefined || d === undefined) continue;
      rows.push({ figure: `${id} at ${rateText(r)}: CPU ms per M events`, value: spread(c.cpuPerM), peer: (drainIds[0] ?? 'drain-auto').replace('drain-', 'drain --mode '), peerValue: spread(d.cpuPerM), ratio: ratio(c.cpuPerM.median, d.cpuPerM.median), goal: '-', verdict: 'info', load: `others ${pctText(c.others)}` });
    }
  }
  // auto vs the fixed modes
  const [auto, mmap, read] = ['drain-auto', 'drain-mmap', 'drain-read'].map((x) => cells.get(x));
  if (auto !== undefined && mmap !== undefined && read !== undefined) {
    for (const r of rates) {
      const a = auto.get(r);
      const m = mmap.get(r);
      const d = read.get(r);
      if (a === undefined || m === undefined || d === undefined) continue;
      const cheaper = m.cpuPerM.median <= d.cpuPerM.median ? m : d;
      const eitherLossless = m.lossless || d.lossless;
      const within = a.cpuPerM.median <= cheaper.cpuPerM.median || a.cpuPerM.min <= cheaper.cpuPerM.max;
      rows.push({
        figure: `drain --mode auto at ${rateText(r)}: CPU ms per M events`,
        value: spread(a.cpuPerM),
        peer: `cheaper fixed mode (${cheaper.consumer.slice(6)})`,
        peerValue: spread(cheaper.cpuPerM),
        ratio: ratio(a.cpuPerM.median, cheaper.cpuPerM.median),
        goal: '<= 1, lossless if either is',
        verdict: eitherLossless && !a.lossless ? 'MISS (lost)' : a.cpuPerM.median <= cheaper.cpuPerM.median ? 'pass' : within ? 'within spread' : 'MISS',
        load: `lost ${lossText(a)} (mmap ${lossText(m)}, read ${lossText(d)}); others ${pctText(a.others)}`,
      });
    }
  }
}

function stopFigures(runs: RunResult[], rate: number, rows: Row[]): void {
  const cells = cellsOf(runs.filter((r) => r.targetRate === rate));
  const tc = cells.get('trace-cmd')?.get(rate);
  const tcNone = cells.get('trace-cmd-none')?.get(rate);
  console.log(`\nstop time (Ctrl-C to a complete file) and bytes per event at ${rateText(rate)}:`);
  const body: string[][] = [];
  for (const [id, m] of cells) {
    if (!id.startsWith('record') && !id.startsWith('trace-cmd')) continue;
    const c = m.get(rate)!;
    body.push([id, spread(c.stopMs), c.bytesPerEvent?.toFixed(2) ?? '-', `${(median(c.runs.map((r) => r.events)) / 1e6).toFixed(2)} M`, lossText(c), pctText(c.others)]);
  }
  printTable(['consumer', 'stop ms (median, min-max)', 'bytes/event', 'events', 'lost', 'others'], body);
  for (const [id, m] of cells) {
    if (!id.startsWith('record')) continue;
    const c = m.get(rate)!;
    const peer = id === 'record-dat-zstd' || tcNone === undefined ? tc : tcNone;
    const peerName = peer === tc ? 'trace-cmd record (zstd)' : 'trace-cmd record --compression none';
    if (peer === undefined) continue;
    rows.push({ figure: `stop time ms: ${id}`, value: spread(c.stopMs), peer: peerName, peerValue: spread(peer.stopMs), ratio: ratio(c.stopMs.median, peer.stopMs.median), goal: '-', verdict: 'info', load: `others ${pctText(c.others)}` });
    if (c.bytesPerEvent !== null && peer.bytesPerEvent !== null) {
      rows.push({ figure: `file bytes per event: ${id}`, value: c.bytesPerEvent.toFixed(2), peer: peerName, peerValue: peer.bytesPerEvent.toFixed(2), ratio: ratio(c.bytesPerEvent, peer.bytesPerEvent), goal: '-', verdict: 'info', load: '' });
    }
  }
}

/** The live view's own CPU at one rate: top's CPU per second beyond the capture's (drain --mode auto), as a share of a core. */
function liveViewFigure(runs: RunResult[], rate: number, rows: Row[]): void {
  const at = runs.filter((r) => r.targetRate === rate);
  const perSecond = (id: string) => {
    const xs = at.filter((r) => r.consumer === id).map((r) => r.cpuNs / (r.generated / r.rate) / 1e9);
    return xs.length === 0 ? null : { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
  };
  const top = perSecond('top-json');
  const capture = perSecond('drain-auto');
  if (top === null || capture === null) return;
  const extra = top.median - capture.median;
  rows.push({
    figure: `live view (top --json) at ${rateText(rate)}: CPU share of a core`,
    value: `${(top.median * 100).toFixed(1)}%`,
    peer: 'the capture alone (drain --mode auto)',
    peerValue: `${(capture.median * 100).toFixed(1)}%`,
    ratio: `+${(extra * 100).toFixed(1)} points`,
    goal: '<= +2 points',
    verdict: extra <= 0.02 ? 'pass' : 'MISS',
    load: `top ${(top.min * 100).toFixed(1)}-${(top.max * 100).toFixed(1)}%`,
  });
}

function fixedFigures(samples: FixedSample[], rows: Row[], load: string): void {
  const by = new Map<string, FixedSample[]>();
  for (const s of samples) by.set(s.tool, [...(by.get(s.tool) ?? []), s]);
  const stat = (id: string, k: 'cpuMs' | 'wallMs') => {
    const xs = (by.get(id) ?? []).map((s) => s[k]);
    return xs.length === 0 ? null : { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
  };
  console.log('\nfixed cost (start to exit; median, min-max):');
  printTable(
    ['tool', 'CPU ms', 'wall ms', 'until reading ms'],
    [...by.keys()].map((id) => {
      const ready = (by.get(id) ?? []).map((s) => s.readyMs).filter((x): x is number => x !== null);
      return [id, spread(stat(id, 'cpuMs')!), spread(stat(id, 'wallMs')!), ready.length > 0 ? spread({ median: median(ready), min: Math.min(...ready), max: Math.max(...ready) }) : '-'];
    }),
  );
  const add = (id: string, k: 'cpuMs' | 'wallMs', peerId: string, peerName: string, goal: boolean) => {
    const ours = stat(id, k);
    const peer = stat(peerId, k);
    if (ours === null || peer === null) return;
    const r = ours.median / peer.median;
    rows.push({
      figure: `fixed ${k === 'cpuMs' ? 'CPU' : 'wall'} ms: ${id}`,
      value: spread(ours),
      peer: peerName,
      peerValue: spread(peer),
      ratio: r.toFixed(2),
      goal: goal ? `<= ${FIXED_GOAL}` : '-',
      verdict: goal ? (r <= FIXED_GOAL ? 'pass' : 'MISS') : 'info',
      load,
    });
  };
  // trace-cmd record of 0 s is trace-cmd's start-up as a consumer of an instance: the goal's peer.
  for (const id of ['drain', 'stream']) {
    add(id, 'cpuMs', 'trace-cmd-record', 'trace-cmd record (0 s)', true);
    add(id, 'cpuMs', 'trace-cmd-report-tiny', 'trace-cmd report (tiny file)', false);
    add(id, 'cpuMs', 'c-drain', 'C consumer (bench/c/drain.c)', false);
    add(id, 'wallMs', 'trace-cmd-record', 'trace-cmd record (0 s)', false);
  }
  add('record', 'cpuMs', 'trace-cmd-record', 'trace-cmd record (0 s)', false);
  add('record', 'wallMs', 'trace-cmd-record', 'trace-cmd record (0 s)', false);
  add('report-tiny', 'cpuMs', 'trace-cmd-report-tiny', 'trace-cmd report (tiny file)', false);
  add('report-tiny', 'wallMs', 'trace-cmd-report-tiny', 'trace-cmd report (tiny file)', false);
}

function reportFigures(r: ReportComparison, rows: Row[]): void {
  console.log(`\nreport end to end (${(r.events / 1e6).toFixed(2)} M events, output to /dev/null; built in ${(r.buildMs / 1000).toFixed(0)} s):`);
  if (r.checks.length > 0) for (const c of r.checks) console.log(`  CHECK: ${c}`);
  else console.log('  both tools print every event of both files (event lines = the kernel\'s count)');
  const busy = (r as ReportComparison & { busy?: number }).busy ?? 0;
  for (const f of r.files) {
    const pick = (tool: string, k: 'wallMs' | 'cpuMs') => {
      const xs = r.samples.filter((s) => s.file === f.name && s.tool === tool).map((s) => s[k]);
      return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
    };
    const ours = pick('tracering', 'wallMs');
    const theirs = pick('trace-cmd', 'wallMs');
    console.log(`  ${f.name} (${(f.bytes / 1048576).toFixed(1)} MB): tracering ${spread(ours)} ms, trace-cmd ${spread(theirs)} ms wall`);
    rows.push({
      figure: `report ${f.name}: wall ms`,
      value: spread(ours),
      peer: 'trace-cmd report',
      peerValue: spread(theirs),
      ratio: `${(theirs.median / ours.median).toFixed(2)}x faster`,
      goal: `>= ${REPORT_GOAL}x`,
      verdict: theirs.median >= REPORT_GOAL * ours.median ? 'pass' : 'MISS',
      load: `machine ${pctText(busy)} busy`,
    });
    const oc = pick('tracering', 'cpuMs');
    const tcpu = pick('trace-cmd', 'cpuMs');
    rows.push({ figure: `report ${f.name}: CPU ms`, value: spread(oc), peer: 'trace-cmd report', peerValue: spread(tcpu), ratio: `${(tcpu.median / oc.median).toFixed(2)}x less`, goal: '-', verdict: 'info', load: '' });
  }
}

// --- part 5 -------------------------------------------------------------------------------

async function fixedCost(
  tracefs: Tracefs,
  cfg: Config,
  bins: Record<'drain' | 'runstat', string>,
  shim: string,
  shimLog: string,
  workRoot: string,
  stateDir: string,
  haveTraceCmd: boolean,
): Promise<FixedSample[]> {
  const node = process.execPath;
  const ev = ['-e', 'raw_syscalls', '-f', 'common_pid == 0'];
  const tiny = join(workRoot, 'tiny.dat');
  const shimEnv = { LD_PRELOAD: shim, TRBENCH_SHIM_LOG: shimLog };
  const tools: FixedTool[] = [
    { id: 'c-drain', label: 'C consumer', argv: (i) => [bins.drain, '--dir', i.path, '--cpu', String(cfg.loadCpu), '--mode', 'mmap', '--pin', String(cfg.consumerCpu)], untilStopped: false },
    { id: 'drain', label: 'tracering drain', argv: (i) => [node, cli, 'drain', '-B', i.name!, '--json'], untilStopped: false },
    { id: 'stream', label: 'tracering stream', argv: (i) => [node, cli, 'stream', '-B', i.name!, ...ev], untilStopped: true },
    { id: 'record', label: 'tracering record', argv: (i, w) => [node, cli, 'record', '-B', i.name!, ...ev, '-o', join(w, 'x.dat'), '-q'], untilStopped: true },
  ];
  if (haveTraceCmd) {
    // The tiny file trace-cmd report reads: trace-cmd's own record of nothing.
    await runFixed(tracefs, [{ id: 'make-tiny', label: 'trace-cmd record (tiny file)', argv: (i) => ['trace-cmd', 'record', '-B', i.name!, ...ev, '-o', tiny], env: shimEnv, untilStopped: true, touchesTopLevel: true }], {
      runstat: bins.runstat, workRoot, cpu: cfg.consumerCpu, nice: cfg.nice, reps: 1, stateDir,
    });
    tools.push(
      { id: 'trace-cmd-record', label: 'trace-cmd record', argv: (i, w) => ['trace-cmd', 'record', '-B', i.name!, ...ev, '-o', join(w, 'tc.dat')], env: shimEnv, untilStopped: true, touchesTopLevel: true },
      { id: 'trace-cmd-report-tiny', label: 'trace-cmd report (tiny)', argv: () => ['trace-cmd', 'report', '-i', tiny], untilStopped: false },
      { id: 'report-tiny', label: 'tracering report (tiny)', argv: () => [node, cli, 'report', tiny], untilStopped: false },
    );
  }
  const m0 = machineSample();
  const samples = await runFixed(tracefs, tools, { runstat: bins.runstat, workRoot, cpu: cfg.consumerCpu, nice: cfg.nice, reps: cfg.fixedReps, stateDir });
  console.log(`  ${samples.length} runs; machine ${(busyBetween(m0, machineSample()) * 100).toFixed(0)}% busy meanwhile`);
  return samples;
}

runIfMain(import.meta.url, '--record-child', async () => {}, run, () => interrupted() !== null);
