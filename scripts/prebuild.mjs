#!/usr/bin/env node
// Builds the prebuilt addon binaries that the npm package ships
// (prebuilds/linux-{x64,arm64}/tracering.napi.{glibc,musl}.node), so that
// `npm install tracering` needs no compiler. Run by `npm run build:prebuilds`
// and by `prepack` (so `npm pack` and `npm publish` always ship fresh
// binaries; not named "prebuild", which npm would run before every "build").
//
// Each binary is built by prebuildify, i.e. by node-gyp from binding.gyp, the
// same recipe as the source-build fallback, with a Debian cross toolchain
// (scripts/install-toolchains.mjs installs them). The builds run in a staging
// copy of the sources so that the checkout's own build/ (which node-gyp-build
// prefers over prebuilds/) is never overwritten by a foreign-arch binary.
//
// Usage: node scripts/prebuild.mjs [--only linux-x64-glibc,linux-arm64-musl]
//        node scripts/prebuild.mjs --clean
// (--clean, run by postpack, removes prebuilds/ again: left in a checkout, a
// binary would go stale when native/ changes, and node-gyp-build's install
// step would take it instead of building the new source.)
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeHeaders, onPath, PREBUILD_NAME, PREBUILD_TARGETS, prebuildPath, targetLabel, unmet } from './prebuild-targets.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

const BUILD_TIMEOUT_MS = 5 * 60_000;

class PrebuildError extends Error {}

function selectedTargets(argv) {
  const at = argv.indexOf('--only');
  if (at < 0) return PREBUILD_TARGETS;
  const wanted = (argv[at + 1] ?? '').split(',').filter(Boolean);
  const unknown = wanted.filter((w) => !PREBUILD_TARGETS.some((t) => targetLabel(t) === w));
  if (unknown.length > 0 || wanted.length === 0) {
    throw new PrebuildError(
      `--only takes a comma-separated list of ${PREBUILD_TARGETS.map(targetLabel).join(', ')}` +
        (unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''),
    );
  }
  return PREBUILD_TARGETS.filter((t) => wanted.includes(targetLabel(t)));
}

function checkToolchains(targets) {
  const missing = targets
    .map((t) => ({ label: targetLabel(t), needs: unmet(t.buildNeeds) }))
    .filter((m) => m.needs.length > 0)
    .map((m) => `${m.label}: missing ${m.needs.map((n) => `${n.command ?? n.path} (Debian: ${n.apt})`).join(', ')}`);
  if (missing.length > 0) {
    throw new PrebuildError(
      `toolchains missing; run node scripts/install-toolchains.mjs (as root)\n  ${missing.join('\n  ')}`,
    );
  }
}

function nodeHeadersDir() {
  const dir = nodeHeaders();
  if (dir) return dir;
  throw new PrebuildError(
    `no Node headers next to ${process.execPath} (no include/node/node_api.h); ` +
      'set npm_config_nodedir to a directory with include/node/',
  );
}

// prebuildify spawns node-gyp directly. Use the node-gyp that npm ships (npm
// names it in npm_config_node_gyp when it runs this script; otherwise it sits
// beside the npm on PATH), with node in front of it: it is a .js file.
function nodeGypCommand(stage) {
  const npm = onPath('npm');
  const bundled =
    process.env.npm_config_node_gyp ??
    (npm ? join(dirname(realpathSync(npm)), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js') : undefined);
  if (!bundled || !existsSync(bundled)) {
    const found = onPath('node-gyp');
    if (found) return found;
    throw new PrebuildError('node-gyp not found: run this through npm (npm run build:prebuilds) or install node-gyp');
  }
  const wrapper = join(stage, 'node-gyp');
  writeFileSync(wrapper, `#!/bin/sh\nexec '${process.execPath}' '${bundled}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  return wrapper;
}

// musl's compiler wrappers search only musl's headers; the addon also needs
// the kernel's UAPI headers (linux/futex.h). A directory of links to exactly
// those, searched after musl's, keeps glibc's headers out.
function uapiDir(stage, target) {
  const dir = join(stage, `uapi-${targetLabel(target)}`);
  mkdirSync(dir);
  for (const source of target.uapiInclude) symlinkSync(source, join(dir, basename(source)));
  return dir;
}

function build(stage, target, env) {
  const args = [
    require.resolve('prebuildify/bin.js'),
    stage,
    '--napi',
    `--target=node@${process.versions.node}`,
    '--platform=linux',
    `--arch=${target.arch}`,
    `--libc=${target.libc}`,
    '--tag-libc',
    `--name=${PREBUILD_NAME}`,
    '--strip',
    `--strip-bin=${target.strip}`,
    `--cache=${join(stage, 'node-gyp-devdir')}`,
  ];
  const cflags = target.uapiInclude.length > 0 ? `-idirafter ${uapiDir(stage, target)}` : '';
  const result = spawnSync(process.execPath, args, {
    cwd: stage,
    encoding: 'utf8',
    env: { ...env, CC: target.cc, CXX: target.cc, LINK: target.cc, CFLAGS: cflags },
    // One C file: minutes mean a wedged tool, and npm pack must not hang on it.
    timeout: BUILD_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
  if (result.status !== 0) {
    process.stderr.write(result.stdout + result.stderr);
    throw new PrebuildError(`${targetLabel(target)}: prebuildify failed (exit ${result.status ?? result.signal})`);
  }
}

function main() {
  if (process.argv.includes('--clean')) {
    rmSync(join(root, 'prebuilds'), { recursive: true, force: true });
    return;
  }
  const targets = selectedTargets(process.argv.slice(2));
  checkToolchains(targets);
  const stage = mkdtempSync(join(tmpdir(), 'tracering-prebuild-'));
  try {
    for (const entry of ['binding.gyp', 'package.json', 'native']) {
      cpSync(join(root, entry), join(stage, entry), { recursive: true });
    }
    const env = { ...process.env, npm_config_nodedir: nodeHeadersDir(), PREBUILD_NODE_GYP: nodeGypCommand(stage) };
    const started = performance.now();
    for (const target of targets) build(stage, target, env);

    // Replace only the binaries that were built: --only keeps the others.
    for (const target of targets) {
      const file = prebuildPath(target);
      mkdirSync(dirname(join(root, file)), { recursive: true });
      cpSync(join(stage, file), join(root, file));
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    for (const target of targets) {
      const file = prebuildPath(target);
      console.error(`${file}  ${statSync(join(root, file)).size} bytes`);
    }
    console.error(`prebuilt ${targets.length} binaries in ${seconds} s`);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

try {
  main();
} catch (error) {
  if (!(error instanceof PrebuildError)) throw error;
  console.error(`prebuild: ${error.message}`);
  process.exit(1);
}
