// Report benchmark: typed decoding and kernel text of a large recording,
// each figure beside its peer measured in the same run, as a ratio, with the
// machine's load while it was measured and the spread of its rounds.
//
// Peers and goals (issue 13):
//   - typed decode vs libtraceevent's field parse (bench/c/tepdecode.c,
//     Debian's libtraceevent-dev: installed with apt-get when missing and
//     this runs as root, else that figure is skipped with the reason):
//     >= 10x faster per event, both on top of their own walk of the pages;
//   - kernel text vs `trace-cmd report`, end to end on the same data
//     (restored into trace.dat): >= 10x; in process, beside
//     tep_print_event (the body trace-cmd prints) for information;
//   - fixed cost (an empty twin of the recording) and peak RSS vs
//     trace-cmd report's: <= 1x; the live commands (stream, record) beside
//     the same peer (trace-cmd record/stream are not run: they take the
//     top-level buffer);
//   - where text time goes: each event type's bodies alone, and a profiled
//     text pass sorted into the helpers it spends its time in.
//
// The machine is shared: in-process times are the measuring thread's
// on-CPU time, child processes' their user + system time (bench/c/
// rusage.c; wall time beside it, with peak RSS); rounds are interleaved and
// repeated until their spread is within 4% (or a round limit).
//
// 1. Record (bench/report/record.ts): a private instance (trbench-*, always
//    removed) with sched, irq, timer, workqueue, kmem, raw_syscalls,
//    syscalls, net, sock, tcp, skb, block, ext4, writeback and signal
//    enabled, no overwrite, a buffer sized for every event; bench/c/
//    reportload.c runs until the instance holds TRBENCH_EVENTS events
//    (bounded in time and iterations too). The stats must show nothing
//    overwritten or dropped; writeSnapshot consumes it into a temp dir and
//    must deliver exactly the stats' entries per CPU. trace-cmd restore
//    builds trace.dat from the same per-CPU files.
// 2. Verify (untimed): `tracering report DIR` and `trace-cmd report -i
//    trace.dat` piped here: event lines per CPU in both must equal the
//    kernel's stats entries per CPU; sampled positions of the two timelines
//    must carry the same timestamp (and mostly the same pid and CPU: equal
//    timestamps may be ordered differently); libtraceevent must see every
//    record with a known event type.
// 3. Measure (bench/report/measure.ts in fresh Node processes; tepdecode;
//    the CLIs end to end with output to /dev/null).
//
// Environment: TRBENCH_EVENTS (default 1500000), TRBENCH_ROUNDS (at most,
// default 9), TRBENCH_LOAD_MS (5000, the load generator's time bound),
// TRBENCH_KEEP=1 (keep the temp dir with the recording and trace.dat, and
// print it), TRBENCH_DIR=PATH (measure an existing work dir kept earlier
// instead of recording: PATH/recording, PATH/trace.dat, PATH/empty*).
//
// Output: progress lines, tables, one JSON line. Exit status 1 if a count
// is wrong or anything fails; the goals are reported, not enforced.
//
// Run: npm run bench -- report   (or node --import tsx bench/report.ts;
// the CLI measured is dist/, which `npm run bench` builds first)

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import {
  type ChildCost,
  type Figure,
  LoadMeter,
  benchDir,
  busyShare,
  compileC,
  ensureLibtraceevent,
  envInt,
  figureJson,
  printFigures,
  ratios,
  repeat,
  runCosted,
  runIfMain,
  stat,
  usableTracefs,
} from './lib/common.js';
import { compareSamples, scanCommand, type LineScan } from './report/lines.js';
import { type MeasureMode, type MeasureResult, measure } from './report/measure.js';
import { type BuiltRecording, InterruptedError, buildRecording, removeLiveInstance } from './report/record.js';
import { parseCpuStats } from '../src/kernel/cpu-stats.js';
import { Recording } from '../src/recording/recording.js';

const root = join(benchDir, '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const DECODE_GOAL_RATIO = 10;
const TEXT_GOAL_RATIO = 10;
const TRACE_CMD_FAST_FLAGS = ['-q', '-N'];
/** Bounds: one end-to-end run, one measuring child, the whole suite. */
const E2E_TIMEOUT_MS = 120_000;
const CHILD_TIMEOUT_MS = 5 * 60_000;
const SUITE_BUDGET_S = 90;

let interrupted: string | null = null;
function onSignal(signal: string): void {
  interrupted = signal;
}
function checkInterrupted(): void {
  if (interrupted !== null) throw new Error(`interrupted by ${interrupted}`);
}

interface Config {
  events: number;
  rounds: number;
  loadMs: number;
  keep: boolean;
}

function readConfig(): Config {
  return {
    events: envInt('TRBENCH_EVENTS', 1_500_000, 10_000, 20_000_000),
    rounds: envInt('TRBENCH_ROUNDS', 9, 1, 50),
    loadMs: envInt('TRBENCH_LOAD_MS', 5000, 100, 60_000),
    keep: process.env.TRBENCH_KEEP === '1',
  };
}

function compileLoadgen(): string {
  return compileC(['reportload'] as const).reportload;
}

function traceCmdVersion(): string {
  const r = spawnSync('trace-cmd', ['restore', '-h'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) throw new Error(`trace-cmd is needed for the comparison (apt-get install trace-cmd): ${r.error.message}`);
  return /trace-cmd version (\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? '?';
}

/** Newest modification time under `dir` (files ending in .ts). */
function newestTs(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

function checkDistFresh(): void {
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run npm run build (npm run bench does)`);
  if (fs.statSync(cli).mtimeMs < newestTs(join(root, 'src'))) {
    throw new Error('dist/ is older than src/: run npm run build (npm run bench does) so the CLI measured is the code measured');
  }
}

// --- measuring children ------------------------------------------------------------

const CHILD_FLAG = '--report-measure';
const RESULT_TAG = '@report-result ';

async function child(args: string[]): Promise<void> {
  const [mode, dir, rounds, expected] = args;
  if (mode !== 'decode' && mode !== 'text' && mode !== 'json' && mode !== 'profile') throw new Error(`bad ${CHILD_FLAG} ${args.join(' ')}`);
  const result = await measure(mode, dir!, Number(rounds), Number(expected));
  process.stdout.write(`${RESULT_TAG}${JSON.stringify(result)}\n`);
}

function runMeasureChild(mode: MeasureMode, dir: string, rounds: number, expected: number): MeasureResult {
  const r = spawnSync(
    process.execPath,
    [
      // Profiling: without inlining, self time stays with the helper that spends it (shares, not speed).
      ...(mode === 'profile' ? ['--no-turbo-inlining'] : []),
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      CHILD_FLAG,
      mode,
      dir,
      String(rounds),
      String(expected),
    ],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: CHILD_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 1 << 24 },
  );
  if (r.error) throw new Error(`measure ${mode}: ${r.error.message}`);
  if (r.signal === 'SIGINT' || r.status === 130) interrupted ??= 'SIGINT';
  checkInterrupted();
  if (r.status !== 0) throw new Error(`measure ${mode}: ${r.signal ?? `exit ${r.status}`}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith(RESULT_TAG));
  if (line === undefined) throw new Error(`measure ${mode}: no result in ${JSON.stringify(r.stdout.slice(0, 500))}`);
  return JSON.parse(line.slice(RESULT_TAG.length)) as MeasureResult;
}

// --- end to end ------------------------------------------------------------------

interface E2eCommand {
  name: string;
  cmd: string;
  args: string[];
}

/** One run's cost (wall, CPU, peak RSS), stdout to /dev/null, stderr kept for the error message. */
function costE2e(c: E2eCommand): ChildCost {
  try {
    return runCosted(c.cmd, c.args, E2E_TIMEOUT_MS);
  } catch (error) {
    const signal = (error as Error & { signal?: number }).signal;
    if (signal === 2 || signal === 15) interrupted ??= 'SIGINT';
    checkInterrupted();
    throw new Error(`${c.name}: ${(error as Error).message}`);
  }
}

/** A work dir kept by an earlier run (TRBENCH_KEEP=1): its recording, trace.dat and empty twins. */
function reuseRecording(work: string): BuiltRecording {
  const dir = join(work, 'recording');
  const recording = Recording.open(dir);
  const cpus = [...recording.cpus];
  const statsEntries = cpus.map((cpu) => parseCpuStats(fs.readFileSync(join(dir, `per_cpu/cpu${cpu}/stats`), 'utf8')).entries);
  const raw = cpus.map((cpu) => join(dir, `per_cpu/cpu${cpu}/trace_pipe_raw`));
  for (const f of ['trace.dat', 'empty.dat', 'empty']) if (!fs.existsSync(join(work, f))) throw new Error(`TRBENCH_DIR ${work} has no ${f}`);
  const events = statsEntries.reduce((a, b) => a + b, 0);
  return {
    dir,
    emptyDir: join(work, 'empty'),
    traceDat: join(work, 'trace.dat'),
    emptyDat: join(work, 'empty.dat'),
    cpus,
    statsEntries,
    snapshotEvents: statsEntries,
    events,
    rawBytes: raw.reduce((a, p) => a + fs.statSync(p).size, 0),
    systems: [],
    refused: [],
    load: { iterations: 0, forks: 0, fsyncs: 0, stop: 'reused', elapsed_ns: 0 },
    ms: { setup: 0, load: 0, snapshot: 0, restore: 0 },
  };
}

// --- the libtraceevent peer ------------------------------------------------------

interface TepSeries {
  checksum: string;
  cpuNs: number[];
  wallNs: number[];
}

interface TepResult {
  events: number;
  unknown: number;
  formats: number;
  formatsCpuNs: number;
  walk: TepSeries;
  lean: TepSeries;
  api: TepSeries;
  print: TepSeries;
}

/** tepdecode on the recording, or the reason it cannot run. */
function runTepdecode(rec: BuiltRecording, work: string, rounds: number): TepResult | string {
  const missing = ensureLibtraceevent(console.log);
  if (missing !== null) return missing;
  let bin: string;
  try {
    bin = compileC(['tepdecode'] as const, { tepdecode: ['-ltraceevent'] }).tepdecode;
  } catch (error) {
    return (error as Error).message;
  }
  // tep_parse_kallsyms takes plain text.
  const kallsyms = join(work, 'kallsyms.txt');
  const gz = join(rec.dir, 'kallsyms.gz');
  if (fs.existsSync(gz)) fs.writeFileSync(kallsyms, gunzipSync(fs.readFileSync(gz)));
  const args = ['--dir', rec.dir, '--rounds', String(rounds), '--modes', 'walk,lean,api,print', ...(fs.existsSync(kallsyms) ? ['--kallsyms', kallsyms] : [])];
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: CHILD_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 1 << 22 });
  if (r.signal === 'SIGINT' || r.signal === 'SIGTERM') interrupted ??= r.signal;
  checkInterrupted();
  if (r.error || r.status !== 0) return `tepdecode failed: ${r.error?.message ?? r.signal ?? `exit ${r.status}`}: ${r.stderr.trim().slice(0, 500)}`;
  const t = JSON.parse(r.stdout) as TepResult;
  if (t.events !== rec.events || t.unknown !== 0) throw new Error(`libtraceevent saw ${t.events} records (${t.unknown} of unknown type); the recording holds ${rec.events}`);
  return t;
}

// --- verification -------------------------------------------------------------------

function checkScan(who: string, scan: LineScan, rec: BuiltRecording): void {
  if (scan.signal === 'SIGINT' || scan.signal === 'SIGTERM') {
    interrupted ??= scan.signal;
    checkInterrupted();
  }
  const perCpu = rec.cpus.map((cpu) => scan.perCpu.get(cpu) ?? 0);
  const problems: string[] = [];
  if (scan.status !== 0) problems.push(`exit ${scan.signal ?? scan.status}: ${scan.stderr.trim().slice(0, 500)}`);
  if (scan.events !== rec.events) problems.push(`${scan.events} event lines, the recording holds ${rec.events}`);
  if (perCpu.some((n, i) => n !== rec.statsEntries[i])) {
    problems.push(`per CPU ${perCpu.join('/')}, the kernel's stats ${rec.statsEntries.join('/')}`);
  }
  if (scan.strayCount > 0) problems.push(`${scan.strayCount} lines neither events nor headers, e.g. ${JSON.stringify(scan.strays)}`);
  if (problems.length > 0) throw new Error(`${who}: ${problems.join('; ')}`);
}

// --- the suite -----------------------------------------------------------------------


export async function run(): Promise<void> {
  try {
    await runSuite();
  } catch (error) {
    if (error instanceof InterruptedError) interrupted ??= 'SIGINT';
    if (interrupted === null) throw error;
    console.error(`report: interrupted by ${interrupted}; instance removed`);
    process.exitCode = 130;
  }
}

async function runSuite(): Promise<void> {
  const cfg = readConfig();
  const tracefs = usableTracefs('report');
  if (tracefs === null) return;
  const started = Date.now();
  const tcVersion = traceCmdVersion();
  checkDistFresh();
  const loadgen = compileLoadgen();
  const busy = busyShare(500);
  console.log(
    `report: ${cfg.events} events target, ${cfg.rounds} rounds; ${os.release()}, Node ${process.version}, ` +
      `trace-cmd ${tcVersion}, ${os.cpus()[0]?.model ?? '?'} x${os.availableParallelism()}, ` +
      `${(busy * 100).toFixed(0)}% busy before start`,
  );
  if (busy > 0.1) console.log('report: note: other work is running: figures are on-CPU times and ratios measured in the same rounds; the load is printed beside each');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', removeLiveInstance);
  const reuse = process.env.TRBENCH_DIR;
  const work = reuse ?? fs.mkdtempSync(join(os.tmpdir(), 'trbench-report-'));
  try {
    // 1. Record (or take the recording of an earlier run).
    const mib = (n: number) => (n / 1048576).toFixed(1);
    let rec: BuiltRecording;
    if (reuse !== undefined) {
      rec = reuseRecording(reuse);
      console.log(`recording: reusing ${reuse}: ${rec.events} events (${mib(rec.rawBytes)} MiB of sub-buffers)`);
    } else {
      console.log('recording:');
      rec = await buildRecording({ tracefs, work, target: cfg.events, loadgen, maxLoadMs: cfg.loadMs, log: console.log });
      console.log(
        `  recorded ${rec.events} events (${mib(rec.rawBytes)} MiB of sub-buffers) from ${rec.systems.length} systems; ` +
          `setup ${rec.ms.setup.toFixed(0)} ms, load ${rec.ms.load.toFixed(0)} ms, snapshot ${rec.ms.snapshot.toFixed(0)} ms, ` +
          `trace-cmd restore ${rec.ms.restore.toFixed(0)} ms (trace.dat ${mib(fs.statSync(rec.traceDat).size)} MiB)`,
      );
      if (rec.refused.length > 0) console.log(`  not enabled: ${rec.refused.join(', ')}`);
    }
    checkInterrupted();

    // 2. Verify counts and the timeline on both sides.
    const sampleEvery = Math.max(1, Math.floor(rec.events / 400));
    const ours = await scanCommand(process.execPath, [cli, 'report', rec.dir], {
      timeoutMs: E2E_TIMEOUT_MS,
      sampleEvery,
      header: (l) => l.startsWith('#'),
    });
    checkInterrupted();
    const theirs = await scanCommand('trace-cmd', ['report', '-i', rec.traceDat], {
      timeoutMs: E2E_TIMEOUT_MS,
      sampleEvery,
      header: (l) => /^cpus=\d+$/.test(l),
    });
    checkInterrupted();
    checkScan('tracering report', ours, rec);
    checkScan('trace-cmd report', theirs, rec);
    const cmp = compareSamples(ours.samples, theirs.samples);
    if (cmp.mismatches.length > 0 || cmp.compared < Math.min(100, rec.events / sampleEvery)) {
      throw new Error(`timelines differ at ${cmp.mismatches.length} of ${cmp.compared} sampled positions: ${JSON.stringify(cmp.mismatches.slice(0, 3))}`);
    }
    const tcWarnings = theirs.stderr.trim();
    const example = [...ours.samples.keys()].find((k) => k > 0 && theirs.samples.has(k));
    if (example !== undefined) {
      console.log(`  e.g. event ${example}:\n    tracering: ${ours.samples.get(example)!.line.trim().slice(0, 150)}\n    trace-cmd: ${theirs.samples.get(example)!.line.trim().slice(0, 150)}`);
    }
    console.log(
      `verified: ${rec.events} events = kernel stats entries (${rec.statsEntries.join(' + ')}) = snapshot = ` +
        `tracering report lines = trace-cmd report lines, per CPU; ${cmp.compared} sampled timeline positions: ` +
        `${cmp.identical} same pid/CPU/timestamp, ${cmp.ties} same timestamp (equal-time order), 0 differ` +
        (tcWarnings ? `; trace-cmd stderr: ${JSON.stringify(tcWarnings.slice(0, 300))}` : ''),
    );

    // 3a. The peer in process: libtraceevent's walk, field parse and print.
    const tep = runTepdecode(rec, work, cfg.rounds);
    if (typeof tep === 'string') console.log(`  libtraceevent peer skipped: ${tep}`);
    else console.log(`  libtraceevent: ${tep.events} records, ${tep.formats} formats parsed in ${(tep.formatsCpuNs / 1e6).toFixed(0)} ms CPU`);

    // 3b. In-process measurements, one fresh process each.
    const decode = runMeasureChild('decode', rec.dir, cfg.rounds, rec.events);
    const share = (k: number) => `${((100 * k) / rec.events).toFixed(1)}%`;
    console.log(
      `  mix: ${decode.checks.eventTypes} event types in ${decode.checks.pages} pages (${decode.checks.unknown} records of unknown type); ` +
        `most frequent: ${(decode.mix ?? []).map(([name, k]) => `${name} ${share(k)}`).join(', ')}`,
    );
    const text = runMeasureChild('text', rec.dir, cfg.rounds, rec.events);
    const json = runMeasureChild('json', rec.dir, Math.min(cfg.rounds, 5), rec.events);
    const profile = runMeasureChild('profile', rec.dir, 1, rec.events);
    console.log(`  in-process: ctx load ${text.ctxMs.toFixed(0)} ms CPU; text ${mib(text.checks.chars ?? 0)} Mi chars, JSON ${mib(json.checks.chars ?? 0)} Mi chars`);

    // 3c. End to end, interleaved, repeated until the spread is known.
    const e2e: E2eCommand[] = [
      { name: 'tracering report DIR', cmd: process.execPath, args: [cli, 'report', rec.dir] },
      { name: 'trace-cmd report', cmd: 'trace-cmd', args: ['report', '-i', rec.traceDat] },
      { name: `trace-cmd report ${TRACE_CMD_FAST_FLAGS.join(' ')}`, cmd: 'trace-cmd', args: ['report', ...TRACE_CMD_FAST_FLAGS, '-i', rec.traceDat] },
      { name: 'tracering report, 0 events', cmd: process.execPath, args: [cli, 'report', rec.emptyDir] },
      { name: 'trace-cmd report, 0 events', cmd: 'trace-cmd', args: ['report', ...TRACE_CMD_FAST_FLAGS, '-i', rec.emptyDat] },
    ];
    for (const c of e2e) costE2e(c); // warm-up (page cache, binaries, Node's compile cache)
    const costs = e2e.map((): ChildCost[] => []);
    const e2eRuns = await repeat(
      (r) => {
        const out: Record<string, number> = {};
        for (let k = 0; k < e2e.length; k++) {
          const j = (k + r) % e2e.length;
          const c = costE2e(e2e[j]!);
          costs[j]!.push(c);
          out[`${j}cpu`] = c.cpuNs;
        }
        return out;
      },
      {
        minRounds: Math.min(5, cfg.rounds),
        maxRounds: cfg.rounds,
        spread: 0.04,
        budgetMs: 240_000,
        progress: (r) =>
          console.log(`  end-to-end round ${r}: ${e2e.map((c, j) => `${c.name} ${(costs[j]!.at(-1)!.wallNs / 1e6).toFixed(0)} ms (CPU ${(costs[j]!.at(-1)!.cpuNs / 1e6).toFixed(0)})`).join(', ')}`),
      },
    );
    checkInterrupted();

    // 4. Figures.
    const n = rec.events;
    const series = (m: MeasureResult, key: string) => {
      const xs = m.series[key];
      if (xs === undefined) throw new Error(`no ${key} series from ${m.mode}`);
      return xs;
    };
    const perEv = (xs: readonly number[]) => xs.map((x) => x / n);
    const figures: Figure[] = [];
    const faster = (peer: readonly number[], ours: readonly number[]) => stat(ratios(peer, ours));
    // Typed decode.
    const walk = series(decode, 'walk');
    const decodeOnTop = series(decode, 'decodeOnTop');
    if (typeof tep !== 'string') {
      const tepParse = tep.lean.cpuNs.map((x, i) => x - tep.walk.cpuNs[i]!);
      const tepApi = tep.api.cpuNs.map((x, i) => x - tep.walk.cpuNs[i]!);
      const ratio = faster(perEv(tepParse), perEv(decodeOnTop));
      figures.push(
        {
          what: 'typed decode per event, on top of the walk (CPU)',
          unit: 'ns/ev',
          value: stat(perEv(decodeOnTop)),
          peer: { what: 'libtraceevent field parse (lean)', value: stat(perEv(tepParse)) },
          ratio,
          ratioNote: 'faster',
          goal: { text: `>= ${DECODE_GOAL_RATIO}x faster`, met: ratio.median >= DECODE_GOAL_RATIO },
          load: decode.load,
          rounds: decode.rounds,
        },
        {
          what: '  same, peer through tep_get_field_raw by name',
          unit: 'ns/ev',
          value: stat(perEv(decodeOnTop)),
          peer: { what: 'libtraceevent field parse (API)', value: stat(perEv(tepApi)) },
          ratio: faster(perEv(tepApi), perEv(decodeOnTop)),
          ratioNote: 'faster',
          load: decode.load,
        },
        {
          what: 'walk: read pages + index records (CPU)',
          unit: 'ns/ev',
          value: stat(perEv(walk)),
          peer: { what: 'libtraceevent kbuffer walk (in memory)', value: stat(perEv(tep.walk.cpuNs)) },
          ratio: faster(perEv(tep.walk.cpuNs), perEv(walk)),
          ratioNote: 'faster',
          load: decode.load,
        },
        {
          what: 'walk + typed decode (CPU)',
          unit: 'ns/ev',
          value: stat(perEv(series(decode, 'walkDecode'))),
          peer: { what: 'libtraceevent walk + field parse', value: stat(perEv(tep.lean.cpuNs)) },
          ratio: faster(perEv(tep.lean.cpuNs), perEv(series(decode, 'walkDecode'))),
          ratioNote: 'faster',
          load: decode.load,
        },
      );
    } else {
      figures.push({ what: `typed decode, on top of the walk (CPU; peer skipped: ${tep.slice(0, 80)})`, unit: 'ns/ev', value: stat(perEv(decodeOnTop)), load: decode.load });
    }
    figures.push({ what: '  typed decode of pre-indexed pages (CPU, info)', unit: 'ns/ev', value: stat(perEv(series(decode, 'decodeOnly'))), load: decode.load });
    // Text, in process.
    const textNs = series(text, 'text');
    if (typeof tep !== 'string') {
      figures.push({
        what: 'text in process: walk + merge + line + body (CPU)',
        unit: 'ns/ev',
        value: stat(perEv(textNs)),
        peer: { what: 'libtraceevent walk + tep_print_event(INFO) (body only)', value: stat(perEv(tep.print.cpuNs)) },
        ratio: faster(perEv(tep.print.cpuNs), perEv(textNs)),
        ratioNote: 'faster',
        load: text.load,
        rounds: text.rounds,
      });
    } else figures.push({ what: 'text in process (CPU)', unit: 'ns/ev', value: stat(perEv(textNs)), load: text.load });
    figures.push({ what: '  merge only: walk + timestamp merge (CPU, info)', unit: 'ns/ev', value: stat(perEv(series(text, 'merge'))), load: text.load });
    figures.push({ what: '  JSON Lines in process (CPU, info)', unit: 'ns/ev', value: stat(perEv(series(json, 'json'))), load: json.load });
    // End to end.
    const [cliC, tcDefC, tcFastC, cliEmptyC, tcEmptyC] = costs as [ChildCost[], ChildCost[], ChildCost[], ChildCost[], ChildCost[]];
    const cpu = (cs: ChildCost[]) => cs.map((c) => c.cpuNs);
    const wall = (cs: ChildCost[]) => cs.map((c) => c.wallNs);
    const rss = (cs: ChildCost[]) => cs.map((c) => c.maxRssKb / 1024);
    const tcBestIsFast = stat(cpu(tcFastC)).median <= stat(cpu(tcDefC)).median;
    const tcBest = tcBestIsFast ? tcFastC : tcDefC;
    const tcBestName = `trace-cmd report${tcBestIsFast ? ` ${TRACE_CMD_FAST_FLAGS.join(' ')}` : ''}`;
    const e2eLoad = e2eRuns.load;
    const cpuRatio = faster(cpu(tcBest), cpu(cliC));
    const wallRatio = faster(wall(tcBest), wall(cliC));
    figures.push(
      {
        what: 'report DIR > /dev/null, end to end (CPU)',
        unit: 'ns/ev',
        value: stat(perEv(cpu(cliC))),
        peer: { what: `${tcBestName} (its faster flags)`, value: stat(perEv(cpu(tcBest))) },
        ratio: cpuRatio,
        ratioNote: 'faster',
        goal: { text: `>= ${TEXT_GOAL_RATIO}x faster`, met: cpuRatio.median >= TEXT_GOAL_RATIO },
        load: e2eLoad,
        rounds: e2eRuns.rounds,
      },
      {
        what: 'report DIR > /dev/null, end to end (wall)',
        unit: 'ns/ev',
        value: stat(perEv(wall(cliC))),
        peer: { what: tcBestName, value: stat(perEv(wall(tcBest))) },
        ratio: wallRatio,
        ratioNote: 'faster',
        goal: { text: `>= ${TEXT_GOAL_RATIO}x faster`, met: wallRatio.median >= TEXT_GOAL_RATIO },
        load: e2eLoad,
      },
    );
    const ms = (xs: readonly number[]) => xs.map((x) => x / 1e6);
    const fixedCpu = stat(ratios(cpu(cliEmptyC), cpu(tcEmptyC)));
    const fixedWall = stat(ratios(wall(cliEmptyC), wall(tcEmptyC)));
    const rssRatio = stat(ratios(rss(cliC), rss(tcBest)));
    figures.push(
      {
        what: 'fixed cost: report of the empty twin (CPU)',
        unit: 'ms',
        value: stat(ms(cpu(cliEmptyC))),
        peer: { what: 'trace-cmd report -q -N, empty twin', value: stat(ms(cpu(tcEmptyC))) },
        ratio: fixedCpu,
        ratioNote: 'of peer',
        goal: { text: '<= 1x', met: fixedCpu.median <= 1 },
        load: e2eLoad,
      },
      {
        what: 'fixed cost: report of the empty twin (wall)',
        unit: 'ms',
        value: stat(ms(wall(cliEmptyC))),
        peer: { what: 'trace-cmd report -q -N, empty twin', value: stat(ms(wall(tcEmptyC))) },
        ratio: fixedWall,
        ratioNote: 'of peer',
        goal: { text: '<= 1x', met: fixedWall.median <= 1 },
        load: e2eLoad,
      },
      {
        what: 'peak RSS: report DIR',
        unit: 'MiB',
        value: stat(rss(cliC)),
        peer: { what: `${tcBestName}, same data`, value: stat(rss(tcBest)) },
        ratio: rssRatio,
        ratioNote: 'of peer',
        goal: { text: '<= 1x', met: rssRatio.median <= 1 },
        load: e2eLoad,
      },
      {
        what: 'peak RSS: report of the empty twin',
        unit: 'MiB',
        value: stat(rss(cliEmptyC)),
        peer: { what: 'trace-cmd report -q -N, empty twin', value: stat(rss(tcEmptyC)) },
        ratio: stat(ratios(rss(cliEmptyC), rss(tcEmptyC))),
        ratioNote: 'of peer',
        load: e2eLoad,
      },
    );
    const live = liveFixedCosts(tracefs, cfg.rounds, stat(ms(cpu(tcEmptyC))), stat(rss(tcEmptyC)));
    figures.push(...live);
    const margCli = cpu(cliC).map((x, i) => (x - (cpu(cliEmptyC)[i] ?? 0)) / n);
    const margTc = cpu(tcFastC).map((x, i) => (x - (cpu(tcEmptyC)[i] ?? 0)) / n);
    figures.push({
      what: 'per event beyond the fixed cost (CPU)',
      unit: 'ns/ev',
      value: stat(margCli),
      peer: { what: 'trace-cmd report -q -N', value: stat(margTc) },
      ratio: stat(ratios(margTc, margCli)),
      ratioNote: 'faster',
      load: e2eLoad,
    });
    if (text.coldNs !== undefined) {
      figures.push({
        what: '  first text pass in a fresh process (CPU: formats, print fmts, symbols, JIT)',
        unit: 'ns/ev',
        value: stat([text.coldNs / n]),
        load: text.load,
      });
    }
    printFigures(`report: ${n} events, ${decode.checks.eventTypes} event types (figures with their peers; CPU = on-CPU time, the machine is shared)`, figures);

    // 5. Where text time goes.
    printTypeCosts(text, n);
    console.log('\nprofiled text pass (V8 sampling profiler, inlining off so that time stays with its function), self time by helper:');
    for (const [helper, sh] of profile.helpers ?? []) console.log(`  ${(sh * 100).toFixed(1).padStart(5)}%  ${helper}`);
    if (decode.slotsPerEvent !== undefined) {
      console.log(`\ntyped decode writes ${decode.slotsPerEvent.toFixed(1)} int32 table slots per event (${(stat(perEv(decodeOnTop)).median / decode.slotsPerEvent).toFixed(2)} ns per slot)`);
    }

    const seconds = (Date.now() - started) / 1000;
    console.log(`report: ${seconds.toFixed(1)} s${seconds > SUITE_BUDGET_S ? ` (over the ${SUITE_BUDGET_S} s budget)` : ''}`);
    if (cfg.keep) console.log(`report: kept ${work} (recording/, trace.dat); rerun on it with TRBENCH_DIR=${work}`);
    const summary = {
      suite: 'report',
      kernel: os.release(),
      node: process.version,
      traceCmd: tcVersion,
      events: n,
      eventsPerCpu: rec.statsEntries,
      eventTypes: decode.checks.eventTypes,
      rawMiB: Number(mib(rec.rawBytes)),
      busyBefore: Number(busy.toFixed(2)),
      libtraceevent: typeof tep === 'string' ? { skipped: tep } : { formats: tep.formats, formatsCpuMs: Number((tep.formatsCpuNs / 1e6).toFixed(1)) },
      figures: figures.map(figureJson),
      types: (text.types ?? []).slice(0, 20).map((t) => ({ name: t.name, events: t.events, ns: Number(t.ns.toFixed(1)) })),
      helpers: Object.fromEntries((profile.helpers ?? []).map(([h, v]) => [h, Number(v.toFixed(3))])),
      seconds: Number(seconds.toFixed(1)),
    };
    console.log(JSON.stringify(summary));
  } finally {
    removeLiveInstance();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!cfg.keep && reuse === undefined) fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Each event type's share of the body rendering, and its cost per event. */
function printTypeCosts(text: MeasureResult, n: number): void {
  const types = text.types ?? [];
  const total = types.reduce((a, t) => a + t.ns * t.events, 0);
  console.log(
    `\nevent bodies alone (no line prefix, warm, CPU): ${(total / n).toFixed(0)} ns/event on average over ${types.length} types; the most expensive in total:`,
  );
  console.log(`  ${'event'.padEnd(44)} ${'events'.padStart(8)} ${'ns/ev'.padStart(7)} ${'bytes'.padStart(6)} ${'share'.padStart(6)}`);
  for (const t of types.slice(0, 15)) {
    console.log(
      `  ${t.name.padEnd(44)} ${String(t.events).padStart(8)} ${t.ns.toFixed(0).padStart(7)} ${t.bytes.toFixed(0).padStart(6)} ${`${((100 * t.ns * t.events) / Math.max(1, total)).toFixed(1)}%`.padStart(6)}`,
    );
  }
}

/**
 * stream and record on a private instance for a moment (their fixed cost:
 * start-up, instance set-up, formats, teardown), CPU and peak RSS, beside
 * trace-cmd report's fixed cost (trace-cmd record/stream would take the
 * top-level buffer, so they are not run).
 */
function liveFixedCosts(tracefs: unknown, rounds: number, peerMs: ReturnType<typeof stat>, peerRss: ReturnType<typeof stat>): Figure[] {
  if (tracefs === null) return [];
  const out = join(os.tmpdir(), `trbench-record-${process.pid}.dat`);
  const cmds: E2eCommand[] = [
    { name: 'stream', cmd: process.execPath, args: [cli, 'stream', '-e', 'sched:sched_switch', '--duration', '0.001'] },
    { name: 'record', cmd: process.execPath, args: [cli, 'record', '-q', '-o', out, '-e', 'sched:sched_switch', '--duration', '0.001'] },
  ];
  const results: Figure[] = [];
  try {
    for (const c of cmds) {
      costE2e(c);
      const runs: ChildCost[] = [];
      const meter = new LoadMeter();
      for (let r = 0; r < Math.min(rounds, 5); r++) runs.push(costE2e(c));
      const load = meter.stop();
      const cpuMs = stat(runs.map((x) => x.cpuNs / 1e6));
      const rssMb = stat(runs.map((x) => x.maxRssKb / 1024));
      results.push(
        {
          what: `fixed cost: ${c.name} -e sched:sched_switch, private instance, ~0 s (CPU)`,
          unit: 'ms',
          value: cpuMs,
          peer: { what: 'trace-cmd report -q -N, empty twin (record/stream not run)', value: peerMs },
          ratio: stat([cpuMs.median / peerMs.median]),
          ratioNote: 'of peer',
          goal: { text: '<= 1x', met: cpuMs.median <= peerMs.median },
          load,
        },
        {
          what: `peak RSS: ${c.name}, private instance`,
          unit: 'MiB',
          value: rssMb,
          peer: { what: 'trace-cmd report -q -N, empty twin', value: peerRss },
          ratio: stat([rssMb.median / peerRss.median]),
          ratioNote: 'of peer',
          goal: { text: '<= 1x', met: rssMb.median <= peerRss.median },
          load,
        },
      );
    }
  } finally {
    fs.rmSync(out, { force: true });
  }
  return results;
}

runIfMain(import.meta.url, CHILD_FLAG, child, run, () => interrupted !== null);
