// A real recording (private instance, boot clock, a mixed load) converted
// to Perfetto: every byte is a field of the published schema, every kernel
// event is there (per CPU: the kernel's stats, our decoder, the output
// agree), every field of every event round-trips to our decoder's value,
// compact_sched adds up, and the process tree is saved_cmdlines/saved_tgids.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EventDecoder, type FieldValue } from '../../src/decode/field-decoder.js';
import type { EventFormat } from '../../src/decode/format-file.js';
import { DirectorySource, EventRegistry } from '../../src/decode/registry.js';
import { Recording } from '../../src/recording/recording.js';
import { arrayText } from '../../src/sinks/perfetto/ftrace-events.js';
import { kernelOrSkip, testInstance } from '../helpers/kernel.js';
import { big, bundlesOf, list, type Obj, readTrace, unknownFields } from './decode.js';
import { convert, mixedLoad, snapshot, statsEntries, tempDir } from './recording.js';

interface Expected {
  ts: bigint;
  pid: number;
  format: EventFormat;
  fields: Record<string, FieldValue>;
  flags: number;
}

/** Every record of the recording, per CPU in order, decoded by our decoder (object form). */
function decodeRecording(dir: string): Map<number, Expected[]> {
  const rec = Recording.open(dir);
  const registry = new EventRegistry(new DirectorySource(dir));
  const decoders = new Map<number, EventDecoder>();
  const out = new Map<number, Expected[]>();
  for (const reader of rec.openReaders()) {
    const events: Expected[] = [];
    for (let b = reader.next(); b !== null; b = reader.next()) {
      for (let i = 0; i < b.count; i++) {
        const off = b.offset(i);
        const id = b.view.getUint16(off, true);
        const found = registry.lookup(id);
        assert.equal(found.status, 'ok', `event id ${id} has a format`);
        if (found.status !== 'ok') continue;
        let d = decoders.get(id);
        if (d === undefined) {
          d = new EventDecoder(found.format);
          decoders.set(id, d);
        }
        events.push({
          ts: b.timestampBigInt(i),
          pid: b.view.getInt32(off + 4, true),
          format: found.format,
          fields: d.toObject(b.view, b.bytes, off, b.length(i), false),
          flags: b.view.getUint8(off + 2),
        });
      }
    }
    reader.close();
    out.set(reader.cpu, events);
  }
  return out;
}

const COMPACT = new Set(['sched/sched_switch', 'sched/sched_waking']);

function camel(snake: string): string {
  return snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function snake(camelName: string): string {
  return camelName.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** A decoder value as the output's string form (protobufjs gives 64-bit values as decimal strings). */
function asText(v: FieldValue): string {
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string') return String(v);
  return arrayText(v);
}

describe('perfetto: a real recording converted', () => {
  let dir = '';
  let out = '';
  let skipped: string | null = null;

  before(async () => {
    const tracefs = (() => {
      try {
        return kernelOrSkip({ skip: (m: string) => (skipped = m) } as never);
      } catch (error) {
        throw error;
      }
    })();
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    inst.traceClock = 'boot';
    inst.setBufferSizeKb(8192);
    inst.setOption('overwrite', false);
    inst.setOption('record-tgid', true);
    const offered = new Set(inst.eventSystems());
    inst.enableEvents(['sched', 'irq', 'task', 'timer', 'raw_syscalls', 'signal'].filter((s) => offered.has(s)));
    inst.clear();
    inst.tracingOn = true;
    mixedLoad(inst);
    dir = snapshot(tracefs, inst, 'pf-convert').dir;
    out = join(tempDir('pf-out'), 'trace.perfetto-trace');
    // Small bundles: many bundles per CPU, as a long trace has.
    await convert(dir, out, { eventsPerBundle: 500 });
  });

  after(() => {
    for (const d of [dir, out]) if (d !== '') fs.rmSync(join(d, '..'), { recursive: true, force: true });
  });

  it('uses only fields of the published schema, with their wire types', (t) => {
    if (skipped !== null) return t.skip(skipped);
    const { bytes } = readTrace(out);
    assert.deepEqual(unknownFields(bytes), []);
  });

  it('carries every kernel event: per CPU, output = our decoder = the kernel stats entries', (t) => {
    if (skipped !== null) return t.skip(skipped);
    const { packets } = readTrace(out);
    const expected = decodeRecording(dir);
    const entries = statsEntries(dir);
    let total = 0;
    for (const [cpu, events] of expected) {
      let n = 0;
      for (const b of bundlesOf(packets, cpu)) {
        n += list(b, 'event').length;
        const cs = b.compactSched as Obj | undefined;
        n += list(cs, 'switchTimestamp').length + list(cs, 'wakingTimestamp').length;
      }
      assert.equal(events.length, entries.get(cpu), `cpu${cpu}: decoder vs kernel stats`);
      assert.equal(n, events.length, `cpu${cpu}: output vs decoder`);
      total += n;
    }
    assert.ok(total > 500, `a mixed load gives events (${total})`);
  });

  it('writes every field of every event with its value (typed and generic)', (t) => {
    if (skipped !== null) return t.skip(skipped);
    const { packets } = readTrace(out);
    const kinds = new Set<string>();
    for (const [cpu, events] of decodeRecording(dir)) {
      const plain = events.filter((e) => !COMPACT.has(`${e.format.system}/${e.format.name}`));
      const written = bundlesOf(packets, cpu).flatMap((b) => list(b, 'event'));
      assert.equal(written.length, plain.length, `cpu${cpu}`);
      plain.forEach((e, i) => {
        const w = written[i]!;
        const where = `cpu${cpu} event ${i} (${e.format.system}/${e.format.name})`;
        assert.equal(big(w.timestamp), e.ts, `${where}: timestamp`);
        assert.equal(Number(w.pid ?? 0), e.pid, `${where}: pid`);
        const payloadKey = Object.keys(w).find((k) => k !== 'timestamp' && k !== 'pid');
        assert.ok(payloadKey !== undefined, `${where}: has a payload`);
        const payload = w[payloadKey] as Obj;
        if (payloadKey === 'generic') {
          kinds.add('generic');
          assert.equal(payload.eventName, e.format.name, where);
          const fields = list(payload, 'field');
          const names = Object.keys(e.fields);
          assert.deepEqual(
            fields.map((f) => f.name),
            names,
            `${where}: every field, in order`,
          );
          fields.forEach((f, k) => {
            const v = e.fields[names[k]!]!;
            const got = f.strValue ?? f.intValue ?? f.uintValue;
            assert.equal(String(got ?? (typeof v === 'string' ? '' : '0')), asText(v), `${where}: ${names[k]}`);
            const fmt = e.format.byName.get(names[k]!)!;
            if (fmt.isString || (fmt.kind !== 'int' && fmt.kind !== 'pointer')) assert.ok('strValue' in f || v === '', `${where}: ${names[k]} as str_value`);
            else if (fmt.kind === 'int' && fmt.signed) assert.ok(!('uintValue' in f), `${where}: ${names[k]} signed`);
            else assert.ok(!('intValue' in f), `${where}: ${names[k]} unsigned`);
          });
        } else {
          kinds.add(payloadKey);
          // A typed message: each of its fields is the kernel field of the same name.
          assert.equal(snake(payloadKey), e.format.name === 'print' ? 'print' : e.format.name, `${where}: message`);
          for (const [k, got] of Object.entries(payload)) {
            const v = e.fields[snake(k)];
            assert.ok(v !== undefined, `${where}: ${k} is a kernel field`);
            assert.equal(String(got), asText(v), `${where}: ${k}`);
          }
          const sub = Object.keys(payload);
          for (const name of Object.keys(e.fields)) {
            // Fields a typed message has no place for (see TYPED_EVENTS); the rest must be there.
            if (['args', 'group_dead'].includes(name)) continue;
            const v = e.fields[name]!;
            const zero = v === 0 || v === 0n || v === '';
            assert.ok(sub.includes(camel(name)) || zero, `${where}: ${name} is written`);
          }
        }
      });
    }
    assert.ok(kinds.has('generic') && kinds.has('print'), `generic and print events (${[...kinds]})`);
    assert.ok(kinds.has('sysEnter') && kinds.has('sysExit'), 'raw_syscalls typed');
  });

  it('compact_sched: equal arrays, deltas add up to the timestamps, values are the events\'', (t) => {
    if (skipped !== null) return t.skip(skipped);
    const { packets } = readTrace(out);
    let switches = 0;
    let wakings = 0;
    for (const [cpu, events] of decodeRecording(dir)) {
      const sw = events.filter((e) => e.format.name === 'sched_switch');
      const wk = events.filter((e) => e.format.name === 'sched_waking');
      let si = 0;
      let wi = 0;
      for (const b of bundlesOf(packets, cpu)) {
        const cs = b.compactSched as Obj | undefined;
        if (cs === undefined) continue;
        const intern = (cs.internTable as string[] | undefined) ?? [];
        const ts = list(cs, 'switchTimestamp');
        for (const name of ['switchPrevState', 'switchNextPid', 'switchNextPrio', 'switchNextCommIndex']) {
          assert.equal(list(cs, name).length, ts.length, `cpu${cpu} ${name} length`);
        }
        let acc = 0n;
        ts.forEach((d, k) => {
          acc = BigInt.asUintN(64, acc + big(d));
          const e = sw[si++]!;
          assert.equal(acc, e.ts, `cpu${cpu} switch ${si} timestamp`);
          assert.equal(big(list(cs, 'switchPrevState')[k]), BigInt(e.fields.prev_state as bigint), 'prev_state');
          assert.equal(Number(list(cs, 'switchNextPid')[k]), e.fields.next_pid, 'next_pid');
          assert.equal(Number(list(cs, 'switchNextPrio')[k]), e.fields.next_prio, 'next_prio');
          assert.equal(intern[Number(list(cs, 'switchNextCommIndex')[k])], e.fields.next_comm, 'next_comm');
        });
        const wts = list(cs, 'wakingTimestamp');
        for (const name of ['wakingPid', 'wakingTargetCpu', 'wakingPrio', 'wakingCommIndex', 'wakingCommonFlags']) {
          assert.equal(list(cs, name).length, wts.length, `cpu${cpu} ${name} length`);
        }
        acc = 0n;
        wts.forEach((d, k) => {
          acc = BigInt.asUintN(64, acc + big(d));
          const e = wk[wi++]!;
          assert.equal(acc, e.ts, `cpu${cpu} waking ${wi} timestamp`);
          assert.equal(Number(list(cs, 'wakingPid')[k]), e.fields.pid, 'pid');
          assert.equal(Number(list(cs, 'wakingTargetCpu')[k]), e.fields.target_cpu, 'target_cpu');
          assert.equal(Number(list(cs, 'wakingPrio')[k]), e.fields.prio, 'prio');
          assert.equal(intern[Number(list(cs, 'wakingCommIndex')[k])], e.fields.comm, 'comm');
          assert.equal(Number(list(cs, 'wakingCommonFlags')[k]), e.flags, 'common_flags');
        });
      }
      assert.equal(si, sw.length, `cpu${cpu}: every sched_switch in compact_sched`);
      assert.equal(wi, wk.length, `cpu${cpu}: every sched_waking in compact_sched`);
      switches += si;
      wakings += wi;
    }
    assert.ok(switches > 0 && wakings > 0, `switches ${switches}, wakings ${wakings}`);
  });

  it('boot clock: timestamps as recorded, no ftrace_clock; start and end stats are the stats files', (t) => {
    if (skipped !== null) return t.skip(skipped);
    const { packets } = readTrace(out);
    for (const p of packets) {
      const b = p.ftraceEvents as Obj | undefined;
      if (b === undefined) continue;
      assert.equal(b.ftraceClock, undefined);
      assert.equal(b.lostEvents, undefined, 'nothing was lost');
    }
    const stats = packets.map((p) => p.ftraceStats as Obj | undefined).filter((s): s is Obj => s !== undefined);
    assert.deepEqual(
      stats.map((s) => s.phase),
      [1, 2],
    );
    const entries = statsEntries(dir);
    for (const s of stats) {
      for (const c of list(s, 'cpuStats')) assert.equal(Number(c.entries ?? 0), entries.get(Number(c.cpu ?? 0)));
    }
  });

  it('process tree: the threads and processes of saved_cmdlines and saved_tgids', (t) => {
    if (skipped !== null) return t.skip(skipped);
    const { packets } = readTrace(out);
    const trees = packets.map((p) => p.processTree as Obj | undefined).filter((x): x is Obj => x !== undefined);
    assert.equal(trees.length, 1, 'one tree for a complete input');
    const threads = new Map(list(trees[0], 'threads').map((th) => [Number(th.tid), th]));
    const processes = new Map(list(trees[0], 'processes').map((pr) => [Number(pr.pid), pr]));
    const cmdlines = fs.readFileSync(join(dir, 'saved_cmdlines'), 'utf8').trim().split('\n');
    assert.ok(cmdlines.length > 0);
    for (const line of cmdlines) {
      const [pid, ...comm] = line.split(' ');
      if (Number(pid) === 0) continue;
      assert.equal(threads.get(Number(pid))?.name, comm.join(' '), `thread ${pid}`);
    }
    const tgids = fs.readFileSync(join(dir, 'saved_tgids'), 'utf8').trim().split('\n').filter((l) => l !== '');
    assert.ok(tgids.length > 0, 'saved_tgids has entries (record-tgid is on while sched events are)');
    for (const line of tgids) {
      const [pid, tgid] = line.split(' ').map(Number) as [number, number];
      if (pid === 0 || tgid === 0) continue;
      assert.equal(Number(threads.get(pid)?.tgid), tgid, `thread ${pid} in process ${tgid}`);
      assert.ok(processes.has(tgid), `process ${tgid}`);
    }
    // This test process wrote markers and forked: its tgid groups them.
    assert.ok(processes.has(process.pid) || [...threads.values()].some((th) => Number(th.tgid) === process.pid));
  });
});
