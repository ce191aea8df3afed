// Bundles the CLI and its worker threads into dist/cli/ (run by `npm run
// build`, after tsc). A CLI start then loads a few files instead of ~100
// ES modules: resolving, reading and linking them was ~60 ms of the main
// thread's and ~20 ms of the capture thread's start-up (measured with
// --cpu-prof). The library (dist/*, what `import 'tracering'` loads) stays
// unbundled. Workers are found as siblings of the module that starts them
// (siblingModule), so each bundled worker sits next to the CLI's files.
//
// The CLI is split at its commands (each loads its own chunks, ~50 in
// all): one file holding every command cost 5-7 ms more per start, to
// compile what the command never runs. Each worker is one file. Node's
// heavier built-in modules that only some paths need are loaded lazily in
// the sources (src/lazy-builtins.ts): a bundle imports every static import
// of every module it holds up front.
//
// esbuild compiles the TypeScript sources directly (tsc has type-checked
// them and written the library); dependencies stay external, as npm
// installs them.

import { build } from 'esbuild';
import fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'dist', 'cli');

// Chunks of an earlier build (their names carry a content hash).
for (const name of fs.existsSync(outdir) ? fs.readdirSync(outdir) : []) if (name.startsWith('chunk-')) fs.rmSync(join(outdir, name));

const common = {
  absWorkingDir: root,
  outdir,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
};

await build({ ...common, entryPoints: { main: 'src/cli/main.ts' }, splitting: true, chunkNames: 'chunk-[hash]' });
await build({
  ...common,
  entryPoints: {
    'capture-worker': 'src/capture/capture-worker.ts',
    'parquet-worker': 'src/sinks/parquet/worker/parquet-worker.ts',
  },
});
