// Node built-in modules that only some paths need, loaded on first use. A
// static import is loaded at start-up by every command once the CLI is
// bundled (scripts/bundle-cli.mjs): zlib, child_process (with dgram and
// net) and crypto cost 10-20 ms of a start that is ~180 ms in all.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** node:zlib (gzip'd kallsyms and recordings, zstd, Parquet pages). */
export function zlib(): typeof import('node:zlib') {
  return require('node:zlib') as typeof import('node:zlib');
}

/** node:child_process (traced commands, mount). */
export function childProcess(): typeof import('node:child_process') {
  return require('node:child_process') as typeof import('node:child_process');
}

/** node:crypto (unique names of Parquet files). */
export function crypto(): typeof import('node:crypto') {
  return require('node:crypto') as typeof import('node:crypto');
}
