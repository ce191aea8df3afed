// npm run fuzz -- [--seconds N] [--seed S] [--target NAME]... [--timeout-ms T] [--heap-mb M] [--max-input BYTES]
//
// Mutates each target's seeds for N seconds (per target), running every
// input in a heap-limited worker under a watchdog. Anything but a clean
// return or a coded error (a crash, a hang, running out of heap) is a
// finding: the input is saved under test/fixtures/fuzz/<target>/ and
// becomes a regression test (test/fuzz/regressions.test.ts). Exits 1 when
// there are findings.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Rng, mutate } from './mutate.js';
import { TargetRunner } from './runner.js';
import type { FuzzTarget } from './target.js';

const root = join(import.meta.dirname, '..');
const findingsDir = join(root, 'test/fixtures/fuzz');

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    target: { type: 'string', multiple: true },
    'timeout-ms': { type: 'string', default: '5000' },
    'heap-mb': { type: 'string', default: '256' },
    'max-input': { type: 'string', default: String(1 << 20) },
  },
});
const seconds = Number(values.seconds);
const seed = Number(values.seed);
const timeoutMs = Number(values['timeout-ms']);
const heapMb = Number(values['heap-mb']);
const maxInput = Number(values['max-input']);
for (const [name, v] of Object.entries({ seconds, seed, timeoutMs, heapMb, maxInput })) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a non-negative number`);
}

const targetsDir = join(import.meta.dirname, 'targets');
const modules = fs
  .readdirSync(targetsDir)
  .filter((f) => f.endsWith('.ts'))
  .sort()
  .map((f) => pathToFileURL(join(targetsDir, f)).href);

let interrupted = false;
process.on('SIGINT', () => (interrupted = true));

let findings = 0;
const rows: string[] = [];
for (const module of modules) {
  const target = ((await import(module)) as { default: FuzzTarget }).default;
  if (values.target !== undefined && !values.target.includes(target.name)) continue;
  const seeds = target.seeds();
  const runner = new TargetRunner({ module, timeoutMs, heapMb });
  const rng = new Rng(seed ^ createHash('sha1').update(target.name).digest().readUInt32LE(0));
  const counts = { inputs: 0, clean: 0, coded: 0, crash: 0, hang: 0, oom: 0 };
  const codes = new Map<string, number>();
  const end = performance.now() + seconds * 1000;
  try {
    for (let i = 0; !interrupted && (i < seeds.length || performance.now() < end); i++) {
      const input = i < seeds.length ? seeds[i]! : mutate(seeds[rng.below(seeds.length)]!, rng, seeds, maxInput);
      const verdict = await runner.run(input);
      counts.inputs++;
      if (verdict.kind === 'ok') {
        if (verdict.coded === null) counts.clean++;
        else {
          counts.coded++;
          codes.set(verdict.coded, (codes.get(verdict.coded) ?? 0) + 1);
        }
        continue;
      }
      counts[verdict.kind]++;
      findings++;
      const hash = createHash('sha1').update(input).digest('hex').slice(0, 16);
      const dir = join(findingsDir, target.name);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(join(dir, `${hash}.bin`), input);
      fs.writeFileSync(join(dir, `${hash}.txt`), `${verdict.kind}\n${verdict.detail}\n`);
      console.log(`${target.name}: ${verdict.kind} on input ${hash} (saved): ${verdict.detail.split('\n')[0]}`);
    }
  } finally {
    await runner.close();
  }
  const top = [...codes].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([c, n]) => `${c} ${n}`).join(', ');
  rows.push(
    `${target.name.padEnd(12)} ${String(counts.inputs).padStart(8)} inputs  ${String(counts.clean).padStart(7)} clean  ${String(counts.coded).padStart(7)} coded  ` +
      `${counts.crash} crash  ${counts.hang} hang  ${counts.oom} oom${top ? `   (${top})` : ''}`,
  );
}
console.log(`\nfuzz, seed ${seed}, ${seconds} s per target:\n${rows.join('\n')}`);
process.exitCode = findings > 0 ? 1 : 0;
