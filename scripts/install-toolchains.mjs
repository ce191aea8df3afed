#!/usr/bin/env node
// Installs, with apt-get and only if missing, the Debian packages that
// scripts/prebuild.mjs needs to build every prebuilt binary (cross compilers,
// musl for x64 and, through multiarch, for arm64) and that test/package/
// needs to run them (qemu-user for arm64). .ci/run calls it; on a machine
// that has everything it does nothing and needs no network.
// --print: only print the missing packages, one line, space-separated.
import { spawnSync } from 'node:child_process';
import { PREBUILD_TARGETS, unmet } from './prebuild-targets.mjs';

function run(command, args) {
  console.error(`+ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.status !== 0) {
    console.error(`install-toolchains: ${command} failed (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
}

const packages = [
  ...new Set(PREBUILD_TARGETS.flatMap((t) => unmet([...t.buildNeeds, ...t.runNeeds])).map((n) => n.apt)),
];
if (process.argv.includes('--print')) {
  console.log(packages.join(' '));
  process.exit(0);
}
if (packages.length === 0) process.exit(0);

if (process.getuid?.() !== 0) {
  console.error(`install-toolchains: needs root to install: ${packages.join(' ')}`);
  process.exit(1);
}

// Packages of another arch (musl-dev:arm64) need that arch known to dpkg.
const foreign = new Set(packages.filter((p) => p.includes(':')).map((p) => p.split(':')[1]));
const known = spawnSync('dpkg', ['--print-foreign-architectures'], { encoding: 'utf8' }).stdout.split('\n');
for (const arch of foreign) {
  if (!known.includes(arch)) run('dpkg', ['--add-architecture', arch]);
}
run('apt-get', ['update', '-q']);
run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages]);
