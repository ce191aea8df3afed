// trace.dat micro-benchmarks (each figure beside a peer or a limit
// measured in the same run, as a ratio):
//
//  1. assembly at finish: one CPU spool of N MiB appended into the output
//     with copy_file_range, against a plain read/write copy of the same
//     bytes, and a memcpy of N MiB as the memory-bandwidth ceiling; then
//     TraceDatWriter.finish() on N MiB of pages both ways.
//  2. reading: pages of a large v7 file through TraceDat.pages() and as
//     record batches, against reading the same bytes with fs.readSync.
//  3. zstd chunk decompression: Node's zlib (where present) against fzstd.
//
// Settings: TRACEDAT_BENCH_MB (default 256) sizes the files.

import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { decompress as fzstdDecompress } from 'fzstd';
import { copyRange } from '../src/tracedat/file-io.js';
import { TraceDat, TraceDatWriter, zstdCanCompress } from '../src/tracedat/index.js';
import { envInt, median } from './lib/common.js';

const PAGE = 4096;
const fixtures = join(import.meta.dirname, '../test/fixtures/formats');

function mbps(bytes: number, ms: number): number {
  return bytes / (1 << 20) / (ms / 1000);
}

function timeBest(runs: number, fn: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

function line(label: string, value: string, ratio: string): void {
  console.log(`  ${label.padEnd(52)} ${value.padStart(14)}   ${ratio}`);
}

/** N MiB of the fixture pages, repeated. */
function makeSpool(path: string, mib: number): void {
  const pages = Buffer.concat([fs.readFileSync(join(fixtures, 'sched-cpu0.raw')), fs.readFileSync(join(fixtures, 'sched-cpu1.raw'))]);
  const block = Buffer.alloc(1 << 20);
  for (let at = 0; at < block.length; at += pages.length) pages.copy(block, at, 0, Math.min(pages.length, block.length - at));
  const fd = fs.openSync(path, 'w');
  for (let i = 0; i < mib; i++) fs.writeSync(fd, block);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

function metadata() {
  using dat = TraceDat.open(join(fixtures, 'sched-v7-none.dat'));
  const m = dat.metadata;
  return { headerPage: m.headerPage!, headerEvent: m.headerEvent!, ftraceFormats: m.ftraceFormats, eventSystems: m.eventSystems, cmdlines: m.cmdlines, cpuCount: 2 };
}

export async function run(): Promise<void> {
  const mib = envInt('TRACEDAT_BENCH_MB', 256, 1, 16384);
  const dir = fs.mkdtempSync(join(os.tmpdir(), 'tracering-bench-tracedat-'));
  try {
    const bytes = mib << 20;
    console.log(`tracedat: ${mib} MiB in ${dir}`);
    const spool = join(dir, 'spool');
    makeSpool(spool, mib);

    console.log('1. assembly (spool appended page-aligned into the output), wall and CPU time');
    const a = Buffer.alloc(Math.min(bytes, 256 << 20), 1);
    const b = Buffer.alloc(a.length);
    const memcpy = timeBest(5, () => a.copy(b)) * (bytes / a.length);
    for (const where of [dir, ...(fs.existsSync('/dev/shm') ? [fs.mkdtempSync('/dev/shm/tracering-bench-')] : [])]) {
      const src = join(where, 'spool-copy');
      if (where !== dir) fs.copyFileSync(spool, src);
      const inFd = fs.openSync(where === dir ? spool : src, 'r');
      const outPath = join(where, 'out');
      let cpu = 0;
      const copyOnce = (useRange: boolean) => {
        const outFd = fs.openSync(outPath, 'w');
        const before = process.cpuUsage();
        try {
          copyRange(inFd, 0, outFd, PAGE, bytes, undefined, useRange);
        } finally {
          const used = process.cpuUsage(before);
          cpu = (used.user + used.system) / 1000;
          fs.closeSync(outFd);
        }
      };
      copyOnce(true); // warm the page cache
      let rangedCpu = 0;
      let plainCpu = 0;
      const ranged = timeBest(5, () => {
        copyOnce(true);
        rangedCpu += cpu / 5;
      });
      const plain = timeBest(5, () => {
        copyOnce(false);
        plainCpu += cpu / 5;
      });
      fs.closeSync(inFd);
      const type = where.startsWith('/dev/shm') ? 'tmpfs' : 'output dir fs';
      line(`[${type}] copy_file_range`, `${mbps(bytes, ranged).toFixed(0)} MB/s`, `${(plain / ranged).toFixed(2)}x read/write; CPU ${rangedCpu.toFixed(0)} ms (${(plainCpu / Math.max(rangedCpu, 0.001)).toFixed(2)}x less)`);
      line(`[${type}] read/write (1 MiB buffer)`, `${mbps(bytes, plain).toFixed(0)} MB/s`, `1.00x; CPU ${plainCpu.toFixed(0)} ms`);
      if (where !== dir) fs.rmSync(where, { recursive: true, force: true });
    }
    line('memcpy (memory bandwidth)', `${mbps(bytes, memcpy).toFixed(0)} MB/s`, 'the ceiling for any copy that moves bytes');

    const finish = (useRange: boolean) => {
      const out = join(dir, `finish-${useRange}.dat`);
      const w = TraceDatWriter.create(out, { pageSize: PAGE, copyFileRange: useRange });
      const block = fs.readFileSync(spool).subarray(0, 1 << 20);
      for (let i = 0; i < mib / 2; i++) {
        w.writePages('', 0, block);
        w.writePages('', 1, block);
      }
      const r = w.finish(metadata());
      fs.rmSync(out);
      return r.finishMs;
    };
    const finishRange = median([finish(true), finish(true), finish(true)]);
    const finishPlain = median([finish(false), finish(false), finish(false)]);
    line(`finish() of ${mib} MiB (2 CPUs), copy_file_range`, `${finishRange.toFixed(1)} ms`, `${(finishPlain / finishRange).toFixed(2)}x read/write`);
    line(`finish() of ${mib} MiB (2 CPUs), read/write`, `${finishPlain.toFixed(1)} ms`, '1.00x');

    console.log('2. reading a v7 file');
    const file = join(dir, 'big.dat');
    {
      const w = TraceDatWriter.create(file, { pageSize: PAGE });
      const block = fs.readFileSync(spool).subarray(0, 1 << 20);
      for (let i = 0; i < mib / 2; i++) {
        w.writePages('', 0, block);
        w.writePages('', 1, block);
      }
      w.finish(metadata());
    }
    const rawRead = timeBest(3, () => {
      const fd = fs.openSync(file, 'r');
      const buf = Buffer.allocUnsafe(256 << 10);
      while (fs.readSync(fd, buf, 0, buf.length, null) > 0);
      fs.closeSync(fd);
    });
    const pagesRead = timeBest(3, () => {
      using dat = TraceDat.open(file);
      for (const c of dat.top!.cpus) for (const _ of dat.pages('', c.cpu, 64));
    });
    let records = 0;
    const batches = timeBest(3, () => {
      records = 0;
      using dat = TraceDat.open(file);
      for (const r of dat.openCpus()) for (let batch = r.next(); batch !== null; batch = r.next()) records += batch.count;
    });
    line('fs.readSync of the file (256 KiB reads)', `${mbps(bytes, rawRead).toFixed(0)} MB/s`, '1.00x');
    line('TraceDat.pages()', `${mbps(bytes, pagesRead).toFixed(0)} MB/s`, `${(rawRead / pagesRead).toFixed(2)}x of readSync`);
    line(`openCpu() batches (${(records / 1e6).toFixed(1)} M records walked)`, `${mbps(bytes, batches).toFixed(0)} MB/s`, `${(rawRead / batches).toFixed(2)}x of readSync, ${(records / (batches / 1000) / 1e6).toFixed(1)} M rec/s`);

    console.log('3. zstd chunk decompression (10-page chunks)');
    const frames: { frame: Uint8Array; size: number }[] = [];
    const chunkSource = fs.readFileSync(spool).subarray(0, 10 * PAGE);
    if (zstdCanCompress) {
      const compress = (zlib as unknown as { zstdCompressSync(b: Uint8Array): Buffer }).zstdCompressSync;
      frames.push({ frame: compress(chunkSource), size: chunkSource.length });
    } else {
      // No compressor here: the 3-page chunks trace-cmd wrote into the fixture.
      const zfile = fs.readFileSync(join(fixtures, 'sched-v7-zstd.dat'));
      for (const at of [4096, 8192]) frames.push({ frame: zfile.subarray(at + 12, at + 12 + zfile.readUInt32LE(at + 4)), size: zfile.readUInt32LE(at + 8) });
    }
    const rounds = Math.max(200, Math.floor((64 << 20) / frames[0]!.size));
    const out = new Uint8Array(frames[0]!.size * 2);
    const decodeBytes = rounds * frames.reduce((s, f) => s + f.size, 0);
    // Interleaved repetitions, medians: the decoders see the same machine load.
    const nodeDecompress = (zlib as unknown as { zstdDecompressSync?: (b: Uint8Array, o?: object) => Buffer }).zstdDecompressSync;
    const runs: Record<'own' | 'into' | 'node', number[]> = { own: [], into: [], node: [] };
    for (let rep = 0; rep < 5; rep++) {
      runs.own.push(timeBest(1, () => {
        for (let i = 0; i < rounds; i++) for (const f of frames) fzstdDecompress(f.frame);
      }));
      runs.into.push(timeBest(1, () => {
        for (let i = 0; i < rounds; i++) for (const f of frames) fzstdDecompress(f.frame, out.subarray(0, f.size));
      }));
      if (nodeDecompress !== undefined) {
        runs.node.push(timeBest(1, () => {
          for (let i = 0; i < rounds; i++) for (const f of frames) nodeDecompress(f.frame, { maxOutputLength: f.size });
        }));
      }
    }
    const fzOwn = median(runs.own);
    const fzInto = median(runs.into);
    if (nodeDecompress !== undefined) {
      const nd = median(runs.node);
      line('zlib.zstdDecompressSync (Node; used where present)', `${mbps(decodeBytes, nd).toFixed(0)} MB/s`, `${(fzOwn / nd).toFixed(2)}x fzstd`);
    } else {
      line('zlib.zstdDecompressSync (Node)', 'absent', `Node ${process.versions.node}`);
    }
    line('fzstd, output sized by fzstd (used on Node 20)', `${mbps(decodeBytes, fzOwn).toFixed(0)} MB/s`, '1.00x');
    line('fzstd, into a given buffer', `${mbps(decodeBytes, fzInto).toFixed(0)} MB/s`, `${(fzOwn / fzInto).toFixed(2)}x`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
