#!/usr/bin/env node
// `npm run docs`: the reference documentation, generated from the doc
// comments by TypeDoc into docs/api/, and a failure for any exported
// symbol without a doc comment (typedoc.json: validation.notDocumented,
// treatValidationWarningsAsErrors).
//
// TypeDoc needs TypeScript's compiler API, which the project's TypeScript
// 7 (the native compiler) does not have; TypeDoc 0.28 supports up to 6.0.
// So TypeDoc runs from tools/typedoc/ with its own TypeScript 6, installed
// there from its lockfile on first use (npm ci), apart from the project's.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const tool = join(root, 'tools/typedoc');
const bin = join(tool, 'node_modules/typedoc/bin/typedoc');

function run(command, args, options) {
  const r = spawnSync(command, args, { stdio: 'inherit', timeout: 10 * 60_000, ...options });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!existsSync(bin)) {
  run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: tool });
}
run(process.execPath, [bin, '--options', join(root, 'typedoc.json'), ...process.argv.slice(2)], { cwd: root });
console.log('docs: every exported symbol is documented; reference in docs/api/');
