// Recordings without kernel_constants (src/decode/kernel-constants.ts
// recordingRelease, foreignRecordingConstants): which kernel recorded them,
// and whether the running kernel's BTF may fill in the enum values their
// print fmts need. Checked against the kernel's own text of
// timer:hrtimer_start (mode=%s from __print_symbolic of HRTIMER_MODE_*
// enums the kernel leaves unresolved) captured from a real instance.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { reportRecording } from '../../src/cli/commands/report.js';
import { foreignRecordingConstants, recordingRelease } from '../../src/decode/kernel-constants.js';
import type { TraceringWarning } from '../../src/errors.js';
import { kernelOrSkip, testInstance } from '../helpers/kernel.js';
import { captureForeign } from '../recording/foreign-capture.js';

const BTF = '/sys/kernel/btf';
const hasBtf = fs.existsSync(path.join(BTF, 'vmlinux'));
const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(files: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracering-foreign-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

describe('the kernel release a recording names', () => {
  const cases: Array<[string, Record<string, string>, string | null, string | null]> = [
    ['tracering.json', { 'tracering.json': '{"format":"tracering-snapshot","littleEndian":true,"kernel":"6.1.0-13-amd64"}' }, '6.1.0-13-amd64', 'tracering.json'],
    ['uname -r', { uname: '6.18.44-fc\n' }, '6.18.44-fc', 'uname'],
    ['uname -a', { uname: 'Linux host 6.5.0-1 #1 SMP PREEMPT_DYNAMIC x86_64 GNU/Linux\n' }, '6.5.0-1', 'uname'],
    ['osrelease', { osrelease: '5.15.0\n' }, '5.15.0', 'osrelease'],
    ['/proc/version', { version: 'Linux version 6.8.0-rc1 (builder@host) (gcc 13) #2 SMP\n' }, '6.8.0-rc1', 'version'],
    ['tracering.json wins over uname', { 'tracering.json': '{"kernel":"6.2.0"}', uname: '6.3.0' }, '6.2.0', 'tracering.json'],
    ['tracering.json null, then uname', { 'tracering.json': 'null', uname: '6.3.0' }, '6.3.0', 'uname'],
    ['a uname that is not one', { uname: 'hello world and more\n' }, null, null],
    ['nothing', {}, null, null],
  ];
  for (const [what, files, release, source] of cases) {
    it(what, () => assert.deepEqual(recordingRelease(tempDir(files)), { release, source }));
  }
});

describe('constants of a recording without kernel_constants', () => {
  it('nothing is loaded or said until a print fmt asks for a value', () => {
    const warnings: TraceringWarning[] = [];
    const k = foreignRecordingConstants(tempDir(), { onWarning: (w) => warnings.push(w) });
    assert.equal(k.values.get('HZ'), undefined);
    assert.deepEqual(warnings, []);
  });

  it('the same release: BTF values, and one warning', { skip: !hasBtf && 'no BTF on this kernel' }, () => {
    const warnings: TraceringWarning[] = [];
    const k = foreignRecordingConstants(tempDir({ uname: os.release() }), { onWarning: (w) => warnings.push(w), btfDir: BTF });
    assert.equal(k.values.get('HRTIMER_MODE_REL'), 1n);
    assert.equal(k.values.get('HRTIMER_MODE_ABS'), 0n);
    assert.equal(k.values.has('HRTIMER_MODE_REL_HARD'), true);
    assert.ok((k.typeSizes.get('struct page') ?? 0) >= 32);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.code, 'TRACERING_KERNEL_CONSTANTS');
    assert.match(warnings[0]!.message, new RegExp(`running kernel's BTF: the same release \\(${os.release().replace(/[.+]/g, '\\$&')}, from uname\\)`));
  });

  it('another release: no values, one warning naming both', () => {
    const warnings: TraceringWarning[] = [];
    const k = foreignRecordingConstants(tempDir({ uname: '5.10.0-old' }), { onWarning: (w) => warnings.push(w), btfDir: BTF });
    assert.equal(k.values.get('HRTIMER_MODE_REL'), undefined);
    assert.equal(k.values.get('I_NEW'), undefined);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, new RegExp(`recorded on 5\\.10\\.0-old \\(uname\\), not the running ${os.release().replace(/[.+]/g, '\\$&')}`));
  });

  it('an unknown release: no values, and the warning says it cannot know', () => {
    const warnings: TraceringWarning[] = [];
    const k = foreignRecordingConstants(tempDir(), { onWarning: (w) => warnings.push(w), btfDir: BTF });
    assert.equal(k.typeSizes.get('struct page'), undefined);
    assert.equal(k.values.get('I_NEW'), undefined);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /does not say which kernel recorded it/);
  });

  it('the same release without BTF: no values, and that is said', () => {
    const warnings: TraceringWarning[] = [];
    const k = foreignRecordingConstants(tempDir({ osrelease: '6.0.0' }), { onWarning: (w) => warnings.push(w), btfDir: tempDir(), runningRelease: '6.0.0' });
    assert.equal(k.values.get('I_NEW'), undefined);
    assert.match(warnings[0]?.message ?? '', /has no BTF/);
  });
});

describe('a foreign recording of timer:hrtimer_start, against the kernel\'s text', () => {
  it('same release: mode=REL etc. as the kernel printed; unknown or other release: the numbers, with one warning', { skip: !hasBtf && 'no BTF on this kernel' }, async (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    inst.setOption('hash-ptr', false);
    inst.enableEvents(['timer:hrtimer_start']);
    // Futex waits with a timeout arm hrtimers (bounded: 30 waits of 1 ms).
    const cell = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 30; i++) Atomics.wait(cell, 0, 0, 1);
    const dir = tempDir();
    const capture = captureForeign(tracefs, inst, dir, ['timer']);
    inst.disableAllEvents();
    assert.ok(capture.events >= 30, `${capture.events} events`);

    const render = async (): Promise<{ lines: Map<number, string[]>; warnings: TraceringWarning[] }> => {
      const chunks: Buffer[] = [];
      const warnings: TraceringWarning[] = [];
      await reportRecording(dir, { kallsyms: '/proc/kallsyms', output: (b) => chunks.push(Buffer.from(b)), onWarning: (w) => warnings.push(w) });
      const lines = new Map<number, string[]>();
      for (const l of Buffer.concat(chunks).toString('utf8').split('\n')) {
        const cpu = /\[(\d{3})\]/.exec(l)?.[1];
        if (l.startsWith('#') || cpu === undefined) continue;
        const list = lines.get(Number(cpu)) ?? [];
        list.push(l);
        lines.set(Number(cpu), list);
      }
      return { lines, warnings };
    };
    const kernelModes = [...capture.kernelText.values()].flat().map((l) => /mode=(\S+)/.exec(l)?.[1]);
    assert.ok(kernelModes.includes('REL') || kernelModes.includes('ABS'), JSON.stringify(kernelModes.slice(0, 5)));

    // The same release (a uname file): exactly the kernel's text.
    fs.writeFileSync(path.join(dir, 'uname'), `${os.release()}\n`);
    const same = await render();
    // Line for line; a COMM that differs only where saved_cmdlines demonstrably changed meanwhile is the kernel's race, not ours.
    const sameText = (ours: readonly string[], kernel: readonly string[], what: string) => {
      assert.equal(ours.length, kernel.length, what);
      ours.forEach((line, i) => {
        if (line !== kernel[i]) assert.ok(capture.judge('hrtimer_start', line, kernel[i]!) !== null, `${what}, line ${i}:\n ours   ${line}\n kernel ${kernel[i]}`);
      });
    };
    for (const [cpu, expected] of capture.kernelText) sameText(same.lines.get(cpu) ?? [], expected, `CPU ${cpu}`);
    assert.deepEqual(same.warnings.map((w) => w.code), ['TRACERING_KERNEL_CONSTANTS']);

    // No release, then another one: the modes as numbers, everything else the kernel's.
    for (const release of [null, '5.4.0-foreign']) {
      if (release === null) fs.rmSync(path.join(dir, 'uname'));
      else fs.writeFileSync(path.join(dir, 'uname'), release);
      const other = await render();
      assert.equal(other.warnings.length, 1, JSON.stringify(other.warnings));
      assert.equal(other.warnings[0]!.code, 'TRACERING_KERNEL_CONSTANTS');
      assert.match(other.warnings[0]!.message, release === null ? /does not say which kernel/ : /recorded on 5\.4\.0-foreign/);
      for (const [cpu, expected] of capture.kernelText) {
        const got = other.lines.get(cpu) ?? [];
        assert.equal(got.length, expected.length);
        got.forEach((line) => assert.match(line, / mode=0x[0-9a-f]+ /));
        const modeless = (l: string) => l.replace(/ mode=\S+ /, ' mode=? ');
        sameText(got.map(modeless), expected.map(modeless), `CPU ${cpu}, release ${release}`);
      }
    }
  });
});
