// `npm run bench [-- FILTER...]`: runs the benchmark suites.
//
// A suite is a top-level file bench/<name>.ts (this file excepted) that
// exports `async function run(): Promise<void>` (preferred), or does its work
// when imported. Each suite runs in its own Node process, which imports it
// and awaits its run(): JIT state, heap, thread affinity and tracefs
// instances of one suite cannot disturb the next, and a crashing suite cannot
// take the runner with it. A suite may also guard a `main` on being the entry
// module (as drain.ts does, to be runnable alone); that guard does not fire
// here, so run() is not called twice. Helpers and sources that are not
// suites live in subdirectories (bench/c/, ...); build output goes to
// bench/out/ (gitignored).
//
// FILTER arguments select suites whose name contains any of them
// (`npm run bench -- drain`). Arguments starting with `-` are passed to every
// suite (in process.argv). Suites run one at a time; the runner exits
// non-zero if any failed.

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith('-'));
const passOn = args.filter((a) => a.startsWith('-'));

const suites = readdirSync(benchDir, { withFileTypes: true })
  .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && e.name !== 'run.ts')
  .map((e) => basename(e.name, '.ts'))
  .filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)))
  .sort();

if (suites.length === 0) {
  console.error(`no benchmark suite matches ${filters.join(', ')}`);
  process.exit(1);
}

// Ctrl-C reaches the running suite too (same process group); it cleans up
// and exits, and this runner reports it instead of dying first.
let interrupted = false;
process.on('SIGINT', () => {
  interrupted = true;
});

const failed: string[] = [];
for (const name of suites) {
  console.log(`\n=== bench: ${name} ===`);
  const started = process.hrtime.bigint();
  const url = pathToFileURL(join(benchDir, `${name}.ts`)).href;
  const load = `const m = await import(${JSON.stringify(url)}); if (typeof m.run === 'function') await m.run();`;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', load, '--', ...passOn], {
    cwd: root,
    stdio: 'inherit',
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const status = result.error ? String(result.error) : result.signal ? `signal ${result.signal}` : `exit ${result.status}`;
  console.log(`=== ${name}: ${status}, ${seconds.toFixed(1)} s ===`);
  if (result.error || result.status !== 0) failed.push(name);
  if (interrupted || result.signal === 'SIGINT' || result.status === 130) break;
}
if (failed.length > 0) {
  console.error(`failed: ${failed.join(', ')}`);
  process.exit(1);
}
