// The prebuilt binaries the npm package ships, and the Debian packages that
// build and run each. Shared by scripts/prebuild.mjs (builds them),
// scripts/install-toolchains.mjs (installs what is missing) and
// test/package/ (checks and loads them). Types: prebuild-targets.d.mts.
//
// One binary per arch and libc serves every Node version: the addon uses
// N-API only (NAPI_VERSION 8 in binding.gyp), whose ABI is stable. The file
// names follow node-gyp-build's lookup: prebuilds/<platform>-<arch>/ holds
// files whose dot-separated tags it matches: "napi" (not tied to one Node
// ABI) and "glibc"/"musl", compared with the libc it detects at run time
// (musl where /etc/alpine-release exists, or as the LIBC variable says).

import { existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

export const PACKAGE_NAME = 'tracering';

/** The name prebuildify is given so that it writes prebuildPath()'s file name. */
export const PREBUILD_NAME = `${PACKAGE_NAME}.napi`;

const cmd = (command, apt) => ({ command, apt });
const file = (path, apt) => ({ path, apt });

export const PREBUILD_TARGETS = [
  {
    arch: 'x64',
    libc: 'glibc',
    cc: 'x86_64-linux-gnu-gcc',
    strip: 'x86_64-linux-gnu-strip',
    uapiInclude: [],
    buildNeeds: [cmd('x86_64-linux-gnu-gcc', 'gcc'), cmd('x86_64-linux-gnu-strip', 'binutils-x86-64-linux-gnu')],
    runNeeds: [],
    elfMachine: 'Advanced Micro Devices X86-64',
    libcSoname: 'libc.so.6',
    qemu: [],
  },
  {
    arch: 'x64',
    libc: 'musl',
    cc: 'x86_64-linux-musl-gcc',
    strip: 'x86_64-linux-gnu-strip',
    uapiInclude: ['/usr/include/linux', '/usr/include/asm-generic', '/usr/include/x86_64-linux-gnu/asm'],
    buildNeeds: [
      cmd('x86_64-linux-musl-gcc', 'musl-dev'),
      cmd('x86_64-linux-gnu-strip', 'binutils-x86-64-linux-gnu'),
      file('/usr/include/linux/futex.h', 'linux-libc-dev'),
    ],
    runNeeds: [file('/lib/ld-musl-x86_64.so.1', 'musl')],
    elfMachine: 'Advanced Micro Devices X86-64',
    libcSoname: 'libc.so',
    qemu: [],
  },
  {
    arch: 'arm64',
    libc: 'glibc',
    cc: 'aarch64-linux-gnu-gcc',
    strip: 'aarch64-linux-gnu-strip',
    uapiInclude: [],
    buildNeeds: [
      cmd('aarch64-linux-gnu-gcc', 'gcc-aarch64-linux-gnu'),
      cmd('aarch64-linux-gnu-strip', 'binutils-aarch64-linux-gnu'),
      file('/usr/aarch64-linux-gnu/include/stdio.h', 'libc6-dev-arm64-cross'),
    ],
    runNeeds: [cmd('qemu-aarch64-static', 'qemu-user-static'), file('/usr/aarch64-linux-gnu/lib/libstdc++.so.6', 'libstdc++6-arm64-cross')],
    elfMachine: 'AArch64',
    libcSoname: 'libc.so.6',
    // The cross sysroot holds glibc's arm64 loader and libraries.
    qemu: ['qemu-aarch64-static', '-L', '/usr/aarch64-linux-gnu'],
  },
  {
    arch: 'arm64',
    libc: 'musl',
    cc: 'aarch64-linux-musl-gcc',
    strip: 'aarch64-linux-gnu-strip',
    uapiInclude: [
      '/usr/aarch64-linux-gnu/include/linux',
      '/usr/aarch64-linux-gnu/include/asm-generic',
      '/usr/aarch64-linux-gnu/include/asm',
    ],
    buildNeeds: [
      // musl-dev:arm64 (Debian multiarch) ships musl's arm64 libc, crt files
      // and a wrapper that drives aarch64-linux-gnu-gcc with musl's specs.
      cmd('aarch64-linux-musl-gcc', 'musl-dev:arm64'),
      cmd('aarch64-linux-gnu-gcc', 'gcc-aarch64-linux-gnu'),
      cmd('aarch64-linux-gnu-strip', 'binutils-aarch64-linux-gnu'),
      file('/usr/aarch64-linux-gnu/include/linux/futex.h', 'linux-libc-dev-arm64-cross'),
    ],
    runNeeds: [cmd('qemu-aarch64-static', 'qemu-user-static'), file('/lib/ld-musl-aarch64.so.1', 'musl:arm64')],
    elfMachine: 'AArch64',
    libcSoname: 'libc.so',
    // musl:arm64 puts its loader at /lib/ld-musl-aarch64.so.1 on the host.
    qemu: ['qemu-aarch64-static'],
  },
];

/** Path of a target's binary inside the package, as node-gyp-build looks it up. */
export function prebuildPath(target) {
  return `prebuilds/linux-${target.arch}/${PREBUILD_NAME}.${target.libc}.node`;
}

export function targetLabel(target) {
  return `linux-${target.arch}-${target.libc}`;
}

/** Where `command` is on PATH, or undefined. */
export function onPath(command, path = process.env.PATH ?? '') {
  for (const dir of path.split(delimiter)) {
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

/** The needs that this machine does not meet. */
export function unmet(needs) {
  return needs.filter((need) => (need.command ? !onPath(need.command) : !existsSync(need.path)));
}

// node-gyp must not download headers (nodejs.org may be unreachable, and the
// addon needs only the N-API headers, the same in every Node release): use
// the nodedir npm names, or the running Node's own headers.
/** A directory with include/node/node_api.h, or undefined. */
export function nodeHeaders() {
  const configured = process.env.npm_config_nodedir;
  if (configured) return configured;
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}
