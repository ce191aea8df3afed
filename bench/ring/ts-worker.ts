// Workers running TypeScript under tsx (the approach of test/helpers/ts-worker.ts,
// copied: bench/ does not import from test/). Node 20 does not apply the
// parent's `--import tsx` hooks to a worker's entry module, so the worker
// registers tsx itself before importing the entry.

import { Worker, type WorkerOptions } from 'node:worker_threads';

export function tsWorker(entry: URL, options: WorkerOptions = {}): Worker {
  const bootstrap = `
    import('tsx/esm/api')
      .then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })
      .catch((error) => { process.nextTick(() => { throw error; }); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
