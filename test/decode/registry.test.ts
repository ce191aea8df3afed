// Event registry: loading a tracefs-like directory, unknown ids (one
// reload, then "unknown"), malformed format files, and the renderer's
// behaviour on them (never throwing for record contents).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { EventRegistry, type FormatSource } from '../../src/decode/registry.js';
import { EventRenderer } from '../../src/decode/renderer.js';
import { FIXTURES, Payload, formatText } from './support.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tracering-decode-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function writeEvent(root: string, system: string, name: string, text: string): void {
  const dir = path.join(root, 'events', system, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'format'), text);
}

/** A source that counts how often it is listed (reloads). */
class CountingSource implements FormatSource {
  readonly label = 'memory';
  lists = 0;
  readonly events = new Map<string, string>();
  listEvents(): [string, string][] {
    this.lists++;
    return [...this.events.keys()].map((k) => k.split('/') as [string, string]);
  }
  readFormat(system: string, event: string): string {
    const t = this.events.get(`${system}/${event}`);
    if (t === undefined) throw Object.assign(new Error('gone'), { code: 'ENOENT' });
    return t;
  }
  readOptional(): string | null {
    return null;
  }
}

describe('EventRegistry', () => {
  it('loads a capture directory', () => {
    const r = EventRegistry.fromDirectory(path.join(FIXTURES, 'sched', 'tracefs'));
    assert.equal(r.size, 7 + 18);
    assert.equal(r.get(372)?.name, 'sched_switch');
    assert.equal(r.find('sched', 'sched_wakeup')?.id, 374);
    assert.equal(r.lookup(372).status, 'ok');
    assert.equal(r.headerEvent?.dataMaxTypeLen, 28);
  });

  it('reloads once for an unknown id, then answers "unknown" without reloading', () => {
    const src = new CountingSource();
    src.events.set('test/a', formatText([], '"a"', 'a', 900));
    const r = new EventRegistry(src, { reloadIntervalMs: 0 });
    assert.equal(src.lists, 1);
    const miss = r.lookup(901);
    assert.equal(miss.status, 'unknown');
    assert.match(miss.status === 'unknown' ? miss.message : '', /unknown event id 901/);
    assert.equal(src.lists, 2, 'one reload');
    assert.equal(r.lookup(901).status, 'unknown');
    assert.equal(src.lists, 2, 'no second reload for the same id');
    // A module adds the event: a new unknown id reloads and finds it.
    src.events.set('test/b', formatText([], '"b"', 'b', 902));
    assert.equal(r.lookup(902).status, 'ok');
    assert.equal(src.lists, 3);
    const gen = r.generation;
    assert.equal(r.lookup(900).status, 'ok');
    assert.equal(r.generation, gen);
  });

  it('rate-limits reloads triggered by unknown ids', () => {
    const src = new CountingSource();
    const r = new EventRegistry(src, { reloadIntervalMs: 60_000 });
    for (let id = 1000; id < 1100; id++) assert.equal(r.lookup(id).status, 'unknown');
    assert.equal(src.lists, 2, 'a flood of bogus ids costs one reload');
  });

  it('keeps malformed format files as failures and answers "malformed" for their id', () => {
    const root = path.join(tmp, 'bad');
    writeEvent(root, 'good', 'ok', formatText(['int a;8;4;1'], '"a=%d", REC->a', 'ok', 910));
    writeEvent(root, 'bad', 'offsets', formatText(['int a;99999999;4;1'], '"x"', 'offsets', 911));
    writeEvent(root, 'bad', 'garbage', 'name: garbage\nID: 912\n\u0000\u0001');
    writeEvent(root, 'zzz', 'dup', formatText([], '"x"', 'dup', 910));
    fs.mkdirSync(path.join(root, 'events', 'bad', 'noformat'), { recursive: true });
    const r = EventRegistry.fromDirectory(root, { reloadIntervalMs: 0 });
    assert.equal(r.get(910)?.name, 'ok'); // the first directory listed keeps the id
    assert.equal(r.failures.length, 3);
    assert.ok(r.failures.some((f) => /ID 910 is also used by good\/ok/.test(f.error.message)));
    const bad = r.lookup(911);
    assert.equal(bad.status, 'malformed');
    assert.equal(r.lookup(912).status, 'malformed');
    const renderer = new EventRenderer(r);
    const p = new Payload(16, 911);
    assert.equal(renderer.text(p.view, p.bytes, 0, 16), 'Unknown type 911');
    assert.equal(renderer.status, 'malformed');
  });

  it('throws when the directory has no events/ at all', () => {
    assert.throws(() => EventRegistry.fromDirectory(path.join(tmp, 'nothing-here')), /ENOENT/);
  });
});

describe('EventRenderer on odd records', () => {
  const r = EventRegistry.fromDirectory(path.join(FIXTURES, 'sched', 'tracefs'), { reloadIntervalMs: 0 });
  const renderer = new EventRenderer(r);

  it('renders unknown ids as the kernel does, without throwing', () => {
    const p = new Payload(16, 4242);
    assert.equal(renderer.text(p.view, p.bytes, 0, 16), 'Unknown type 4242');
    assert.equal(renderer.status, 'unknown');
    assert.equal(renderer.plan(4242).status, 'unknown');
  });

  it('reports truncated records', () => {
    const p = new Payload(16, 372);
    assert.match(renderer.text(p.view, p.bytes, 0, 16), /^sched_switch: \[TRUNCATED sched\/sched_switch: 16 of 64 bytes\]$/);
    assert.equal(renderer.status, 'truncated');
    assert.match(renderer.text(p.view, p.bytes, 0, 1), /TRUNCATED/);
    assert.match(renderer.text(p.view, p.bytes, 10, 16), /TRUNCATED/);
  });

  it('falls back to a field list when a print fmt cannot be compiled', () => {
    const src = new CountingSource();
    src.events.set('x/odd', formatText(['int a;8;4;1', 'char s[4];12;4;0'], '"%d", some_kernel_function(REC->a)', 'odd', 950));
    const renderer2 = new EventRenderer(new EventRegistry(src));
    const p = new Payload(16, 950).i32(8, 5).str(12, 'hi');
    assert.equal(renderer2.text(p.view, p.bytes, 0, 16), 'odd: [FAILED TO PARSE] a=5 s=hi');
    assert.equal(renderer2.status, 'fallback');
    assert.match(renderer2.plan(950).reason ?? '', /unknown function some_kernel_function/);
  });

  it('survives random bytes in every event', () => {
    let seed = 12345;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    for (const f of r.formats()) {
      for (let k = 0; k < 50; k++) {
        const p = new Payload(160, f.id);
        for (let i = 2; i < 160; i++) p.bytes[i] = rnd();
        const len = 8 + (rnd() % 152);
        const out = renderer.text(p.view, p.bytes, 0, len);
        assert.equal(typeof out, 'string');
      }
    }
  });
});
