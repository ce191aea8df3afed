// Perfetto benchmark: converting a large mixed recording (bench/report/
// record.ts: a private instance, ~15 event systems, >= 1 M events, no loss)
// to a .perfetto-trace, beside `trace-cmd report` of the same data (the
// same per-CPU pages, restored into trace.dat) in the same run.
// Goal (issue 8): convert at >= 5x trace-cmd report's event rate.
//
// Measured, rounds interleaved, medians:
//   - tracering convert in a fresh Node process per round (RecordingInput +
//     runFileSinks + PerfettoSink to a file on the same filesystem: startup,
//     formats, reading, encoding, writing, fsync, rename);
//   - the same conversion in-process after a warm-up (the steady rate);
//   - trace-cmd report -i trace.dat > /dev/null, default flags and -q -N.
// Also: output bytes per event beside the raw sub-buffers and trace.dat
// (uncompressed; the trace.dat+zstd figure comes from the trace.dat bench),
// and a check that the output holds every event (per-CPU event counts of
// the sink = the kernel's stats entries).
//
// Environment: TRBENCH_EVENTS (default 1200000), TRBENCH_ROUNDS (3),
// TRBENCH_LOAD_MS (5000), TRBENCH_KEEP=1 (keep the temp dir).
// Run: npm run bench -- perfetto

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RecordingInput } from '../src/pipeline/recording-input.js';
import { runFileSinks } from '../src/pipeline/run-file.js';
import { createPerfettoSink } from '../src/sinks/perfetto/index.js';
import { benchDir, busyShare, compileC, envInt, median, runIfMain, usableTracefs } from './lib/common.js';
import { InterruptedError, buildRecording, removeLiveInstance } from './report/record.js';

const GOAL_RATIO = 5;
const TIMEOUT_MS = 300_000;

let interrupted: string | null = null;

interface ConvertResult {
  ms: number;
  bytes: number;
  events: number;
  cpuEvents: Array<[number, number]>;
}

async function convertOnce(dir: string, out: string): Promise<ConvertResult> {
  const t0 = performance.now();
  const input = new RecordingInput(dir, { kallsyms: null });
  const sink = createPerfettoSink(out);
  const [report] = await runFileSinks(input, [sink]);
  input.close();
  return { ms: performance.now() - t0, bytes: report!.bytes, events: report!.events, cpuEvents: [...sink.cpuEvents] };
}

/** The conversion in a fresh Node process, on the built JavaScript (dist/, as the CLI runs it; `npm run bench` builds it). */
function runChild(dir: string, out: string): { wallMs: number; result: ConvertResult } {
  const dist = join(benchDir, '..', 'dist');
  if (!fs.existsSync(join(dist, 'sinks', 'perfetto', 'index.js'))) throw new Error('dist/ has no Perfetto sink: run npm run build (npm run bench does)');
  const url = (rel: string) => JSON.stringify(pathToFileURL(join(dist, rel)).href);
  const code =
    `const { RecordingInput } = await import(${url('pipeline/recording-input.js')});` +
    `const { runFileSinks } = await import(${url('pipeline/run-file.js')});` +
    `const { createPerfettoSink } = await import(${url('sinks/perfetto/index.js')});` +
    `const [dir, out] = process.argv.slice(1); const input = new RecordingInput(dir, { kallsyms: null }); const sink = createPerfettoSink(out);` +
    `const [report] = await runFileSinks(input, [sink]); input.close();` +
    `process.stdout.write(JSON.stringify({ ms: 0, bytes: report.bytes, events: report.events, cpuEvents: [...sink.cpuEvents] }) + "\\n");`;
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code, dir, out], {
    encoding: 'utf8',
    timeout: TIMEOUT_MS,
    killSignal: 'SIGKILL',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const wallMs = performance.now() - t0;
  if (r.signal === 'SIGINT' || r.status === 130) interrupted ??= 'SIGINT';
  if (r.error || r.status !== 0) throw new Error(`convert child: ${r.error?.message ?? r.signal ?? `exit ${r.status}`}`);
  return { wallMs, result: JSON.parse(r.stdout.trim().split('\n').pop()!) as ConvertResult };
}

function timeTraceCmd(args: string[], devNull: number): number {
  const t0 = performance.now();
  const r = spawnSync('trace-cmd', args, { stdio: ['ignore', devNull, 'pipe'], timeout: TIMEOUT_MS, killSignal: 'SIGKILL', encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.signal === 'SIGINT') interrupted ??= 'SIGINT';
  if (r.error || r.status !== 0) throw new Error(`trace-cmd ${args.join(' ')}: ${r.error?.message ?? r.signal ?? `exit ${r.status}`}: ${(r.stderr ?? '').slice(0, 500)}`);
  return ms;
}

export async function run(): Promise<void> {
  const events = envInt('TRBENCH_EVENTS', 1_200_000, 10_000, 20_000_000);
  const rounds = envInt('TRBENCH_ROUNDS', 3, 1, 20);
  const loadMs = envInt('TRBENCH_LOAD_MS', 5000, 100, 60_000);
  const keep = process.env.TRBENCH_KEEP === '1';
  const tracefs = usableTracefs('perfetto');
  if (tracefs === null) return;
  const onSignal = (s: string) => {
    interrupted = s;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', removeLiveInstance);
  const busy = busyShare(500);
  console.log(
    `perfetto: ${events} events target, ${rounds} rounds; ${os.release()}, Node ${process.version}, ${os.cpus()[0]?.model ?? '?'} x${os.availableParallelism()}, ${(busy * 100).toFixed(0)}% busy before start`,
  );
  const loadgen = compileC(['reportload'] as const).reportload;
  const work = fs.mkdtempSync(join(os.tmpdir(), 'trbench-perfetto-'));
  const devNull = fs.openSync('/dev/null', 'w');
  try {
    console.log('recording:');
    const rec = buildRecording({ tracefs, work, target: events, loadgen, maxLoadMs: loadMs, log: console.log });
    const n = rec.events;
    console.log(`  ${n} events from ${rec.systems.length} systems, ${(rec.rawBytes / 1048576).toFixed(1)} MiB of sub-buffers`);
    const out = join(work, 'out.perfetto-trace');

    // Verify once: every event per CPU.
    const first = runChild(rec.dir, out);
    const perCpu = new Map(first.result.cpuEvents);
    const bad = rec.cpus.filter((cpu, i) => perCpu.get(cpu) !== rec.statsEntries[i]);
    if (bad.length > 0 || first.result.events !== n) {
      throw new Error(`output holds ${JSON.stringify(first.result.cpuEvents)}, the kernel's stats ${rec.statsEntries.join('/')}`);
    }
    const outBytes = fs.statSync(out).size;
    console.log(`verified: output events per CPU = kernel stats entries (${rec.statsEntries.join(' + ')})`);

    const childMs: number[] = [];
    const inMs: number[] = [];
    const tcMs: number[] = [];
    const tcFastMs: number[] = [];
    const tcEmptyMs: number[] = [];
    await convertOnce(rec.dir, out); // warm-up of the in-process JIT
    timeTraceCmd(['report', '-i', rec.traceDat], devNull); // page cache
    for (let r = 0; r < rounds; r++) {
      if (interrupted !== null) throw new InterruptedError(interrupted);
      childMs.push(runChild(rec.dir, out).wallMs);
      inMs.push((await convertOnce(rec.dir, out)).ms);
      tcMs.push(timeTraceCmd(['report', '-i', rec.traceDat], devNull));
      tcFastMs.push(timeTraceCmd(['report', '-q', '-N', '-i', rec.traceDat], devNull));
      tcEmptyMs.push(timeTraceCmd(['report', '-q', '-N', '-i', rec.emptyDat], devNull));
      console.log(
        `  round ${r + 1}/${rounds}: convert (new process) ${childMs.at(-1)!.toFixed(0)} ms, in-process ${inMs.at(-1)!.toFixed(0)} ms, ` +
          `trace-cmd report ${tcMs.at(-1)!.toFixed(0)} ms, -q -N ${tcFastMs.at(-1)!.toFixed(0)} ms`,
      );
    }
    const rate = (ms: number[]) => n / (median(ms) / 1000);
    const tcBest = Math.max(rate(tcMs), rate(tcFastMs));
    const rows: Array<[string, number, string]> = [
      ['tracering convert -> .perfetto-trace (new process)', rate(childMs), `${(rate(childMs) / tcBest).toFixed(2)}x trace-cmd report (goal >= ${GOAL_RATIO}x${rate(childMs) / tcBest >= GOAL_RATIO ? ' met' : ' MISSED'})`],
      ['tracering convert, in-process (warm)', rate(inMs), `${(rate(inMs) / tcBest).toFixed(2)}x trace-cmd report`],
      ['trace-cmd report -i trace.dat > /dev/null', rate(tcMs), ''],
      ['trace-cmd report -q -N -i trace.dat > /dev/null', rate(tcFastMs), `(0 events: ${median(tcEmptyMs).toFixed(0)} ms)`],
    ];
    console.log('\nwhat                                                   Mev/s   note');
    for (const [what, r, note] of rows) console.log(`${what.padEnd(54)} ${(r / 1e6).toFixed(2).padStart(6)}   ${note}`);
    const datBytes = fs.statSync(rec.traceDat).size;
    console.log(
      `\nbytes/event: perfetto ${(outBytes / n).toFixed(1)}, raw sub-buffers ${(rec.rawBytes / n).toFixed(1)} ` +
        `(perfetto/raw ${(outBytes / rec.rawBytes).toFixed(2)}x), trace.dat uncompressed ${(datBytes / n).toFixed(1)} (perfetto/trace.dat ${(outBytes / datBytes).toFixed(2)}x)`,
    );
    console.log(
      JSON.stringify({
        suite: 'perfetto',
        events: n,
        convertEventsPerSec: Math.round(rate(childMs)),
        convertInProcessEventsPerSec: Math.round(rate(inMs)),
        traceCmdReportEventsPerSec: Math.round(tcBest),
        ratio: Number((rate(childMs) / tcBest).toFixed(2)),
        perfettoBytesPerEvent: Number((outBytes / n).toFixed(1)),
        rawBytesPerEvent: Number((rec.rawBytes / n).toFixed(1)),
        traceDatBytesPerEvent: Number((datBytes / n).toFixed(1)),
      }),
    );
  } catch (error) {
    if (error instanceof InterruptedError || interrupted !== null) {
      console.error(`perfetto: interrupted; instance removed`);
      process.exitCode = 130;
      return;
    }
    throw error;
  } finally {
    fs.closeSync(devNull);
    if (keep) console.log(`kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, '--no-child', async () => {}, run, () => interrupted !== null);
