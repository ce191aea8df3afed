// Helpers for the package tests: bounded child processes, a consumer folder
// whose PATH has no build tools, ELF facts from readelf, and the N-API
// stand-in host (napi-host.c) built for a prebuild target.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { onPath, type PrebuildTarget } from '../../scripts/prebuild-targets.mjs';

export interface Ran {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, killed (SIGKILL) after timeoutMs. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Ran {
  const r = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env,
    encoding: 'utf8',
    timeout: options.timeoutMs,
    killSignal: 'SIGKILL',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const failure = r.error ? `\n[spawn: ${r.error.message}]` : '';
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + failure };
}

export function describeRun(what: string, r: Ran): string {
  return `${what}: exit ${r.status ?? r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** Runs and requires exit 0, with the output in the failure message. */
export function runOk(what: string, command: string, args: readonly string[], options: Parameters<typeof run>[2]): Ran {
  const r = run(command, args, options);
  if (r.status !== 0) throw new Error(describeRun(what, r));
  return r;
}

/** The npm (and npx) CLI scripts behind the commands on PATH. */
export function npmScripts(): { npm: string; npx: string } {
  const npm = onPath('npm');
  const npx = onPath('npx');
  if (!npm || !npx) throw new Error('npm and npx must be on PATH');
  return { npm: fs.realpathSync(npm), npx: fs.realpathSync(npx) };
}

/** npm's cache, so that installs can be served from it (--prefer-offline). */
export function npmCache(): string {
  return process.env.npm_config_cache ?? join(homedir(), '.npm');
}

// Every name under which a source build would look for a tool. Each one is a
// tripwire that records the call and fails, so a test can tell "node-gyp was
// never run" from "node-gyp ran and found nothing".
export const BUILD_TOOLS = ['cc', 'gcc', 'c++', 'g++', 'clang', 'make', 'gmake', 'python', 'python3', 'node-gyp'];

export interface CompilerFreeEnv {
  /** The only directory on PATH: node, npm, npx, sh and the tripwires. */
  readonly binDir: string;
  /** One line per tripwire call. */
  readonly tripwireLog: string;
  readonly env: NodeJS.ProcessEnv;
  tripwireCalls(): string[];
}

/**
 * An environment like a production host's: node and npm, a shell for npm's
 * scripts, and no compiler, make, python or node-gyp. HOME is a fresh folder
 * (no ~/.node_modules or ~/.npmrc to fall back on); the cache is npm's own.
 */
export function compilerFreeEnv(base: string): CompilerFreeEnv {
  const binDir = join(base, 'bin');
  const home = join(base, 'home');
  const tripwireLog = join(base, 'tripwire.log');
  fs.mkdirSync(binDir, { recursive: true });
  fs.mkdirSync(home, { recursive: true });
  const { npm, npx } = npmScripts();
  fs.symlinkSync(process.execPath, join(binDir, 'node'));
  fs.symlinkSync(npm, join(binDir, 'npm'));
  fs.symlinkSync(npx, join(binDir, 'npx'));
  fs.symlinkSync(fs.realpathSync('/bin/sh'), join(binDir, 'sh'));
  for (const tool of BUILD_TOOLS) {
    const script = join(binDir, tool);
    fs.writeFileSync(script, `#!/bin/sh\necho "${tool} $*" >> '${tripwireLog}'\nexit 127\n`);
    fs.chmodSync(script, 0o755);
  }
  const env: NodeJS.ProcessEnv = {
    PATH: binDir,
    HOME: home,
    TMPDIR: process.env.TMPDIR ?? '/tmp',
    npm_config_cache: npmCache(),
    npm_config_build_from_source: 'false',
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
  };
  return {
    binDir,
    tripwireLog,
    env,
    tripwireCalls: () =>
      fs.existsSync(tripwireLog) ? fs.readFileSync(tripwireLog, 'utf8').split('\n').filter(Boolean) : [],
  };
}

export interface ElfFacts {
  machine: string;
  type: string;
  needed: string[];
  /** Dynamic symbols the file defines. */
  defined: Set<string>;
  /** Dynamic symbols it imports (version suffix removed). */
  imported: string[];
  /** Highest GLIBC_x.y symbol version it requires, as [x, y]; null when none. */
  glibcVersion: [number, number] | null;
}

export function elfFacts(file: string): ElfFacts {
  const out = runOk('readelf', 'readelf', ['-h', '-d', '--dyn-syms', '-W', file], { timeoutMs: 30_000 }).stdout;
  const machine = /^\s*Machine:\s+(.+)$/m.exec(out)?.[1]?.trim() ?? '';
  const type = /^\s*Type:\s+(\S+)/m.exec(out)?.[1] ?? '';
  const needed = [...out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1] ?? '');
  const defined = new Set<string>();
  const imported: string[] = [];
  for (const line of out.split('\n')) {
    // "   12: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND napi_create_int64"
    const cols = line.trim().split(/\s+/);
    if (cols.length < 8 || !/^\d+:$/.test(cols[0] ?? '')) continue;
    const name = (cols[7] ?? '').replace(/@.*$/, '');
    if (!name) continue;
    if (cols[6] === 'UND') imported.push(name);
    else defined.add(name);
  }
  let glibcVersion: [number, number] | null = null;
  for (const m of out.matchAll(/GLIBC_(\d+)\.(\d+)/g)) {
    const v: [number, number] = [Number(m[1]), Number(m[2])];
    if (glibcVersion === null || v[0] > glibcVersion[0] || (v[0] === glibcVersion[0] && v[1] > glibcVersion[1])) {
      glibcVersion = v;
    }
  }
  return { machine, type, needed, defined, imported, glibcVersion };
}

// The N-API functions napi-host.c implements; every other import gets a stub.
const HOST_IMPLEMENTS = new Set([
  'napi_define_properties',
  'napi_define_class',
  'napi_set_named_property',
  'napi_create_int64',
  'napi_create_int32',
  'napi_create_bigint_uint64',
]);

export interface HostReport {
  status: number | null;
  output: string;
  apiVersion: number | undefined;
  /** name → kind ("function", "class", "int64 4096"). */
  exports: Map<string, string>;
  calls: Map<string, string>;
  host: Map<string, string>;
}

/** Builds napi-host.c for `target` in `dir`, with stubs for `addon`'s other imports. */
export function buildNapiHost(target: PrebuildTarget, addon: string, dir: string, nodeInclude: string): string {
  const stubs = elfFacts(addon)
    .imported.filter((name) => /^(napi_|node_api_|uv_)/.test(name) && !HOST_IMPLEMENTS.has(name))
    .map((name) => `void ${name}(void) { napi_host_unexpected("${name}"); }`);
  const stubFile = join(dir, `stubs-${target.arch}-${target.libc}.c`);
  fs.writeFileSync(stubFile, `void napi_host_unexpected(const char*);\n${stubs.join('\n')}\n`);
  const host = join(dir, `napi-host-${target.arch}-${target.libc}`);
  const source = join(dirname(new URL(import.meta.url).pathname), 'napi-host.c');
  runOk(`build napi-host with ${target.cc}`, target.cc, [
    '-O1', '-std=gnu11', '-Wall', '-Wno-unused-parameter', '-rdynamic',
    `-I${nodeInclude}`, source, stubFile, '-o', host, '-ldl',
  ], { timeoutMs: 120_000 });
  return host;
}

/** Runs a napi-host on `addon` (under qemu-user for a foreign arch). */
export function runNapiHost(target: PrebuildTarget, host: string, addon: string): HostReport {
  const [command, ...prefix] = [...target.qemu, host];
  const r = run(command ?? host, [...prefix, addon], { timeoutMs: 120_000 });
  const report: HostReport = {
    status: r.status,
    output: describeRun(`napi-host ${target.arch} ${target.libc}`, r),
    apiVersion: undefined,
    exports: new Map(),
    calls: new Map(),
    host: new Map(),
  };
  for (const line of r.stdout.split('\n')) {
    const [key, name, ...rest] = line.split(' ');
    if (key === 'api_version') report.apiVersion = Number(name);
    else if (key === 'export' && name) report.exports.set(name, rest.join(' '));
    else if (key === 'call' && name) report.calls.set(name, rest.join(' '));
    else if (key === 'host' && name) report.host.set(name, rest.join(' '));
  }
  return report;
}
