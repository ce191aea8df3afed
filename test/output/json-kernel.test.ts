// JSON Lines of real kernel events read by tools: a recording of
// kmem:kmalloc / kmem:kfree (call_site %pS, ptr %p, gfp_flags
// __print_flags), timer:hrtimer_start (function %ps, mode
// __print_symbolic of BTF enums) and sched:sched_switch (prev_state
// flags) from a private instance, printed by `tracering report --json`,
// then read back by JSON.parse and jq: every 64-bit value must equal the
// record's, and every NAME_sym / NAME_str the kernel's own text.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { EventDecoder } from '../../src/decode/field-decoder.js';
import { EventRegistry } from '../../src/decode/registry.js';
import { CpuMerger } from '../../src/output/merge.js';
import { Recording } from '../../src/recording/recording.js';
import { runCli } from '../helpers/cli.js';
import { kernelOrSkip, testInstance } from '../helpers/kernel.js';
import { captureForeign } from '../recording/foreign-capture.js';
import { assertToolsReadExactly, jq } from './json-tools.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

interface Line {
  cpu: number;
  event: string | null;
  fields: Record<string, unknown>;
}

/** A JSON value of a 64-bit field as the record's bits (unsigned). */
function bits(v: unknown): bigint {
  if (typeof v === 'number') {
    assert.ok(Number.isSafeInteger(v), String(v));
    return BigInt.asUintN(64, BigInt(v));
  }
  assert.equal(typeof v, 'string');
  return BigInt.asUintN(64, BigInt(v as string));
}

/** What NAME_sym must be for the kernel's %ps text: the text, or null where the kernel knew no symbol either (it printed the address). */
function symbolText(kernel: string | undefined): string | null | undefined {
  return kernel !== undefined && /^0x[0-9a-f]+$/.test(kernel) ? null : kernel;
}

describe('JSON Lines of real kernel events, read by JSON.parse and jq', () => {
  it('every 64-bit value round-trips exactly; symbols and flags are the kernel\'s text', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    inst.setOption('hash-ptr', false);
    inst.setBufferSizeKb(512);
    inst.enableEvents(['kmem:kmalloc', 'kmem:kfree', 'timer:hrtimer_start', 'sched:sched_switch']);
    // Bounded work that allocates, sleeps with timeouts and switches tasks.
    for (let i = 0; i < 5; i++) spawnSync('true');
    const cell = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 10; i++) Atomics.wait(cell, 0, 0, 1);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracering-jsonk-'));
    dirs.push(dir);
    const capture = captureForeign(tracefs, inst, dir, ['kmem', 'timer', 'sched']);
    inst.disableAllEvents();
    fs.writeFileSync(path.join(dir, 'uname'), os.release());

    const r = runCli(['report', dir, '--json', '--kallsyms', '/proc/kallsyms']);
    assert.equal(r.status, 0, r.stderr);
    assertToolsReadExactly(r.stdout);
    if (jq(r.stdout) !== null) {
      // jq finds no number it could not hold (it reads numbers as doubles).
      assert.equal(jq(r.stdout, '[.. | numbers | select(. > 9007199254740991 or . < -9007199254740991)] | length')?.trim().split('\n').every((n) => n === '0'), true);
    }
    const lines = r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Line);
    assert.equal(lines.length, capture.events);

    // The records, decoded with BigInts, in the same merged order.
    const registry = EventRegistry.fromDirectory(dir);
    const decoders = new Map<number, EventDecoder>();
    const readers = Recording.open(dir).openReaders();
    let at = 0;
    let wide = 0;
    let asStrings = 0;
    try {
      new CpuMerger(readers).run({
        event: (batch, i) => {
          const off = batch.offset(i);
          const id = batch.view.getUint16(off, true);
          let d = decoders.get(id);
          if (d === undefined) {
            const f = registry.get(id);
            assert.ok(f, `format of ${id}`);
            d = new EventDecoder(f);
            decoders.set(id, d);
          }
          const expected = d.toObject(batch.view, batch.bytes, off, batch.length(i), false);
          const line = lines[at++]!;
          assert.equal(line.event, d.format.name);
          for (const [key, value] of Object.entries(expected)) {
            if (typeof value !== 'bigint') continue;
            wide++;
            if (typeof line.fields[key] === 'string') asStrings++;
            assert.equal(bits(line.fields[key]), BigInt.asUintN(64, value), `${d.format.name}.${key}`);
          }
        },
      });
    } finally {
      for (const rd of readers) rd.close();
    }
    assert.equal(at, lines.length);
    assert.ok(wide > 0 && asStrings > 0, `${wide} 64-bit values, ${asStrings} as strings`);

    // Per CPU, the kernel's lines in the same order.
    const checked = new Map<string, number>();
    const count = (what: string) => checked.set(what, (checked.get(what) ?? 0) + 1);
    for (const [cpu, kernel] of capture.kernelText) {
      const ours = lines.filter((l) => l.cpu === cpu);
      assert.equal(ours.length, kernel.length, `CPU ${cpu}`);
      ours.forEach((line, i) => {
        const text = kernel[i]!;
        const f = line.fields;
        switch (line.event) {
          case 'kmalloc':
          case 'kfree': {
            assert.equal(f.call_site_sym, symbolText(/call_site=(.+?) ptr=/.exec(text)?.[1]), text);
            const ptr = /ptr=(\S+)/.exec(text)![1]!;
            if (ptr !== '(null)') assert.equal(bits(f.ptr), BigInt(`0x${ptr}`), text);
            if (line.event === 'kmalloc') assert.equal(f.gfp_flags_str, /gfp_flags=(\S+)/.exec(text)?.[1], text);
            count(line.event);
            break;
          }
          case 'hrtimer_start':
            assert.equal(f.function_sym, symbolText(/function=(.+?) expires=/.exec(text)?.[1]), text);
            assert.equal(f.mode_str, /mode=(\S+)/.exec(text)?.[1], text);
            assert.equal(bits(f.hrtimer), BigInt(`0x${/hrtimer=(\S+)/.exec(text)![1]}`), text);
            count('hrtimer_start');
            break;
          case 'sched_switch':
            assert.equal(f.prev_state_str, / prev_state=(\S+) /.exec(text)?.[1], text);
            count('sched_switch');
            break;
          default:
        }
      });
    }
    for (const what of ['kmalloc', 'hrtimer_start', 'sched_switch']) assert.ok((checked.get(what) ?? 0) > 0, `no ${what} checked: ${JSON.stringify([...checked])}`);
  });
});
