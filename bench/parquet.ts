// Parquet benchmark: what writing a recording as Parquet costs (rows per
// second, bytes per event), beside, in the same run and on the same data,
// the physical limit (copying the raw sub-buffers: read the recording's
// per-CPU files, write them out) and trace-cmd's compressed trace.dat
// (trace-cmd convert --compression zstd).
//
// 1. Record (bench/report/record.ts): a private instance (trbench-*, always
//    removed) with 15 event systems, bench/c/reportload.c as the load; the
//    kernel's stats must show nothing lost; snapshot + trace.dat.
// 2. Measure, rounds interleaved, medians; no fsync anywhere (page cache):
//    - raw copy of the sub-buffers (the limit);
//    - trace-cmd convert -i trace.dat --compression zstd (a process);
//    - the Parquet sink on the recording as a complete input (convert), per
//      compression (zstd where Node has it, gzip, none);
//    - the Parquet sink on a live-like input (the same pages, 64 per CPU per
//      consume() call, as a capture hands them over), writing in the calling
//      thread and in a worker: time inside consume() ("main ns/ev") is what
//      the capture's thread spends per event.
// 3. Check (untimed): DuckDB counts every event in each output.
//
// Environment: PQBENCH_EVENTS (default 1000000), PQBENCH_ROUNDS (3),
// PQBENCH_LOAD_MS (5000), PQBENCH_KEEP=1 (keep the temp dir).
// Run: npm run bench -- parquet   (or node --import tsx bench/parquet.ts)

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { RecordingInput } from '../src/pipeline/recording-input.js';
import { runFileSinks } from '../src/pipeline/run-file.js';
import { type CompressionName, zstdAvailable } from '../src/sinks/parquet/format/compress.js';
import { createParquetSink } from '../src/sinks/parquet/index.js';
import { PagedInput } from '../test/helpers/paged-input.js';
import { busyShare, compileC, envInt, median, usableTracefs } from './lib/common.js';
import { InterruptedError, buildRecording, removeLiveInstance } from './report/record.js';

interface Sample {
  wallNs: number;
  cpuNs: number;
  bytes: number;
  /** Time inside consume() (live-like input only). */
  consumeNs?: number;
}

interface Measure {
  name: string;
  run: (round: number) => Promise<Sample>;
  samples: Sample[];
}

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n += fs.statSync(join(e.parentPath, e.name)).size;
  return n;
}

async function duckCount(dir: string): Promise<number> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    const r = (await c.runAndReadAll(`select count(*) as n from read_parquet('${dir}/events/**/*.parquet')`)).getRowObjectsJson();
    return Number(r[0]!.n);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

export async function run(): Promise<void> {
  try {
    await suite();
  } catch (error) {
    if (!(error instanceof InterruptedError)) throw error;
    console.error('parquet: interrupted; instance removed');
    process.exitCode = 130;
  }
}

async function suite(): Promise<void> {
  const events = envInt('PQBENCH_EVENTS', 1_000_000, 10_000, 20_000_000);
  const rounds = envInt('PQBENCH_ROUNDS', 3, 1, 20);
  const loadMs = envInt('PQBENCH_LOAD_MS', 5000, 100, 60_000);
  const keep = process.env.PQBENCH_KEEP === '1';
  const tracefs = usableTracefs('parquet');
  if (tracefs === null) return;
  const busy = busyShare(500);
  console.log(
    `parquet: ${events} events target, ${rounds} rounds; ${os.release()}, Node ${process.version}, ` +
      `${os.cpus()[0]?.model ?? '?'} x${os.availableParallelism()}, ${(busy * 100).toFixed(0)}% busy before start`,
  );
  if (busy > 0.1) console.log('parquet: note: other work is running; expect noisy figures (the ratios are of the same run)');
  process.on('exit', removeLiveInstance);
  const work = fs.mkdtempSync(join(os.tmpdir(), 'trbench-parquet-'));
  try {
    const loadgen = compileC(['reportload'] as const).reportload;
    const rec = await buildRecording({ tracefs, work, target: events, loadgen, maxLoadMs: loadMs, log: console.log });
    const n = rec.events;
    console.log(`  recorded ${n} events, ${(rec.rawBytes / 1048576).toFixed(1)} MiB of sub-buffers, ${rec.systems.length} systems`);
    const pagesFiles = rec.cpus.map((cpu) => join(rec.dir, `per_cpu/cpu${cpu}/trace_pipe_raw`));
    const out = (name: string, round: number) => join(work, `${name}-${round}`);
    const codecs: CompressionName[] = [...(zstdAvailable() ? (['zstd'] as const) : []), 'gzip', 'none'];

    const measures: Measure[] = [
      {
        name: 'raw sub-buffers copied (the limit)',
        samples: [],
        run: async (round) => {
          const target = out('raw', round);
          const t0 = process.hrtime.bigint();
          const c0 = cpuNow();
          const fd = fs.openSync(target, 'w');
          let bytes = 0;
          const buf = Buffer.allocUnsafe(1 << 20);
          for (const f of pagesFiles) {
            const src = fs.openSync(f, 'r');
            for (let got = fs.readSync(src, buf, 0, buf.length, null); got > 0; got = fs.readSync(src, buf, 0, buf.length, null)) {
              fs.writeSync(fd, buf, 0, got);
              bytes += got;
            }
            fs.closeSync(src);
          }
          fs.closeSync(fd);
          const s = { wallNs: Number(process.hrtime.bigint() - t0), cpuNs: cpuNow() - c0, bytes };
          fs.rmSync(target);
          return s;
        },
      },
      {
        name: 'trace-cmd convert --compression zstd',
        samples: [],
        run: async (round) => {
          const target = out('tc', round);
          const t0 = process.hrtime.bigint();
          const r = spawnSync('trace-cmd', ['convert', '-i', rec.traceDat, '--compression', 'zstd', '-o', target], { encoding: 'utf8', timeout: 120_000 });
          const wallNs = Number(process.hrtime.bigint() - t0);
          if (r.status !== 0) throw new Error(`trace-cmd convert: ${r.stderr || r.error}`);
          const bytes = fs.statSync(target).size;
          fs.rmSync(target);
          return { wallNs, cpuNs: Number.NaN, bytes };
        },
      },
      ...codecs.map(
        (codec): Measure => ({
          name: `Parquet, complete input (convert), ${codec}`,
          samples: [],
          run: async (round) => {
            const target = out(`pq-${codec}`, round);
            const t0 = process.hrtime.bigint();
            const c0 = cpuNow();
            const [report] = await runFileSinks(new RecordingInput(rec.dir, { kallsyms: null }), [createParquetSink(target, { compression: codec, fsync: false, host: 'bench' })]);
            const s = { wallNs: Number(process.hrtime.bigint() - t0), cpuNs: cpuNow() - c0, bytes: dirBytes(target) };
            if (report!.events !== n) throw new Error(`the sink wrote ${report!.events} of ${n} events`);
            if (round === 0 && (await duckCount(target)) !== n) throw new Error(`DuckDB counts other than ${n} events in ${target}`);
            fs.rmSync(target, { recursive: true, force: true });
            return s;
          },
        }),
      ),
      ...([false, true] as const).map(
        (worker): Measure => ({
          name: `Parquet, live-like input, ${worker ? 'worker' : 'inline'}, ${codecs[0]}`,
          samples: [],
          run: async (round) => {
            const target = out(`pq-live-${worker}`, round);
            const paged = new PagedInput(rec.dir, { step: 64 });
            const sink = createParquetSink(target, { compression: codecs[0], fsync: false, host: 'bench', worker });
            const t0 = process.hrtime.bigint();
            const c0 = cpuNow();
            await sink.open(paged.input);
            let inConsume = 0n;
            while (paged.advance()) {
              const a = process.hrtime.bigint();
              await sink.consume();
              inConsume += process.hrtime.bigint() - a;
            }
            const report = await sink.close(paged.end());
            const s = { wallNs: Number(process.hrtime.bigint() - t0), cpuNs: cpuNow() - c0, bytes: dirBytes(target), consumeNs: Number(inConsume) };
            if (report.events !== n) throw new Error(`the sink wrote ${report.events} of ${n} events`);
            if (round === 0 && (await duckCount(target)) !== n) throw new Error(`DuckDB counts other than ${n} events in ${target}`);
            fs.rmSync(target, { recursive: true, force: true });
            return s;
          },
        }),
      ),
    ];

    await measures[2]!.run(99); // warm-up (JIT, page cache)
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < measures.length; k++) {
        const m = measures[(k + r) % measures.length]!;
        m.samples.push(await m.run(r));
      }
      console.log(`  round ${r + 1}/${rounds}: ${measures.map((m) => `${m.name.split(',')[0]} ${(m.samples.at(-1)!.wallNs / 1e6).toFixed(0)} ms`).join(', ')}`);
    }

    const raw = measures[0]!;
    const rawWall = median(raw.samples.map((s) => s.wallNs));
    const rawBytes = median(raw.samples.map((s) => s.bytes));
    const pad = (s: string, w: number) => s.padEnd(w);
    console.log(`\n${pad('', 58)} ${pad('Mevents/s', 10)} ${pad('x limit', 8)} ${pad('CPU ns/ev', 10)} ${pad('main ns/ev', 11)} ${pad('B/event', 8)} x raw size`);
    const json: Record<string, unknown> = { events: n, rawBytes };
    for (const m of measures) {
      const wall = median(m.samples.map((s) => s.wallNs));
      const cpu = median(m.samples.map((s) => s.cpuNs));
      const bytes = median(m.samples.map((s) => s.bytes));
      const consume = m.samples[0]!.consumeNs === undefined ? Number.NaN : median(m.samples.map((s) => s.consumeNs!));
      console.log(
        `${pad(m.name, 58)} ${pad((n / wall * 1e3).toFixed(2), 10)} ${pad(`${(wall / rawWall).toFixed(1)}x`, 8)} ${pad(Number.isNaN(cpu) ? '-' : (cpu / n).toFixed(0), 10)} ` +
          `${pad(Number.isNaN(consume) ? '-' : (consume / n).toFixed(0), 11)} ${pad((bytes / n).toFixed(2), 8)} ${(bytes / rawBytes).toFixed(3)}`,
      );
      json[m.name] = { eventsPerS: Math.round(n / (wall / 1e9)), slowerThanLimit: wall / rawWall, cpuNsPerEvent: cpu / n, mainNsPerEvent: consume / n, bytesPerEvent: bytes / n, sizeVsRaw: bytes / rawBytes };
    }
    console.log(`\nparquet-json ${JSON.stringify(json)}`);
  } finally {
    if (keep) console.log(`parquet: kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}
