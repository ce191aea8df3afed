// Report benchmark: cost per event of decoding a large recording into typed
// fields and of rendering it as the kernel's text, side by side in the same
// run with `trace-cmd report` (Debian's trace-cmd) on the same data.
// Goals (issue): typed decode at most 10 ns/event; text at least 10x faster
// than trace-cmd report.
//
// 1. Record (bench/report/record.ts): a private instance (trbench-*, always
//    removed) with sched, irq, timer, workqueue, kmem, raw_syscalls,
//    syscalls, net, sock, tcp, skb, block, ext4, writeback and signal
//    enabled, no overwrite, a buffer sized for every event; bench/c/
//    reportload.c (pipe ping-pong with a helper, file I/O with fdatasync,
//    loopback TCP, mmap/munmap, fork+exec, nanosleep, trace_marker and
//    trace_marker_raw) runs until the instance holds TRBENCH_EVENTS events
//    (bounded in time and iterations too). The stats must show nothing
//    overwritten or dropped; writeSnapshot consumes it into a temp dir and
//    must deliver exactly the stats' entries per CPU. trace-cmd restore
//    builds trace.dat from the same per-CPU files.
// 2. Verify (untimed): `tracering report DIR` and `trace-cmd report -i
//    trace.dat` piped here: event lines per CPU in both must equal the
//    kernel's stats entries per CPU; sampled positions of the two timelines
//    must carry the same timestamp (and mostly the same pid and CPU: equal
//    timestamps may be ordered differently).
// 3. Measure, rounds interleaved, medians:
//    - in fresh Node processes (one per mode): walk only (FileCpuReader:
//      reading pages + indexing records), walk + BatchDecoder.decode, decode
//      of pre-indexed in-memory pages; TimelineRenderer text to a discarding
//      sink, the merge alone; JSON Lines (informational);
//    - end to end, output to /dev/null: `node dist/cli/main.js report DIR`
//      (startup, formats, kallsyms...), `trace-cmd report -i trace.dat` with
//      its default flags and with -q -N (quiet, no plugins: its fastest);
//      both tools on an empty twin of the data (fixed cost).
//
// Environment: TRBENCH_EVENTS (default 1500000), TRBENCH_ROUNDS (5),
// TRBENCH_LOAD_MS (5000, the load generator's time bound), TRBENCH_KEEP=1
// (keep the temp dir with the recording and trace.dat, and print it).
//
// Output: progress lines, a table, one JSON line. Exit status 1 if a count
// is wrong or anything fails; the goals are reported, not enforced.
//
// Run: npm run bench -- report   (or node --import tsx bench/report.ts;
// the CLI measured is dist/, which `npm run bench` builds first)

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchDir, busyShare, compileC, envInt, median, runIfMain, usableTracefs } from './lib/common.js';
import { compareSamples, scanCommand, type LineScan } from './report/lines.js';
import { type MeasureMode, type MeasureResult, measure } from './report/measure.js';
import { type BuiltRecording, InterruptedError, buildRecording, removeLiveInstance } from './report/record.js';

const root = join(benchDir, '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const DECODE_GOAL_NS = 10;
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
    rounds: envInt('TRBENCH_ROUNDS', 5, 1, 50),
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
  if (mode !== 'decode' && mode !== 'text' && mode !== 'json') throw new Error(`bad ${CHILD_FLAG} ${args.join(' ')}`);
  const result = measure(mode, dir!, Number(rounds), Number(expected));
  process.stdout.write(`${RESULT_TAG}${JSON.stringify(result)}\n`);
}

function runMeasureChild(mode: MeasureMode, dir: string, rounds: number, expected: number): MeasureResult {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), CHILD_FLAG, mode, dir, String(rounds), String(expected)],
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

/** Wall time of one run, stdout to /dev/null, stderr kept for the error message. */
function timeE2e(c: E2eCommand, devNull: number): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(c.cmd, c.args, { stdio: ['ignore', devNull, 'pipe'], timeout: E2E_TIMEOUT_MS, killSignal: 'SIGKILL', encoding: 'utf8' });
  const ns = Number(process.hrtime.bigint() - t0);
  if (r.signal === 'SIGINT') interrupted ??= 'SIGINT';
  checkInterrupted();
  if (r.error || r.status !== 0) {
    throw new Error(`${c.name}: ${r.error?.message ?? r.signal ?? `exit ${r.status}`}: ${(r.stderr ?? '').trim().slice(0, 1000)}`);
  }
  return ns;
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

interface Row {
  what: string;
  ns: number[];
  events: number;
  note: string;
}

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
  if (busy > 0.1) console.log('report: note: other work is running; expect noisy figures (rerun to confirm)');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', removeLiveInstance);
  const work = fs.mkdtempSync(join(os.tmpdir(), 'trbench-report-'));
  const devNull = fs.openSync('/dev/null', 'w');
  try {
    // 1. Record.
    console.log('recording:');
    const rec = buildRecording({ tracefs, work, target: cfg.events, loadgen, maxLoadMs: cfg.loadMs, log: console.log });
    const mib = (n: number) => (n / 1048576).toFixed(1);
    console.log(
      `  recorded ${rec.events} events (${mib(rec.rawBytes)} MiB of sub-buffers) from ${rec.systems.length} systems; ` +
        `setup ${rec.ms.setup.toFixed(0)} ms, load ${rec.ms.load.toFixed(0)} ms, snapshot ${rec.ms.snapshot.toFixed(0)} ms, ` +
        `trace-cmd restore ${rec.ms.restore.toFixed(0)} ms (trace.dat ${mib(fs.statSync(rec.traceDat).size)} MiB)`,
    );
    if (rec.refused.length > 0) console.log(`  not enabled: ${rec.refused.join(', ')}`);
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

    // 3a. In-process measurements, one fresh process each.
    const decode = runMeasureChild('decode', rec.dir, cfg.rounds, rec.events);
    const share = (k: number) => `${((100 * k) / rec.events).toFixed(1)}%`;
    console.log(
      `  mix: ${decode.checks.eventTypes} event types in ${decode.checks.pages} pages (${decode.checks.unknown} records of unknown type); ` +
        `most frequent: ${(decode.mix ?? []).map(([name, k]) => `${name} ${share(k)}`).join(', ')}`,
    );
    const text = runMeasureChild('text', rec.dir, cfg.rounds, rec.events);
    const json = runMeasureChild('json', rec.dir, Math.min(cfg.rounds, 3), rec.events);
    console.log(`  in-process: ctx load ${text.ctxMs.toFixed(0)} ms; text ${mib(text.checks.chars ?? 0)} Mi chars, JSON ${mib(json.checks.chars ?? 0)} Mi chars`);

    // 3b. End to end, interleaved.
    const e2e: E2eCommand[] = [
      { name: 'tracering report DIR', cmd: process.execPath, args: [cli, 'report', rec.dir] },
      { name: 'trace-cmd report', cmd: 'trace-cmd', args: ['report', '-i', rec.traceDat] },
      { name: `trace-cmd report ${TRACE_CMD_FAST_FLAGS.join(' ')}`, cmd: 'trace-cmd', args: ['report', ...TRACE_CMD_FAST_FLAGS, '-i', rec.traceDat] },
      { name: 'tracering report, 0 events', cmd: process.execPath, args: [cli, 'report', rec.emptyDir] },
      { name: 'trace-cmd report, 0 events', cmd: 'trace-cmd', args: ['report', ...TRACE_CMD_FAST_FLAGS, '-i', rec.emptyDat] },
    ];
    const e2eNs: number[][] = e2e.map(() => []);
    for (const c of e2e) timeE2e(c, devNull); // warm-up (page cache, binaries)
    for (let r = 0; r < cfg.rounds; r++) {
      for (let k = 0; k < e2e.length; k++) {
        const j = (k + r) % e2e.length;
        e2eNs[j]!.push(timeE2e(e2e[j]!, devNull));
      }
      console.log(`  end-to-end round ${r + 1}/${cfg.rounds}: ${e2e.map((c, j) => `${c.name} ${(e2eNs[j]!.at(-1)! / 1e6).toFixed(0)} ms`).join(', ')}`);
    }

    // 4. Results.
    const n = rec.events;
    const s = (m: MeasureResult, key: string) => {
      const xs = m.series[key];
      if (xs === undefined) throw new Error(`no ${key} series from ${m.mode}`);
      return xs;
    };
    const walk = s(decode, 'walk');
    const walkDecode = s(decode, 'walkDecode');
    const decodeOnTop = walkDecode.map((x, i) => x - walk[i]!);
    const perEvent = (xs: number[]) => median(xs) / n;
    const [cliNs, tcDefaultNs, tcFastNs, cliEmptyNs, tcEmptyNs] = e2eNs as [number[], number[], number[], number[], number[]];
    const tcBest = Math.min(perEvent(tcDefaultNs), perEvent(tcFastNs));
    const tcBestFlags = perEvent(tcFastNs) <= perEvent(tcDefaultNs) ? TRACE_CMD_FAST_FLAGS.join(' ') : 'default flags';
    const decodeNs = perEvent(decodeOnTop);
    const textNs = perEvent(s(text, 'text'));
    const cliPerEvent = perEvent(cliNs);
    const ratioText = tcBest / textNs;
    const ratioCli = tcBest / cliPerEvent;
    // Per-event cost beyond startup: each tool against its own empty twin (trace-cmd with the same flags).
    const marginal = (xs: number[], empty: number[]) => (median(xs) - median(empty)) / n;
    const ratioMarginal = marginal(tcFastNs, tcEmptyNs) / marginal(cliNs, cliEmptyNs);
    const x = (r: number) => `${r.toFixed(2)}x`;
    const rows: Row[] = [
      { what: 'tracering walk: read pages + index records', ns: walk, events: n, note: '' },
      { what: 'tracering typed decode, on top of the walk', ns: decodeOnTop, events: n, note: `goal <= ${DECODE_GOAL_NS} ns${decodeNs > DECODE_GOAL_NS ? ' MISSED' : ' met'}` },
      { what: '  walk + BatchDecoder.decode', ns: walkDecode, events: n, note: '' },
      { what: '  decode only (pre-indexed pages in memory)', ns: s(decode, 'decodeOnly'), events: n, note: '' },
      { what: 'tracering merge only (walk + timestamp merge)', ns: s(text, 'merge'), events: n, note: '' },
      { what: 'tracering text: TimelineRenderer -> discard', ns: s(text, 'text'), events: n, note: `trace-cmd / this = ${x(ratioText)}` },
      { what: 'tracering JSON Lines -> discard (info)', ns: s(json, 'json'), events: n, note: '' },
      { what: 'tracering report DIR > /dev/null (CLI)', ns: cliNs, events: n, note: `trace-cmd / this = ${x(ratioCli)} (goal >= ${TEXT_GOAL_RATIO}x${ratioCli < TEXT_GOAL_RATIO ? ' MISSED' : ' met'})` },
      { what: 'trace-cmd report -i trace.dat > /dev/null', ns: tcDefaultNs, events: n, note: '' },
      { what: `trace-cmd report ${TRACE_CMD_FAST_FLAGS.join(' ')} -i trace.dat > /dev/null`, ns: tcFastNs, events: n, note: '' },
    ];
    const fmt = (v: number, d = 1) => v.toFixed(d);
    const head = ['what', 'ns/event', 'Mev/s', 'ms/pass', 'range ns/ev', 'note'];
    const body = rows.map((r) => {
      const m = median(r.ns);
      return [r.what, fmt(m / r.events), fmt((r.events / m) * 1e3, 2), fmt(m / 1e6, 0), `${fmt(Math.min(...r.ns) / r.events)}-${fmt(Math.max(...r.ns) / r.events)}`, r.note];
    });
    body.push(
      ['fixed cost, 0 events: tracering report', '', '', fmt(median(cliEmptyNs) / 1e6, 0), '', 'node startup, formats, kallsyms'],
      [`fixed cost, 0 events: trace-cmd report ${TRACE_CMD_FAST_FLAGS.join(' ')}`, '', '', fmt(median(tcEmptyNs) / 1e6, 0), '', ''],
      ['per event beyond fixed cost: tracering CLI', fmt(marginal(cliNs, cliEmptyNs)), '', '', '', `trace-cmd / this = ${x(ratioMarginal)}`],
      [`per event beyond fixed cost: trace-cmd ${TRACE_CMD_FAST_FLAGS.join(' ')}`, fmt(marginal(tcFastNs, tcEmptyNs)), '', '', '', ''],
    );
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
    const line = (cells: string[]) =>
      cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
    console.log();
    console.log(line(head));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const b of body) console.log(line(b));
    console.log(
      `(${n} events; medians of ${cfg.rounds} rounds (JSON: ${Math.min(cfg.rounds, 3)}); trace-cmd ratios use its faster ` +
        `variant (${tcBestFlags}); "0 events" runs read an empty twin of the same data)`,
    );
    const seconds = (Date.now() - started) / 1000;
    console.log(`report: ${seconds.toFixed(1)} s${seconds > SUITE_BUDGET_S ? ` (over the ${SUITE_BUDGET_S} s budget)` : ''}`);
    if (cfg.keep) console.log(`report: kept ${work} (recording/, trace.dat)`);
    const r2 = (v: number) => Number(v.toFixed(2));
    const summary = {
      suite: 'report',
      kernel: os.release(),
      node: process.version,
      traceCmd: tcVersion,
      traceCmdFlags: tcBestFlags,
      events: n,
      eventsPerCpu: rec.statsEntries,
      eventTypes: decode.checks.eventTypes,
      rawMiB: Number(mib(rec.rawBytes)),
      rounds: cfg.rounds,
      busyBefore: Number(busy.toFixed(2)),
      goals: { decodeNs: DECODE_GOAL_NS, textRatio: TEXT_GOAL_RATIO },
      decodePass: decodeNs <= DECODE_GOAL_NS,
      textPass: ratioCli >= TEXT_GOAL_RATIO,
      nsPerEvent: {
        walk: r2(perEvent(walk)),
        decode: r2(decodeNs),
        walkDecode: r2(perEvent(walkDecode)),
        decodeOnly: r2(perEvent(s(decode, 'decodeOnly'))),
        merge: r2(perEvent(s(text, 'merge'))),
        text: r2(textNs),
        json: r2(perEvent(s(json, 'json'))),
        cli: r2(cliPerEvent),
        traceCmd: r2(perEvent(tcDefaultNs)),
        traceCmdFast: r2(perEvent(tcFastNs)),
      },
      fixedMs: { cli: r2(median(cliEmptyNs) / 1e6), traceCmd: r2(median(tcEmptyNs) / 1e6), ctxLoad: r2(text.ctxMs) },
      ratios: { textInProcess: r2(ratioText), cli: r2(ratioCli), marginal: r2(ratioMarginal) },
      seconds: Number(seconds.toFixed(1)),
    };
    console.log(JSON.stringify(summary));
  } finally {
    fs.closeSync(devNull);
    removeLiveInstance();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!cfg.keep) fs.rmSync(work, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, CHILD_FLAG, child, run, () => interrupted !== null);
