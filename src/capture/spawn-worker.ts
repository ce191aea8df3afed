// Starting a worker thread on one of our modules, built (.js) or, in
// development, TypeScript under tsx: Node 20 does not apply the parent's
// `--import tsx` hooks to a worker's entry, so the worker registers tsx
// itself first.

import { Worker, type WorkerOptions } from 'node:worker_threads';

export function spawnWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  const bootstrap = `
    import('tsx/esm/api')
      .then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })
      .catch((error) => { process.nextTick(() => { throw error; }); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/** `name` (a sibling module, without extension) next to `from`, in the same form (.ts or .js). */
export function siblingModule(from: string, name: string): URL {
  const ext = from.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${name}${ext}`, from);
}
