// A throwaway project that uses tracering as a user's would: a directory
// with a package.json (CommonJS, npm init's default), node_modules/tracering
// linked to this checkout (its package.json exports and dist/), the
// project's own TypeScript to compile it and tsx to run it.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const tscBin = join(repoRoot, 'node_modules/typescript/bin/tsc');
const tsxLoader = join(repoRoot, 'node_modules/tsx/dist/loader.mjs');
const cliMain = join(repoRoot, 'dist/cli/main.js');

export interface RunResult {
  /** The process that ran (instances it creates carry this pid in their name). */
  pid: number | undefined;
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export class UserProject implements Disposable {
  readonly dir: string;

  constructor(prefix = 'trapi-') {
    if (!fs.existsSync(join(repoRoot, 'dist/index.d.ts'))) throw new Error('dist/ is missing: run `npm run build` first');
    this.dir = fs.mkdtempSync(join(os.tmpdir(), prefix));
    fs.writeFileSync(join(this.dir, 'package.json'), `${JSON.stringify({ name: 'user-project', private: true, type: 'commonjs' }, null, 2)}\n`);
    fs.mkdirSync(join(this.dir, 'node_modules'));
    fs.symlinkSync(repoRoot, join(this.dir, 'node_modules/tracering'), 'dir');
    fs.symlinkSync(join(repoRoot, 'node_modules/@types'), join(this.dir, 'node_modules/@types'), 'dir');
  }

  write(name: string, text: string): string {
    const path = join(this.dir, name);
    fs.writeFileSync(path, text);
    return path;
  }

  /** `tracering types ARGS -o NAME` in this directory. */
  types(name: string, args: readonly string[] = []): RunResult {
    return this.#spawn(process.execPath, [cliMain, 'types', ...args, '-o', name], 60_000);
  }

  /** The project's tsc on `files` (strict, NodeNext, no emit). */
  compile(files: readonly string[]): RunResult {
    const config = {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2023', 'ESNext.Disposable'],
        types: ['node'],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
      },
      files,
    };
    const name = `tsconfig.${files[0]!.replace(/\W/g, '_')}.json`;
    this.write(name, JSON.stringify(config, null, 2));
    return this.#spawn(process.execPath, [tscBin, '-p', name, '--pretty', 'false'], 120_000);
  }

  /** Runs a .ts file as a user would (`tsx FILE.ts`), bounded by `timeoutMs`. */
  run(file: string, timeoutMs = 60_000): RunResult {
    return this.#spawn(process.execPath, ['--import', tsxLoader, file], timeoutMs);
  }

  /** Runs a .js/.mjs file with plain Node (no loader). */
  runPlain(file: string, timeoutMs = 60_000): RunResult {
    return this.#spawn(process.execPath, [file], timeoutMs);
  }

  #spawn(command: string, args: readonly string[], timeoutMs: number): RunResult {
    const r = spawnSync(command, args, { cwd: this.dir, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGINT' });
    return { pid: r.pid, status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
  }

  [Symbol.dispose](): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
